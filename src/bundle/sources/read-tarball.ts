import { BundleError } from "../bundle-error.js";
import type { BundleFiles, BundleReadLimits } from "../bundle-files.js";

/** Reads a `.tar.gz` bundle in memory (never extracting to disk). */
export async function readBundleTarball(path: string, _limits: BundleReadLimits): Promise<BundleFiles> {
  throw new BundleError(`${path}: tarball bundles are not supported yet; pass a bundle directory`);
}
