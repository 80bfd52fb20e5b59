import type { Redis, RedisOptions } from "ioredis";
import type { Evaluation } from "../model/decision.js";
import type { CacheMetrics } from "./cache-metrics.js";
import { CircuitBreaker, type BreakerSettings } from "./circuit-breaker.js";
import { connectRedis } from "./redis-client.js";
import { type RedisTopology, topologyMismatch } from "./redis-topology.js";
import type { ValueSealer } from "./sealed-value.js";

/** Connection settings for the shared cache. */
export interface SharedCacheSettings {
  readonly topology: RedisTopology;
  readonly commandTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly ttlMs: number;
  readonly breaker: BreakerSettings;
}

/** A lookup's outcome: a verified hit, a miss, or the tier was unusable. */
export type SharedLookup = { readonly hit: Evaluation } | "miss" | "error";

/**
 * The L2 tier in Redis. Every command is bounded by a short timeout, nothing queues while
 * disconnected, nothing retries: a slow or dead Redis costs one timeout, then the breaker
 * skips Redis entirely until a probe succeeds. The connection re-establishes itself with
 * jittered backoff, so a fleet does not reconnect in lockstep.
 */
export class SharedCache {
  readonly #redis: Redis;
  readonly #settings: SharedCacheSettings;
  readonly #sealer: ValueSealer;
  readonly #metrics: CacheMetrics;
  readonly #breaker: CircuitBreaker;
  /** Whether the server answered INFO since the last (re)connection. */
  #verified = false;
  /** Why the server reached is not the configured topology (e.g. a Sentinel port as a plain URL). */
  #mismatch: string | undefined;
  #up = false;
  readonly #onProblem: (problem: string) => void;

  constructor(settings: SharedCacheSettings, sealer: ValueSealer, metrics: CacheMetrics, onProblem: (problem: string) => void = () => {}) {
    this.#settings = settings;
    this.#sealer = sealer;
    this.#metrics = metrics;
    this.#onProblem = onProblem;
    // verdict_redis_up is 1 only while Redis answers: connected, the right kind of server, breaker not open.
    this.#breaker = new CircuitBreaker(settings.breaker, (s) => {
      metrics.breakerState(s);
      this.#refresh();
    });
    const options: RedisOptions = {
      commandTimeout: settings.commandTimeoutMs,
      connectTimeout: settings.connectTimeoutMs,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      enableAutoPipelining: true,
      lazyConnect: false,
      retryStrategy: (attempt) => Math.min(50 * 2 ** Math.min(attempt, 6), 2000) * (0.5 + Math.random()),
    };
    this.#redis = connectRedis(settings.topology, options);
    this.#redis.on("ready", () => void this.#checkServer());
    // A Cluster stays "ready" while single nodes come and go (its own 'error' events are per
    // node); the client's status, not the last event, says whether commands can be sent.
    this.#redis.on("close", () => this.#setConnected(false));
    this.#redis.on("end", () => this.#setConnected(false));
    // Errors surface through commands and the up/down state; an unhandled 'error' would crash.
    this.#redis.on("error", () => this.#refresh());
  }

  /** Whether Redis is connected and answering. */
  get up(): boolean {
    return this.#up;
  }

  /** The breaker's state, for status and tests. */
  get breakerState(): string {
    return this.#breaker.state;
  }

  async get(key: string): Promise<SharedLookup> {
    if (!this.#connected || this.#mismatch !== undefined || !this.#breaker.allow()) return "error";
    const start = performance.now();
    let stored: string | null;
    try {
      stored = await this.#redis.get(key);
      this.#breaker.success();
    } catch {
      this.#breaker.failure();
      return "error";
    } finally {
      this.#metrics.redisLatency((performance.now() - start) / 1000);
    }
    if (stored === null) return "miss";
    const hit = this.#sealer.open(key, stored);
    if (hit === undefined) {
      this.#metrics.macFailure();
      return "miss";
    }
    return { hit };
  }

  /** Stores a decision; fire and forget, after the caller has been answered. */
  set(key: string, evaluation: Evaluation): void {
    if (!this.#connected || this.#mismatch !== undefined || this.#breaker.state === "open") return;
    this.#redis.set(key, this.#sealer.seal(key, evaluation), "PX", this.#settings.ttlMs).then(
      () => this.#breaker.success(),
      () => this.#breaker.failure(),
    );
  }

  /** Closes the connection. */
  async close(): Promise<void> {
    this.#redis.disconnect(false);
  }

  /**
   * On each (re)connection: is this the kind of server the URL says? A Sentinel or Cluster node
   * behind a plain URL answers nothing useful. INFO runs under the short command timeout, so a
   * busy server may need a few tries; meanwhile commands flow and drive the breaker.
   */
  async #checkServer(attempt = 0): Promise<void> {
    let info: string | undefined;
    try {
      info = this.#settings.topology.kind === "cluster" ? "" : `${await this.#redis.info("replication")}\n${await this.#redis.info("server")}`;
    } catch {
      if (attempt < 20 && this.#redis.status === "ready") setTimeout(() => void this.#checkServer(attempt + 1), 250).unref();
    }
    const mismatch = info === undefined ? undefined : topologyMismatch(this.#settings.topology, info);
    if (mismatch !== undefined && this.#settings.topology.kind === "sentinel") {
      // A replica reached through the sentinels mid-failover: not up yet, but keep using the
      // connection (a READONLY write reconnects, and the sentinels are asked again); look again.
      this.#verified = false;
      this.#mismatch = undefined;
      if (attempt < 40 && this.#redis.status === "ready") setTimeout(() => void this.#checkServer(attempt + 1), 250).unref();
      this.#refresh();
      return;
    }
    this.#verified = info !== undefined;
    this.#mismatch = mismatch;
    if (this.#mismatch !== undefined) this.#onProblem(this.#mismatch);
    // A fresh connection that just answered INFO is a successful probe.
    else if (info !== undefined) this.#breaker.success();
    this.#refresh();
  }

  /** Whether commands can be sent now. */
  get #connected(): boolean {
    return this.#redis.status === "ready";
  }

  #setConnected(connected: boolean): void {
    if (!connected && !this.#connected) this.#verified = false;
    this.#refresh();
  }

  #refresh(): void {
    const up = this.#connected && this.#verified && this.#mismatch === undefined && this.#breaker.state !== "open";
    if (up === this.#up) return;
    this.#up = up;
    this.#metrics.redisUp(up);
  }
}
