import { invalidArgument, limitExceeded } from "../../errors.js";
import type { AuthzenParts } from "./authzen-request.js";

/** How a batch is run (`options.evaluations_semantic`). */
export type EvaluationsSemantic = "execute_all" | "deny_on_first_deny" | "permit_on_first_permit";

/** An `/access/v1/evaluations` body, read: either one evaluation or a list of merged items. */
export type EvaluationsRequest =
  | { readonly kind: "single"; readonly parts: AuthzenParts }
  | { readonly kind: "batch"; /** `undefined` where the item is not an object. */
      readonly items: readonly (AuthzenParts | undefined)[]; readonly semantic: EvaluationsSemantic };

const SEMANTICS: readonly EvaluationsSemantic[] = ["execute_all", "deny_on_first_deny", "permit_on_first_permit"];
const MEMBERS = ["subject", "action", "resource", "context"] as const;
/** The identifying members a partial item may take from the top-level default (certification 3.2.7). */
const IDENTIFIERS: Readonly<Record<(typeof MEMBERS)[number], readonly string[]>> = { subject: ["type", "id"], action: ["name"], resource: ["type", "id"], context: [] };

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === "object" && x !== null && !Array.isArray(x);

/**
 * Reads the batch envelope. Without items (missing or empty `evaluations`) the call is a
 * single evaluation of the top-level members. Otherwise each item takes each member it leaves
 * out from the top level; a member it gives replaces the default whole (no merging of
 * `properties`), except that a missing `type`/`id`/`name` is taken from the default. Items are
 * not validated here: a bad item fails alone, as the spec's per-item errors require.
 */
export function readEvaluationsRequest(body: Obj, maxItems: number): EvaluationsRequest {
  const evaluations = body["evaluations"];
  if (evaluations !== undefined && !Array.isArray(evaluations)) throw invalidArgument("evaluations: must be an array");
  const options = body["options"];
  if (options !== undefined && !isObj(options)) throw invalidArgument("options: must be an object");
  const semantic = options?.["evaluations_semantic"] ?? "execute_all";
  if (!SEMANTICS.includes(semantic as EvaluationsSemantic)) {
    throw invalidArgument(`options.evaluations_semantic: must be one of ${SEMANTICS.join(", ")} (got ${JSON.stringify(semantic).slice(0, 60)})`);
  }
  const defaults: AuthzenParts = {};
  for (const m of MEMBERS) if (body[m] !== undefined) defaults[m] = body[m];
  if (evaluations === undefined || evaluations.length === 0) return { kind: "single", parts: defaults };
  if (evaluations.length > maxItems) throw limitExceeded(`evaluations: ${evaluations.length} items is over the batch limit of ${maxItems}`);
  const items = evaluations.map((item: unknown) => (isObj(item) ? mergeItem(defaults, item) : undefined));
  return { kind: "batch", items, semantic: semantic as EvaluationsSemantic };
}

function mergeItem(defaults: AuthzenParts, item: Obj): AuthzenParts {
  const out: AuthzenParts = { ...defaults };
  for (const m of MEMBERS) {
    const own = item[m];
    if (own === undefined) continue;
    const fallback = defaults[m];
    if (!isObj(own) || !isObj(fallback) || IDENTIFIERS[m].every((k) => own[k] !== undefined)) {
      out[m] = own;
      continue;
    }
    const filled: Obj = { ...own };
    for (const k of IDENTIFIERS[m]) if (filled[k] === undefined && fallback[k] !== undefined) filled[k] = fallback[k];
    out[m] = filled;
  }
  return out;
}

/** Whether a batch run under `semantic` stops after an item that decided `decision`. */
export function stopsAfter(semantic: EvaluationsSemantic, decision: boolean): boolean {
  return (semantic === "deny_on_first_deny" && !decision) || (semantic === "permit_on_first_permit" && decision);
}
