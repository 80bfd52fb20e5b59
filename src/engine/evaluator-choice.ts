import { VerdictError } from "../errors.js";
import type { AuthzRequest } from "../model/authz-request.js";
import type { Evaluation } from "../model/decision.js";
import type { CompiledBundle } from "./compiled/compile-bundle.js";
import { NeedsWasm } from "./compiled/compiled-evaluator.js";

/** Which evaluator decides: compiled closures (cross-checked) or cedar-wasm alone. */
export type EvaluatorKind = "compiled" | "wasm";

/** What the engine tells the outside about its evaluators (metrics, logs); no-ops by default. */
export interface EngineObserver {
  /** At activation: the bundle runs on cedar-wasm (`reason`), or these policies do. */
  compiled?(info: { readonly evaluator: EvaluatorKind; readonly reason?: string; readonly fallbackPolicies: readonly { id: string; reason: string }[] }): void;
  /** A request decided by cedar-wasm because it reached a policy left to it. */
  wasmFallback?(reason: string): void;
  /** A cross-checked request on which the two evaluators disagreed. */
  divergence?(info: { readonly request: AuthzRequest; readonly compiled: Outcome; readonly wasm: Outcome; readonly switchedToWasm: boolean }): void;
  /** A request re-decided by cedar-wasm for the cross-check. */
  crossChecked?(): void;
}

/** Settings of the choice. */
export interface EvaluatorSettings {
  readonly evaluator?: EvaluatorKind;
  /** Fraction of compiled decisions re-decided by cedar-wasm after the answer (0 to 1). */
  readonly crossCheckRate?: number;
  /** On a divergence, decide the rest of this bundle's requests with cedar-wasm. */
  readonly divergenceFallback?: boolean;
  readonly observer?: EngineObserver;
}

export const EVALUATOR_DEFAULTS = { evaluator: "compiled", crossCheckRate: 0.01, divergenceFallback: false } as const;

/** An answer or a refusal, as compared between evaluators. */
export type Outcome = { readonly evaluation: Evaluation } | { readonly refused: string };

const sorted = (xs: readonly string[]) => [...xs].sort().join("\n");

/** True when two outcomes agree on decision, determining and erroring policies, or both refuse. */
export function sameOutcome(a: Outcome, b: Outcome): boolean {
  if ("refused" in a || "refused" in b) return "refused" in a && "refused" in b;
  const [x, y] = [a.evaluation, b.evaluation];
  return (
    x.decision === y.decision &&
    sorted(x.determiningPolicies) === sorted(y.determiningPolicies) &&
    sorted(x.errors.map((e) => e.policyId)) === sorted(y.errors.map((e) => e.policyId))
  );
}

/** Runs an evaluation, turning a refusal (`invalid_argument`) into an outcome; other faults throw. */
export function outcomeOf(run: () => Evaluation): Outcome {
  try {
    return { evaluation: run() };
  } catch (err) {
    if (err instanceof VerdictError && err.code === "invalid_argument") return { refused: err.message };
    throw err;
  }
}

/**
 * Which evaluator answers a request, and why — the one place that decides it:
 * 1. `engine.evaluator = wasm`, or a bundle the compiler could not take whole (schema or
 *    entities it does not handle; reported at activation): cedar-wasm.
 * 2. Otherwise the compiled evaluator; a request whose scope reaches a policy the compiler left
 *    to cedar-wasm (e.g. an integer literal beyond 2^53) is decided by cedar-wasm (`wasmFallback`).
 * 3. A sample (`crossCheckRate`) of compiled answers is re-decided by cedar-wasm after the answer
 *    is returned; a divergence is reported and, with `divergenceFallback`, the bundle switches to
 *    cedar-wasm for good.
 */
export class EvaluatorChoice {
  readonly #compiled: CompiledBundle;
  readonly #wasm: (req: AuthzRequest) => Evaluation;
  readonly #settings: Required<Omit<EvaluatorSettings, "observer">>;
  readonly #observer: EngineObserver;
  #switchedToWasm = false;

  constructor(compiled: CompiledBundle, wasm: (req: AuthzRequest) => Evaluation, settings: EvaluatorSettings) {
    this.#compiled = compiled;
    this.#wasm = wasm;
    this.#settings = { ...EVALUATOR_DEFAULTS, ...withoutUndefined(settings) };
    this.#observer = settings.observer ?? {};
    const evaluator = this.active;
    this.#observer.compiled?.({
      evaluator,
      ...(compiled.reason === undefined ? {} : { reason: compiled.reason }),
      fallbackPolicies: compiled.evaluator?.fallbacks ?? [],
    });
  }

  /** The evaluator that answers this bundle's requests now. */
  get active(): EvaluatorKind {
    return this.#settings.evaluator === "compiled" && this.#compiled.evaluator !== undefined && !this.#switchedToWasm ? "compiled" : "wasm";
  }

  evaluate(req: AuthzRequest): Evaluation {
    const compiled = this.#compiled.evaluator;
    if (compiled === undefined || this.active === "wasm") return this.#wasm(req);
    let answer: Outcome;
    try {
      answer = outcomeOf(() => compiled.evaluate(req));
    } catch (err) {
      if (!(err instanceof NeedsWasm)) throw err;
      this.#observer.wasmFallback?.(err.message);
      return this.#wasm(req);
    }
    if (this.#settings.crossCheckRate > 0 && Math.random() < this.#settings.crossCheckRate) setImmediate(() => this.#crossCheck(req, answer));
    if ("refused" in answer) throw new VerdictError("invalid_argument", answer.refused);
    return answer.evaluation;
  }

  #crossCheck(req: AuthzRequest, compiled: Outcome): void {
    let wasm: Outcome;
    try {
      wasm = outcomeOf(() => this.#wasm(req));
    } catch {
      return; // cedar-wasm could not answer at all (trapped): nothing to compare.
    }
    this.#observer.crossChecked?.();
    if (sameOutcome(compiled, wasm)) return;
    if (this.#settings.divergenceFallback) this.#switchedToWasm = true;
    this.#observer.divergence?.({ request: req, compiled, wasm, switchedToWasm: this.#switchedToWasm });
  }
}

function withoutUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
