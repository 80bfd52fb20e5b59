import { create } from "@bufbuild/protobuf";
import type { Command } from "commander";
import { ListAnomaliesRequestSchema, type ListAnomaliesResponse } from "../gen/verdict/v1/admin_pb.js";
import { adminCall, adminError, type AdminFlags } from "./admin-client.js";
import { fail } from "./cli-config.js";

/** `verdict anomalies`: the signals a replica raised from its decision stream, and its shadow APIs. */
export function registerAnomalies(program: Command): void {
  program
    .command("anomalies")
    .description("list anomaly signals (deny bursts, enumeration, first-seen, deprecated routes) and shadow APIs of a running replica")
    .option("--addr <host:port>", "admin listener", "127.0.0.1:50052")
    .option("--token <token>", "admin bearer token (default: $VERDICT_ADMIN_TOKEN)")
    .action(async (flags: AdminFlags) => {
      try {
        process.stdout.write(`${formatAnomalies(await adminCall<ListAnomaliesResponse>(flags, "listAnomalies", create(ListAnomaliesRequestSchema, {})))}\n`);
      } catch (err) {
        fail(adminError("anomalies", flags, err));
      }
    });
}

/** The human-readable report. */
export function formatAnomalies(r: ListAnomaliesResponse): string {
  const out = [`signals since start: ${r.counts.map((c) => `${c.kind} ${c.count}`).join(", ") || "none"}${r.warmedUp ? "" : " (warming up: first-seen signals not reported yet)"}`];
  if (r.skipped > 0n) out.push(`(${r.skipped} decisions skipped: the detectors' queue was full)`);
  out.push("", "recent:");
  out.push(...(r.anomalies.length === 0 ? ["  none"] : r.anomalies.map((a) => `  ${a.at}  ${a.kind.padEnd(20)} ${a.subject}  value ${a.value} (baseline ${a.baseline})  decision ${a.decisionId}`)));
  out.push("", "deprecated routes called:");
  out.push(...(r.deprecatedRoutes.length === 0 ? ["  none"] : r.deprecatedRoutes.map((d) => `  ${d.count}\t${d.kind}`)));
  out.push("", "shadow APIs (no route matched):");
  out.push(
    ...(r.shadowApis.length === 0
      ? ["  none"]
      : r.shadowApis.map((s) => `  ${s.count}\t${s.method} ${s.template}\tfirst ${s.firstSeen}, last ${s.lastSeen}${s.callers.length ? `, callers ${s.callers.join(", ")}` : ""}`)),
  );
  return out.join("\n");
}
