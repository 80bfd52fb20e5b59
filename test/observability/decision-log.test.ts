import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fromJson, type JsonValue } from "@bufbuild/protobuf";
import { type CheckRequest, CheckRequestSchema, type CheckResponse } from "../../src/gen/verdict/v1/authorization_pb.js";
import { requestFromJson } from "../../src/model/request-json.js";
import { DecisionLog } from "../../src/observability/decision-log.js";
import { EXAMPLE_BUNDLE } from "../helpers/bundles.js";
import { startVerdict } from "../helpers/start-verdict.js";

const example = (name: string): CheckRequest =>
  fromJson(CheckRequestSchema, (JSON.parse(readFileSync(`${EXAMPLE_BUNDLE}/tests/${name}.json`, "utf8")) as { request: JsonValue }).request);
const SECRET = "log-mask-secret-for-tests";
const dir = mkdtempSync(join(tmpdir(), "verdict-log-"));
after(() => rmSync(dir, { recursive: true, force: true }));

describe("decision log", () => {
  it("writes one line per decision with the audit fields; masked paths never appear in clear", async () => {
    const file = join(dir, "decisions.jsonl");
    const verdict = await startVerdict(EXAMPLE_BUNDLE, {
      "decisionLog.destination": file,
      "decisionLog.mask": "principal.attrs.department,resource.attrs.department",
      "decisionLog.maskSecret": SECRET,
      "decisionLog.drop": "context.mfa",
      "decisionLog.includeRequest": true,
    });
    const ids: string[] = [];
    const req = example("editor_can_edit_document");
    try {
      for (let i = 0; i < 10; i++) ids.push((await verdict.client.call<CheckResponse>("check", i % 2 ? req : example("viewer_cannot_delete_document"))).decisionId);
    } finally {
      await verdict.stop();
    }
    const text = readFileSync(file, "utf8");
    const lines = text.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(lines.length, 10);
    for (const id of ids) assert.equal(lines.filter((l) => l["decision_id"] === id).length, 1, `exactly one line for ${id}`);
    const line = lines.find((l) => l["decision"] === "allow")!;
    for (const field of ["time", "api", "principal", "action", "resource", "decision", "determining_policies", "errors", "bundle_revision", "cache", "latency_ms", "request_id"]) {
      assert.ok(field in line, `has ${field}`);
    }
    assert.equal(line["principal"], 'App::User::"alice"');
    assert.equal(line["request_id"], "editor_can_edit_document");
    assert.match(String((line["principal_attrs"] as Record<string, unknown>)["department"]), /^hmac-sha256:[0-9a-f]{32}$/);
    assert.doesNotMatch(text, /"department":"eng"/, "masked value never in clear");
    assert.doesNotMatch(text, /"mfa"/, "dropped paths never logged");
    const logged = requestFromJson((line as { request: unknown }).request);
    assert.equal(logged.request.action.id, "edit", "the whole request is there to be replayed");
    assert.deepEqual(logged.request.principal.parents, [{ type: "App::Role", id: "editor" }]);
  });

  it("drops and counts lines a slow sink cannot take: written + dropped = decisions", async () => {
    let written = 0;
    let dropped = 0;
    const log = new DecisionLog(
      { destination: join(dir, "burst.jsonl"), allowSampleRate: 1, includeInput: true, includeRequest: false, mask: "", maskSecret: undefined, maskRandomKey: false, drop: "", bufferBytes: 4096 },
      { logWritten: () => written++, logDropped: () => dropped++, logSampledOut: () => assert.fail("no sampling") },
    );
    const request = { principal: { uid: { type: "U", id: "u" }, attrs: { pad: { kind: "string" as const, value: "x".repeat(500) } }, parents: [], tags: {} }, action: { type: "A", id: "a" }, resource: { uid: { type: "R", id: "r" }, attrs: {}, parents: [], tags: {} }, context: {}, entities: [] };
    const n = 2000;
    for (let i = 0; i < n; i++) {
      log.decided({ api: "check", request, durationSeconds: 0.0001, evaluationSeconds: undefined, result: { decision: "deny", determiningPolicies: [], errors: [], decisionId: `d${i}`, bundleRevision: "r", cache: "miss", requestId: "" } });
    }
    await log.close();
    assert.ok(dropped > 0, "the tiny buffer overflowed");
    assert.equal(written + dropped, n, "logged + dropped = decisions");
    const lines = readFileSync(join(dir, "burst.jsonl"), "utf8").trim().split("\n").length;
    assert.equal(lines, written, "every line counted as logged is on disk");
  });
});

it("never logs credential-like keys", async () => {
  const file = join(dir, "creds.jsonl");
  const log = new DecisionLog(
    { destination: file, allowSampleRate: 1, includeInput: true, includeRequest: true, mask: "", maskSecret: undefined, maskRandomKey: false, drop: "", bufferBytes: 1 << 20 },
    { logWritten: () => {}, logDropped: () => {}, logSampledOut: () => {} },
  );
  const s = (value: string) => ({ kind: "string" as const, value });
  const request = {
    principal: { uid: { type: "U", id: "u" }, attrs: { apiKey: s("k-123"), name: s("ann") }, parents: [], tags: {} },
    action: { type: "A", id: "a" },
    resource: { uid: { type: "R", id: "r" }, attrs: {}, parents: [], tags: {} },
    context: { authorization: s("Bearer eyJhbGciOi.secret"), jwt: s("eyJ.x.y"), headers: { kind: "record" as const, fields: { cookie: s("sid=1"), host: s("api") } } },
    entities: [],
  };
  log.decided({ api: "check", request, durationSeconds: 0, evaluationSeconds: undefined, result: { decision: "allow", determiningPolicies: [], errors: [], decisionId: "d", bundleRevision: "r", cache: "miss", requestId: "" } });
  await log.close();
  const text = readFileSync(file, "utf8");
  assert.doesNotMatch(text, /Bearer|eyJ|sid=1|k-123/);
  assert.match(text, /"name":"ann"/);
  assert.match(text, /"host":"api"/);
  assert.match(text, /"request":\{/, "the whole request is logged too, without the credentials");
});

it("with includeRequest, a line holds the request as verdict.v1.CheckRequest JSON: masked paths as digests, the rest exactly", async () => {
  const file = join(dir, "requests.jsonl");
  const log = new DecisionLog(
    { destination: file, allowSampleRate: 1, includeInput: false, includeRequest: true, mask: "context.email", maskSecret: SECRET, maskRandomKey: false, drop: "resource.attrs.secretish,entities.attrs.note", bufferBytes: 1 << 20 },
    { logWritten: () => {}, logDropped: () => {}, logSampledOut: () => {} },
  );
  const { request } = requestFromJson(JSON.parse(readFileSync(`${EXAMPLE_BUNDLE}/tests/editor_can_edit_document.json`, "utf8")).request);
  const extra = {
    ...request,
    context: { ...request.context, email: { kind: "string" as const, value: "ann@example.com" }, n: { kind: "long" as const, value: -42 } },
    resource: { ...request.resource, attrs: { ...request.resource.attrs, secretish: { kind: "bool" as const, value: true } } },
    entities: request.entities.map((e) => ({ ...e, attrs: { ...e.attrs, note: { kind: "string" as const, value: "x" } } })),
  };
  log.decided({ api: "check", request: extra, durationSeconds: 0, evaluationSeconds: undefined, result: { decision: "allow", determiningPolicies: [], errors: [], decisionId: "d", bundleRevision: "r", cache: "miss", requestId: "rid-1" } });
  await log.close();
  const line = JSON.parse(readFileSync(file, "utf8")) as { request: unknown; context?: unknown };
  assert.equal(line.context, undefined, "includeInput off leaves the plain input out");
  const back = requestFromJson(line.request);
  assert.equal(back.requestId, "rid-1");
  assert.match((back.request.context["email"] as { value: string }).value, /^hmac-sha256:[0-9a-f]{32}$/);
  const { email: _masked, ...context } = back.request.context;
  const { email: _clear, ...expectedContext } = extra.context;
  assert.deepEqual({ ...back.request, context }, { ...request, context: expectedContext });
});

it("a decision whose request cannot be read is still logged and counted: logged + dropped + sampled out = decisions", async () => {
  const file = join(dir, "unreadable.jsonl");
  const counts = { written: 0, dropped: 0, sampled: 0 };
  const log = new DecisionLog(
    { destination: file, allowSampleRate: 1, includeInput: true, includeRequest: true, mask: "", maskSecret: undefined, maskRandomKey: false, drop: "", bufferBytes: 1 << 20 },
    { logWritten: () => counts.written++, logDropped: () => counts.dropped++, logSampledOut: () => counts.sampled++ },
  );
  const event = {
    api: "check" as const,
    get request(): never {
      throw new Error("malformed verdict.v1.CheckRequest");
    },
    durationSeconds: 0,
    evaluationSeconds: undefined,
    result: { decision: "allow" as const, determiningPolicies: ["p"], errors: [], decisionId: "d-unreadable", bundleRevision: "r", cache: "hit_local" as const, requestId: "" },
  };
  log.decided(event);
  await log.close();
  assert.deepEqual(counts, { written: 1, dropped: 0, sampled: 0 });
  const line = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
  assert.equal(line["decision_id"], "d-unreadable");
  assert.equal(line["decision"], "allow");
  assert.match(String(line["log_error"]), /request details unavailable: malformed/);
});
