import { BundleError } from "../bundle/bundle-error.js";
import type { BundleFiles } from "../bundle/bundle-files.js";
import { BundleLoader } from "../bundle/bundle-loader.js";
import type { BundleSnapshot } from "../bundle/bundle-snapshot.js";
import { readBundlePath } from "../bundle/sources/read-bundle-path.js";
import type { Config } from "../config/config-spec.js";
import { CedarEngine } from "../engine/cedar-engine.js";
import { CedarRuntime } from "../engine/cedar-runtime.js";

/** A bundle read and compiled on the author's machine, with the runtime that compiled it. */
export interface OfflineBundle {
  readonly files: BundleFiles;
  readonly snapshot: BundleSnapshot;
  readonly runtime: CedarRuntime;
}

/**
 * Reads and compiles a bundle for the authoring commands (validate, lint, test, build). It
 * builds only the engine and the loader — no servers, caches or Redis — so a one-shot command
 * starts fast, and it verifies no signature: `bundles.verificationKey` is the server's setting,
 * and `bundle verify` is the command that checks signatures.
 */
export async function loadOffline(path: string, config: Config): Promise<OfflineBundle> {
  const files = await readBundlePath(path, config.bundleLimits);
  if (files.size === 0) throw new BundleError(`${path}: no bundle files here (a bundle needs manifest.json and .cedar files)`);
  const runtime = new CedarRuntime();
  const snapshot = await new BundleLoader(new CedarEngine(runtime, config.engine)).load(files);
  return { files, snapshot, runtime };
}
