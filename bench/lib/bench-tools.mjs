// Benchmark-only dependencies, installed into bench/.tools (git-ignored) on first use so they
// never become runtime dependencies of Verdict: the Cerbos PDP binary (npm package
// @cerbos/cerbos-linux-x64), Cerbos' protobuf descriptors, and the bench's own cedar-wasm.
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

// Where the benchmark's own installs live.
export const TOOLS_DIR = join(dirname(fileURLToPath(import.meta.url)), "..", ".tools");

// Exact versions, so every run measures the same Cerbos and the same cedar-wasm.
export const TOOLS_PACKAGE = {
  name: "verdict-bench-tools",
  private: true,
  description: "Benchmark-only dependencies (Cerbos PDP binary, Cerbos API descriptors, cedar-wasm floor); not runtime dependencies of Verdict",
  type: "module",
  dependencies: {
    "@cerbos/cerbos-linux-x64": "0.55.0",
    "@cerbos/api": "0.7.0",
    "@bufbuild/protobuf": "2.17.0",
    "@cedar-policy/cedar-wasm": "4.13.0",
  },
};

// Installs the tools when any is missing (npm, from the registry, into bench/.tools only).
export function ensureBenchTools(log = console.error) {
  const missing = Object.keys(TOOLS_PACKAGE.dependencies).filter((p) => !existsSync(join(TOOLS_DIR, "node_modules", p, "package.json")));
  if (!missing.length) return;
  log(`installing into bench/.tools: ${missing.join(", ")}`);
  mkdirSync(TOOLS_DIR, { recursive: true });
  writeFileSync(join(TOOLS_DIR, "package.json"), `${JSON.stringify(TOOLS_PACKAGE, null, 2)}\n`);
  execFileSync("npm", ["install", "--no-audit", "--no-fund", "--silent"], { cwd: TOOLS_DIR, stdio: "inherit" });
}
