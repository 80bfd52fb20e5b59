import type { PolicySources, SourceFile } from "../engine/policy-sources.js";
import { BundleError } from "./bundle-error.js";
import type { BundleFiles } from "./bundle-files.js";

/** `manifest.json`: what the author says the bundle is. */
export interface Manifest {
  readonly name: string;
  /** Optional author-chosen revision; the content digest is used when absent. */
  readonly revision?: string;
  /**
   * Entity types whose data only the bundle may supply (roles, groups, tenants): a request may
   * not define entities of these types nor claim membership in them.
   */
  readonly trustedEntityTypes?: readonly string[];
}

/** A bundle's files sorted by role; nothing here has touched Cedar yet. */
export interface BundleLayout {
  readonly manifest: Manifest;
  readonly sources: PolicySources;
  /** Other files by path (routes.yaml, tests/, mappings) for the parts that use them. */
  readonly files: BundleFiles;
}

const decoder = new TextDecoder("utf-8", { fatal: true });

/** Decodes a bundle file as strict UTF-8, naming the file when it is not. */
export function textOf(files: BundleFiles, path: string): string {
  const bytes = files.get(path);
  if (bytes === undefined) throw new BundleError(`${path}: missing`);
  try {
    return decoder.decode(bytes);
  } catch {
    throw new BundleError(`${path}: not valid UTF-8`);
  }
}

const REVISION = /^[A-Za-z0-9][A-Za-z0-9._:+-]{0,127}$/;

/** Sorts files into manifest, policies, schema and entities; policy tests are not policies. */
export function layoutBundle(files: BundleFiles): BundleLayout {
  if (!files.has("manifest.json")) throw new BundleError("manifest.json: missing (a bundle needs {\"name\": \"…\"})");
  const manifest = parseManifest(textOf(files, "manifest.json"));
  const policyFiles: SourceFile[] = [];
  for (const path of [...files.keys()].sort()) {
    if (path.endsWith(".cedar") && !path.startsWith("tests/")) policyFiles.push({ path, text: textOf(files, path) });
  }
  const hasText = files.has("schema.cedarschema");
  const hasJson = files.has("schema.cedarschema.json");
  if (hasText && hasJson) throw new BundleError("schema.cedarschema and schema.cedarschema.json: give one schema, not both");
  const schema = hasText
    ? { path: "schema.cedarschema", text: textOf(files, "schema.cedarschema"), format: "cedar" as const }
    : hasJson
      ? { path: "schema.cedarschema.json", text: textOf(files, "schema.cedarschema.json"), format: "json" as const }
      : undefined;
  const entities = files.has("entities.json") ? { path: "entities.json", text: textOf(files, "entities.json") } : undefined;
  return {
    manifest,
    sources: { policyFiles, ...(schema ? { schema } : {}), ...(entities ? { entities } : {}) },
    files,
  };
}

function parseManifest(text: string): Manifest {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new BundleError(`manifest.json: invalid JSON: ${(err as Error).message}`);
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new BundleError("manifest.json: must be a JSON object");
  const { name, revision, trustedEntityTypes } = raw as Record<string, unknown>;
  if (typeof name !== "string" || name.length === 0) throw new BundleError("manifest.json: \"name\" must be a non-empty string");
  if (revision !== undefined && (typeof revision !== "string" || !REVISION.test(revision))) {
    throw new BundleError("manifest.json: \"revision\" must be 1-128 characters of letters, digits and . _ : + -");
  }
  if (trustedEntityTypes !== undefined && (!Array.isArray(trustedEntityTypes) || trustedEntityTypes.some((t) => typeof t !== "string" || t === ""))) {
    throw new BundleError("manifest.json: \"trustedEntityTypes\" must be a list of entity type names");
  }
  return {
    name,
    ...(revision === undefined ? {} : { revision }),
    ...(trustedEntityTypes === undefined ? {} : { trustedEntityTypes: trustedEntityTypes as string[] }),
  };
}
