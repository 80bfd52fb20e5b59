import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, it } from "node:test";
import { Ajv, type ValidateFunction } from "ajv";
import { parse as parseYaml } from "yaml";
import { REPO } from "../helpers/bundles.js";

const ajv = new Ajv({ strict: true, strictRequired: false, allErrors: true, allowUnionTypes: true });
const schema = (name: string): ValidateFunction => ajv.compile(JSON.parse(readFileSync(join(REPO, "schemas", name), "utf8")) as object);
const routes = schema("routes.schema.json");
const authzen = schema("authzen.schema.json");
const tests = schema("policy-test-suite.schema.json");

const read = (path: string): unknown => (path.endsWith(".json") ? JSON.parse(readFileSync(path, "utf8")) : parseYaml(readFileSync(path, "utf8")));
function files(dir: string, match: RegExp): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p, match) : match.test(relative(REPO, p)) ? [p] : [];
  });
}
const ok = (v: ValidateFunction, doc: unknown, what: string) => assert.ok(v(doc), `${what}: ${ajv.errorsText(v.errors)}`);
const bad = (v: ValidateFunction, doc: unknown, what: string) => assert.ok(!v(doc), `${what} should not validate`);
const clone = <T>(x: T): T => structuredClone(x);

describe("JSON Schemas for editors (schemas/)", () => {
  it("every routes.yaml, authzen.yaml and test file of the example bundles validates", () => {
    const found = { routes: 0, authzen: 0, tests: 0 };
    for (const f of files(join(REPO, "policies"), /routes\.yaml$/)) (ok(routes, read(f), f), found.routes++);
    for (const f of files(join(REPO, "policies"), /authzen\.ya?ml$/)) (ok(authzen, read(f), f), found.authzen++);
    for (const f of files(join(REPO, "policies"), /\/tests\/.+\.(json|ya?ml)$/)) (ok(tests, read(f), f), found.tests++);
    assert.ok(found.routes >= 1 && found.authzen >= 2 && found.tests >= 50, JSON.stringify(found));
  });

  it("refuses broken routes.yaml", () => {
    const good = read(join(REPO, "policies/examples/envoy-gateway/routes.yaml")) as { routes: Record<string, unknown>[]; principal: Record<string, unknown>[] };
    const noRoutes = clone(good) as Record<string, unknown>;
    delete noRoutes["routes"];
    bad(routes, noRoutes, "no routes");
    bad(routes, { ...clone(good), unmatched: "maybe" }, "unmatched: maybe");
    bad(routes, { ...clone(good), route: [] }, "misspelt key");
    const relative = clone(good);
    relative.routes[0]!["path"] = "v1/documents";
    bad(routes, relative, "a path without /");
    const method = clone(good);
    method.routes[0]!["methods"] = ["FETCH"];
    bad(routes, method, "an unknown method");
    const twoSources = clone(good);
    twoSources.principal[0] = { jwtAuthn: { metadataKey: "k", type: "Gw::User" }, peer: { type: "Gw::Service" } };
    bad(routes, twoSources, "a principal source with two kinds");
    const openPeer = clone(good);
    openPeer.principal = [{ peer: { type: "Gw::Service" } }];
    bad(routes, openPeer, "a peer source with no allow-list");
  });

  it("refuses broken authzen.yaml", () => {
    bad(authzen, { types: { user: { entityType: "App::User", properties: "maybe" } } }, "properties: maybe");
    bad(authzen, { types: { user: "not a type!" } }, "a bad type name");
    bad(authzen, { type: {} }, "misspelt key");
    bad(authzen, { actionProperties: "__entity" }, "a reserved context member");
  });

  it("refuses broken test files", () => {
    const suite = read(join(REPO, "policies/tests/document_roles.yaml")) as { tests: Record<string, unknown>[] };
    const noName = clone(suite);
    delete noName.tests[0]!["name"];
    bad(tests, noName, "a test without a name");
    const maybe = clone(suite);
    maybe.tests[0]!["actions"] = { view: "maybe" };
    bad(tests, maybe, "an expected decision of maybe");
    const both = clone(suite);
    both.tests[0]!["principals"] = ["vic_viewer"];
    bad(tests, both, "principal and principals at once");
    const single = read(join(REPO, "policies/tests/viewer_cannot_delete_document.json")) as Record<string, unknown>;
    bad(tests, { ...single, expect: { decision: "permit" } }, "a single case expecting permit");
    bad(tests, { ...single, expected: single["expect"] }, "a misspelt key");
    bad(tests, { request: single["request"] }, "a case with no expectation");
  });
});
