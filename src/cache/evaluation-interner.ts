import type { Evaluation } from "../model/decision.js";

/** Distinct evaluations remembered for sharing; past this the table starts over. */
const MAX_DISTINCT = 4096;

/**
 * Hands out one shared object per distinct evaluation. A bundle yields few distinct answers
 * (a decision and the policies behind it) however many requests are cached, so the cache holds
 * references to a handful of objects instead of a copy per entry.
 */
export class EvaluationInterner {
  readonly #byContent = new Map<string, Evaluation>();

  intern(evaluation: Evaluation): Evaluation {
    const key = JSON.stringify([evaluation.decision, evaluation.determiningPolicies, evaluation.errors]);
    const known = this.#byContent.get(key);
    if (known !== undefined) return known;
    if (this.#byContent.size >= MAX_DISTINCT) this.#byContent.clear();
    this.#byContent.set(key, evaluation);
    return evaluation;
  }
}
