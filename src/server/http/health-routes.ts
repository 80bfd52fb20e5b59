import type { ActiveBundle } from "../../bundle/active-bundle.js";
import { type HttpServer, sendJson } from "./http-server.js";

/** Whether the process is shutting down; readiness turns false first. */
export interface ShutdownState {
  readonly draining: boolean;
}

/** The shared shutdown flag: set once by the app, read by every health endpoint. */
export class Lifecycle implements ShutdownState {
  draining = false;
}

/**
 * /healthz: the process answers. /readyz: a bundle is active and the process is not draining.
 * Readiness never depends on Redis: a cache outage must not empty a gateway's pool.
 */
export function addHealthRoutes(http: HttpServer, active: ActiveBundle, shutdown: ShutdownState): void {
  http.route("GET", "/healthz", (_req, res) => sendJson(res, 200, { status: "ok" }));
  http.route("GET", "/readyz", (_req, res) => {
    const snapshot = active.snapshot;
    if (shutdown.draining) return sendJson(res, 503, { status: "draining" });
    if (snapshot === undefined) return sendJson(res, 503, { status: "no active bundle" });
    sendJson(res, 200, { status: "ready", bundle: snapshot.name, revision: snapshot.revision });
  });
}
