import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import fc from "fast-check";
import { loadConfig } from "../../src/config/load-config.js";
import type { AuthzRequest } from "../../src/model/authz-request.js";
import type { Value } from "../../src/model/entity.js";
import { DecisionLog } from "../../src/observability/decision-log.js";
import { isCredentialKey, LogMasking, plainValue } from "../../src/observability/log-masking.js";

const dir = mkdtempSync(join(tmpdir(), "verdict-mask-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const SECRET = "deployment-mask-secret-0123";
const s = (value: string): Value => ({ kind: "string", value });
const rec = (fields: Record<string, Value>): Value => ({ kind: "record", fields });
const set = (...values: Value[]): Value => ({ kind: "set", values });
const CREDENTIAL_KEYS = ["authorization", "Authorization", "cookie", "Set-Cookie", "password", "PassWord", "passwd", "pwd", "token", "access_token", "refreshToken", "id-token", "secret", "clientSecret", "client_secret", "apiKey", "api_key", "api-key", "X-API-Key", "apikey", "jwt", "bearer", "privateKey", "credentials", "sessionId", "session_token", "accessKey"];
const PLAIN_KEYS = ["name", "email", "role", "host", "sessions", "department", "items", "path"];

/** A request whose every credential-keyed value is a string starting with LEAK. */
function requestWith(context: Record<string, Value>, attrs: Record<string, Value>): AuthzRequest {
  const ent = (type: string, id: string) => ({ uid: { type, id }, attrs, parents: [], tags: attrs });
  return { principal: ent("U", "u"), action: { type: "A", id: "a" }, resource: ent("R", "r"), context, entities: [ent("G", "g")] };
}

async function logged(request: AuthzRequest, settings: Partial<ConstructorParameters<typeof DecisionLog>[0]> = {}): Promise<string> {
  const file = join(dir, `${Math.random()}.jsonl`);
  const log = new DecisionLog(
    { destination: file, allowSampleRate: 1, includeInput: true, includeRequest: true, mask: "", maskSecret: undefined, maskRandomKey: false, drop: "", bufferBytes: 1 << 20, ...settings },
    { logWritten: () => {}, logDropped: () => {}, logSampledOut: () => {} },
  );
  log.decided({ api: "check", request, durationSeconds: 0, evaluationSeconds: undefined, result: { decision: "allow", determiningPolicies: [], errors: [], decisionId: "d", bundleRevision: "r", cache: "miss", requestId: "" } });
  await log.close();
  return readFileSync(file, "utf8");
}

describe("decision log masking", () => {
  it("drops credential-like keys inside records inside sets, in the input fields and the request copy (regression)", async () => {
    const context = { sessions: set(rec({ cookie: s("LEAK-sid=1"), authorization: s("LEAK-Bearer x"), device: s("phone") })), nested: rec({ list: set(set(rec({ "X-API-Key": s("LEAK-k") }))) }) };
    const text = await logged(requestWith(context, { creds: set(rec({ password: s("LEAK-pw") })), name: s("ann") }));
    assert.doesNotMatch(text, /LEAK/);
    assert.match(text, /"device":"phone"/, "other keys in the same records are kept");
    assert.match(text, /"name":"ann"/);
  });

  it("drops credential-like keys at any depth of random values, entity attributes and tags (property)", async () => {
    const key = fc.oneof(fc.constantFrom(...CREDENTIAL_KEYS), fc.constantFrom(...PLAIN_KEYS));
    const value: fc.Arbitrary<Value> = fc.letrec<{ v: Value }>((tie) => ({
      v: fc.oneof(
        { depthSize: "small", withCrossShrink: true },
        fc.string({ maxLength: 5 }).map((x) => s(`ok${x.replace(/LEAK/g, "")}`)),
        fc.array(tie("v"), { maxLength: 3 }).map((values): Value => ({ kind: "set", values })),
        fc.array(fc.tuple(key, tie("v")), { maxLength: 4 }).map((pairs) => rec(Object.fromEntries(pairs.map(([k, v]) => [k, isCredentialKey(k) ? s(`LEAK-${k}`) : v])))),
      ),
    })).v;
    const fields = fc.array(fc.tuple(key, value), { maxLength: 4 }).map((pairs) => Object.fromEntries(pairs.map(([k, v]) => [k, isCredentialKey(k) ? s(`LEAK-${k}`) : v])));
    await fc.assert(
      fc.asyncProperty(fields, fields, async (context, attrs) => {
        assert.doesNotMatch(await logged(requestWith(context, attrs)), /LEAK/);
      }),
      { numRuns: 60 },
    );
    for (const k of CREDENTIAL_KEYS) assert.ok(isCredentialKey(k), k);
    for (const k of PLAIN_KEYS) assert.ok(!isCredentialKey(k), k);
  });

  it("masks with a keyed digest: equal values correlate under one secret, a dictionary without it recovers nothing (regression)", async () => {
    const email = s("ann@example.com");
    const a = new LogMasking({ mask: "context.email", drop: "", maskSecret: SECRET });
    const b = new LogMasking({ mask: "context.email", drop: "", maskSecret: SECRET });
    const other = new LogMasking({ mask: "context.email", drop: "", maskSecret: "another-deployment-secret" });
    assert.equal(a.digest(email), b.digest(email), "replicas with one secret agree");
    assert.notEqual(a.digest(email), other.digest(email), "another deployment's digests differ");
    assert.notEqual(a.digest(email), a.digest(s("bob@example.com")));
    const unkeyed = createHash("sha256").update(JSON.stringify(plainValue(email))).digest("hex");
    assert.ok(!unkeyed.startsWith(a.digest(email)), "not the plain SHA-256 a dictionary could match");
    const text = await logged(requestWith({ email }, {}), { mask: "context.email", maskSecret: SECRET });
    assert.ok(text.includes(`hmac-sha256:${a.digest(email)}`));
    assert.doesNotMatch(text, /ann@example\.com/);
  });

  it("refuses to start with masking on and no secret, unless a per-process random key is asked for", () => {
    assert.throws(() => loadConfig({ env: {}, flags: { "decisionLog.mask": "context.email" } }), /decisionLog\.maskSecret/);
    assert.throws(() => loadConfig({ env: {}, flags: { "decisionLog.mask": "context.email", "decisionLog.maskSecret": "short" } }), /at least 16/);
    assert.doesNotThrow(() => loadConfig({ env: { VERDICT_DECISION_LOG_MASK_SECRET: SECRET }, flags: { "decisionLog.mask": "context.email" } }));
    assert.doesNotThrow(() => loadConfig({ env: {}, flags: { "decisionLog.mask": "context.email", "decisionLog.maskRandomKey": true } }));
    assert.throws(() => new LogMasking({ mask: "context.email", drop: "" }), /maskSecret/);
    const random = new LogMasking({ mask: "context.email", drop: "", maskRandomKey: true });
    assert.equal(random.digest(s("x")), random.digest(s("x")), "a random key still correlates within the process");
  });
});
