import type { Metrics } from "../../observability/metrics.js";
import type { HttpServer } from "./http-server.js";

/** GET /metrics: the Prometheus text exposition. Cheap: counters are read, nothing is computed per decision. */
export function addMetricsRoute(http: HttpServer, metrics: Metrics): void {
  http.route("GET", "/metrics", async (_req, res) => {
    const body = await metrics.exposition();
    res.writeHead(200, { "content-type": metrics.registry.contentType, "content-length": Buffer.byteLength(body) });
    res.end(body);
  });
}
