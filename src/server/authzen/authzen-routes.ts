import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { ActiveBundle } from "../../bundle/active-bundle.js";
import type { DecisionService } from "../../decision/decision-service.js";
import { toVerdictError, type VerdictError } from "../../errors.js";
import { BodyError, readJsonBody } from "../http/read-json-body.js";
import { type HttpServer, sendJson } from "../http/http-server.js";
import { type AuthzenParts, toAuthzRequest } from "./authzen-request.js";

/** AuthZEN front-door settings. */
export interface AuthzenSettings {
  readonly maxBodyBytes: number;
  /** When set, callers must send `Authorization: Bearer <token>`. */
  readonly token: string | undefined;
}

type Semantic = "execute_all" | "deny_on_first_deny" | "permit_on_first_permit";
const SEMANTICS: readonly Semantic[] = ["execute_all", "deny_on_first_deny", "permit_on_first_permit"];
const MEMBERS = ["subject", "action", "resource", "context"] as const;
const isObj = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null && !Array.isArray(x);
const digest = (s: string) => createHash("sha256").update(s).digest();

/**
 * The OpenID AuthZEN Authorization API 1.0 on the HTTP listener: single and batch evaluations
 * and the discovery document, decided by the same decision path as Check and ext_authz.
 * Request-level problems are 4xx with a plain message; a batch item's problem is that item's
 * `{"decision": false}` with the error in its context.
 */
export function addAuthzenRoutes(http: HttpServer, decisions: DecisionService, active: ActiveBundle, settings: AuthzenSettings): void {
  const want = settings.token === undefined ? undefined : digest(settings.token);
  const guarded = (handler: (body: unknown, res: ServerResponse) => Promise<void>) => async (req: IncomingMessage, res: ServerResponse) => {
    const requestId = req.headers["x-request-id"];
    if (typeof requestId === "string") res.setHeader("x-request-id", requestId);
    if (want !== undefined) {
      const m = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? "");
      if (m === null) return plain(res, 401, "authorization required", { "www-authenticate": "Bearer" });
      if (!timingSafeEqual(digest(m[1]!), want)) return plain(res, 403, "forbidden");
    }
    let body: unknown;
    try {
      body = await readJsonBody(req, settings.maxBodyBytes);
    } catch (err) {
      return plain(res, err instanceof BodyError ? err.status : 400, (err as Error).message);
    }
    if (!isObj(body)) return plain(res, 400, "request body must be a JSON object");
    await handler(body, res);
  };
  const decide = async (parts: AuthzenParts) => {
    const snapshot = active.snapshot;
    const policies = snapshot?.policies;
    const request = toAuthzRequest(parts, snapshot?.authzen, policies?.hints ?? { attributes: new Map(), context: new Map() }, policies?.defaultActionType ?? "Action");
    return (await decisions.decide(request, { api: "authzen", requestId: "" })).decision === "allow";
  };

  http.route(
    "POST",
    "/access/v1/evaluation",
    guarded(async (body, res) => {
      try {
        sendJson(res, 200, { decision: await decide(body as AuthzenParts) });
      } catch (err) {
        failure(res, toVerdictError(err));
      }
    }),
  );

  http.route(
    "POST",
    "/access/v1/evaluations",
    guarded(async (body, res) => {
      const b = body as Record<string, unknown>;
      const items = b["evaluations"];
      if (items !== undefined && !Array.isArray(items)) return plain(res, 400, "evaluations: must be an array");
      const options = b["options"];
      if (options !== undefined && !isObj(options)) return plain(res, 400, "options: must be an object");
      const semantic = (options?.["evaluations_semantic"] ?? "execute_all") as Semantic;
      if (!SEMANTICS.includes(semantic)) return plain(res, 400, `options.evaluations_semantic: must be one of ${SEMANTICS.join(", ")}`);
      const defaults: AuthzenParts = Object.fromEntries(MEMBERS.filter((m) => b[m] !== undefined).map((m) => [m, b[m]]));
      if (items === undefined || items.length === 0) {
        try {
          return sendJson(res, 200, { decision: await decide(defaults) });
        } catch (err) {
          return failure(res, toVerdictError(err));
        }
      }
      const results: Record<string, unknown>[] = [];
      for (const [i, item] of items.entries()) {
        if (!isObj(item)) {
          results.push({ decision: false, context: { error: { status: 400, message: `evaluations[${i}]: must be an object` } } });
        } else {
          // Each member the item gives replaces the default whole; no deep merge.
          const parts: AuthzenParts = { ...defaults, ...Object.fromEntries(MEMBERS.filter((m) => item[m] !== undefined).map((m) => [m, item[m]])) };
          try {
            results.push({ decision: await decide(parts) });
          } catch (err) {
            const e = toVerdictError(err);
            results.push({ decision: false, context: { error: { status: statusOf(e), message: `evaluations[${i}]: ${e.message}` } } });
          }
        }
        const last = results.at(-1)!["decision"];
        if ((semantic === "deny_on_first_deny" && last === false) || (semantic === "permit_on_first_permit" && last === true)) break;
      }
      sendJson(res, 200, { evaluations: results });
    }),
  );

  http.route("GET", "/.well-known/authzen-configuration", (req, res) => {
    const scheme = (req.socket as { encrypted?: boolean }).encrypted ? "https" : "http";
    const base = `${scheme}://${req.headers.host ?? "localhost"}`;
    sendJson(res, 200, {
      policy_decision_point: base,
      access_evaluation_endpoint: `${base}/access/v1/evaluation`,
      access_evaluations_endpoint: `${base}/access/v1/evaluations`,
    });
  });
}

function statusOf(err: VerdictError): number {
  return err.code === "invalid_argument" || err.code === "limit_exceeded" ? 400 : 500;
}

function failure(res: ServerResponse, err: VerdictError): void {
  plain(res, statusOf(err), statusOf(err) === 400 ? err.message : "internal error");
}

function plain(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8", "content-length": Buffer.byteLength(message), ...headers });
  res.end(message);
}
