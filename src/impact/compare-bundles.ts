import { setImmediate as nextTurn } from "node:timers/promises";
import type { AuthzRequest } from "../model/authz-request.js";
import type { Evaluation } from "../model/decision.js";
import type { Outcome } from "./divergence.js";
import { type ImpactReport, ImpactTally, type ReplayItem } from "./impact-report.js";

/** One side of a comparison: a revision and how it decides a request (throwing when it cannot). */
export interface BundleSide {
  readonly revision: string;
  evaluate(request: AuthzRequest): Evaluation;
}

/** Default number of examples kept per group. */
export const DEFAULT_EXAMPLES = 5;
/** Longest stretch of evaluations before yielding, so a server's Checks are not held up behind a dry run. */
const SLICE_MS = 5;

/**
 * Decides every request with the active bundle and the candidate and reports what flips. Each
 * side is only an `evaluate` function, so this works with whatever engine compiled the bundles.
 */
export async function compareBundles(items: Iterable<ReplayItem>, active: BundleSide, candidate: BundleSide, examplesPerGroup = DEFAULT_EXAMPLES): Promise<ImpactReport> {
  const tally = new ImpactTally(examplesPerGroup);
  let sliceStart = performance.now();
  for (const item of items) {
    let request: AuthzRequest | undefined;
    try {
      request = item.request;
    } catch (err) {
      const unreadable = { error: `the request could not be read: ${(err as Error).message}` };
      tally.add(item, undefined, unreadable, unreadable);
      continue;
    }
    tally.add(item, request, outcome(active, request), outcome(candidate, request));
    if (performance.now() - sliceStart > SLICE_MS) {
      await nextTurn();
      sliceStart = performance.now();
    }
  }
  return tally.report(active.revision, candidate.revision);
}

function outcome(side: BundleSide, request: AuthzRequest): Outcome {
  try {
    return side.evaluate(request);
  } catch (err) {
    return { error: (err as Error).message };
  }
}
