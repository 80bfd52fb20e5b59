import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { ActiveBundle } from "../../bundle/active-bundle.js";
import type { BatchItem, DecisionService } from "../../decision/decision-service.js";
import { NO_SCHEMA_HINTS } from "../../engine/schema-hints.js";
import { invalidArgument, toVerdictError, VerdictError } from "../../errors.js";
import type { AuthzRequest } from "../../model/authz-request.js";
import { type TraceCarrier, toTraceCarrier } from "../../model/trace-carrier.js";
import { bearerChecker } from "../bearer-token.js";
import { type HttpServer, sendJson } from "../http/http-server.js";
import { BodyError, readJsonBody } from "../http/read-json-body.js";
import { readEvaluationsRequest, stopsAfter } from "./authzen-batch.js";
import { type AuthzenParts, toAuthzRequest } from "./authzen-request.js";

/** AuthZEN front-door settings. */
export interface AuthzenSettings {
  readonly maxBodyBytes: number;
  /** When set, callers must send `Authorization: Bearer <token>`. */
  readonly token: string | undefined;
  /** Base URL the metadata announces; unset: the scheme and Host the caller used. */
  readonly publicUrl: string | undefined;
  /** Read the caller's W3C trace context (tracing on). */
  readonly traced?: boolean;
}

/** One batch item as answered: a bare decision, with the error in `context` when it failed. */
type ItemAnswer = { decision: boolean; context?: { error: { status: number; message: string } } };
type Handler = (body: Record<string, unknown>, res: ServerResponse, requestId: string, trace: TraceCarrier | undefined) => Promise<void>;

/** Longest X-Request-ID accepted; it is echoed and logged. */
const MAX_REQUEST_ID = 1024;
const isObj = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null && !Array.isArray(x);

/**
 * The OpenID AuthZEN Authorization API 1.0 on the HTTP listener: single and batch evaluations
 * and the discovery document, decided by the same decision path as Check and ext_authz (cache,
 * metrics and decision log under api="authzen"). Request-level problems are 4xx/5xx with a
 * plain message, as the spec's error table says; a batch item's problem is that item's
 * `{"decision": false}` with the error in its context. Decisions, deny included, are 200.
 */
export function addAuthzenRoutes(http: HttpServer, decisions: DecisionService, active: ActiveBundle, settings: AuthzenSettings): void {
  const checkCaller = settings.token === undefined ? undefined : bearerChecker(settings.token);
  const refuse = (res: ServerResponse, err: VerdictError) => {
    decisions.refuse("authzen", err);
    plain(res, statusOf(err), messageOf(err));
  };
  const endpoint = (handler: Handler) => async (req: IncomingMessage, res: ServerResponse) => {
    const given = req.headers["x-request-id"];
    const requestId = typeof given === "string" && given !== "" ? given : randomUUID();
    if (requestId.length > MAX_REQUEST_ID) return plain(res, 400, `X-Request-ID: longer than ${MAX_REQUEST_ID} characters`);
    res.setHeader("x-request-id", requestId);
    const caller = checkCaller?.(req.headers.authorization);
    if (caller === "missing") return plain(res, 401, "authorization required: send `Authorization: Bearer <token>`", { "www-authenticate": 'Bearer realm="authzen"' });
    if (caller === "wrong") return plain(res, 403, "the bearer token is not valid for this PDP");
    const type = (req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
    if (type !== "application/json") {
      req.resume();
      return refuse(res, invalidArgument(`Content-Type: must be application/json (got ${JSON.stringify(type.slice(0, 100) || "none")})`));
    }
    let body: unknown;
    try {
      body = await readJsonBody(req, settings.maxBodyBytes);
    } catch (err) {
      if (!(err instanceof BodyError)) throw err;
      decisions.refuse("authzen", invalidArgument(err.message));
      return plain(res, err.status, err.message);
    }
    if (!isObj(body)) return refuse(res, invalidArgument("request body: must be a JSON object"));
    try {
      await handler(body, res, requestId, settings.traced ? toTraceCarrier(req.headers.traceparent, req.headers.tracestate) : undefined);
    } catch (err) {
      refuse(res, toVerdictError(err));
    }
  };
  const mapped = (parts: AuthzenParts): AuthzRequest => {
    const policies = active.snapshot?.policies;
    return toAuthzRequest(parts, {
      mapping: active.snapshot?.authzen,
      hints: policies?.hints ?? NO_SCHEMA_HINTS,
      defaultActionType: policies?.defaultActionType ?? "Action",
      maxDepth: decisions.limits.maxDepth,
    });
  };
  const decideOne = async (parts: AuthzenParts, requestId: string, trace: TraceCarrier | undefined) =>
    (await decisions.decide(mapped(parts), { api: "authzen", requestId, trace })).decision === "allow";

  http.route(
    "POST",
    "/access/v1/evaluation",
    endpoint(async (body, res, requestId, trace) => sendJson(res, 200, { decision: await decideOne(body, requestId, trace) })),
  );

  http.route(
    "POST",
    "/access/v1/evaluations",
    endpoint(async (body, res, requestId, trace) => {
      const batch = readEvaluationsRequest(body, decisions.limits.maxBatchSize);
      if (batch.kind === "single") return sendJson(res, 200, { decision: await decideOne(batch.parts, requestId, trace) });
      const requests = batch.items.map((parts, i) => {
        try {
          if (parts === undefined) throw invalidArgument("must be an object");
          return { request: mapped(parts), requestId };
        } catch (err) {
          const e = toVerdictError(err);
          return { request: new VerdictError(e.code, `evaluations[${i}]: ${e.message}`), requestId };
        }
      });
      let answers: ItemAnswer[];
      if (batch.semantic === "execute_all") {
        answers = (await decisions.decideBatch(requests, "authzen", trace)).map(toItemAnswer);
      } else {
        // Short-circuiting semantics are sequential by definition: later items are not evaluated.
        answers = [];
        for (const item of requests) {
          const [result] = await decisions.decideBatch([item], "authzen", trace);
          const answer = toItemAnswer(result!);
          answers.push(answer);
          if (stopsAfter(batch.semantic, answer.decision)) break;
        }
      }
      sendJson(res, 200, { evaluations: answers });
    }),
  );

  http.route("GET", "/.well-known/authzen-configuration", (req, res) => {
    const scheme = (req.socket as { encrypted?: boolean }).encrypted ? "https" : "http";
    const base = settings.publicUrl ?? `${scheme}://${req.headers.host ?? "localhost"}`;
    sendJson(
      res,
      200,
      {
        policy_decision_point: base,
        access_evaluation_endpoint: `${base}/access/v1/evaluation`,
        access_evaluations_endpoint: `${base}/access/v1/evaluations`,
      },
      { "cache-control": "public, max-age=300" },
    );
  });
}

function toItemAnswer(item: BatchItem): ItemAnswer {
  if (item.ok) return { decision: item.result.decision === "allow" };
  return { decision: false, context: { error: { status: statusOf(item.error), message: messageOf(item.error) } } };
}

function statusOf(err: VerdictError): number {
  if (err.code === "invalid_argument" || err.code === "limit_exceeded") return 400;
  return err.code === "unavailable" ? 503 : 500;
}

/** Client errors name what is wrong; server faults say only that, since their text is internal. */
function messageOf(err: VerdictError): string {
  if (statusOf(err) === 400) return err.message;
  return err.code === "unavailable" ? err.message : "internal error";
}

function plain(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8", "content-length": Buffer.byteLength(message), ...headers });
  res.end(message);
}
