import type { ImpactExample, ImpactGroup, ImpactOutcome, ImpactReport } from "../gen/verdict/v1/admin_pb.js";
import { Decision, type EntityUid } from "../gen/verdict/v1/authorization_pb.js";

const uid = (u: EntityUid | undefined) => (u === undefined || u.type === "" ? "?" : `${u.type}::${JSON.stringify(u.id)}`);
const outcome = (o: ImpactOutcome | undefined) =>
  o === undefined ? "?" : o.error !== "" ? `error: ${o.error}` : `${o.decision === Decision.ALLOW ? "allow" : "deny"} [${o.determiningPolicies.join(", ")}]`;
const flips = (a: number, d: number) => `${a + d} flipped (${a} allow→deny, ${d} deny→allow)`;

function example(e: ImpactExample): string {
  const ids = [e.requestId && `request_id=${e.requestId}`, e.decisionId && `decision_id=${e.decisionId}`].filter(Boolean).join(" ");
  return `    ${uid(e.principal)} ${uid(e.action)} ${uid(e.resource)}${ids ? `  ${ids}` : ""}\n      active: ${outcome(e.active)}  →  candidate: ${outcome(e.candidate)}`;
}

const group = (g: ImpactGroup) => [`  ${g.key}: ${flips(g.allowToDeny, g.denyToAllow)}`, ...g.examples.map(example)];

/** An impact report for a terminal: totals, then flips by action and by policy, with examples. */
export function formatImpactReport(r: ImpactReport): string {
  const lines = [
    `candidate ${r.candidateRevision} against active ${r.activeRevision}: ${r.requests} requests, ${r.unchanged} unchanged, ${flips(r.allowToDeny, r.denyToAllow)}, ${r.errors} errors`,
  ];
  if (r.byAction.length > 0) lines.push("", "by action:", ...r.byAction.flatMap(group));
  if (r.byPolicy.length > 0) lines.push("", "by determining policy (old or new decision):", ...r.byPolicy.flatMap(group));
  if (r.errorExamples.length > 0) lines.push("", `could not be decided (first ${r.errorExamples.length} of ${r.errors}):`, ...r.errorExamples.map(example));
  return lines.join("\n");
}
