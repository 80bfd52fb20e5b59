import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, it } from "node:test";
import { REPO } from "./helpers/bundles.js";

/** Files under src/, with the packages and project folders each imports. */
function sources(dir = join(REPO, "src")): { file: string; imports: string[] }[] {
  const out: { file: string; imports: string[] }[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      if (name !== "gen") out.push(...sources(path));
    } else if (name.endsWith(".ts")) {
      const text = readFileSync(path, "utf8");
      const imports = [...text.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+"([^"]+)"/gms)].map((m) => m[1]!);
      out.push({ file: relative(join(REPO, "src"), path), imports });
    }
  }
  return out;
}

/** Which folders may import a package or reach a folder; everything else is refused. */
const RULES: { what: RegExp; allowed: RegExp; why: string }[] = [
  { what: /^@cedar-policy\/cedar-wasm/, allowed: /^engine\//, why: "Cedar only from engine/" },
  { what: /^ioredis/, allowed: /^(cache|bundle\/sources)\//, why: "Redis only from cache/ and bundle/sources/" },
  { what: /^@grpc\//, allowed: /^(server|cli)\//, why: "grpc-js only from server/ and cli/" },
  { what: /\/gen\//, allowed: /^(server|cli)\//, why: "generated protobuf code only from server/ and cli/" },
  { what: /^@opentelemetry\//, allowed: /^observability\/tracing\//, why: "OpenTelemetry only from observability/tracing/" },
  { what: /^tsyringe/, allowed: /^(container|tokens)\.ts$/, why: "tsyringe only in the composition root" },
  { what: /\/(server|cli)\//, allowed: /^(server|cli|container\.ts|tokens\.ts|app\.ts|main\.ts)/, why: "the core never depends on transports" },
];

describe("architecture: dependencies point one way", () => {
  const files = sources();
  it("finds the sources", () => assert.ok(files.length > 20));
  for (const rule of RULES) {
    it(rule.why, () => {
      const offenders = files.filter((f) => !rule.allowed.test(f.file) && f.imports.some((i) => rule.what.test(i))).map((f) => f.file);
      assert.deepEqual(offenders, []);
    });
  }
});
