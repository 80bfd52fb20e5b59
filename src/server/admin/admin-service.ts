import { create } from "@bufbuild/protobuf";
import type * as grpc from "@grpc/grpc-js";
import type { ActiveBundle } from "../../bundle/active-bundle.js";
import { BundleError } from "../../bundle/bundle-error.js";
import type { BundleRegistry, KnownBundle } from "../../bundle/bundle-registry.js";
import type { BundleSnapshot } from "../../bundle/bundle-snapshot.js";
import type { Shadow, ShadowBundle } from "../../bundle/shadow-bundle.js";
import { invalidArgument, limitExceeded, VerdictError } from "../../errors.js";
import { DEFAULT_EXAMPLES } from "../../impact/compare-bundles.js";
import type { SampleImpact } from "../../impact/sample-impact.js";
import {
  ActivateBundleResponseSchema,
  type BundleInfo,
  BundleInfoSchema,
  GetActiveBundleResponseSchema,
  ListBundlesResponseSchema,
  ListUnmatchedRoutesResponseSchema,
  PolicyAdminService,
  PushBundleResponseSchema,
} from "../../gen/verdict/v1/admin_pb.js";
import type { UnmatchedInventory } from "../envoy/unmatched-inventory.js";
import { serverDefinition, unary } from "../service-definition.js";
import { toImpactReport } from "./impact-mapping.js";
import { statusMethods } from "./status-methods.js";
import type { AnomalySource } from "../../observability/anomaly/anomaly-report.js";
import type { ReplicaStatus } from "../../observability/status/replica-status.js";

/** Most examples a caller may ask for per group of an impact report. */
const MAX_EXAMPLES = 1000;

/** What the admin service works on besides the registry. */
export interface AdminServiceParts {
  readonly active: ActiveBundle;
  readonly shadow: ShadowBundle;
  readonly maxBundleBytes: number;
  /** Present when the server keeps a request sample (whatIf.sampleSize > 0). */
  readonly impact: SampleImpact | undefined;
  /** Gateway requests no route matched (ListUnmatchedRoutes). */
  readonly unmatched: UnmatchedInventory;
  /** This replica's state (GetStatus). */
  readonly status: ReplicaStatus;
  /** Present when the anomaly detectors run (ListAnomalies). */
  readonly anomalies: AnomalySource | undefined;
}

/** verdict.v1.PolicyAdminService: pushes, dry runs, shadows and rollbacks through the bundle registry; the unmatched-route inventory. */
export function adminService(registry: BundleRegistry, parts: AdminServiceParts): [grpc.ServiceDefinition, grpc.UntypedServiceImplementation] {
  const { active, shadow, maxBundleBytes, impact, unmatched } = parts;
  const info = (s: BundleSnapshot, known?: KnownBundle, asShadow?: Shadow): BundleInfo =>
    create(BundleInfoSchema, {
      name: s.name,
      revision: s.revision,
      digest: s.digest,
      policyCount: s.policies.policies.length,
      activatedAt: known?.activatedAt?.toISOString() ?? "",
      activatedBy: known?.activatedBy ?? "",
      signedAt: s.signedAt === undefined ? "" : new Date(s.signedAt * 1000).toISOString(),
      active: active.snapshot === s,
      shadow: asShadow !== undefined,
      shadowSince: asShadow?.since.toISOString() ?? "",
      shadowBy: asShadow?.by ?? "",
    });
  const knownOf = (s: BundleSnapshot) => registry.history.find((k) => k.snapshot === s);
  const shadowOf = (s: BundleSnapshot) => (shadow.current?.snapshot === s ? shadow.current : undefined);
  const describe = (s: BundleSnapshot) => info(s, knownOf(s), shadowOf(s));
  const caller = (call: grpc.ServerUnaryCall<unknown, unknown>) => `admin:${call.getPeer()}`;
  const refused = (err: unknown): never => {
    if (err instanceof BundleError) throw new VerdictError("failed_precondition", err.message);
    throw err;
  };
  const impl = {
    pushBundle: unary(PolicyAdminService.method.pushBundle, async (req, call) => {
      if (req.bundle.length > maxBundleBytes) throw limitExceeded(`bundle: ${req.bundle.length} bytes is over the ${maxBundleBytes}-byte limit`);
      if (req.bundle.length === 0) throw invalidArgument("bundle: empty; send a .tar.gz made by `verdict bundle build`");
      if (req.dryRun && req.shadow) throw invalidArgument("dry_run and shadow: choose one (a dry run activates nothing, a shadow is evaluated beside the active bundle)");
      if (req.maxExamples > MAX_EXAMPLES) throw invalidArgument(`max_examples: ${req.maxExamples} is over ${MAX_EXAMPLES}`);
      const out = await registry.push(req.bundle, { dryRun: req.dryRun, shadow: req.shadow, by: caller(call) }).catch(refused);
      const report = req.dryRun && impact !== undefined ? await impact.report(out.snapshot, req.maxExamples || DEFAULT_EXAMPLES) : undefined;
      return create(PushBundleResponseSchema, {
        bundle: describe(out.snapshot),
        activated: out.activated,
        tests: out.tests.map((t) => ({ name: t.test.name, passed: t.passed, detail: t.passed ? "" : JSON.stringify(t.actual) })),
        ...(report === undefined ? {} : { impact: toImpactReport(report) }),
      });
    }),
    getActiveBundle: unary(PolicyAdminService.method.getActiveBundle, async () => {
      const s = active.snapshot;
      if (s === undefined) throw new VerdictError("unavailable", "no bundle is active");
      const sh = shadow.current;
      return create(GetActiveBundleResponseSchema, { bundle: describe(s), ...(sh === undefined ? {} : { shadow: describe(sh.snapshot) }) });
    }),
    listBundles: unary(PolicyAdminService.method.listBundles, async () => {
      const sh = shadow.current;
      const known = registry.history.filter((k) => k.snapshot !== sh?.snapshot).map((k) => info(k.snapshot, k));
      return create(ListBundlesResponseSchema, { bundles: sh === undefined ? known : [describe(sh.snapshot), ...known] });
    }),
    activateBundle: unary(PolicyAdminService.method.activateBundle, async (req, call) => {
      const activation = await registry.activate(req.revision, caller(call)).catch(refused);
      return create(ActivateBundleResponseSchema, { bundle: describe(activation.snapshot) });
    }),
    listUnmatchedRoutes: unary(PolicyAdminService.method.listUnmatchedRoutes, async () =>
      create(ListUnmatchedRoutesResponseSchema, {
        routes: unmatched.list().map((r) => ({ method: r.method, template: r.template, count: BigInt(r.count), lastSeen: new Date(r.lastSeen).toISOString() })),
        dropped: BigInt(unmatched.dropped),
      }),
    ),
    ...statusMethods(parts.status, parts.anomalies),
  };
  return [serverDefinition(PolicyAdminService), impl];
}
