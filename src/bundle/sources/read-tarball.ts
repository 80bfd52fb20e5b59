import { readFile } from "node:fs/promises";
import { createGunzip } from "node:zlib";
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

/** Regular-file entry types; everything else but folders refuses the bundle. */
const FILE_TYPES = new Set(["File", "OldFile", "ContiguousFile"]);

/**
 * Reads a gzipped tar archive entirely in memory; nothing is ever extracted to disk. Only
 * regular files and folders are accepted; links, devices, FIFOs, unsafe paths and duplicate
 * names refuse the whole bundle. The archive is decompressed in chunks and parsed as it
 * streams, and decompression stops at the first problem or as soon as the output passes the
 * size limit, so a gzip bomb or a flood of entries costs at most the limits, never the whole.
 */
export function readBundleArchive(gz: Uint8Array, limits: BundleReadLimits): Promise<BundleFiles> {
  // Headers and padding add at most 1.5 KiB per entry (header, PAX header, padding) on top of the content.
  const maxExpanded = limits.maxTotalBytes + (limits.maxFiles + 2) * 1536;
  const files = new Map<string, Uint8Array>();
  let problem: string | undefined;
  let entries = 0;
  let total = 0;
  let sawEnd = false;
  const parser = new Parser();
  // The end-of-archive marker; whatever follows it is ignored, and not even decompressed.
  parser.on("eof", () => (sawEnd = true));
  parser.on("warn", (_code: string, message: string) => (problem ??= `invalid tar archive: ${message}`));
  parser.on("error", (err: Error) => (problem ??= `invalid tar archive: ${err.message}`));
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
    if (!FILE_TYPES.has(entry.type)) return refuse(`${entry.type} entries are refused; only regular files and folders`);
    const reason = unsafePathReason(path, limits.maxDepth);
    if (reason) return refuse(reason);
    if (files.has(path)) return refuse("appears twice in the archive");
    if (entry.size > limits.maxFileBytes) return refuse(`${entry.size} bytes is over the ${limits.maxFileBytes}-byte file limit`);
    total += entry.size;
    if (total > limits.maxTotalBytes) return refuse(`bundle is over the ${limits.maxTotalBytes}-byte size limit`);
    const chunks: Buffer[] = [];
    files.set(path, new Uint8Array());
    entry.on("data", (c: Buffer) => chunks.push(c));
    entry.on("end", () => files.set(path, Buffer.concat(chunks)));
  });

  return new Promise((resolve, reject) => {
    const gunzip = createGunzip();
    let expanded = 0;
    let settled = false;
    const finish = () => {
      if (settled) return;
      settled = true;
      gunzip.destroy();
      if (problem !== undefined) reject(new BundleError(problem));
      else if (files.size === 0) reject(new BundleError("bundle archive holds no files"));
      else resolve(files);
    };
    gunzip.on("data", (chunk: Buffer) => {
      if (settled) return;
      if (sawEnd) {
        gunzip.destroy();
        parser.end();
        return;
      }
      expanded += chunk.length;
      if (expanded > maxExpanded) problem ??= `bundle archive expands beyond the ${limits.maxTotalBytes}-byte limit`;
      else parser.write(chunk);
      if (problem !== undefined) finish();
    });
    gunzip.on("error", (err: Error) => {
      problem ??= `bundle is not a gzip archive: ${err.message}`;
      finish();
    });
    // The parser always ends (warning first about a truncated or unrecognised archive).
    gunzip.on("end", () => parser.end());
    parser.on("end", () => {
      if (!sawEnd) problem ??= "invalid tar archive: truncated (no end-of-archive marker)";
      finish();
    });
    gunzip.end(gz);
  });
}
