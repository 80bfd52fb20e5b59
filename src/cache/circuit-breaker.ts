/** Breaker state, as metrics report it. */
export type BreakerState = "closed" | "open" | "half-open";

/** When to open and for how long. */
export interface BreakerSettings {
  /** Failures within `windowMs` that open the breaker. */
  readonly failures: number;
  readonly windowMs: number;
  /** How long the breaker stays open before letting one probe through. */
  readonly cooldownMs: number;
}

/**
 * A circuit breaker for an optional dependency: after repeated failures it opens and callers
 * skip the dependency entirely; after a cooldown one probe is allowed, and its outcome closes
 * or re-opens the breaker. `now` is injectable so tests need no real waiting.
 */
export class CircuitBreaker {
  readonly #settings: BreakerSettings;
  readonly #now: () => number;
  readonly #onChange: (state: BreakerState) => void;
  #state: BreakerState = "closed";
  #failures: number[] = [];
  #openedAt = 0;
  #probing = false;

  constructor(settings: BreakerSettings, onChange: (state: BreakerState) => void = () => {}, now: () => number = () => performance.now()) {
    this.#settings = settings;
    this.#onChange = onChange;
    this.#now = now;
  }

  get state(): BreakerState {
    return this.#state;
  }

  /** Whether a call may go to the dependency now. In half-open, only one probe at a time. */
  allow(): boolean {
    if (this.#state === "closed") return true;
    if (this.#state === "open" && this.#now() - this.#openedAt >= this.#settings.cooldownMs) this.#set("half-open");
    if (this.#state === "half-open" && !this.#probing) {
      this.#probing = true;
      return true;
    }
    return false;
  }

  success(): void {
    this.#probing = false;
    this.#failures = [];
    if (this.#state !== "closed") this.#set("closed");
  }

  failure(): void {
    this.#probing = false;
    const now = this.#now();
    if (this.#state === "half-open") {
      this.#open(now);
      return;
    }
    this.#failures = this.#failures.filter((t) => now - t < this.#settings.windowMs);
    this.#failures.push(now);
    if (this.#failures.length >= this.#settings.failures) this.#open(now);
  }

  #open(now: number): void {
    this.#openedAt = now;
    this.#failures = [];
    this.#set("open");
  }

  #set(state: BreakerState): void {
    this.#state = state;
    this.#onChange(state);
  }
}
