import { create } from "@bufbuild/protobuf";
import type * as grpc from "@grpc/grpc-js";
import type { ActiveBundle } from "../../bundle/active-bundle.js";
import { VerdictError } from "../../errors.js";
import { Health, HealthCheckResponse_ServingStatus as Status, HealthCheckResponseSchema, HealthListResponseSchema } from "../../gen/grpc/health/v1/health_pb.js";
import type { ShutdownState } from "../http/health-routes.js";
import { serverDefinition, unary } from "../service-definition.js";

/** Services whose health this listener reports; "" is the whole server. */
const SERVICES = ["", "verdict.v1.AuthorizationService", "envoy.service.auth.v3.Authorization"];

/**
 * grpc.health.v1.Health: SERVING while a bundle is active and the process is not draining, so
 * load balancers stop sending before shutdown and never send before the first bundle. Redis
 * plays no part: a cache outage must not take replicas out of rotation. Watch is not offered.
 */
export function healthService(active: ActiveBundle, shutdown: ShutdownState): [grpc.ServiceDefinition, grpc.UntypedServiceImplementation] {
  const status = () => (active.snapshot !== undefined && !shutdown.draining ? Status.SERVING : Status.NOT_SERVING);
  const impl = {
    check: unary(Health.method.check, async (req) => {
      if (!SERVICES.includes(req.service)) throw new VerdictError("not_found", `unknown service "${req.service}"`);
      return create(HealthCheckResponseSchema, { status: status() });
    }),
    list: unary(Health.method.list, async () =>
      create(HealthListResponseSchema, { statuses: Object.fromEntries(SERVICES.map((s) => [s, create(HealthCheckResponseSchema, { status: status() })])) }),
    ),
  };
  const def = serverDefinition(Health);
  delete (def as Record<string, unknown>)["watch"];
  return [def, impl];
}
