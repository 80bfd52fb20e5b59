import type { ActiveBundle } from "../bundle/active-bundle.js";
import type { DecisionService } from "../decision/decision-service.js";
import { file_grpc_health_v1_health } from "../gen/grpc/health/v1/health_pb.js";
import { file_verdict_v1_authorization } from "../gen/verdict/v1/authorization_pb.js";
import { authorizationService } from "./authorization/authorization-service.js";
import type { GrpcServer } from "./grpc-server.js";
import { healthService } from "./health/health-service.js";
import { addReflection } from "./health/reflection-service.js";
import type { ShutdownState } from "./http/health-routes.js";

/** Everything the main gRPC listener serves: decisions, health, and reflection over both. */
export function addMainServices(server: GrpcServer, decisions: DecisionService, active: ActiveBundle, shutdown: ShutdownState): void {
  server.add(...authorizationService(decisions));
  server.add(...healthService(active, shutdown));
  addReflection(server, [file_verdict_v1_authorization, file_grpc_health_v1_health]);
}
