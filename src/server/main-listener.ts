import type { ActiveBundle } from "../bundle/active-bundle.js";
import type { DecisionService } from "../decision/decision-service.js";
import type { PlanService } from "../decision/plan-service.js";
import { file_envoy_service_auth_v3_external_auth } from "../gen/envoy/service/auth/v3/external_auth_pb.js";
import { file_grpc_health_v1_health } from "../gen/grpc/health/v1/health_pb.js";
import { file_verdict_v1_authorization } from "../gen/verdict/v1/authorization_pb.js";
import { authorizationService } from "./authorization/authorization-service.js";
import { type EnvoyMetrics, type EnvoySettings, envoyService } from "./envoy/envoy-service.js";
import type { UnmatchedInventory } from "./envoy/unmatched-inventory.js";
import type { GrpcServer } from "./grpc-server.js";
import { healthService } from "./health/health-service.js";
import { addReflection } from "./health/reflection-service.js";
import type { ShutdownState } from "./http/health-routes.js";

/** The Envoy front door's settings and collaborators. */
export interface EnvoyFrontDoor {
  readonly settings: EnvoySettings;
  readonly metrics: EnvoyMetrics;
  readonly inventory: UnmatchedInventory;
}

/** Everything the main gRPC listener serves: decisions and plans (verdict.v1), Envoy ext_authz, health, reflection. */
export function addMainServices(
  server: GrpcServer,
  decisions: DecisionService,
  plans: PlanService,
  active: ActiveBundle,
  shutdown: ShutdownState,
  envoy: EnvoyFrontDoor,
): void {
  server.add(...authorizationService(decisions, plans));
  server.add(...envoyService({ decisions, active, metrics: envoy.metrics, inventory: envoy.inventory }, envoy.settings));
  server.add(...healthService(active, shutdown));
  addReflection(server, [file_verdict_v1_authorization, file_envoy_service_auth_v3_external_auth, file_grpc_health_v1_health]);
}
