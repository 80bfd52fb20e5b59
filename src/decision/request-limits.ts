import { limitExceeded, type VerdictError } from "../errors.js";

/** Bounds on one request, checked before anything reaches Cedar. */
export interface RequestLimits {
  /** Entities in `entities` (principal and resource not counted). */
  readonly maxEntities: number;
  /** Nesting depth of a value (a record in a set in a record is depth 3). */
  readonly maxDepth: number;
  /** Characters in one string, id or type. */
  readonly maxStringLength: number;
  /** Elements in one set. */
  readonly maxSetSize: number;
  /** Fields in one record, attribute map, tag map or context. */
  readonly maxRecordFields: number;
  /** Checks in one BatchCheck. */
  readonly maxBatchSize: number;
  /** Parent edges over all of a request's entities (principal, resource, entities). */
  readonly maxParentEdges: number;
  /** Levels of the parent hierarchy a request's own entities form (a chain of n groups is n deep). */
  readonly maxHierarchyDepth: number;
  /** (entity, ancestor) pairs that hierarchy implies: the transitive closure Cedar computes per request. */
  readonly maxAncestorPairs: number;
  /** Entities in the `entities` lists of all checks of one batch together. */
  readonly maxBatchEntities: number;
  /** Characters in an HTTP request path (Envoy and other HTTP front doors). */
  readonly maxPathLength: number;
}

/** Defaults from the contract; each is configurable under `limits.*`. */
export const DEFAULT_REQUEST_LIMITS: RequestLimits = {
  maxEntities: 1000,
  maxDepth: 32,
  maxStringLength: 64 * 1024,
  maxSetSize: 10_000,
  maxRecordFields: 1000,
  maxBatchSize: 100,
  // The hierarchy bounds keep one request's work in Cedar (which computes the transitive closure
  // of the entities it is given) to a few milliseconds, so one caller cannot stall the others.
  maxParentEdges: 2_000,
  maxHierarchyDepth: 32,
  maxAncestorPairs: 5_000,
  maxBatchEntities: 5_000,
  maxPathLength: 8_192,
};

/** The refusal for an HTTP path over `maxPathLength`, or undefined when it is within it. */
export function pathTooLong(path: string, limits: RequestLimits): VerdictError | undefined {
  if (path.length <= limits.maxPathLength) return undefined;
  return limitExceeded(`path: ${path.length} characters is over the limit of ${limits.maxPathLength} (limits.maxPathLength)`);
}

/** The refusal for a batch whose checks carry more than `maxBatchEntities` entities together. */
export function batchTooLarge(entityCounts: readonly number[], limits: RequestLimits): VerdictError | undefined {
  let total = 0;
  for (const n of entityCounts) total += n;
  if (total <= limits.maxBatchEntities) return undefined;
  return limitExceeded(`checks: ${total} entities over the batch is over the limit of ${limits.maxBatchEntities} (limits.maxBatchEntities)`);
}
