import { readFile } from "node:fs/promises";
import { gunzipSync } from "node:zlib";
import { Parser, type ReadEntry } from "tar";
import { BundleError } from "../bundle-error.js";
import { type BundleFiles, type BundleReadLimits, unsafePathReason } from "../bundle-files.js";

/** Reads a `.tar.gz` bundle file. */
export async function readBundleTarball(path: string, limits: BundleReadLimits): Promise<BundleFiles> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new BundleError(`cannot read bundle ${path}: ${(err as Error).message}`);
  }
  return readBundleArchive(bytes, limits);
}

/**
 * Reads a gzipped tar archive entirely in memory; nothing is ever extracted to disk. Only
 * regular files and folders are accepted; links, devices, FIFOs, unsafe paths and duplicate
 * names refuse the whole bundle. Decompression stops as soon as the size limit is passed, so
 * a gzip bomb costs at most the limit.
 */
export async function readBundleArchive(gz: Uint8Array, limits: BundleReadLimits): Promise<BundleFiles> {
  let tarBytes: Buffer;
  try {
    // Headers and padding add at most 1 KiB per entry on top of the content.
    tarBytes = gunzipSync(gz, { maxOutputLength: limits.maxTotalBytes + (limits.maxFiles + 2) * 1024 });
  } catch (err) {
    const tooBig = (err as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE" || err instanceof RangeError;
    throw new BundleError(tooBig ? `bundle archive expands beyond the ${limits.maxTotalBytes}-byte limit` : `bundle is not a gzip archive: ${(err as Error).message}`);
  }
  const files = new Map<string, Uint8Array>();
  let problem: string | undefined;
  let entries = 0;
  let total = 0;
  const parser = new Parser({ strict: true });
  const done = new Promise<void>((resolve) => parser.on("end", () => resolve()));
  parser.on("warn", (_code: string, message: string) => (problem ??= `invalid tar archive: ${message}`));
  parser.on("entry", (entry: ReadEntry) => {
    const path = entry.path.replace(/^\.\//, "");
    const refuse = (why: string) => {
      problem ??= `${entry.path}: ${why}`;
      entry.resume();
    };
    if (++entries > limits.maxFiles) return refuse(`more than ${limits.maxFiles} entries`);
    if (entry.type === "Directory") {
      const reason = path === "" ? undefined : unsafePathReason(path.replace(/\/$/, ""), limits.maxDepth);
      return reason ? refuse(reason) : entry.resume();
    }
    if (entry.type !== "File" && entry.type !== "OldFile" && entry.type !== "ContiguousFile") return refuse(`${entry.type} entries are refused; only regular files and folders`);
    const reason = unsafePathReason(path, limits.maxDepth);
    if (reason) return refuse(reason);
    if (files.has(path)) return refuse("appears twice in the archive");
    if ((entry.size ?? 0) > limits.maxFileBytes) return refuse(`${entry.size} bytes is over the ${limits.maxFileBytes}-byte file limit`);
    total += entry.size ?? 0;
    if (total > limits.maxTotalBytes) return refuse(`bundle is over the ${limits.maxTotalBytes}-byte size limit`);
    const chunks: Buffer[] = [];
    entry.on("data", (c: Buffer) => chunks.push(c));
    entry.on("end", () => files.set(path, Buffer.concat(chunks)));
  });
  parser.end(tarBytes);
  await done;
  if (problem !== undefined) throw new BundleError(problem);
  if (files.size === 0) throw new BundleError("bundle archive holds no files");
  return files;
}
