import { createHash } from "node:crypto";

/** A bundle's files in memory: bundle-relative path (forward slashes) → bytes. */
export type BundleFiles = ReadonlyMap<string, Uint8Array>;

/** Size and count bounds for reading a bundle from any source. */
export interface BundleReadLimits {
  readonly maxFiles: number;
  readonly maxFileBytes: number;
  readonly maxTotalBytes: number;
  readonly maxDepth: number;
}

/** Defaults far above a real bundle and far below what could exhaust the process. */
export const DEFAULT_BUNDLE_READ_LIMITS: BundleReadLimits = {
  maxFiles: 10_000,
  maxFileBytes: 16 * 1024 * 1024,
  maxTotalBytes: 64 * 1024 * 1024,
  maxDepth: 32,
};

/**
 * Checks a bundle-relative path: no absolute paths, drive letters, `..`, `.`, empty
 * segments, backslashes or control characters. Returns the reason, or undefined if safe.
 */
export function unsafePathReason(path: string, maxDepth: number): string | undefined {
  if (path.length === 0) return "empty path";
  if (path.startsWith("/")) return "absolute path";
  if (/^[A-Za-z]:/.test(path)) return "drive-letter path";
  if (path.includes("\\")) return "backslash in path";
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(path)) return "control character in path";
  const segments = path.split("/");
  if (segments.some((s) => s === ".." || s === "." || s === "")) return "path traversal or empty segment";
  if (segments.length > maxDepth) return `nested deeper than ${maxDepth} folders`;
  return undefined;
}

/** SHA-256 over every file's path and content, in path order: the bundle's identity. */
export function digestFiles(files: BundleFiles): string {
  const outer = createHash("sha256");
  for (const path of [...files.keys()].sort()) {
    const inner = createHash("sha256").update(files.get(path)!).digest("hex");
    outer.update(`${path.length}:${path}:${inner}\n`);
  }
  return outer.digest("hex");
}
