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
}

/** Defaults from the contract; each is configurable under `limits.*`. */
export const DEFAULT_REQUEST_LIMITS: RequestLimits = {
  maxEntities: 1000,
  maxDepth: 32,
  maxStringLength: 64 * 1024,
  maxSetSize: 10_000,
  maxRecordFields: 1000,
  maxBatchSize: 100,
};
