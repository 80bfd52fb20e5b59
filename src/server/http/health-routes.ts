import type { ActiveBundle } from "../../bundle/active-bundle.js";
import { type HttpServer, sendJson } from "./http-server.js";

/** Whether the process is shutting down; readiness turns false first. */
export interface ShutdownState {
  readonly draining: boolean;
}

/** Something to stop on shutdown, after the listeners have drained. */
export type Closer = () => Promise<void> | void;

/**
 * The shared shutdown state: the draining flag every health endpoint reads, and the cleanups
 * (connections, log sinks) parts register without depending on the app itself.
 */
export class Lifecycle implements ShutdownState {
  draining = false;
  readonly closers: Closer[] = [];

  /** Registers cleanup to run at shutdown, in reverse order of registration. */
  onClose(closer: Closer): void {
    this.closers.push(closer);
  }
}

/**
 * /healthz: the process answers. /readyz: a bundle is active, the process is not draining and
 * its event loop has not lagged past server.readyMaxLagMs lately.
 * Readiness never depends on Redis: a cache outage must not empty a gateway's pool.
 */
export function addHealthRoutes(http: HttpServer, active: ActiveBundle, shutdown: ShutdownState, loop?: { readonly stalled: boolean }): void {
  http.route("GET", "/healthz", (_req, res) => sendJson(res, 200, { status: "ok" }));
  http.route("GET", "/readyz", (_req, res) => {
    const snapshot = active.snapshot;
    if (shutdown.draining) return sendJson(res, 503, { status: "draining" });
    if (snapshot === undefined) return sendJson(res, 503, { status: "no active bundle" });
    if (loop?.stalled) return sendJson(res, 503, { status: "event loop lagging (see verdict_event_loop_lag_seconds)" });
    sendJson(res, 200, { status: "ready", bundle: snapshot.name, revision: snapshot.revision });
  });
}
