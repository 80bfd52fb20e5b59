import { create } from "@bufbuild/protobuf";
import type * as grpc from "@grpc/grpc-js";
import type { ActiveBundle } from "../../bundle/active-bundle.js";
import { BundleError } from "../../bundle/bundle-error.js";
import type { BundleRegistry, KnownBundle } from "../../bundle/bundle-registry.js";
import type { BundleSnapshot } from "../../bundle/bundle-snapshot.js";
import { limitExceeded, VerdictError } from "../../errors.js";
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

/** verdict.v1.PolicyAdminService: pushes and rollbacks through the bundle registry, and the unmatched-route inventory. */
export function adminService(
  registry: BundleRegistry,
  active: ActiveBundle,
  maxBundleBytes: number,
  unmatched: UnmatchedInventory,
): [grpc.ServiceDefinition, grpc.UntypedServiceImplementation] {
  const info = (s: BundleSnapshot, known?: KnownBundle): BundleInfo =>
    create(BundleInfoSchema, {
      name: s.name,
      revision: s.revision,
      digest: s.digest,
      policyCount: s.policies.policies.length,
      activatedAt: known?.activatedAt?.toISOString() ?? "",
      activatedBy: known?.activatedBy ?? "",
      signedAt: s.signedAt === undefined ? "" : new Date(s.signedAt * 1000).toISOString(),
      active: active.snapshot === s,
    });
  const knownOf = (s: BundleSnapshot) => registry.history.find((k) => k.snapshot === s);
  const caller = (call: grpc.ServerUnaryCall<unknown, unknown>) => `admin:${call.getPeer()}`;
  const refused = (err: unknown): never => {
    if (err instanceof BundleError) throw new VerdictError("failed_precondition", err.message);
    throw err;
  };
  const impl = {
    pushBundle: unary(PolicyAdminService.method.pushBundle, async (req, call) => {
      if (req.bundle.length > maxBundleBytes) throw limitExceeded(`bundle: ${req.bundle.length} bytes is over the ${maxBundleBytes}-byte limit`);
      if (req.bundle.length === 0) throw new VerdictError("invalid_argument", "bundle: empty; send a .tar.gz made by `verdict bundle build`");
      const out = await registry.push(req.bundle, { dryRun: req.dryRun, by: caller(call) }).catch(refused);
      return create(PushBundleResponseSchema, {
        bundle: info(out.snapshot, knownOf(out.snapshot)),
        activated: out.activated,
        tests: out.tests.map((t) => ({ name: t.test.name, passed: t.passed, detail: t.passed ? "" : JSON.stringify(t.actual) })),
      });
    }),
    getActiveBundle: unary(PolicyAdminService.method.getActiveBundle, async () => {
      const s = active.snapshot;
      if (s === undefined) throw new VerdictError("unavailable", "no bundle is active");
      return create(GetActiveBundleResponseSchema, { bundle: info(s, knownOf(s)) });
    }),
    listBundles: unary(PolicyAdminService.method.listBundles, async () =>
      create(ListBundlesResponseSchema, { bundles: registry.history.map((k) => info(k.snapshot, k)) }),
    ),
    activateBundle: unary(PolicyAdminService.method.activateBundle, async (req, call) => {
      const activation = await registry.activate(req.revision, caller(call)).catch(refused);
      return create(ActivateBundleResponseSchema, { bundle: info(activation.snapshot, knownOf(activation.snapshot)) });
    }),
    listUnmatchedRoutes: unary(PolicyAdminService.method.listUnmatchedRoutes, async () =>
      create(ListUnmatchedRoutesResponseSchema, {
        routes: unmatched.list().map((r) => ({ method: r.method, template: r.template, count: BigInt(r.count), lastSeen: new Date(r.lastSeen).toISOString() })),
        dropped: BigInt(unmatched.dropped),
      }),
    ),
  };
  return [serverDefinition(PolicyAdminService), impl];
}
