import type { DecisionEvent, DecisionObserver } from "../decision/decision-observer.js";
import type { ReplayItem } from "./impact-report.js";

/** Size of the sample and the fraction of decisions it records. */
export interface RequestSampleSettings {
  readonly sampleSize: number;
  readonly sampleRate: number;
}

/**
 * The most recent decided requests, for dry runs to replay (`whatIf.sampleSize`). Recording is
 * one slot assignment in a ring: the decision event is kept by reference, and a request a
 * front door answered without decoding is decoded only when a dry run reads it. It lives in
 * memory only; what a report shows of it is ids and decisions, never request data.
 */
export class RequestSample implements DecisionObserver {
  readonly #slots: (DecisionEvent | undefined)[];
  readonly #rate: number;
  readonly #random: () => number;
  #next = 0;
  #count = 0;

  constructor(settings: RequestSampleSettings, random: () => number = Math.random) {
    this.#slots = new Array<DecisionEvent | undefined>(settings.sampleSize).fill(undefined);
    this.#rate = settings.sampleRate;
    this.#random = random;
  }

  decided(event: DecisionEvent): void {
    if (this.#rate < 1 && this.#random() >= this.#rate) return;
    this.#slots[this.#next] = event;
    this.#next = this.#next + 1 === this.#slots.length ? 0 : this.#next + 1;
    if (this.#count < this.#slots.length) this.#count++;
  }

  refused(): void {
    // A refused request has no decision to compare.
  }

  /** Requests recorded now. */
  get size(): number {
    return this.#count;
  }

  /** The recorded requests, oldest first (references, taken when a dry run asks). */
  items(): ReplayItem[] {
    const n = this.#slots.length;
    const out: ReplayItem[] = [];
    for (let i = 0; i < this.#count; i++) {
      const event = this.#slots[(this.#next - this.#count + i + n) % n]!;
      out.push({
        get request() {
          return event.request;
        },
        requestId: event.result.requestId,
        decisionId: event.result.decisionId,
      });
    }
    return out;
  }
}
