import { lstat, readlink } from "node:fs/promises";
import { join } from "node:path";
import { BundleError } from "../bundle-error.js";

/** The link kubelet swaps atomically in a ConfigMap, Secret or projected volume. */
const DATA_LINK = "..data";

/**
 * The folder to read a bundle from. A Kubernetes ConfigMap volume is a tree of symlinks: each
 * key is `<mount>/<key> → ..data/<key>`, and `..data → ..2026_…` names the current, complete
 * timestamped folder; an update writes a new folder and renames a new `..data` over the old one
 * in one step. Reading through `..data`'s target gives one consistent version (never half of
 * two). The link must name a real folder directly inside the mount — no path, no further link —
 * so nothing outside the mount is ever read. A folder without `..data` is read as it is.
 */
export async function resolveProjectedVolume(dir: string): Promise<string> {
  const link = join(dir, DATA_LINK);
  const st = await lstat(link).catch(() => undefined);
  if (st === undefined) return dir;
  if (!st.isSymbolicLink()) throw new BundleError(`${link}: expected the symlink a Kubernetes volume keeps, found another kind of file`);
  const target = await readlink(link);
  if (!/^\.\.[^/\\]+$/.test(target) || target === DATA_LINK || target === "..") {
    throw new BundleError(`${link} points to ${JSON.stringify(target)}: only a folder directly inside the mount is followed (kubelet writes ..<timestamp>)`);
  }
  const real = join(dir, target);
  const targetStat = await lstat(real).catch((err: Error) => {
    throw new BundleError(`${link} points to ${target}, which cannot be read (${err.message}); an update may be in progress`);
  });
  if (!targetStat.isDirectory()) throw new BundleError(`${link} points to ${target}, which is not a folder`);
  return real;
}
