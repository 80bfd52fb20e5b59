import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { runInNewContext } from "node:vm";
import { setFlagsFromString } from "node:v8";
import { create, fromBinary, fromJson, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import fc from "fast-check";
import { type CheckRequest, CheckRequestSchema, CheckResponseSchema, Decision } from "../../src/gen/verdict/v1/authorization_pb.js";
import { TOKEN } from "../helpers/admin.js";
import { EXAMPLE_BUNDLE } from "../helpers/bundles.js";
import { oracle } from "../helpers/cedar-oracle.js";
import { exampleBundleForOracle } from "../helpers/example-requests.js";
import { type RunningVerdict, startVerdict } from "../helpers/start-verdict.js";

// Property and fuzz tests through the wire (reliability plan PT-07, PT-08): random questions
// agree with cedar-wasm called directly; random bytes and mutated messages to every RPC end
// with a status, never a crash, a hang or an ALLOW cedar-wasm would not give; junk does not
// grow the heap.

const { policies: POLICIES, entities: ENTITIES, schema: SCHEMA } = exampleBundleForOracle();

const str = (value: string) => ({ kind: { case: "string" as const, value } });
const bool = (value: boolean) => ({ kind: { case: "bool" as const, value } });
const entity = (type: string, id: string) => ({ kind: { case: "entity" as const, value: { type, id } } });

/** Questions over the example schema: mostly well-formed, with odd ids, unknown values and wrong types mixed in. */
const mostly = <T>(usual: fc.Arbitrary<T>, odd: fc.Arbitrary<T>) => fc.oneof({ arbitrary: usual, weight: 9 }, { arbitrary: odd, weight: 1 });
const idArb = mostly(fc.constantFrom("alice", "bob", "carol", "dave", "erin"), fc.string({ minLength: 1, maxLength: 12 }));
const requestArb: fc.Arbitrary<CheckRequest> = fc
  .record({
    principal: idArb,
    principalTenant: mostly(fc.constantFrom("acme", "globex"), fc.constant("initech")),
    department: mostly(fc.constantFrom("eng", "sales", "ops"), fc.string({ maxLength: 6 })),
    suspended: fc.boolean(),
    role: fc.option(fc.constantFrom("admin", "editor", "viewer", "auditor"), { nil: undefined, freq: 3 }),
    isProject: fc.boolean(),
    resource: mostly(fc.constantFrom("d1", "d2", "apollo"), fc.string({ minLength: 1, maxLength: 12 })),
    resourceTenant: fc.constantFrom("acme", "globex"),
    owner: idArb,
    classification: mostly(fc.constantFrom("public", "internal", "confidential"), fc.string({ maxLength: 6 })),
    documentAction: mostly(fc.constantFrom("view", "comment", "edit", "delete", "share"), fc.constantFrom("teleport", "manageMembers")),
    projectAction: mostly(fc.constantFrom("createDocument", "manageMembers"), fc.constant("view")),
    mfa: mostly<ReturnType<typeof bool> | ReturnType<typeof str>>(fc.boolean().map(bool), fc.constant(str("yes"))),
    ip: mostly(fc.constantFrom("10.1.2.3", "192.168.1.9", "203.0.113.7", "::1"), fc.constant("not-an-ip")),
  })
  .map((r) =>
    create(CheckRequestSchema, {
      principal: {
        uid: { type: "App::User", id: r.principal },
        attrs: { tenant: entity("App::Tenant", r.principalTenant), department: str(r.department), suspended: bool(r.suspended) },
        parents: r.role ? [{ type: "App::Role", id: r.role }] : [],
      },
      action: { type: "App::Action", id: r.isProject ? r.projectAction : r.documentAction },
      resource: r.isProject
        ? { uid: { type: "App::Project", id: r.resource }, attrs: { tenant: entity("App::Tenant", r.resourceTenant), owner: entity("App::User", r.owner), members: { kind: { case: "set", value: { values: [entity("App::User", r.principal)] } } } } }
        : { uid: { type: "App::Document", id: r.resource }, attrs: { tenant: entity("App::Tenant", r.resourceTenant), owner: entity("App::User", r.owner), department: str(r.department), classification: str(r.classification) } },
      context: { mfa: r.mfa, sourceIp: { kind: { case: "extension", value: { fn: "ip", arg: r.ip } } } },
    }),
  );

/** One raw unary call: resolves with the status code (0 for OK) and the response bytes. */
function rawCall(addr: string, path: string, bytes: Uint8Array, md = new grpc.Metadata()): Promise<{ code: number; body?: Buffer }> {
  const client = new grpc.Client(addr, grpc.credentials.createInsecure());
  return new Promise((resolve) => {
    client.makeUnaryRequest(path, (x: Buffer) => x, (x: Buffer) => x, Buffer.from(bytes), md, { deadline: Date.now() + 10_000 }, (err, res) => {
      client.close();
      resolve(err ? { code: err.code } : { code: 0, body: res! });
    });
  });
}

const MAIN_RPCS = [
  "/verdict.v1.AuthorizationService/Check",
  "/verdict.v1.AuthorizationService/BatchCheck",
  "/verdict.v1.AuthorizationService/Plan",
  "/envoy.service.auth.v3.Authorization/Check",
  "/grpc.health.v1.Health/Check",
];
const ADMIN_RPCS = ["PushBundle", "GetActiveBundle", "ListBundles", "ActivateBundle", "ListUnmatchedRoutes"].map((m) => `/verdict.v1.PolicyAdminService/${m}`);

describe("wire properties and fuzzing", () => {
  let v: RunningVerdict;
  const valid = () => readFileSync(join(EXAMPLE_BUNDLE, "tests", "admin_can_delete_in_own_tenant.json"), "utf8");
  let validBytes: Uint8Array;
  before(async () => {
    v = await startVerdict(EXAMPLE_BUNDLE, { "admin.token": TOKEN });
    validBytes = toBinary(CheckRequestSchema, fromJson(CheckRequestSchema, (JSON.parse(valid()) as { request: never }).request));
  });
  after(() => v.stop());
  const stillServing = async () => {
    const r = await rawCall(v.grpcAddr, MAIN_RPCS[0]!, validBytes);
    assert.equal(r.code, 0);
    assert.equal(fromBinary(CheckResponseSchema, r.body!).decision, Decision.ALLOW);
  };

  it("random questions over the example schema get cedar-wasm's decision and policies, or are refused when cedar-wasm refuses", async () => {
    const seen = { allow: 0, deny: 0, refused: 0 };
    await fc.assert(
      fc.asyncProperty(requestArb, async (req) => {
        const want = oracle(req, POLICIES, ENTITIES, SCHEMA);
        const r = await rawCall(v.grpcAddr, MAIN_RPCS[0]!, toBinary(CheckRequestSchema, req));
        if ("error" in want) {
          assert.equal(r.code, grpc.status.INVALID_ARGUMENT, `cedar-wasm refuses (${want.error}); Verdict answered ${r.code}`);
          seen.refused++;
          return;
        }
        assert.equal(r.code, 0);
        const got = fromBinary(CheckResponseSchema, r.body!);
        assert.equal(got.decision === Decision.ALLOW ? "allow" : "deny", want.decision);
        assert.deepEqual([...got.determiningPolicies].sort(), want.reasons);
        seen[want.decision === "allow" ? "allow" : "deny"]++;
      }),
      { numRuns: 250 },
    );
    // The generator reaches every outcome, so the property says something about each.
    assert.ok(seen.allow > 10 && seen.deny > 10 && seen.refused > 10, JSON.stringify(seen));
  });

  it("random bytes to every RPC of both listeners end with a status, and the server keeps serving", async () => {
    const withToken = new grpc.Metadata();
    withToken.set("authorization", `Bearer ${TOKEN}`);
    const targets: [string, string, grpc.Metadata | undefined][] = [
      ...MAIN_RPCS.map((p): [string, string, undefined] => [v.grpcAddr, p, undefined]),
      ...ADMIN_RPCS.flatMap((p): [string, string, grpc.Metadata | undefined][] => [[v.adminAddr, p, undefined], [v.adminAddr, p, withToken]]),
    ];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...targets), fc.uint8Array({ maxLength: 4096 }), async ([addr, path, md], bytes) => {
        const r = await rawCall(addr, path, bytes, md);
        assert.notEqual(r.code, grpc.status.DEADLINE_EXCEEDED, `${path} hung`);
        assert.notEqual(r.code, grpc.status.UNAVAILABLE, `${path}: the server went away`);
      }),
      { numRuns: 300 },
    );
    await stillServing();
  });

  it("mutated Check messages never yield an ALLOW cedar-wasm would not give", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 4 }),
        fc.nat({ max: 8 }),
        async (edits, cut) => {
          const bytes = Uint8Array.from(validBytes);
          for (const e of edits) bytes[e.at % bytes.length] = e.byte;
          const sent = bytes.subarray(0, bytes.length - cut);
          const r = await rawCall(v.grpcAddr, MAIN_RPCS[0]!, sent);
          if (r.code !== 0) return;
          if (fromBinary(CheckResponseSchema, r.body!).decision !== Decision.ALLOW) return;
          const want = oracle(fromBinary(CheckRequestSchema, sent), POLICIES, ENTITIES, SCHEMA);
          assert.ok(!("error" in want) && want.decision === "allow", `ALLOW for a request cedar-wasm answers ${JSON.stringify(want)}`);
        },
      ),
      { numRuns: 300 },
    );
    await stillServing();
  });

  it("random JSON to the AuthZEN endpoints gets a 2xx or 4xx, never a server error", async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom("/access/v1/evaluation", "/access/v1/evaluations"), fc.oneof(fc.json(), fc.string()), async (path, body) => {
        const r = await fetch(`${v.httpUrl}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body, signal: AbortSignal.timeout(10_000) });
        await r.arrayBuffer();
        assert.ok(r.status < 500, `${path} answered ${r.status} to ${body.slice(0, 80)}`);
      }),
      { numRuns: 200 },
    );
    await stillServing();
  });

  it("thousands of junk calls do not grow the heap", async () => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const junk = fc.sample(fc.uint8Array({ maxLength: 2048 }), 200);
    const round = async () => {
      for (let i = 0; i < 2000; i += 50) await Promise.all(junk.slice(0, 50).map((b, k) => rawCall(v.grpcAddr, MAIN_RPCS[(i + k) % MAIN_RPCS.length]!, (i + k) % 3 === 0 ? validBytes : b)));
    };
    await round(); // warm: caches, compiled code, pools
    gc();
    const before = process.memoryUsage().heapUsed;
    await round();
    await round();
    gc();
    const grown = process.memoryUsage().heapUsed - before;
    assert.ok(grown < 16 * 1024 * 1024, `heap grew ${(grown / 1048576).toFixed(1)} MB over 4,000 junk calls`);
  });
});
