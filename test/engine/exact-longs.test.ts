import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import fc from "fast-check";
import { CedarEngine } from "../../src/engine/cedar-engine.js";
import { CedarRuntime } from "../../src/engine/cedar-runtime.js";
import { parseExactJson, stringifyExactJson } from "../../src/engine/exact-json.js";
import { CompileError } from "../../src/engine/policy-sources.js";
import { CheckRequestSchema, type CheckResponse, Decision } from "../../src/gen/verdict/v1/authorization_pb.js";
import type { AuthzRequest } from "../../src/model/authz-request.js";
import { writeBundle } from "../helpers/bundles.js";
import { type RunningVerdict, startVerdict } from "../helpers/start-verdict.js";

// Cedar's longs are 64-bit. A bundle's entities.json is read exactly and handed to Cedar
// exactly, so a long beyond ±(2^53−1) is never rounded into another value.

const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;
const SCHEMA = `entity User = { n: Long }; entity Doc; action read appliesTo { principal: User, resource: Doc };`;
const entitiesText = (n: bigint | string) => `[{"uid":{"type":"User","id":"u"},"attrs":{"n":${n}},"parents":[]}]`;
const engine = new CedarEngine(new CedarRuntime(), { strict: true, maxPolicyNesting: 64 });
const compile = (policy: string, entities: string, schema = true) =>
  engine.compile({
    policyFiles: [{ path: "p.cedar", text: policy }],
    entities: { path: "entities.json", text: entities },
    ...(schema ? { schema: { path: "schema.cedarschema", text: SCHEMA, format: "cedar" as const } } : {}),
  });
const request: AuthzRequest = {
  principal: { uid: { type: "User", id: "u" }, attrs: {}, parents: [], tags: {} },
  action: { type: "Action", id: "read" },
  resource: { uid: { type: "Doc", id: "d" }, attrs: {}, parents: [], tags: {} },
  context: {},
  entities: [],
};
/** Asserts that compiling refuses the bundle with a diagnostic matching `message`. */
const refused = (fn: () => unknown, message: RegExp) => assert.throws(fn, (err) => err instanceof CompileError && message.test(err.message));

describe("exact JSON for Cedar's 64-bit longs", () => {
  it("parses integers beyond ±(2^53−1) as bigint, safe ones as numbers, and writes them back exactly", () => {
    const json = parseExactJson('{"a":9007199254740993,"b":[-9223372036854775808,9223372036854775807,12],"c":"9007199254740993"}');
    assert.deepEqual(json, { a: 9007199254740993n, b: [I64_MIN, I64_MAX, 12], c: "9007199254740993" });
    assert.equal(stringifyExactJson(json), '{"a":9007199254740993,"b":[-9223372036854775808,9223372036854775807,12],"c":"9007199254740993"}');
  });
  it("refuses a number Cedar would refuse (not whole), naming where it is", () => {
    assert.throws(() => parseExactJson('[{"attrs":{"n":1.5}}]'), /\[0\]\.attrs\.n: 1\.5 is not a whole number/);
    assert.throws(() => parseExactJson('{"x y":[1e3]}'), /\["x y"\]\[0\]: 1e3 is not a whole number/);
  });
  it("refuses duplicate keys with different values (Cedar refuses duplicate keys)", () => {
    assert.throws(() => parseExactJson('{"n":1,"n":2}'), /Duplicate key 'n'/);
  });
  it("round-trips any JSON tree of i64 longs exactly, and writes a tree without bigint as JSON.stringify does", () => {
    const leaf = fc.oneof(fc.bigInt({ min: I64_MIN, max: I64_MAX }), fc.integer(), fc.string(), fc.boolean(), fc.constant(null));
    const tree = fc.letrec((tie) => ({ node: fc.oneof({ depthSize: "small" }, leaf, fc.array(tie("node"), { maxLength: 4 }), fc.dictionary(fc.string(), tie("node"), { maxKeys: 4 })) })).node;
    const normal = (x: unknown): unknown =>
      typeof x === "bigint" ? (x >= -BigInt(Number.MAX_SAFE_INTEGER) && x <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(x) : x)
      : Array.isArray(x) ? x.map(normal)
      : x !== null && typeof x === "object" ? Object.fromEntries(Object.entries(x).map(([k, v]) => [k, normal(v)]))
      : x;
    fc.assert(
      fc.property(tree, (x) => {
        assert.deepEqual(parseExactJson(stringifyExactJson(x)!), normal(x));
        const plain = normal(JSON.parse(JSON.stringify(x, (_, v) => (typeof v === "bigint" ? Number(v) : v))));
        assert.equal(stringifyExactJson(plain), JSON.stringify(plain));
      }),
      { numRuns: 300 },
    );
  });
});

describe("a bundle's longs beyond ±(2^53−1) reach Cedar exactly", () => {
  it("n = 9007199254740993 equals its literal and not its rounded neighbour (schema and no schema)", () => {
    for (const schema of [true, false]) {
      const p = compile(
        `@id("allow") permit(principal, action, resource);\n@id("exact") forbid(principal, action, resource) when { principal.n == 9007199254740993 };\n@id("rounded") forbid(principal, action, resource) when { principal.n == 9007199254740992 };`,
        entitiesText(9007199254740993n),
        schema,
      );
      const r = p.evaluate(request);
      assert.equal(r.decision, "deny");
      assert.deepEqual(r.determiningPolicies, ["exact"]);
    }
  });
  it("a static long beyond 2^53 keeps the bundle on the compiled evaluator, decided exactly", () => {
    const p = compile(`@id("big") forbid(principal, action, resource) when { principal.n > 9007199254740991 };\n@id("allow") permit(principal, action, resource);`, entitiesText(9007199254740993n));
    assert.equal(p.evaluator, "compiled");
    assert.deepEqual(p.evaluate(request).determiningPolicies, ["big"]);
    const q = compile(`@id("big") forbid(principal, action, resource) when { principal.n > 9007199254740991 };\n@id("allow") permit(principal, action, resource);`, entitiesText(9007199254740991n));
    assert.deepEqual(q.evaluate(request).determiningPolicies, ["allow"]);
  });
  it("random i64 longs compare, order and overflow as Cedar's 64-bit arithmetic says", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: I64_MIN, max: I64_MAX }), fc.bigInt({ min: I64_MIN, max: I64_MAX }), (n, k) => {
        const p = compile(
          `@id("eq") permit(principal, action, resource) when { principal.n == ${k < 0n ? `(0 - ${-(k + 1n)}) - 1` : k} };\n@id("lt") permit(principal, action, resource) when { principal.n < ${k < 0n ? `(0 - ${-(k + 1n)}) - 1` : k} };\n@id("inc") permit(principal, action, resource) when { principal.n + 1 > principal.n };`,
          entitiesText(n),
        );
        const r = p.evaluate(request);
        const want = [...(n === k ? ["eq"] : []), ...(n < k ? ["lt"] : []), ...(n < I64_MAX ? ["inc"] : [])];
        assert.deepEqual(r.determiningPolicies, want);
        // Adding 1 to i64::MAX overflows: an error in Cedar, never a wrapped value.
        assert.equal(r.errors.length, n === I64_MAX ? 1 : 0);
      }),
      { numRuns: 60 },
    );
  });
  it("a long beyond the i64 range, or a fractional number, refuses the bundle", () => {
    refused(() => compile(`permit(principal, action, resource);`, entitiesText(2n ** 63n)), /entities\.json: \[0\]\.attrs\.n: 9223372036854775808 is outside Cedar's 64-bit long range/);
    refused(() => compile(`permit(principal, action, resource);`, entitiesText(-(2n ** 63n) - 1n)), /-9223372036854775809 is outside/);
    refused(() => compile(`permit(principal, action, resource);`, entitiesText("1.0")), /entities\.json: \[0\]\.attrs\.n: 1\.0 is not a whole number/);
  });
});

describe("over gRPC Check", () => {
  const bundle = writeBundle({
    "manifest.json": '{"name":"big-longs"}',
    "schema.cedarschema": SCHEMA,
    "p.cedar": `@id("allow") permit(principal, action, resource);\n@id("exact") forbid(principal, action, resource) when { principal.n == 9007199254740993 };`,
    "entities.json": `[${entitiesText(9007199254740993n).slice(1, -1)},{"uid":{"type":"User","id":"w"},"attrs":{"n":9007199254740992},"parents":[]}]`,
  });
  let v: RunningVerdict;
  before(async () => (v = await startVerdict(bundle.dir)));
  after(async () => {
    await v.stop();
    bundle.cleanup();
  });
  it("a static user with n = 9007199254740993 is denied by `principal.n == 9007199254740993`; n = …992 is not", async () => {
    const check = (id: string) =>
      v.client.call<CheckResponse>("check", create(CheckRequestSchema, { principal: { uid: { type: "User", id } }, action: { type: "Action", id: "read" }, resource: { uid: { type: "Doc", id: "d" } } }));
    const u = await check("u");
    assert.equal(u.decision, Decision.DENY);
    assert.deepEqual(u.determiningPolicies, ["exact"]);
    assert.equal((await check("w")).decision, Decision.ALLOW);
  });
});
