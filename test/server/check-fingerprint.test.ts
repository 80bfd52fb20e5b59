import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { create, equals, fromBinary, toBinary } from "@bufbuild/protobuf";
import { WireType } from "@bufbuild/protobuf/wire";
import * as grpc from "@grpc/grpc-js";
import fc from "fast-check";
import { type CheckRequest, CheckRequestSchema, CheckResponseSchema, Decision, EntitySchema } from "../../src/gen/verdict/v1/authorization_pb.js";
import { fingerprintCheck } from "../../src/server/authorization/check-fingerprint.js";
import { EXAMPLE_BUNDLE } from "../helpers/bundles.js";
import { exampleRequest } from "../helpers/example-requests.js";
import { metricSum } from "../helpers/metrics.js";
import { rng } from "../helpers/random.js";
import { type RunningVerdict, startVerdict } from "../helpers/start-verdict.js";
import { concat, lenField, utf8 } from "../helpers/wire.js";
import { another, encoding, withTag } from "../helpers/wire-mutants.js";

/** The oracle: protobuf-es decoding, `request_id` cleared (it is not part of the question). */
function question(bytes: Uint8Array): CheckRequest | "refused" {
  try {
    return { ...fromBinary(CheckRequestSchema, bytes), requestId: "" };
  } catch {
    return "refused";
  }
}

/** A random request with some entities (groups, duplicates) so merges and duplicates matter. */
function randomRequest(seed: number): CheckRequest {
  const r = rng(seed);
  const req = exampleRequest(r, r.bool() ? `req-${seed}` : "");
  const n = r.int(3);
  for (let i = 0; i < n; i++) req.entities.push(create(EntitySchema, { uid: { type: "App::User", id: r.pick(["bob", "carol", "mallory"]) } }));
  return req;
}

describe("check fingerprint", () => {
  it("equal fingerprints of a rememberable encoding mean equal decoded questions, for every mutant (property)", () => {
    let collisions = 0;
    fc.assert(
      fc.property(fc.integer(), fc.integer(), fc.integer(), (reqSeed, s1, s2) => {
        const req = randomRequest(reqSeed);
        const one = encoding(req, s1);
        const first = fingerprintCheck(one.bytes);
        const decoded = question(one.bytes);
        if (first.fingerprint === undefined || decoded === "refused") return;
        // Only an encoding the door would remember a decision under can be answered from it.
        if (!first.canonical(fromBinary(CheckRequestSchema, one.bytes))) return;
        // The second: a mutant of the first's records, or of the request itself.
        const two = another(req, one.bytes, s2, ["requestIds", "requestIds", "smuggledRequestId", "reorder", "duplicate", "shortLength", "wrongWireType", "unknownField"]);
        const second = fingerprintCheck(two.bytes);
        if (second.fingerprint !== first.fingerprint) return;
        collisions++;
        const got = question(two.bytes);
        assert.notEqual(got, "refused", `${two.how.join("+")}: shares a fingerprint with a decided request but is refused`);
        assert.ok(equals(CheckRequestSchema, got as CheckRequest, decoded), `${one.how.join("+")} vs ${two.how.join("+")}: one fingerprint, two questions`);
        assert.equal(second.requestId, fromBinary(CheckRequestSchema, two.bytes).requestId);
      }),
      { numRuns: 3000, includeErrorInReport: true },
    );
    assert.ok(collisions > 300, `the property was exercised (${collisions} shared fingerprints)`);
  });

  it("the published smuggling shape gets no fingerprint", () => {
    const req = randomRequest(1);
    const bytes = concat(toBinary(CheckRequestSchema, req), withTag(6, WireType.Varint, [0x02]), lenField(6, lenField(1, utf8(""))));
    assert.equal(fingerprintCheck(bytes).fingerprint, undefined);
  });
});

/** One raw unary Check: the status code and, when OK, the decision. */
function rawCheck(addr: string, bytes: Uint8Array): Promise<{ code: number; decision?: Decision }> {
  const client = new grpc.Client(addr, grpc.credentials.createInsecure());
  return new Promise((resolve) => {
    client.makeUnaryRequest("/verdict.v1.AuthorizationService/Check", (x: Buffer) => x, (x: Buffer) => x, Buffer.from(bytes), new grpc.Metadata(), { deadline: Date.now() + 10_000 }, (err, res) => {
      client.close();
      resolve(err ? { code: err.code } : { code: 0, decision: fromBinary(CheckResponseSchema, res!).decision });
    });
  });
}

const outcome = (r: { code: number; decision?: Decision }) => (r.code === 0 ? Decision[r.decision!] : "refused");

describe("check fingerprint through the Check front door", () => {
  let cached: RunningVerdict;
  let uncached: RunningVerdict;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "verdict-fp-"));
    const log = { "decisionLog.destination": join(dir, "decisions.log"), "decisionLog.includeRequest": true, "decisionLog.allowSampleRate": 0.5 };
    cached = await startVerdict(EXAMPLE_BUNDLE, log);
    uncached = await startVerdict(EXAMPLE_BUNDLE, { "cache.enabled": false });
  });
  after(async () => {
    await cached.stop();
    await uncached.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("a smuggled request_id cannot borrow another question's cached ALLOW (regression)", async () => {
    // alice is an admin of acme: ALLOW. Smuggled in after a varint-typed request_id: she is suspended.
    const admin = create(CheckRequestSchema, {
      principal: { uid: { type: "App::User", id: "alice" }, parents: [{ type: "App::Role", id: "admin" }], attrs: { tenant: { kind: { case: "entity", value: { type: "App::Tenant", id: "acme" } } }, department: { kind: { case: "string", value: "eng" } }, suspended: { kind: { case: "bool", value: false } } } },
      action: { type: "App::Action", id: "delete" },
      resource: { uid: { type: "App::Document", id: "d1" }, attrs: { tenant: { kind: { case: "entity", value: { type: "App::Tenant", id: "acme" } } }, owner: { kind: { case: "entity", value: { type: "App::User", id: "bob" } } }, department: { kind: { case: "string", value: "eng" } }, classification: { kind: { case: "string", value: "internal" } } } },
      context: { mfa: { kind: { case: "bool", value: true } }, sourceIp: { kind: { case: "extension", value: { fn: "ip", arg: "10.1.2.3" } } } },
    });
    const plain = toBinary(CheckRequestSchema, admin);
    const suspended = toBinary(CheckRequestSchema, create(CheckRequestSchema, { principal: { attrs: { suspended: { kind: { case: "bool", value: true } } } } }));
    const smuggle = (payloadBytes: Uint8Array) => concat(plain, withTag(6, WireType.Varint, [0x02]), lenField(6, payloadBytes));
    assert.equal(outcome(await rawCheck(cached.grpcAddr, plain)), "ALLOW");
    // An unknown field whose bytes are valid UTF-8, so the old walker read it as a request_id.
    const warm = smuggle(lenField(15, utf8("harmless")));
    assert.equal(outcome(await rawCheck(cached.grpcAddr, warm)), outcome(await rawCheck(uncached.grpcAddr, warm)));
    const attack = smuggle(suspended);
    const want = outcome(await rawCheck(uncached.grpcAddr, attack));
    assert.notEqual(want, "ALLOW", "the decoded question (a suspended alice) is not allowed");
    assert.equal(outcome(await rawCheck(cached.grpcAddr, attack)), want);
  });

  it("a truncated field smuggled after a request_id is refused, not answered from the cache (regression)", async () => {
    const plain = toBinary(CheckRequestSchema, randomRequest(7));
    const smuggle = (payloadBytes: Uint8Array) => concat(plain, withTag(6, WireType.Varint, [0x02]), lenField(6, payloadBytes));
    await rawCheck(cached.grpcAddr, smuggle(lenField(15, utf8("harmless"))));
    const truncated = smuggle(Uint8Array.from([0x0a, 0x05, 0x61]));
    assert.equal(outcome(await rawCheck(uncached.grpcAddr, truncated)), "refused");
    assert.equal(outcome(await rawCheck(cached.grpcAddr, truncated)), "refused");
  });

  it("every encoding gets the answer the uncached path gives, and logged + dropped + sampled out = decisions (property)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer(), fc.integer(), fc.integer(), async (reqSeed, s1, s2) => {
        const req = randomRequest(reqSeed);
        const one = encoding(req, s1);
        const two = another(req, one.bytes, s2);
        for (const e of [one, two, one, two]) {
          const want = outcome(await rawCheck(uncached.grpcAddr, e.bytes));
          assert.equal(outcome(await rawCheck(cached.grpcAddr, e.bytes)), want, `${e.how.join("+")}: the cached path disagrees`);
        }
      }),
      { numRuns: 150, includeErrorInReport: true },
    );
    const text = await (await fetch(`${cached.httpUrl}/metrics`)).text();
    const decisions = metricSum(text, "verdict_decisions_total");
    const written = metricSum(text, "verdict_decision_logs_written_total");
    const accounted = written + metricSum(text, "verdict_decision_logs_dropped_total") + metricSum(text, "verdict_decision_logs_sampled_out_total");
    assert.ok(decisions > 100);
    assert.equal(accounted, decisions);
    await cached.stop();
    const lines = readFileSync(join(dir, "decisions.log"), "utf8").split("\n").filter((l) => l !== "");
    assert.equal(lines.length, written, "every line counted as written is in the file");
    cached = await startVerdict(EXAMPLE_BUNDLE, {});
  });
});
