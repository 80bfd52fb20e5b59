import type { IncomingMessage, ServerResponse } from "node:http";
import { invalidArgument } from "../../errors.js";
import { toTraceCarrier } from "../../model/trace-carrier.js";
import { bearerChecker } from "../bearer-token.js";
import { bearerChallenge, isSafeHeaderValue } from "../envoy/envoy-responses.js";
import { decideGatewayRequest, type GatewayDoor } from "./gateway-decision.js";
import { type ForwardedSettings, forwardedFacts, GATEWAY_TOKEN_HEADER } from "./forwarded-request.js";
import { type HttpServer, sendJson } from "./http-server.js";

/** The forward-auth door's settings. */
export interface ForwardAuthSettings extends ForwardedSettings {
  /** When set, a caller must send it in `x-verdict-gateway-token`. */
  readonly token: string | undefined;
  /** On allow, answer `x-verdict-principal` (the principal id) for the gateway to copy upstream. */
  readonly forwardPrincipal: boolean;
}

/** Longest X-Request-ID accepted; it is echoed and logged. */
const MAX_REQUEST_ID = 1024;

/**
 * The forward-auth endpoint for gateways that ask over plain HTTP (nginx `auth_request`, Caddy
 * `forward_auth`, Traefik `ForwardAuth`, HAProxy, Envoy's ext_authz HTTP service). It maps the
 * original request with routes.yaml exactly as the Envoy door does and decides on the same path
 * (cache, metrics and decision log under api="forward_auth"). Answers: 200 only on ALLOW (or an
 * unmatched request under `unmatched: allow`); 401 with `www-authenticate` without valid
 * credentials; 403 on deny; 400 when the original request cannot be known or is refused; 503
 * without a bundle; 500 on a fault. A gateway forwards only 2xx, so nothing else lets a request through.
 */
export function addForwardAuthRoute(http: HttpServer, door: GatewayDoor, settings: ForwardAuthSettings, traced = false): void {
  const caller = settings.token === undefined ? undefined : bearerChecker(settings.token);
  http.prefix(settings.path, async (req: IncomingMessage, res: ServerResponse) => {
    req.resume(); // a body (Envoy's with_request_body) is not read
    if (caller !== undefined) {
      const given = req.headersDistinct[GATEWAY_TOKEN_HEADER];
      if (given?.length !== 1 || caller(`Bearer ${given[0]}`) !== "ok") return sendJson(res, 403, { error: `this caller is not a trusted gateway: send the ${GATEWAY_TOKEN_HEADER} header` });
    }
    const given = req.headersDistinct["x-request-id"];
    const requestId = given?.length === 1 ? given[0]! : "";
    if (requestId.length > MAX_REQUEST_ID || !isSafeHeaderValue(requestId)) return sendJson(res, 400, { error: `X-Request-ID: more than one, over ${MAX_REQUEST_ID} characters, or not printable ASCII` });
    const forwarded = forwardedFacts(req, settings);
    if ("refuse" in forwarded) {
      door.decisions.refuse("forward_auth", invalidArgument(forwarded.refuse));
      return sendJson(res, 400, { error: forwarded.refuse });
    }
    // The gateway forwards the client's trace context among the original request's headers.
    const trace = traced ? toTraceCarrier(req.headers["traceparent"], req.headers["tracestate"]) : undefined;
    const outcome = await decideGatewayRequest(door, forwarded.facts, "forward_auth", requestId, trace);
    switch (outcome.kind) {
      case "refuse":
        return sendJson(res, outcome.status, { error: outcome.reason }, outcome.status === 401 ? { "www-authenticate": bearerChallenge(outcome.invalidToken === true) } : {});
      case "failure":
        return sendJson(res, outcome.unavailable ? 503 : 500, { error: outcome.reason });
      case "pass":
        return sendJson(res, 200, { decision: "unmatched" });
      case "decided": {
        const { result, principalId } = outcome;
        const headers: Record<string, string> = { "x-verdict-decision-id": result.decisionId };
        if (result.decision !== "allow") return sendJson(res, 403, { decision: "deny", decision_id: result.decisionId }, headers);
        if (settings.forwardPrincipal && isSafeHeaderValue(principalId)) headers["x-verdict-principal"] = principalId;
        return sendJson(res, 200, { decision: "allow", decision_id: result.decisionId }, headers);
      }
    }
  });
}
