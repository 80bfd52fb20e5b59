import type { Entity, EntityUid, Value } from "./entity.js";

/** "Which resources of this type may this principal do this action on?", after wire mapping. */
export interface PlanRequest {
  readonly principal: Entity;
  readonly action: EntityUid;
  /** The resources' entity type, e.g. `App::Document`. */
  readonly resourceType: string;
  readonly context: Readonly<Record<string, Value>>;
  /** More entities the policies may reach; not the resources, which the plan selects. */
  readonly entities: readonly Entity[];
}
