import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { readAuthzenMapping } from "../../src/bundle/authzen-mapping.js";
import { BundleError } from "../../src/bundle/bundle-error.js";
import { CedarEngine } from "../../src/engine/cedar-engine.js";
import { CedarRuntime } from "../../src/engine/cedar-runtime.js";
import { NO_SCHEMA_HINTS } from "../../src/engine/schema-hints.js";
import { VerdictError } from "../../src/errors.js";
import { toAuthzRequest, type AuthzenParts, type MappingInputs } from "../../src/server/authzen/authzen-request.js";

const files = (name: string, text: string) => new Map([[name, new TextEncoder().encode(text)]]);
const mappingOf = (text: string, name = "authzen.yaml") => readAuthzenMapping(files(name, text));
const bundleError = (text: string, name = "authzen.yaml"): string => {
  try {
    mappingOf(text, name);
  } catch (err) {
    assert.ok(err instanceof BundleError);
    return err.message;
  }
  assert.fail("the mapping was accepted");
};

const SCHEMA = `namespace App {
  type Net = { addr: ipaddr, seen?: datetime };
  entity Team;
  entity User = { ip?: ipaddr, net?: Net, limit?: decimal, team?: Team, teams?: Set<Team>, age?: Long };
  entity Doc = { owner?: User, tags?: Set<String> };
  action view appliesTo { principal: User, resource: Doc, context: { ip?: ipaddr, window?: duration, action?: { mode?: String } } };
}`;
const compiled = new CedarEngine(new CedarRuntime()).compile({
  policyFiles: [{ path: "p.cedar", text: `permit (principal, action == App::Action::"view", resource);` }],
  schema: { path: "schema.cedarschema", text: SCHEMA, format: "cedar" },
});
const MAPPING = mappingOf(`
types:
  user: App::User
  team: App::Team
  document: { entityType: App::Doc }
  directory_user: { entityType: App::User, properties: ignore }
actions:
  can_view: view
actionProperties: action
`);
const inputs: MappingInputs = { mapping: MAPPING, hints: compiled.hints, defaultActionType: compiled.defaultActionType, maxDepth: 32 };
const base = { subject: { type: "user", id: "alice" }, action: { name: "can_view" }, resource: { type: "document", id: "d1" } };
// Record fields are null-prototype objects (a "__proto__" key stays data); compare them as plain JSON.
const map = (parts: AuthzenParts, i: MappingInputs = inputs) => JSON.parse(JSON.stringify(toAuthzRequest(parts, i))) as ReturnType<typeof toAuthzRequest>;
const refused = (parts: AuthzenParts, pattern: RegExp, i: MappingInputs = inputs) =>
  assert.throws(() => map(parts, i), (err: unknown) => err instanceof VerdictError && (err.code === "invalid_argument" || err.code === "limit_exceeded") && pattern.test(err.message));

describe("the bundle's AuthZEN mapping file", () => {
  it("reads types (short and long form), action ids and the action-properties member, from YAML or JSON", () => {
    assert.deepEqual(MAPPING?.types.get("user"), { entityType: "App::User", properties: "attributes" });
    assert.deepEqual(MAPPING?.types.get("directory_user"), { entityType: "App::User", properties: "ignore" });
    assert.equal(MAPPING?.actions.get("can_view"), "view");
    assert.equal(MAPPING?.actionProperties, "action");
    const json = mappingOf(`{"types": {"user": "App::User"}}`, "authzen.json");
    assert.equal(json?.types.get("user")?.entityType, "App::User");
    assert.equal(readAuthzenMapping(new Map()), undefined);
  });

  it("rejects the bundle, naming the file and the mistake", () => {
    assert.match(bundleError("types: {user: 'not a type'}"), /authzen\.yaml: types\.user\.entityType: must be a Cedar entity type name/);
    assert.match(bundleError("types: {user: {entityType: App::User, properties: merge}}"), /types\.user\.properties: must be "attributes" or "ignore"/);
    assert.match(bundleError("typos: {}"), /unknown key "typos"/);
    assert.match(bundleError("actions: {read: ''}"), /actions\.read: must be a non-empty Cedar action id/);
    assert.match(bundleError("actionProperties: __extn"), /reserved by Cedar's JSON format/);
    assert.match(bundleError("types: [1, 2"), /not valid YAML/);
    assert.match(bundleError(`{"types": `, "authzen.json"), /authzen\.json: not valid JSON/);
    const two = new Map([...files("authzen.yaml", "{}"), ...files("authzen.json", "{}")]);
    assert.throws(() => readAuthzenMapping(two), /only one AuthZEN mapping file/);
  });
});

describe("AuthZEN request → Cedar request", () => {
  it("maps types and action names through the bundle, properties to attributes", () => {
    const req = map({ ...base, subject: { ...base.subject, properties: { age: 42 } } });
    assert.deepEqual(req.principal.uid, { type: "App::User", id: "alice" });
    assert.deepEqual(req.principal.attrs, { age: { kind: "long", value: 42 } });
    assert.deepEqual(req.action, { type: "App::Action", id: "view" });
    assert.deepEqual(req.resource.uid, { type: "App::Doc", id: "d1" });
  });

  it("types strings through the schema: ip, decimal, datetime in a common type, entity references, sets of them", () => {
    const req = map({
      ...base,
      subject: { type: "user", id: "alice", properties: { ip: "10.0.0.1", limit: "1.5", net: { addr: "10.1.0.0/16", seen: "2025-01-01" }, team: "blue", teams: ["red", { type: "team", id: "green" }] } },
      resource: { type: "document", id: "d1", properties: { owner: "bob", tags: ["a"] } },
      context: { ip: "192.168.1.1", window: "1h" },
    });
    const a = req.principal.attrs;
    assert.deepEqual(a["ip"], { kind: "extension", fn: "ip", arg: "10.0.0.1" });
    assert.deepEqual(a["limit"], { kind: "extension", fn: "decimal", arg: "1.5" });
    assert.deepEqual(a["net"], { kind: "record", fields: { addr: { kind: "extension", fn: "ip", arg: "10.1.0.0/16" }, seen: { kind: "extension", fn: "datetime", arg: "2025-01-01" } } });
    assert.deepEqual(a["team"], { kind: "entity", uid: { type: "App::Team", id: "blue" } });
    assert.deepEqual(a["teams"], { kind: "set", values: [{ kind: "entity", uid: { type: "App::Team", id: "red" } }, { kind: "entity", uid: { type: "App::Team", id: "green" } }] });
    assert.deepEqual(req.resource.attrs["owner"], { kind: "entity", uid: { type: "App::User", id: "bob" } });
    assert.deepEqual(req.resource.attrs["tags"], { kind: "set", values: [{ kind: "string", value: "a" }] });
    assert.deepEqual(req.context["ip"], { kind: "extension", fn: "ip", arg: "192.168.1.1" });
    assert.deepEqual(req.context["window"], { kind: "extension", fn: "duration", arg: "1h" });
    assert.deepEqual(map({ ...base, subject: { ...base.subject, properties: { limit: 2 } } }).principal.attrs["limit"], { kind: "extension", fn: "decimal", arg: "2.0" });
  });

  it("the typed request is one Cedar accepts and decides", () => {
    const req: AuthzenParts = { ...base, subject: { type: "user", id: "alice", properties: { ip: "10.0.0.1", net: { addr: "10.0.0.0/8" } } }, context: { ip: "10.0.0.2" } };
    assert.equal(compiled.evaluate(toAuthzRequest(req, inputs)).decision, "allow");
  });

  it("leaves out what the schema does not declare (unknown members are ignored), and nulls", () => {
    const req = map({
      ...base,
      subject: { type: "user", id: "alice", properties: { department: "Sales", age: null, net: { addr: "10.0.0.1", extra: 1 } } },
      context: { time: "2025-06-27T18:03-07:00", ip: "10.0.0.1" },
    });
    assert.deepEqual(Object.keys(req.principal.attrs), ["net"]);
    assert.deepEqual(Object.keys((req.principal.attrs["net"] as { fields: object }).fields), ["addr"]);
    assert.deepEqual(Object.keys(req.context), ["ip"]);
  });

  it("without a schema, carries every property as its JSON reads", () => {
    const req = map({ ...base, subject: { type: "user", id: "alice", properties: { ip: "10.0.0.1", nested: { n: 1 } } }, context: { flag: true } }, { ...inputs, hints: NO_SCHEMA_HINTS });
    assert.deepEqual(req.principal.attrs, { ip: { kind: "string", value: "10.0.0.1" }, nested: { kind: "record", fields: { n: { kind: "long", value: 1 } } } });
    assert.deepEqual(req.context, { flag: { kind: "bool", value: true } });
  });

  it("ignores properties of types whose data the bundle owns", () => {
    assert.deepEqual(map({ ...base, subject: { type: "directory_user", id: "alice", properties: { age: 1 } } }).principal.attrs, {});
  });

  it("puts action properties in the configured context member, typed by the schema", () => {
    const req = map({ ...base, action: { name: "can_view", properties: { mode: "soft", ignored: 1 } } });
    assert.deepEqual(req.context["action"], { kind: "record", fields: { mode: { kind: "string", value: "soft" } } });
    refused({ ...base, action: { name: "can_view", properties: { mode: "x" } }, context: { action: {} } }, /context\.action: this bundle reserves it for action\.properties/);
  });

  it("refuses Cedar's escape keys anywhere, even where the schema would leave the member out", () => {
    refused({ ...base, subject: { ...base.subject, properties: { __entity: { type: "App::User", id: "root" } } } }, /subject\.properties\.__entity: the key "__entity" is reserved/);
    refused({ ...base, context: { nested: { __extn: { fn: "ip", arg: "1.1.1.1" } } } }, /reserved/, { ...inputs, hints: NO_SCHEMA_HINTS });
    refused({ ...base, context: { __expr: "1" } }, /context\.__expr/);
  });

  it("refuses missing or mistyped members with the member's name", () => {
    refused({ action: base.action, resource: base.resource }, /^subject: required object/);
    refused({ ...base, subject: "alice" }, /^subject: must be an object/);
    refused({ ...base, subject: { id: "alice" } }, /^subject\.type: required/);
    refused({ ...base, subject: { type: "user", id: 7 } }, /^subject\.id: required/);
    refused({ ...base, subject: { ...base.subject, properties: [] } }, /^subject\.properties: must be an object/);
    refused({ ...base, action: {} }, /^action\.name: required/);
    refused({ ...base, action: { name: 123 } }, /^action\.name: required/);
    refused({ ...base, action: { name: "can_view", properties: "x" } }, /^action\.properties: must be an object/);
    refused({ subject: base.subject, action: base.action }, /^resource: required object/);
    refused({ ...base, resource: { type: "document" } }, /^resource\.id: required/);
    refused({ ...base, context: [] }, /^context: must be an object/);
    refused({ ...base, context: { x: 1.5 } }, /context\.x: 1\.5 is not an integer/, { ...inputs, hints: NO_SCHEMA_HINTS });
    refused({ ...base, context: { x: [1, null] } }, /context\.x\[1\]: null is not a value/, { ...inputs, hints: NO_SCHEMA_HINTS });
  });

  it("refuses nesting beyond the depth limit before recursing into it", () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    refused({ ...base, context: { deep } }, /context\.deep(\[0\])*: nested deeper than the limit of 32/, { ...inputs, hints: NO_SCHEMA_HINTS });
  });
});
