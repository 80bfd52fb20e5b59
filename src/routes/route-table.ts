import { isNode, LineCounter, parseDocument } from "yaml";
import { compileTemplate, type PathTemplate } from "./path-template.js";

/** Where a request's principal may come from, tried in order. */
export type PrincipalSource =
  | { readonly kind: "jwt"; readonly header: string; readonly jwks: unknown; readonly issuer: string; readonly audience: string; readonly mapping: ClaimMapping; readonly clockToleranceSec: number }
  | { readonly kind: "jwtAuthn"; readonly metadataKey: string; readonly mapping: ClaimMapping }
  | { readonly kind: "peer"; readonly type: string };

/** How token claims become the principal entity. */
export interface ClaimMapping {
  readonly type: string;
  readonly idClaim: string;
  /** Attribute name → claim name. */
  readonly attributes: Readonly<Record<string, string>>;
  readonly parents?: { readonly claim: string; readonly type: string };
}

/** One route: methods and a path template → a Cedar action and resource. */
export interface Route {
  readonly methods: ReadonlySet<string>;
  readonly path: PathTemplate;
  readonly action: string;
  readonly resource: { readonly type: string; readonly id: string; readonly attributes: Readonly<Record<string, string>> };
}

/** A bundle's `routes.yaml`, validated. */
export interface RouteTable {
  readonly routes: readonly Route[];
  readonly principal: readonly PrincipalSource[];
  /** Request headers copied into `context.headers` (lower-case names; "" when absent). */
  readonly headers: readonly string[];
  /** What a request that matches no route gets. */
  readonly unmatched: "deny";
}

/** A `routes.yaml` problem with its line. */
export class RouteTableError extends Error {
  readonly line: number | undefined;

  constructor(message: string, line?: number) {
    super(line === undefined ? `routes.yaml: ${message}` : `routes.yaml:${line}: ${message}`);
    this.line = line;
  }
}

const TYPE_NAME = /^[A-Za-z_][A-Za-z0-9_]*(::[A-Za-z_][A-Za-z0-9_]*)*$/;
const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

/** Parses and validates `routes.yaml`; `readFile` returns another bundle file (a JWKS). */
export function parseRouteTable(text: string, readFile: (path: string) => string | undefined): RouteTable {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    throw new RouteTableError(e.message.split("\n")[0]!, e.linePos?.[0].line);
  }
  const lineOf = (path: (string | number)[]) => {
    const node = doc.getIn(path, true);
    const offset = isNode(node) ? node.range?.[0] : undefined;
    return offset === undefined ? undefined : lines.linePos(offset).line;
  };
  const fail = (path: (string | number)[], message: string): never => {
    throw new RouteTableError(`${path.join(".")}: ${message}`, lineOf(path));
  };
  const root = doc.toJS() as Record<string, unknown> | null;
  if (root === null || typeof root !== "object") fail([], "must be a mapping with routes, principal, headers");
  const str = (v: unknown, path: (string | number)[]) => (typeof v === "string" && v !== "" ? v : fail(path, "must be a non-empty string"));
  const typeName = (v: unknown, path: (string | number)[]) => (TYPE_NAME.test(str(v, path)) ? (v as string) : fail(path, "must be a Cedar entity type name"));
  const record = (v: unknown, path: (string | number)[]): Record<string, string> => {
    if (v === undefined) return {};
    if (typeof v !== "object" || v === null || Array.isArray(v)) return fail(path, "must be a mapping");
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, str(x, [...path, k])]));
  };
  const mapping = (m: Record<string, unknown>, path: (string | number)[]): ClaimMapping => {
    const parents = m["parents"] as Record<string, unknown> | undefined;
    return {
      type: typeName(m["type"], [...path, "type"]),
      idClaim: m["id"] === undefined ? "sub" : str(m["id"], [...path, "id"]),
      attributes: record(m["attributes"], [...path, "attributes"]),
      ...(parents === undefined ? {} : { parents: { claim: str(parents["claim"], [...path, "parents", "claim"]), type: typeName(parents["type"], [...path, "parents", "type"]) } }),
    };
  };

  const principal = ((root!["principal"] ?? []) as unknown[]).map((p, i): PrincipalSource => {
    const path = ["principal", i];
    const s = p as Record<string, Record<string, unknown>>;
    if (s["jwt"]) {
      const j = s["jwt"];
      const jwksFile = str(j["jwks"], [...path, "jwt", "jwks"]);
      const jwksText = readFile(jwksFile) ?? fail([...path, "jwt", "jwks"], `bundle file ${jwksFile} not found`);
      let jwks: unknown;
      try {
        jwks = JSON.parse(jwksText);
      } catch {
        fail([...path, "jwt", "jwks"], `${jwksFile} is not valid JSON`);
      }
      return {
        kind: "jwt",
        header: (j["header"] === undefined ? "authorization" : str(j["header"], [...path, "jwt", "header"])).toLowerCase(),
        jwks,
        issuer: str(j["issuer"], [...path, "jwt", "issuer"]),
        audience: str(j["audience"], [...path, "jwt", "audience"]),
        mapping: mapping(j, [...path, "jwt"]),
        clockToleranceSec: typeof j["clockToleranceSec"] === "number" ? j["clockToleranceSec"] : 30,
      };
    }
    if (s["jwtAuthn"]) return { kind: "jwtAuthn", metadataKey: str(s["jwtAuthn"]["metadataKey"], [...path, "jwtAuthn", "metadataKey"]), mapping: mapping(s["jwtAuthn"], [...path, "jwtAuthn"]) };
    if (s["peer"]) return { kind: "peer", type: typeName(s["peer"]["type"], [...path, "peer", "type"]) };
    return fail(path, "a principal source is one of jwt, jwtAuthn, peer");
  });

  const routes = ((root!["routes"] ?? []) as unknown[]).map((r, i): Route => {
    const path = ["routes", i];
    const o = r as Record<string, unknown>;
    const methods = (o["methods"] ?? ["GET"]) as unknown[];
    if (!Array.isArray(methods) || methods.some((m) => typeof m !== "string" || !METHODS.has(m.toUpperCase()))) fail([...path, "methods"], `must be a list of ${[...METHODS].join(", ")}`);
    const template = str(o["path"], [...path, "path"]);
    if (!template.startsWith("/")) fail([...path, "path"], "must start with /");
    const res = (o["resource"] ?? {}) as Record<string, unknown>;
    return {
      methods: new Set(methods.map((m) => (m as string).toUpperCase())),
      path: compileTemplate(template),
      action: str(o["action"], [...path, "action"]),
      resource: { type: typeName(res["type"], [...path, "resource", "type"]), id: str(res["id"], [...path, "resource", "id"]), attributes: record(res["attributes"], [...path, "resource", "attributes"]) },
    };
  });
  const headers = ((root!["headers"] ?? []) as unknown[]).map((h, i) => str(h, ["headers", i]).toLowerCase());
  if (root!["unmatched"] !== undefined && root!["unmatched"] !== "deny") fail(["unmatched"], "only deny is supported");
  return { routes, principal, headers, unmatched: "deny" };
}
