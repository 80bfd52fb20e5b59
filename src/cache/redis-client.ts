import { createRequire } from "node:module";
import type * as IORedis from "ioredis";

/**
 * The ioredis client class, loaded on first use rather than with the modules that use it: a
 * server without Redis (the embedded default) never loads it, which saves about 10 MB of memory
 * and 50 ms of startup. Shared by the decision cache and the bundle fan-out.
 */
export function redisClient(): typeof IORedis.Redis {
  return (createRequire(import.meta.url)("ioredis") as typeof IORedis).Redis;
}
