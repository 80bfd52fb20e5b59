import { lstat, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { BundleError } from "../bundle-error.js";
import { type BundleFiles, type BundleReadLimits, DEFAULT_BUNDLE_READ_LIMITS, unsafePathReason } from "../bundle-files.js";

/** Names skipped when reading a directory: editor and VCS litter, never bundle content. */
const IGNORED = /(^|\/)(\.git|\.DS_Store|node_modules)(\/|$)|~$|\.swp$/;

/**
 * Reads a bundle directory into memory. Symlinks and special files are refused rather than
 * followed, so a bundle cannot pull in files from outside itself.
 */
export async function readBundleDirectory(dir: string, limits: BundleReadLimits = DEFAULT_BUNDLE_READ_LIMITS): Promise<BundleFiles> {
  const files = new Map<string, Uint8Array>();
  let total = 0;
  const walk = async (rel: string): Promise<void> => {
    let names: string[];
    try {
      names = await readdir(join(dir, rel));
    } catch (err) {
      throw new BundleError(`cannot read bundle directory ${join(dir, rel)}: ${(err as Error).message}`);
    }
    for (const name of names.sort()) {
      const path = rel === "" ? name : `${rel}/${name}`;
      if (IGNORED.test(path)) continue;
      const reason = unsafePathReason(path, limits.maxDepth);
      if (reason !== undefined) throw new BundleError(`${path}: ${reason}`);
      const st = await lstat(join(dir, path));
      if (st.isDirectory()) {
        // A folder with its own manifest is another bundle (e.g. policies/examples/…), not part of this one.
        if (await lstat(join(dir, path, "manifest.json")).then(() => true, () => false)) continue;
        await walk(path);
      } else if (st.isFile()) {
        if (st.size > limits.maxFileBytes) throw new BundleError(`${path}: ${st.size} bytes is over the ${limits.maxFileBytes}-byte file limit`);
        total += st.size;
        if (total > limits.maxTotalBytes) throw new BundleError(`bundle is over the ${limits.maxTotalBytes}-byte size limit`);
        if (files.size >= limits.maxFiles) throw new BundleError(`bundle has more than ${limits.maxFiles} files`);
        files.set(path, await readFile(join(dir, path)));
      } else {
        throw new BundleError(`${path}: only regular files and folders may be in a bundle (symlinks and special files are refused)`);
      }
    }
  };
  await walk("");
  return files;
}
