import { hostname } from "node:os";
import type { Activation, ActiveBundle } from "../../bundle/active-bundle.js";
import type { SinkAccount } from "./log-accounting.js";

/** The shared Redis as this replica sees it. */
export interface RedisView {
  readonly configured: boolean;
  readonly topology: string;
  readonly endpoints: readonly string[];
  readonly up: boolean;
  readonly breaker: string;
}

/** The decision cache's size. */
export interface CacheView {
  readonly enabled: boolean;
  readonly localEntries: number;
  readonly localMaxEntries: number;
}

/** Tracing settings in force. */
export interface TracingView {
  readonly enabled: boolean;
  readonly endpoint: string;
  readonly samplingRatio: number;
}

/** A refused activation. */
export interface ActivationFailure {
  readonly message: string;
  readonly at: Date;
  readonly by: string;
}

/** Everything GetStatus reports about one replica. */
export interface StatusView {
  readonly replica: string;
  readonly startedAt: Date;
  readonly activation: Activation | undefined;
  readonly lastActivationError: ActivationFailure | undefined;
  readonly redis: RedisView;
  readonly cache: CacheView;
  readonly decisionLog: readonly SinkAccount[];
  readonly tracing: TracingView;
  readonly anomaliesEnabled: boolean;
}

/** Where the status reads each part from; functions, because each is read at call time. */
export interface StatusParts {
  readonly active: ActiveBundle;
  readonly redis: () => RedisView;
  readonly cache: () => CacheView;
  readonly sinks: () => readonly SinkAccount[];
  readonly tracing: TracingView;
  readonly anomaliesEnabled: boolean;
}

/**
 * This replica's state for the admin Status RPC (what OPA's status API gives): it remembers
 * the last refused activation and reads everything else from its owners when asked.
 */
export class ReplicaStatus {
  readonly #parts: StatusParts;
  readonly #startedAt = new Date();
  #lastError: ActivationFailure | undefined;

  constructor(parts: StatusParts) {
    this.#parts = parts;
  }

  /** A bundle was refused; the active one keeps serving. */
  activationFailed(error?: unknown, by?: string): void {
    const message = error instanceof Error ? error.message : error === undefined ? "unknown error" : String(error);
    this.#lastError = { message, at: new Date(), by: by ?? "" };
  }

  view(): StatusView {
    const p = this.#parts;
    return {
      replica: `${hostname()}/${process.pid}`,
      startedAt: this.#startedAt,
      activation: p.active.activation,
      lastActivationError: this.#lastError,
      redis: p.redis(),
      cache: p.cache(),
      decisionLog: p.sinks(),
      tracing: p.tracing,
      anomaliesEnabled: p.anomaliesEnabled,
    };
  }
}

