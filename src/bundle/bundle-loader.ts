import type { CedarEngine } from "../engine/cedar-engine.js";
import { CompileError } from "../engine/policy-sources.js";
import { BundleError } from "./bundle-error.js";
import { type BundleFiles, digestFiles } from "./bundle-files.js";
import { layoutBundle } from "./bundle-layout.js";
import type { BundleSnapshot } from "./bundle-snapshot.js";

/** Builds a complete snapshot from bundle files, or throws `BundleError` with diagnostics. */
export class BundleLoader {
  readonly #engine: CedarEngine;

  constructor(engine: CedarEngine) {
    this.#engine = engine;
  }

  /** Lays out, compiles and names a bundle; nothing becomes active here. */
  load(files: BundleFiles): BundleSnapshot {
    const layout = layoutBundle(files);
    let policies;
    try {
      policies = this.#engine.compile(layout.sources);
    } catch (err) {
      if (err instanceof CompileError) throw new BundleError(`bundle "${layout.manifest.name}" rejected`, err.diagnostics);
      throw err;
    }
    const digest = digestFiles(files);
    const revision = layout.manifest.revision ?? `sha256-${digest.slice(0, 16)}`;
    return {
      name: layout.manifest.name,
      revision,
      digest,
      manifest: layout.manifest,
      policies,
      files,
      trustedEntityTypes: new Set(layout.manifest.trustedEntityTypes ?? []),
      cacheScope: `${revision}@${digest}`,
    };
  }
}
