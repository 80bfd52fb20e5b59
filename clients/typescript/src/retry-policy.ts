/** How failed calls are retried: only UNAVAILABLE, with backoff, within a budget. */
export interface RetrySettings {
  /** Attempts in all, the first included (1: no retries). */
  readonly maxAttempts: number;
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
  /**
   * The retry budget: each successful call earns `budgetRatio` of a retry, each retry spends
   * one, up to `budgetMax` saved; so during an outage retries add at most ~ratio × traffic
   * instead of multiplying it.
   */
  readonly budgetRatio: number;
  readonly budgetMax: number;
}

export const DEFAULT_RETRY: RetrySettings = { maxAttempts: 3, initialBackoffMs: 25, maxBackoffMs: 250, budgetRatio: 0.1, budgetMax: 10 };

/** The retry budget shared by every call of one client (a token bucket). */
export class RetryBudget {
  readonly #settings: RetrySettings;
  #tokens: number;

  constructor(settings: RetrySettings) {
    this.#settings = settings;
    this.#tokens = settings.budgetMax;
  }

  /** A call succeeded: earn a fraction of a retry. */
  succeeded(): void {
    this.#tokens = Math.min(this.#settings.budgetMax, this.#tokens + this.#settings.budgetRatio);
  }

  /** Takes one retry from the budget; false when it is spent. */
  take(): boolean {
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /** Retries left now (for tests and metrics). */
  get tokens(): number {
    return this.#tokens;
  }
}

/** Exponential backoff with full jitter for attempt `n` (1 = the first retry). */
export function backoffMs(settings: RetrySettings, n: number, random: () => number = Math.random): number {
  const cap = Math.min(settings.maxBackoffMs, settings.initialBackoffMs * 2 ** (n - 1));
  return Math.floor(random() * cap);
}
