import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { create, equals, fromBinary, toBinary } from "@bufbuild/protobuf";
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";
import * as grpc from "@grpc/grpc-js";
import fc from "fast-check";
import { type CheckRequest, CheckRequestSchema, CheckResponseSchema, Decision, EntitySchema } from "../../src/gen/verdict/v1/authorization_pb.js";
import { fingerprintCheck } from "../../src/server/authorization/check-fingerprint.js";
import { EXAMPLE_BUNDLE } from "../helpers/bundles.js";
import { exampleRequest } from "../helpers/example-requests.js";
import { metricSum } from "../helpers/metrics.js";
import { rng } from "../helpers/random.js";
import { type RunningVerdict, startVerdict } from "../helpers/start-verdict.js";
import { concat, lenField, utf8, varint } from "../helpers/wire.js";

/** One top-level record of an encoding: its tag's field and wire type, and its bytes. */
interface Rec {
  readonly field: number;
  readonly wireType: number;
  readonly bytes: Uint8Array;
}

/** Splits a well-formed encoding into its top-level records. */
function records(bytes: Uint8Array): Rec[] {
  const reader = new BinaryReader(bytes);
  const out: Rec[] = [];
  while (reader.pos < reader.len) {
    const start = reader.pos;
    const [field, wireType] = reader.tag();
    reader.skip(wireType, field);
    out.push({ field, wireType, bytes: bytes.subarray(start, reader.pos) });
  }
  return out;
}

/** The payload of a length-delimited record. */
function payload(rec: Rec): Uint8Array {
  const reader = new BinaryReader(rec.bytes);
  reader.tag();
  return reader.bytes();
}

/** A varint padded with `extra` redundant continuation bytes (non-minimal, still the same number). */
function paddedVarint(n: number, extra: number): number[] {
  const v = varint(n);
  if (extra === 0) return v;
  v[v.length - 1]! |= 0x80;
  for (let i = 1; i < extra; i++) v.push(0x80);
  v.push(0x00);
  return v;
}

const withTag = (field: number, wireType: number, rest: number[] | Uint8Array) => concat(Uint8Array.from(varint((field << 3) | wireType)), Uint8Array.from(rest));

/** The ways a caller can encode (or mis-encode) a request, each a function of a seed. */
const MUTANTS: Record<string, (recs: Rec[], r: ReturnType<typeof rng>) => Rec[] | Uint8Array> = {
  reorder: (recs, r) => [...recs].sort(() => r.next() - 0.5),
  duplicate: (recs, r) => {
    const i = r.int(recs.length);
    return [...recs.slice(0, i + 1), recs[i]!, ...recs.slice(i + 1)];
  },
  unknownField: (recs, r) => {
    const field = 7 + r.int(100);
    const kind = r.int(4);
    const bytes =
      kind === 0 ? withTag(field, WireType.Varint, varint(r.int(1000))) : kind === 1 ? withTag(field, WireType.Bit32, [1, 2, 3, 4]) : kind === 2 ? withTag(field, WireType.Bit64, [1, 2, 3, 4, 5, 6, 7, 8]) : lenField(field, utf8("x"));
    const i = r.int(recs.length + 1);
    return [...recs.slice(0, i), { field, wireType: 0, bytes }, ...recs.slice(i)];
  },
  wrongWireType: (recs, r) => {
    const i = r.int(recs.length);
    const rec = recs[i]!;
    const rest = rec.bytes.subarray(varint((rec.field << 3) | rec.wireType).length);
    const bytes = withTag(rec.field, r.pick([WireType.Varint, WireType.Bit32, WireType.Bit64]), rest);
    return [...recs.slice(0, i), { field: rec.field, wireType: 0, bytes }, ...recs.slice(i + 1)];
  },
  nonMinimalVarint: (recs, r) => {
    const i = r.int(recs.length);
    const rec = recs[i]!;
    if (rec.wireType !== WireType.LengthDelimited) return recs;
    const body = payload(rec);
    const bytes = r.bool()
      ? concat(Uint8Array.from(paddedVarint((rec.field << 3) | 2, 1 + r.int(3))), Uint8Array.from(varint(body.length)), body)
      : concat(Uint8Array.from(varint((rec.field << 3) | 2)), Uint8Array.from(paddedVarint(body.length, 1 + r.int(3))), body);
    return [...recs.slice(0, i), { ...rec, bytes }, ...recs.slice(i + 1)];
  },
  split: (recs, r) => {
    // A message record as two records of the same field: merge semantics decode it the same.
    const i = r.int(recs.length);
    const rec = recs[i]!;
    if (rec.field > 3) return recs;
    const inner = records(payload(rec));
    if (inner.length < 2) return recs;
    const cut = 1 + r.int(inner.length - 1);
    const a = lenField(rec.field, concat(...inner.slice(0, cut).map((x) => x.bytes)));
    const b = lenField(rec.field, concat(...inner.slice(cut).map((x) => x.bytes)));
    return [...recs.slice(0, i), { ...rec, bytes: a }, { ...rec, bytes: b }, ...recs.slice(i + 1)];
  },
  merge: (recs, r) => {
    // Two records of one field as one record: their payloads concatenated.
    const i = r.int(recs.length);
    const j = recs.findIndex((x, k) => k > i && x.field === recs[i]!.field && x.wireType === 2);
    if (j < 0 || recs[i]!.wireType !== 2) return recs;
    const bytes = lenField(recs[i]!.field, concat(payload(recs[i]!), payload(recs[j]!)));
    return [...recs.slice(0, i), { ...recs[i]!, bytes }, ...recs.slice(i + 1, j), ...recs.slice(j + 1)];
  },
  truncate: (recs, r) => {
    const all = concat(...recs.map((x) => x.bytes));
    return all.subarray(0, r.int(all.length));
  },
  shortLength: (recs, r) => {
    // A record that claims fewer (or more) bytes than its payload: the rest is read as other fields.
    const i = r.int(recs.length);
    const rec = recs[i]!;
    if (rec.wireType !== 2) return recs;
    const body = payload(rec);
    const claimed = Math.max(0, body.length + (r.bool() ? -1 - r.int(4) : 1 + r.int(4)));
    const bytes = concat(Uint8Array.from(varint((rec.field << 3) | 2)), Uint8Array.from(varint(claimed)), body);
    return [...recs.slice(0, i), { ...rec, bytes }, ...recs.slice(i + 1)];
  },
  requestIds: (recs, r) => {
    // request_id records anywhere: these alone keep the fingerprint.
    const out = [...recs];
    for (let n = 1 + r.int(3); n > 0; n--) out.splice(r.int(out.length + 1), 0, { field: 6, wireType: 2, bytes: lenField(6, utf8(`rid-${r.int(1000)}`)) });
    return out;
  },
  smuggledRequestId: (recs, r) => {
    // The published attack: field 6 as a varint whose value the decoder takes for a length,
    // then a real request_id record whose payload is more CheckRequest fields.
    const smuggled = concat(...recs.filter(() => r.bool()).map((x) => x.bytes));
    const extra = concat(withTag(6, WireType.Varint, [0x02]), lenField(6, smuggled));
    return [...recs, { field: 6, wireType: 0, bytes: extra }];
  },
};

/** Applies a mutation; one that cannot apply to records an earlier one broke leaves them as they are. */
function mutate(name: string, recs: Rec[], r: ReturnType<typeof rng>): Rec[] | Uint8Array {
  try {
    return MUTANTS[name]!(recs, r);
  } catch {
    return recs;
  }
}

/** A second encoding: a mutation of the first's bytes as they are, or a fresh encoding of `req`. */
function another(req: CheckRequest, first: Uint8Array, seed: number, names = Object.keys(MUTANTS)): { bytes: Uint8Array; how: string[] } {
  const r = rng(seed);
  if (r.bool()) return encoding(req, seed);
  let recs: Rec[];
  try {
    recs = records(first);
  } catch {
    return { bytes: first, how: ["same bytes"] };
  }
  const name = r.pick(names);
  return { bytes: encode(mutate(name, recs, r)), how: [`first+${name}`] };
}

const encode = (recs: Rec[] | Uint8Array) => (recs instanceof Uint8Array ? recs : concat(...recs.map((x) => x.bytes)));

/** A random encoding of `req` after up to three mutations; names the mutations for failures. */
function encoding(req: CheckRequest, seed: number): { bytes: Uint8Array; how: string[] } {
  const r = rng(seed);
  let recs: Rec[] | Uint8Array = records(toBinary(CheckRequestSchema, req));
  const how: string[] = [];
  for (let n = r.int(4); n > 0 && !(recs instanceof Uint8Array); n--) {
    const name = r.pick(Object.keys(MUTANTS));
    how.push(name);
    recs = mutate(name, recs, r);
  }
  return { bytes: encode(recs), how };
}

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
