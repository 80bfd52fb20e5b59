import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { create } from "tar";
import type { BundleFiles } from "../bundle-files.js";

/**
 * Writes bundle files as a reproducible `.tar.gz` (portable headers, sorted entries) and
 * returns its bytes. The files are staged in a private temporary folder, removed afterwards.
 */
export async function packBundle(files: BundleFiles): Promise<Buffer> {
  const stage = mkdtempSync(join(tmpdir(), "verdict-pack-"));
  try {
    for (const [path, bytes] of files) {
      mkdirSync(dirname(join(stage, path)), { recursive: true });
      writeFileSync(join(stage, path), bytes);
    }
    const out = join(stage, "..", `${stage.split("/").at(-1)}.tar.gz`);
    await create({ gzip: true, portable: true, cwd: stage, file: out, noMtime: true }, [...files.keys()].sort());
    const bytes = readFileSync(out);
    rmSync(out, { force: true });
    return bytes;
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}
