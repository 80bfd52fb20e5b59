import type { ActiveBundle } from "../bundle/active-bundle.js";
import type { BundleSnapshot } from "../bundle/bundle-snapshot.js";
import type { UncachedEvaluator } from "../decision/uncached-evaluator.js";
import { unavailable } from "../errors.js";
import type { ImpactReport } from "./impact-report.js";
import { type BundleSide, compareBundles } from "./compare-bundles.js";
import type { RequestSample } from "./request-sample.js";

/** A snapshot as one side of a comparison. */
export const sideOf = (snapshot: BundleSnapshot, evaluator: UncachedEvaluator): BundleSide => ({
  revision: snapshot.revision,
  evaluate: (request) => evaluator.evaluate(snapshot, request),
});

/** What a candidate bundle would change for this server's recent requests (PushBundle dry runs). */
export class SampleImpact {
  readonly #sample: RequestSample;
  readonly #active: ActiveBundle;
  readonly #evaluator: UncachedEvaluator;

  constructor(sample: RequestSample, active: ActiveBundle, evaluator: UncachedEvaluator) {
    this.#sample = sample;
    this.#active = active;
    this.#evaluator = evaluator;
  }

  /** Replays the sample against the active bundle and `candidate`. */
  report(candidate: BundleSnapshot, examplesPerGroup?: number): Promise<ImpactReport> {
    const active = this.#active.snapshot;
    if (active === undefined) throw unavailable("no bundle is active to compare with");
    return compareBundles(this.#sample.items(), sideOf(active, this.#evaluator), sideOf(candidate, this.#evaluator), examplesPerGroup);
  }
}
