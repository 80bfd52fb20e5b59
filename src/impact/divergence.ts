import type { DecisionKind, Evaluation } from "../model/decision.js";

/** What one bundle made of a request: its evaluation, or why it could not decide it. */
export type Outcome = Evaluation | { readonly error: string };

/** How a second bundle's answer differs from the first's; `error`: the second could not decide. */
export type Divergence = "allow_to_deny" | "deny_to_allow" | "error";

/** The decision of an outcome, undefined for an error. */
export const decisionOf = (o: Outcome): DecisionKind | undefined => ("error" in o ? undefined : o.decision);

/**
 * How `next` differs from `current`; undefined when both decide alike. An error on either side
 * is `error`: it is neither an allow nor a deny, and must be looked at rather than counted as one.
 */
export function divergenceOf(current: Outcome, next: Outcome): Divergence | undefined {
  const a = decisionOf(current);
  const b = decisionOf(next);
  if (a === undefined || b === undefined) return "error";
  if (a === b) return undefined;
  return a === "allow" ? "allow_to_deny" : "deny_to_allow";
}
