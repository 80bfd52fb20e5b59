import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as cedar from "@cedar-policy/cedar-wasm/nodejs";
import { create } from "@bufbuild/protobuf";
import { type CheckRequest, CheckRequestSchema } from "../../src/gen/verdict/v1/authorization_pb.js";
import { EXAMPLE_BUNDLE } from "./bundles.js";
import type { rng } from "./random.js";

/** Policy texts by @id, as cedar-wasm's stateless calls take them. */
export const policiesOf = (texts: string[]) => {
  const out: Record<string, string> = {};
  for (const t of texts) {
    const parts = cedar.policySetTextToParts(t);
    if (parts.type !== "success") throw new Error("bad policies");
    for (const p of parts.policies) out[/@id\("([^"]+)"\)/.exec(p)![1]!] = p;
  }
  return out;
};

/** The example bundle as the oracle takes it: policies by id, static entities, schema text. */
export function exampleBundleForOracle() {
  const read = (f: string) => readFileSync(join(EXAMPLE_BUNDLE, f), "utf8");
  return {
    policies: policiesOf(["guardrails.cedar", "roles.cedar", "ownership.cedar"].map(read)),
    entities: JSON.parse(read("entities.json")) as unknown[],
    schema: read("schema.cedarschema"),
  };
}

const s = (value: string) => ({ kind: { case: "string" as const, value } });
const b = (value: boolean) => ({ kind: { case: "bool" as const, value } });
const e = (type: string, id: string) => ({ kind: { case: "entity" as const, value: { type, id } } });

/** A random schema-valid request for the example bundle, with a useful mix of outcomes. */
export function exampleRequest(r: ReturnType<typeof rng>, requestId = ""): CheckRequest {
  const users = ["alice", "bob", "carol", "dave", "erin"];
  const principal = r.pick(users);
  const tenant = () => e("App::Tenant", r.pick(["acme", "globex"]));
  const dept = () => s(r.pick(["eng", "sales", "ops"]));
  const isProject = r.next() < 0.25;
  const resource: never = (isProject
    ? { uid: { type: "App::Project", id: r.pick(["apollo", "gemini"]) }, attrs: { tenant: tenant(), owner: e("App::User", r.pick(users)), members: { kind: { case: "set" as const, value: { values: users.filter(() => r.bool()).map((u) => e("App::User", u)) } } } }, parents: [] }
    : { uid: { type: "App::Document", id: r.pick(["d1", "d2", "d3"]) }, attrs: { tenant: tenant(), owner: e("App::User", r.pick(users)), department: dept(), classification: s(r.pick(["public", "internal", "confidential"])) }, parents: [] }) as never;
  const action = isProject ? r.pick(["createDocument", "manageMembers"]) : r.pick(["view", "comment", "edit", "delete", "share"]);
  return create(CheckRequestSchema, {
    principal: { uid: { type: "App::User", id: principal }, attrs: { tenant: tenant(), department: dept(), suspended: b(r.next() < 0.15) }, parents: users.length && r.bool() ? [{ type: "App::Role", id: r.pick(["admin", "editor", "viewer"]) }] : [] },
    action: { type: "App::Action", id: action },
    resource,
    context: { mfa: b(r.next() < 0.7), sourceIp: { kind: { case: "extension", value: { fn: "ip", arg: r.pick(["10.1.2.3", "192.168.1.9", "203.0.113.7"]) } } } },
    requestId,
  });
}
