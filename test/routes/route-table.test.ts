import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseRouteTable, RouteTableError } from "../../src/routes/route-table.js";

const JWKS = JSON.stringify({ keys: [] });
const files: Record<string, string> = { "jwks.json": JWKS };
const parse = (text: string) => parseRouteTable(text, (p) => files[p]);
const ROUTE = `routes:
  - methods: [GET]
    path: /v1/docs/{id}
    action: read
    resource: { type: App::Doc, id: "{id}" }
`;

function lineOf(text: string): { line: number | undefined; message: string } {
  try {
    parse(text);
  } catch (err) {
    assert.ok(err instanceof RouteTableError, String(err));
    return { line: err.line, message: err.message };
  }
  assert.fail("accepted");
}

describe("routes.yaml validation: errors name the line", () => {
  it("accepts the documented shape, with typed attributes and parents", () => {
    const t = parse(`principal:
  - peer: { type: App::Service, trustDomains: [cluster.local] }
headers: [X-Tenant]
routes:
  - methods: [get, PUT]
    path: /v1/tenants/{tenant}/docs/{id}
    action: edit
    resource:
      type: App::Doc
      id: "{tenant}/{id}"
      attributes: { tenant: { entity: App::Tenant, id: "{tenant}" }, label: "{query.label}", archived: false, level: 3 }
      parents: [{ type: App::Tenant, id: "{tenant}" }]
`);
    assert.deepEqual([...t.routes[0]!.methods], ["GET", "PUT"]);
    assert.deepEqual(t.headers, ["x-tenant"]);
    assert.equal(t.unmatched, "deny");
    assert.deepEqual(t.routes[0]!.resource.attributes["tenant"], { kind: "entity", type: "App::Tenant", template: "{tenant}" });
    assert.deepEqual(t.routes[0]!.resource.attributes["archived"], { kind: "literal", value: false });
  });

  it("names the line of a bad field", () => {
    const cases: [string, number, RegExp][] = [
      [`${ROUTE}  - methods: [FETCH]\n    path: /x\n    action: a\n    resource: { type: A, id: x }\n`, 6, /methods/],
      [`${ROUTE}  - path: x\n    action: a\n    resource: { type: A, id: x }\n`, 6, /must start with \//],
      [`${ROUTE}  - path: /x/{id}\n    action: a\n    resource: { type: A, id: "{ids}" }\n`, 8, /\{ids\} is not a path parameter/],
      [`${ROUTE}  - path: /x\n    action: a\n    resource: { type: "not a type", id: x }\n`, 8, /entity type/],
      [`${ROUTE}  - path: /x\n    acton: a\n    resource: { type: A, id: x }\n`, 7, /unknown field/],
      [`principal:\n  - jwt:\n      jwks: missing.json\n      issuer: i\n      audience: a\n      type: A\n${ROUTE}`, 3, /missing\.json not found/],
      [`principal:\n  - jwt:\n      jwksUrl: http://idp.example.test/jwks\n      issuer: i\n      audience: a\n      type: A\n${ROUTE}`, 3, /https/],
      [`principal:\n  - jwt:\n      jwks: jwks.json\n      jwksUrl: https://idp.example.test/jwks\n      issuer: i\n      audience: a\n      type: A\n${ROUTE}`, 3, /exactly one of jwks/],
      [`principal:\n  - cookie: { name: sid }\n${ROUTE}`, 2, /unknown principal source/],
      [`${ROUTE}unmatched: maybe\n`, 6, /deny or allow/],
      [`principal:\n  - peer: { type: App::Service }\n${ROUTE}`, 2, /trustDomains .* or ids/],
      [`principal:\n  - peer: { type: App::Service, trustDomains: ["spiffe://cluster.local"] }\n${ROUTE}`, 2, /SPIFFE trust domain/],
      [`routes: [\n`, 2, /./],
      [`routes:\n  - path: /a\n    path: /b\n`, 3, /unique|duplicate/i],
    ];
    for (const [text, line, message] of cases) {
      const e = lineOf(text);
      assert.equal(e.line, line, `${e.message}\n${text}`);
      assert.match(e.message, message);
      assert.match(e.message, /^routes\.yaml:\d+: /);
    }
  });

  it("needs at least one route", () => {
    assert.match(lineOf("principal: []\n").message, /at least one route/);
  });
});
