import type { BreakerState } from "./circuit-breaker.js";

/** What the cache reports; the metrics registry implements it. */
export interface CacheMetrics {
  lookup(tier: "local" | "shared", result: "hit" | "miss" | "error"): void;
  redisUp(up: boolean): void;
  redisLatency(seconds: number): void;
  breakerState(state: BreakerState): void;
  macFailure(): void;
}

/** Reports nothing: the default when no metrics registry is wired (unit tests, tools). */
export const NO_CACHE_METRICS: CacheMetrics = {
  lookup: () => {},
  redisUp: () => {},
  redisLatency: () => {},
  breakerState: () => {},
  macFailure: () => {},
};
