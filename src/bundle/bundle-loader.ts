import type { CedarEngine } from "../engine/cedar-engine.js";
import { CompileError } from "../engine/policy-sources.js";
import { readAuthzenMapping } from "./authzen-mapping.js";
import { parseRouteTable, RouteTableError, type RouteTable } from "../routes/route-table.js";
import { BundleError } from "./bundle-error.js";
import { type BundleFiles, digestFiles } from "./bundle-files.js";
import { layoutBundle, textOf } from "./bundle-layout.js";
import type { BundleSnapshot } from "./bundle-snapshot.js";
import { contentFiles } from "./signing/bundle-signature.js";
import type { BundleVerifier } from "./signing/bundle-verifier.js";

/** Builds a complete snapshot from bundle files, or throws `BundleError` with diagnostics. */
export class BundleLoader {
  readonly #engine: CedarEngine;
  readonly #verifier: BundleVerifier | undefined;

  /** With a verifier, only bundles signed by its key load. */
  constructor(engine: CedarEngine, verifier?: BundleVerifier) {
    this.#engine = engine;
    this.#verifier = verifier;
  }

  /** Verifies, lays out, compiles and names a bundle; nothing becomes active here. */
  async load(all: BundleFiles): Promise<BundleSnapshot> {
    const signed = this.#verifier ? await this.#verifier.verify(all) : undefined;
    const files = contentFiles(all);
    const layout = layoutBundle(files);
    const authzen = readAuthzenMapping(files);
    const routes = readRoutes(files);
    let policies;
    try {
      policies = this.#engine.compile(layout.sources);
    } catch (err) {
      if (err instanceof CompileError) throw new BundleError(`bundle "${layout.manifest.name}" rejected`, err.diagnostics);
      throw err;
    }
    const digest = digestFiles(files);
    const revision = layout.manifest.revision ?? `sha256-${digest.slice(0, 16)}`;
    if (signed !== undefined && (signed.revision !== revision || signed.name !== layout.manifest.name)) {
      throw new BundleError(`the signature is for bundle "${signed.name}" revision ${signed.revision}, not "${layout.manifest.name}" revision ${revision}`);
    }
    return {
      name: layout.manifest.name,
      revision,
      digest,
      manifest: layout.manifest,
      policies,
      files,
      trustedEntityTypes: new Set(layout.manifest.trustedEntityTypes ?? []),
      ...(signed === undefined ? {} : { signedAt: signed.iat }),
      ...(authzen === undefined ? {} : { authzen }),
      ...(routes === undefined ? {} : { routes }),
      cacheScope: `${revision}@${digest}`,
    };
  }
}

/** Parses `routes.yaml` if the bundle has one; its errors name the line. */
function readRoutes(files: BundleFiles): RouteTable | undefined {
  if (!files.has("routes.yaml")) return undefined;
  try {
    return parseRouteTable(textOf(files, "routes.yaml"), (p) => (files.has(p) ? textOf(files, p) : undefined));
  } catch (err) {
    if (err instanceof RouteTableError) throw new BundleError("bundle rejected", [{ file: "routes.yaml", ...(err.line === undefined ? {} : { line: err.line }), message: err.message.replace(/^routes\.yaml(:\d+)?: /, "") }]);
    throw err;
  }
}
