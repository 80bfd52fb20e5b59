import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (tests run from dist/test/…). */
export const REPO = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
/** The example bundle. */
export const EXAMPLE_BUNDLE = join(REPO, "policies");

/** Writes a throwaway bundle directory from path → content; returns its path and a cleanup. */
export function writeBundle(files: Record<string, string>): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "verdict-bundle-"));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
