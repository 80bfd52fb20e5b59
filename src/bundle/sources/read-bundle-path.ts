import { stat } from "node:fs/promises";
import { BundleError } from "../bundle-error.js";
import type { BundleFiles, BundleReadLimits } from "../bundle-files.js";
import { resolveProjectedVolume } from "./projected-volume.js";
import { readBundleDirectory } from "./read-directory.js";
import { readBundleTarball } from "./read-tarball.js";

/** Reads a bundle from a directory (a Kubernetes volume's current version) or a `.tar.gz`, whichever the path is. */
export async function readBundlePath(path: string, limits: BundleReadLimits): Promise<BundleFiles> {
  const st = await stat(path).catch((err: Error) => {
    throw new BundleError(`cannot read bundle ${path}: ${err.message}`);
  });
  return st.isDirectory() ? readBundleDirectory(await resolveProjectedVolume(path), limits) : readBundleTarball(path, limits);
}
