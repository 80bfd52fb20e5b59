import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { create, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import {
  BatchCheckRequestSchema,
  type BatchCheckResponse,
  type CheckRequest,
  CheckRequestSchema,
  type CheckResponse,
  Decision,
  EntitySchema,
  ValueSchema,
} from "../../src/gen/verdict/v1/authorization_pb.js";
import { EXAMPLE_BUNDLE } from "../helpers/bundles.js";
import { type RunningVerdict, startVerdict } from "../helpers/start-verdict.js";
import { concat, lenField, utf8 } from "../helpers/wire.js";

// Values set on an existing message must be messages themselves, hence create().
const v = (init: MessageInitShape<typeof ValueSchema>) => create(ValueSchema, init);
const s = (value: string) => v({ kind: { case: "string", value } });
const b = (value: boolean) => v({ kind: { case: "bool", value } });
const e = (type: string, id: string) => v({ kind: { case: "entity", value: { type, id } } });
const ent = (init: MessageInitShape<typeof EntitySchema>) => create(EntitySchema, init);

/** A valid request over the example bundle; tests break one thing at a time. */
function valid(): CheckRequest {
  return create(CheckRequestSchema, {
    principal: { uid: { type: "App::User", id: "alice" }, attrs: { tenant: e("App::Tenant", "acme"), department: s("eng"), suspended: b(false) }, parents: [{ type: "App::Role", id: "editor" }] },
    action: { type: "App::Action", id: "edit" },
    resource: { uid: { type: "App::Document", id: "d1" }, attrs: { tenant: e("App::Tenant", "acme"), owner: e("App::User", "bob"), department: s("eng"), classification: s("internal") } },
    context: { mfa: b(true), sourceIp: { kind: { case: "extension", value: { fn: "ip", arg: "10.0.0.1" } } } },
  });
}

/**
 * The hostile-input catalogue (ids from the research test plan, reliability.md §4.1). Each case
 * gets its documented status, and the server answers a valid Check correctly afterwards.
 *   C-01 deep record (wire)        C-02 depth limit          C-03 oversized message
 *   C-04 compression bomb           C-05 invalid UTF-8        C-06 control characters in ids
 *   C-07 id injection               C-08 type injection       C-09 unknown type / action
 *   C-10 long edges                 C-12 decimal edges        C-13 bad extension values
 *   C-14 escape keys                C-15 prototype keys       C-17 forged actions
 *   C-18 shadowing static entities  C-19 duplicates / cycles  C-20 volume
 *   C-21 missing parts              C-22 wrong-typed guard    C-24 batch limits
 *   C-26 wire garbage               C-27 metadata floods
 * C-11 (non-integers for Long) cannot be expressed on the wire: `long` is an int64 field.
 * C-16 (claimed roles) is in test/decision/entity-trust.test.ts; C-23 (forbid overflow) in
 * test/engine/engine.test.ts; C-25 (deadlines) is covered by grpc-js before the handler runs.
 */
describe("hostile inputs are refused with a clear status and the server keeps serving", () => {
  let verdict: RunningVerdict;
  before(async () => (verdict = await startVerdict(EXAMPLE_BUNDLE)));
  after(() => verdict.stop());

  const check = (req: CheckRequest) => verdict.client.call<CheckResponse>("check", req);
  async function refused(req: CheckRequest, code: grpc.status, mentions: RegExp) {
    await assert.rejects(check(req), (err: grpc.ServiceError) => {
      assert.equal(err.code, code, `${grpc.status[err.code]}: ${err.details}`);
      assert.match(err.details, mentions);
      return true;
    });
    assert.equal((await check(valid())).decision, Decision.ALLOW, "a valid Check still succeeds afterwards");
  }
  /** Sends raw bytes as a Check request, bypassing client-side encoding. */
  function rawCheck(bytes: Uint8Array): Promise<unknown> {
    const client = new grpc.Client(verdict.grpcAddr, grpc.credentials.createInsecure());
    return new Promise((resolve, reject) => {
      client.makeUnaryRequest("/verdict.v1.AuthorizationService/Check", (x: Buffer) => x, (x: Buffer) => x, Buffer.from(bytes), (err, res) => {
        client.close();
        return err ? reject(err) : resolve(res);
      });
    });
  }

  it("the valid request is allowed", async () => assert.equal((await check(valid())).decision, Decision.ALLOW));

  it("C-21 missing principal, action or resource", async () => {
    for (const field of ["principal", "action", "resource"] as const) {
      const req = valid();
      delete (req as Partial<CheckRequest>)[field];
      await refused(req, grpc.status.INVALID_ARGUMENT, new RegExp(`^${field}: required`));
    }
  });

  it("C-21 empty entity type or id", async () => {
    const a = valid();
    a.principal!.uid!.id = "";
    await refused(a, grpc.status.INVALID_ARGUMENT, /principal\.uid\.id: must not be empty/);
    const c = valid();
    c.resource!.uid!.type = "";
    await refused(c, grpc.status.INVALID_ARGUMENT, /resource\.uid\.type: must not be empty/);
  });

  it("C-08 a type name that is not a Cedar name (type injection)", async () => {
    for (const type of ['App::User::"x"', "Us er", "App::"]) {
      const req = valid();
      req.principal!.uid!.type = type;
      await refused(req, grpc.status.INVALID_ARGUMENT, /principal\.uid\.type: .* is not a Cedar type name/);
    }
  });

  it("C-07 an id written as Cedar syntax stays an opaque id (no injection)", async () => {
    const req = valid();
    req.principal!.uid!.id = 'x", action, resource);permit(principal, action, resource);//';
    req.action!.id = "delete";
    assert.equal((await check(req)).decision, Decision.DENY);
  });

  it("C-09 an unknown entity type under the schema", async () => {
    const req = valid();
    req.resource!.uid!.type = "App::Martian";
    await refused(req, grpc.status.INVALID_ARGUMENT, /App::Martian/);
  });

  it("C-09 an unknown action under the schema", async () => {
    const req = valid();
    req.action!.id = "teleport";
    await refused(req, grpc.status.INVALID_ARGUMENT, /teleport/);
  });

  it("C-22 an attribute of the wrong type under the schema", async () => {
    const req = valid();
    req.principal!.attrs["suspended"] = s("true");
    await refused(req, grpc.status.INVALID_ARGUMENT, /suspended/);
  });

  it("C-10 longs outside ±(2^53−1) are refused", async () => {
    const ok = valid();
    ok.context["n"] = v({ kind: { case: "long", value: 9007199254740991n } });
    // The schema has no `n` in the context, so the exact edge value reaches schema validation.
    await refused(ok, grpc.status.INVALID_ARGUMENT, /context/);
    for (const n of [9007199254740992n, -9007199254740992n, 9223372036854775807n]) {
      const req = valid();
      req.principal!.attrs["level"] = v({ kind: { case: "long", value: n } });
      await refused(req, grpc.status.INVALID_ARGUMENT, /principal\.attrs\.level: long .* outside/);
    }
  });

  it("C-14 record keys Cedar would read as escapes", async () => {
    for (const key of ["__entity", "__extn", "__expr"]) {
      const req = valid();
      req.context["x"] = v({ kind: { case: "record", value: { fields: { [key]: s("y") } } } });
      await refused(req, grpc.status.INVALID_ARGUMENT, new RegExp(`context\\.x\\.${key}: the key "${key}" is reserved`));
    }
  });

  it("C-15 prototype keys stay plain data and pollute nothing", async () => {
    const req = valid();
    req.principal!.attrs["__proto__"] = b(true);
    req.principal!.attrs["constructor"] = b(true);
    await assert.rejects(check(req), (err: grpc.ServiceError) => err.code === grpc.status.INVALID_ARGUMENT);
    assert.equal(({} as Record<string, unknown>)["polluted"], undefined);
  });

  it("C-21 a value with no kind", async () => {
    const req = valid();
    req.context["empty"] = v({});
    await refused(req, grpc.status.INVALID_ARGUMENT, /context\.empty: a value must set exactly one kind/);
  });

  it("C-13 unknown extension functions and malformed extension values", async () => {
    const a = valid();
    a.context["sourceIp"] = v({ kind: { case: "extension", value: { fn: "eval", arg: "1" } } });
    await refused(a, grpc.status.INVALID_ARGUMENT, /unknown extension function "eval"/);
    const c = valid();
    c.context["sourceIp"] = v({ kind: { case: "extension", value: { fn: "ip", arg: "not-an-ip" } } });
    await refused(c, grpc.status.INVALID_ARGUMENT, /not-an-ip|ip/);
  });

  it("C-01 a 10,000-deep nested record (raw wire bytes)", async () => {
    // Value{record: Record{fields: {"a": Value{…}}}}, built inside out.
    let value: Uint8Array = lenField(3, utf8("leaf"));
    for (let i = 0; i < 10_000; i++) value = lenField(5, lenField(1, concat(lenField(1, utf8("a")), lenField(2, value))));
    const ok = toBinary(CheckRequestSchema, valid());
    const bytes = concat(ok, lenField(4, concat(lenField(1, utf8("deep")), lenField(2, value))));
    await assert.rejects(rawCheck(bytes), (err: grpc.ServiceError) => err.code === grpc.status.INVALID_ARGUMENT && /recursion|depth/.test(err.details));
    assert.equal((await check(valid())).decision, Decision.ALLOW);
  });

  it("C-02 a record nested beyond the depth limit but within protobuf's", async () => {
    const req = valid();
    let deep = s("leaf");
    for (let i = 0; i < 40; i++) deep = v({ kind: { case: "record", value: { fields: { a: deep } } } });
    req.context["deep"] = deep;
    await refused(req, grpc.status.RESOURCE_EXHAUSTED, /context\.deep(\.a)*: nested deeper than the limit of 32/);
  });

  it("C-05 invalid UTF-8 in an id (raw wire bytes)", async () => {
    const bad = concat(lenField(1, utf8("App::User")), lenField(2, [0xc3, 0x28]));
    const bytes = concat(lenField(1, lenField(1, bad)), toBinary(CheckRequestSchema, { ...valid(), principal: undefined } as CheckRequest));
    await assert.rejects(rawCheck(bytes), (err: grpc.ServiceError) => err.code === grpc.status.INVALID_ARGUMENT && /UTF-8|utf-8/i.test(err.details));
  });

  it("C-20 a 100 KB string is over the string limit", async () => {
    const req = valid();
    req.context["note"] = s("x".repeat(100_000));
    await refused(req, grpc.status.RESOURCE_EXHAUSTED, /context\.note: string of 100000 characters is over the limit/);
  });

  it("C-03 a 5 MB message is over the message size limit", async () => {
    const req = valid();
    req.context["blob"] = s("x".repeat(5 * 1024 * 1024));
    await refused(req, grpc.status.RESOURCE_EXHAUSTED, /message|length|size/i);
  });

  it("C-17 C-18 C-19 entities that redefine the bundle's own, repeat, or forge actions", async () => {
    const a = valid();
    a.entities.push(ent({ uid: { type: "App::Role", id: "admin" }, parents: [{ type: "App::Tenant", id: "acme" }] }));
    await refused(a, grpc.status.INVALID_ARGUMENT, /App::Role::"admin" is defined by the bundle/);
    const c = valid();
    c.entities.push(ent({ uid: { type: "App::User", id: "bob" }, attrs: { department: s("x") } }), ent({ uid: { type: "App::User", id: "bob" }, attrs: { department: s("y") } }));
    await refused(c, grpc.status.INVALID_ARGUMENT, /appears more than once/);
    const d = valid();
    d.entities.push(ent({ uid: { type: "App::Action", id: "delete" }, parents: [{ type: "App::Action", id: "read" }] }));
    await refused(d, grpc.status.INVALID_ARGUMENT, /action entities come from the bundle's schema/);
  });

  it("C-20 more entities than the limit", async () => {
    const req = valid();
    for (let i = 0; i < 1001; i++) req.entities.push(ent({ uid: { type: "App::Tenant", id: `t${i}` } }));
    await refused(req, grpc.status.RESOURCE_EXHAUSTED, /entities: 1001 entities is over the limit of 1000/);
  });

  it("C-12 decimal values Cedar cannot represent", async () => {
    for (const arg of ["99.12345", "1e3", "922337203685477.5808"]) {
      const req = valid();
      req.context["amount"] = v({ kind: { case: "extension", value: { fn: "decimal", arg } } });
      await refused(req, grpc.status.INVALID_ARGUMENT, /decimal|context/);
    }
  });

  it("C-13 an IPv6 prefix out of range", async () => {
    const req = valid();
    req.context["sourceIp"] = v({ kind: { case: "extension", value: { fn: "ip", arg: "::ffff:1.2.3.4/129" } } });
    await refused(req, grpc.status.INVALID_ARGUMENT, /ip|sourceIp|context/);
  });

  it("C-06 control characters in ids are opaque data, never INTERNAL", async () => {
    for (const id of ["a\u0000b", "a\r\nb", "\u202e"]) {
      const req = valid();
      req.resource!.uid!.id = id;
      assert.equal((await check(req)).decision, Decision.ALLOW);
    }
  });

  it("C-19 a parent cycle among request entities", async () => {
    const req = valid();
    req.entities.push(
      ent({ uid: { type: "App::Project", id: "a" }, attrs: { tenant: e("App::Tenant", "acme"), owner: e("App::User", "bob"), members: v({ kind: { case: "set", value: { values: [] } } }) }, parents: [{ type: "App::Project", id: "b" }] }),
      ent({ uid: { type: "App::Project", id: "b" }, attrs: { tenant: e("App::Tenant", "acme"), owner: e("App::User", "bob"), members: v({ kind: { case: "set", value: { values: [] } } }) }, parents: [{ type: "App::Project", id: "a" }] }),
    );
    await refused(req, grpc.status.INVALID_ARGUMENT, /cycle|schema|parent/i);
  });

  it("C-26 wire garbage: truncated varint, wrong wire type, random bytes", async () => {
    const cases = [Uint8Array.from([0x0a, 0xff]), Uint8Array.from([0x0d, 0x01, 0x02, 0x03, 0x04]), Uint8Array.from({ length: 4096 }, (_, i) => (i * 2654435761) >>> 24)];
    for (const bytes of cases) {
      await assert.rejects(rawCheck(bytes), (err: grpc.ServiceError) => err.code === grpc.status.INVALID_ARGUMENT);
    }
    assert.equal((await check(valid())).decision, Decision.ALLOW);
  });

  it("C-26 unknown fields are ignored", async () => {
    const bytes = concat(toBinary(CheckRequestSchema, valid()), lenField(99, utf8("future field")));
    const res = await rawCheck(bytes);
    assert.ok(res instanceof Buffer);
  });

  it("C-04 a gzip bomb over the message limit", async () => {
    const client = new grpc.Client(verdict.grpcAddr, grpc.credentials.createInsecure(), { "grpc.default_compression_algorithm": 2 });
    const req = valid();
    req.context["blob"] = s("x".repeat(8 * 1024 * 1024));
    const bytes = Buffer.from(toBinary(CheckRequestSchema, req));
    await assert.rejects(
      new Promise((resolve, reject) =>
        client.makeUnaryRequest("/verdict.v1.AuthorizationService/Check", (x: Buffer) => x, (x: Buffer) => x, bytes, (err, res) => (err ? reject(err) : resolve(res))),
      ),
      (err: grpc.ServiceError) => err.code === grpc.status.RESOURCE_EXHAUSTED,
    );
    client.close();
    assert.equal((await check(valid())).decision, Decision.ALLOW);
  });

  it("C-27 a 1 MB metadata flood is refused by the transport", async () => {
    const md = new grpc.Metadata();
    for (let i = 0; i < 1000; i++) md.set(`x-flood-${i}`, "y".repeat(1000));
    // Its own connection: the flood's reset must not be blamed on other callers' connections.
    const flooder = new grpc.Client(verdict.grpcAddr, grpc.credentials.createInsecure(), { "grpc.use_local_subchannel_pool": 1 });
    const bytes = Buffer.from(toBinary(CheckRequestSchema, valid()));
    await assert.rejects(
      new Promise((resolve, reject) =>
        flooder.makeUnaryRequest("/verdict.v1.AuthorizationService/Check", (x: Buffer) => x, (x: Buffer) => x, bytes, md, (err, res) => (err ? reject(err) : resolve(res))),
      ),
    );
    flooder.close();
    assert.equal((await check(valid())).decision, Decision.ALLOW);
  });

  describe("BatchCheck", () => {
    const batch = (checks: CheckRequest[]) => verdict.client.call<BatchCheckResponse>("batchCheck", create(BatchCheckRequestSchema, { checks }));
    it("C-24 decides items in order; a bad item fails alone", async () => {
      const bad = valid();
      delete (bad as Partial<CheckRequest>).principal;
      const deny = valid();
      deny.action!.id = "delete";
      const r4 = valid();
      r4.requestId = "r4";
      const res = await batch([valid(), bad, deny, r4]);
      assert.equal(res.results.length, 4);
      assert.equal(res.results[0]!.result.case, "response");
      assert.equal((res.results[0]!.result.value as CheckResponse).decision, Decision.ALLOW);
      assert.equal(res.results[1]!.result.case, "error");
      assert.equal((res.results[1]!.result.value as { code: number }).code, grpc.status.INVALID_ARGUMENT);
      assert.match((res.results[1]!.result.value as { message: string }).message, /checks\[1\]\.principal: required/);
      assert.equal((res.results[2]!.result.value as CheckResponse).decision, Decision.DENY);
      assert.equal((res.results[3]!.result.value as CheckResponse).requestId, "r4");
    });
    it("C-24 accepts 0 and 100 items, refuses 101", async () => {
      assert.equal((await batch([])).results.length, 0);
      assert.equal((await batch(Array.from({ length: 100 }, valid))).results.length, 100);
      await assert.rejects(batch(Array.from({ length: 101 }, valid)), (err: grpc.ServiceError) => {
        assert.equal(err.code, grpc.status.RESOURCE_EXHAUSTED);
        assert.match(err.details, /101 checks is over the batch limit of 100/);
        return true;
      });
    });
  });
});
