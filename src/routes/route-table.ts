import { compileTemplate, type PathTemplate } from "./path-template.js";
import { parsePrincipalSource, type PrincipalSource } from "./principal-source.js";
import { type FieldPath, YamlFields } from "./yaml-fields.js";

export { RouteTableError } from "./yaml-fields.js";
export type { ClaimMapping, PrincipalSource } from "./principal-source.js";

/**
 * A value filled from the request: `{param}` from the path template, `{query.name}`,
 * `{header.name}`; literal booleans and numbers are route-level facts the backend guarantees.
 */
export type AttributeSpec = { readonly kind: "string"; readonly template: string } | { readonly kind: "entity"; readonly type: string; readonly template: string } | { readonly kind: "literal"; readonly value: boolean | number };

/** One route: methods and a path template → a Cedar action and resource. */
export interface Route {
  readonly methods: ReadonlySet<string>;
  readonly path: PathTemplate;
  readonly action: string;
  /** `deprecated: true` in routes.yaml: calls are still decided, and counted and reported as anomalies. */
  readonly deprecated: boolean;
  readonly resource: {
    readonly type: string;
    readonly id: string;
    readonly attributes: Readonly<Record<string, AttributeSpec>>;
    readonly parents: readonly { readonly type: string; readonly id: string }[];
  };
}

/** A bundle's `routes.yaml`, validated. */
export interface RouteTable {
  readonly routes: readonly Route[];
  readonly principal: readonly PrincipalSource[];
  /** Request headers copied into `context.headers` (lower-case names; "" when absent). */
  readonly headers: readonly string[];
  /** What a request that matches no route gets; either way it is counted and inventoried. */
  readonly unmatched: "deny" | "allow";
}

const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);
const PLACEHOLDER = /\{([^{}]*)\}/g;
const HEADER_NAME = /^[a-z0-9!#$%&'*+.^_`|~-]+$/;

/** Parses and validates `routes.yaml`; `readFile` returns another bundle file (a JWKS). */
export function parseRouteTable(text: string, readFile: (path: string) => string | undefined): RouteTable {
  const y = new YamlFields(text);
  y.map([]);
  y.only([], ["principal", "headers", "routes", "unmatched"]);
  const principal = y.list(["principal"]).map((_p, i) => parsePrincipalSource(y, ["principal", i], readFile));
  const headers = y.list(["headers"]).map((_h, i) => {
    const name = y.str(["headers", i]).toLowerCase();
    return HEADER_NAME.test(name) ? name : y.fail(["headers", i], "is not an HTTP header name");
  });
  const routes = y.list(["routes"]).map((_r, i) => parseRoute(y, ["routes", i]));
  if (routes.length === 0) y.fail(["routes"], "must list at least one route");
  const unmatched = y.optStr(["unmatched"], "deny");
  if (unmatched !== "deny" && unmatched !== "allow") y.fail(["unmatched"], "must be deny or allow");
  return { routes, principal, headers, unmatched: unmatched === "allow" ? "allow" : "deny" };
}

function parseRoute(y: YamlFields, path: FieldPath): Route {
  y.map(path);
  y.only(path, ["methods", "path", "action", "resource", "deprecated"]);
  const deprecated = y.get([...path, "deprecated"]) ?? false;
  if (typeof deprecated !== "boolean") y.fail([...path, "deprecated"], "must be true or false");
  const methods = y.get([...path, "methods"]) === undefined ? ["GET"] : y.list([...path, "methods"]);
  if (methods.length === 0 || methods.some((m) => typeof m !== "string" || !METHODS.has(m.toUpperCase()))) y.fail([...path, "methods"], `must be a list of ${[...METHODS].join(", ")}`);
  const source = y.str([...path, "path"]);
  if (!source.startsWith("/")) y.fail([...path, "path"], "must start with /");
  let template: PathTemplate;
  try {
    template = compileTemplate(source);
  } catch (err) {
    return y.fail([...path, "path"], (err as Error).message);
  }
  const at = [...path, "resource"];
  y.map(at);
  y.only(at, ["type", "id", "attributes", "parents"]);
  const fill = (p: FieldPath) => checkTemplate(y, p, template);
  const attributes: Record<string, AttributeSpec> = Object.create(null);
  for (const [name, spec] of Object.entries(y.map([...at, "attributes"], true))) {
    const p = [...at, "attributes", name];
    if (typeof spec === "string") attributes[name] = { kind: "string", template: fill(p) };
    else if (typeof spec === "boolean" || (typeof spec === "number" && Number.isSafeInteger(spec))) attributes[name] = { kind: "literal", value: spec };
    else {
      y.only(p, ["entity", "id"]);
      attributes[name] = { kind: "entity", type: y.typeName([...p, "entity"]), template: fill([...p, "id"]) };
    }
  }
  const parents = y.list([...at, "parents"]).map((_x, j) => {
    const p = [...at, "parents", j];
    y.only(p, ["type", "id"]);
    return { type: y.typeName([...p, "type"]), id: fill([...p, "id"]) };
  });
  return {
    methods: new Set(methods.map((m) => (m as string).toUpperCase())),
    path: template,
    action: y.str([...path, "action"]),
    deprecated: deprecated as boolean,
    resource: { type: y.typeName([...at, "type"]), id: fill([...at, "id"]), attributes, parents },
  };
}

/** A template string whose placeholders all name a path parameter, a query parameter or a header. */
function checkTemplate(y: YamlFields, p: FieldPath, template: PathTemplate): string {
  const text = y.str(p);
  for (const [, name] of text.matchAll(PLACEHOLDER)) {
    const ok = name!.startsWith("query.") ? name!.length > 6 : name!.startsWith("header.") ? HEADER_NAME.test(name!.slice(7).toLowerCase()) : template.params.includes(name!);
    if (!ok) y.fail(p, `{${name}} is not a path parameter of ${template.source}, nor query.NAME or header.NAME`);
  }
  return text;
}
