import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import * as cedar from "@cedar-policy/cedar-wasm/nodejs";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import fc from "fast-check";
import { type CheckRequest, CheckRequestSchema, type CheckResponse, Decision } from "../../src/gen/verdict/v1/authorization_pb.js";
import { writeBundle } from "../helpers/bundles.js";
import { cedarRequestOf } from "../helpers/cedar-oracle.js";
import { type RunningVerdict, startVerdict } from "../helpers/start-verdict.js";

// Under a schema Cedar reads a record `{type, id}` in an entity-typed slot as an entity
// reference. Whatever form a reference comes in, in context, attributes, tags, nested records
// or sets, Verdict must hand Cedar the bundle entities it reaches, so its answer equals
// cedar-wasm's given every entity.

const SCHEMA = `namespace App {
  entity Group in [Group];
  entity User in [Group] = { suspended?: Bool, level?: Long, manager?: User };
  entity Doc = { owner: User, reviewers: Set<User>, meta: { by: User } } tags User;
  action read appliesTo {
    principal: User, resource: Doc,
    context: { approver: User, watchers: Set<User>, info: { by: User, extra?: { who: User } } }
  };
}`;
const POLICIES: Record<string, string> = {
  "allow-all": `permit (principal, action, resource);`,
  "staff-approved": `permit (principal, action, resource) when { context.approver in App::Group::"staff" };`,
  "approver-suspended": `forbid (principal, action, resource) when { context.approver has suspended && context.approver.suspended };`,
  "approver-blocked": `forbid (principal, action, resource) when { context.approver in App::Group::"blocked" };`,
  "info-level": `forbid (principal, action, resource) when { context.info.by has level && context.info.by.level > 5 };`,
  "extra-suspended": `forbid (principal, action, resource) when { context.info has extra && context.info.extra.who has suspended && context.info.extra.who.suspended };`,
  "owner-suspended": `forbid (principal, action, resource) when { resource.owner has suspended && resource.owner.suspended };`,
  "meta-blocked": `forbid (principal, action, resource) when { resource.meta.by in App::Group::"blocked" };`,
  "tag-level": `forbid (principal, action, resource) when { resource.hasTag("t") && resource.getTag("t") has level && resource.getTag("t").level > 5 };`,
  "manager-suspended": `forbid (principal, action, resource) when { principal has manager && principal.manager has suspended && principal.manager.suspended };`,
  "watcher-in-staff": `forbid (principal, action, resource) when { context.approver in context.watchers && context.approver has level && context.approver.level == 2 };`,
};
const user = (id: string) => ({ type: "App::User", id });
const group = (id: string) => ({ type: "App::Group", id });
const STATIC = [
  { uid: group("blocked"), attrs: {}, parents: [] },
  { uid: group("sub"), attrs: {}, parents: [group("blocked")] },
  { uid: group("staff"), attrs: {}, parents: [] },
  { uid: user("boss"), attrs: { suspended: true, level: 9 }, parents: [] },
  { uid: user("amy"), attrs: { suspended: false, level: 2, manager: { __entity: user("boss") } }, parents: [group("staff")] },
  { uid: user("ben"), attrs: { level: 7 }, parents: [group("staff")] },
  { uid: user("carl"), attrs: {}, parents: [group("sub")] },
];
const STATIC_USERS = ["boss", "amy", "ben", "carl"];
const IDS = [...STATIC_USERS, "ghost", "req"];

type V = MessageInitShape<typeof CheckRequestSchema>["context"] extends infer C ? (C extends Record<string, infer X> ? X : never) : never;
const str = (value: string) => ({ kind: { case: "string", value } }) as V;
/** A reference to `App::User::id` as an entity value, or as a record `{type, id}`. */
const ref = (id: string, form: "entity" | "record"): V =>
  (form === "entity"
    ? { kind: { case: "entity", value: user(id) } }
    : { kind: { case: "record", value: { fields: { type: str("App::User"), id: str(id) } } } }) as V;
const set = (values: V[]) => ({ kind: { case: "set", value: { values } } }) as V;
const rec = (fields: Record<string, V>) => ({ kind: { case: "record", value: { fields } } }) as V;

const form = fc.constantFrom<"entity" | "record">("entity", "record");
const refArb = fc.tuple(fc.constantFrom(...IDS), form).map(([id, f]) => ref(id, f));
const requestArb = fc
  .record({
    principal: fc.constantFrom(...STATIC_USERS, "req"),
    reqLevel: fc.option(fc.integer({ min: 0, max: 9 }), { nil: undefined }),
    reqManager: fc.option(refArb, { nil: undefined }),
    reqGroups: fc.subarray(["blocked", "sub", "staff"]),
    approver: refArb,
    watchers: fc.array(refArb, { maxLength: 3 }),
    by: refArb,
    extra: fc.option(refArb, { nil: undefined }),
    owner: refArb,
    reviewers: fc.array(refArb, { maxLength: 3 }),
    metaBy: refArb,
    tag: fc.option(refArb, { nil: undefined }),
  })
  .map((r): CheckRequest => {
    const reqAttrs: Record<string, V> = {};
    if (r.reqLevel !== undefined) reqAttrs["level"] = { kind: { case: "long", value: BigInt(r.reqLevel) } } as V;
    if (r.reqManager !== undefined) reqAttrs["manager"] = r.reqManager;
    const principal = r.principal === "req" ? { uid: user("req"), attrs: reqAttrs, parents: r.reqGroups.map(group) } : { uid: user(r.principal) };
    return create(CheckRequestSchema, {
      principal,
      action: { type: "App::Action", id: "read" },
      resource: {
        uid: { type: "App::Doc", id: "d" },
        attrs: { owner: r.owner, reviewers: set(r.reviewers), meta: rec({ by: r.metaBy }) },
        tags: r.tag === undefined ? {} : { t: r.tag },
      },
      context: { approver: r.approver, watchers: set(r.watchers), info: rec({ by: r.by, ...(r.extra === undefined ? {} : { extra: rec({ who: r.extra }) }) }) },
    } as MessageInitShape<typeof CheckRequestSchema>);
  });

/** cedar-wasm's answer with every static entity and the request's own (a bare static principal is the static one). */
function cedarAnswer(req: CheckRequest) {
  const call = cedarRequestOf(req);
  const own = call.entities.filter((e) => !(e.uid.type === "App::User" && STATIC_USERS.includes(e.uid.id)));
  // cedarRequestOf leaves tags out; Cedar needs them.
  const tags = req.resource!.tags["t"];
  if (tags !== undefined) (own[own.findIndex((e) => e.uid.type === "App::Doc")] as Record<string, unknown>)["tags"] = cedarRequestOf(create(CheckRequestSchema, { ...req, context: { t: tags } })).context;
  const answer = cedar.isAuthorized({
    ...call,
    context: call.context as never,
    policies: { staticPolicies: POLICIES },
    entities: [...STATIC, ...own] as never,
    schema: SCHEMA,
    validateRequest: true,
  });
  assert.equal(answer.type, "success", JSON.stringify(answer));
  if (answer.type !== "success") throw new Error("unreachable");
  return { decision: answer.response.decision, reasons: [...answer.response.diagnostics.reason].sort(), errors: answer.response.diagnostics.errors.length };
}

describe("entity references in every value form reach the bundle's entities", () => {
  const bundle = writeBundle({
    "manifest.json": '{"name":"reference-forms"}',
    "schema.cedarschema": SCHEMA,
    "policies.cedar": Object.entries(POLICIES).map(([id, text]) => `@id("${id}")\n${text}`).join("\n"),
    "entities.json": JSON.stringify(STATIC),
  });
  let v: RunningVerdict;
  before(async () => (v = await startVerdict(bundle.dir)));
  after(async () => {
    await v.stop();
    bundle.cleanup();
  });
  const check = (req: CheckRequest) => v.client.call<CheckResponse>("check", req);

  it("context.approver as a record {type, id} naming a suspended static user is denied, as Cedar denies it", async () => {
    const req = create(CheckRequestSchema, {
      principal: { uid: user("ben") },
      action: { type: "App::Action", id: "read" },
      resource: { uid: { type: "App::Doc", id: "d" }, attrs: { owner: ref("ghost", "entity"), reviewers: set([]), meta: rec({ by: ref("ghost", "entity") }) } },
      context: { approver: ref("boss", "record"), watchers: set([]), info: rec({ by: ref("ghost", "record") }) },
    } as MessageInitShape<typeof CheckRequestSchema>);
    assert.deepEqual(cedarAnswer(req), { decision: "deny", reasons: ["approver-suspended"], errors: 0 });
    const r = await check(req);
    assert.equal(r.decision, Decision.DENY);
    assert.deepEqual([...r.determiningPolicies], ["approver-suspended"]);
  });

  it("AuthZEN: the approver as a {type, id} object or as a bare id string (schema-typed) is denied too", async () => {
    for (const approver of [{ type: "App::User", id: "boss" }, "boss"]) {
      const res = await fetch(`${v.httpUrl}/access/v1/evaluation`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          subject: { type: "App::User", id: "ben" },
          action: { name: "read" },
          resource: { type: "App::Doc", id: "d", properties: { owner: { type: "App::User", id: "ghost" }, reviewers: [], meta: { by: "ghost" } } },
          context: { approver, watchers: [], info: { by: { type: "App::User", id: "ghost" } } },
        }),
      });
      assert.equal(res.status, 200, await res.clone().text());
      assert.deepEqual(await res.json(), { decision: false });
    }
  });

  it("random requests whose references come as entity values or {type, id} records: Verdict equals cedar-wasm with every entity", async () => {
    let denies = 0;
    let records = 0;
    await fc.assert(
      fc.asyncProperty(requestArb, async (req) => {
        const want = cedarAnswer(req);
        const got = await check(req);
        assert.equal(got.decision, want.decision === "allow" ? Decision.ALLOW : Decision.DENY);
        assert.deepEqual([...got.determiningPolicies].sort(), want.reasons);
        assert.equal(got.errors.length, want.errors);
        if (want.decision === "deny") denies++;
        if (JSON.stringify(cedarRequestOf(req)).includes('"type":"App::User"')) records++;
      }),
      { numRuns: 250, seed: 20261205 },
    );
    assert.ok(denies > 50 && denies < 240, `a useful mix of outcomes (${denies} denies)`);
    assert.ok(records > 100, "record-form references are exercised");
  });
});
