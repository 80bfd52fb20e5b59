import { create } from "@bufbuild/protobuf";
import { VerdictError } from "../../errors.js";
import { GetStatusResponseSchema, ListAnomaliesResponseSchema, PolicyAdminService } from "../../gen/verdict/v1/admin_pb.js";
import type { AnomalySource } from "../../observability/anomaly/anomaly-report.js";
import type { ReplicaStatus } from "../../observability/status/replica-status.js";
import { unary } from "../service-definition.js";

const iso = (ms: number | Date) => new Date(ms).toISOString();

/** GetStatus and ListAnomalies: read-only views of this replica, mapped to the wire. */
export function statusMethods(status: ReplicaStatus, anomalies: AnomalySource | undefined) {
  return {
    getStatus: unary(PolicyAdminService.method.getStatus, async () => {
      const v = status.view();
      const a = v.activation;
      const e = v.lastActivationError;
      return create(GetStatusResponseSchema, {
        replica: v.replica,
        startedAt: iso(v.startedAt),
        ...(a === undefined
          ? {}
          : {
              bundle: {
                name: a.snapshot.name,
                revision: a.snapshot.revision,
                digest: a.snapshot.digest,
                policyCount: a.snapshot.policies.policies.length,
                activatedAt: iso(a.activatedAt),
                activatedBy: a.activatedBy,
                signedAt: a.snapshot.signedAt === undefined ? "" : iso(a.snapshot.signedAt * 1000),
                active: true,
              },
            }),
        ...(e === undefined ? {} : { lastActivationError: { message: e.message, at: iso(e.at), by: e.by } }),
        redis: { ...v.redis, endpoints: [...v.redis.endpoints] },
        cache: { enabled: v.cache.enabled, localEntries: BigInt(v.cache.localEntries), localMaxEntries: BigInt(v.cache.localMaxEntries) },
        decisionLog: v.decisionLog.map((s) => ({
          name: s.name,
          destination: s.destination,
          written: BigInt(s.written),
          shipped: BigInt(s.shipped),
          dropped: BigInt(s.dropped),
          sampledOut: BigInt(s.sampledOut),
          backlog: BigInt(s.backlog),
          lastError: s.lastError,
        })),
        tracing: v.tracing,
        anomaliesEnabled: v.anomaliesEnabled,
      });
    }),
    listAnomalies: unary(PolicyAdminService.method.listAnomalies, async () => {
      if (anomalies === undefined) throw new VerdictError("failed_precondition", "the anomaly detectors are off on this replica: set anomalies.enabled (VERDICT_ANOMALIES_ENABLED=true)");
      const r = anomalies.report();
      return create(ListAnomaliesResponseSchema, {
        anomalies: r.anomalies.map((x) => ({ kind: x.kind, subject: x.subject, at: iso(x.at), value: x.value, baseline: x.baseline, decisionId: x.decisionId })),
        counts: [...r.counts].map(([kind, count]) => ({ kind, count: BigInt(count) })),
        deprecatedRoutes: r.deprecatedRoutes.map((d) => ({ kind: d.route, count: BigInt(d.count) })),
        shadowApis: r.shadowApis.map((s) => ({ method: s.method, template: s.template, count: BigInt(s.count), firstSeen: iso(s.firstSeen), lastSeen: iso(s.lastSeen), callers: [...s.callers] })),
        skipped: BigInt(r.skipped),
        warmedUp: r.warmedUp,
      });
    }),
  };
}
