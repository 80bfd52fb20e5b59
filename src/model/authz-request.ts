import type { Entity, EntityUid, Value } from "./entity.js";

/** Which front door a request came through (`plan`: resource query planning); a bounded metric label. */
export type Api = "check" | "batch" | "envoy" | "authzen" | "forward_auth" | "plan";

/** One authorization question, after wire mapping and before the engine. */
export interface AuthzRequest {
  readonly principal: Entity;
  readonly action: EntityUid;
  readonly resource: Entity;
  readonly context: Readonly<Record<string, Value>>;
  /** More entities the policies may reach (groups, owners...). */
  readonly entities: readonly Entity[];
}
