import type { AuthzRequest } from "../model/authz-request.js";
import { type EntityUid, formatUid } from "../model/entity.js";
import { divergenceOf, type Outcome } from "./divergence.js";

/** A request to replay, with what identifies it to a reader of the report. */
export interface ReplayItem {
  /** May be computed on reading (a sampled request is decoded then), and may throw. */
  readonly request: AuthzRequest;
  readonly requestId: string;
  /** The recorded decision's id, when the request comes from a decision log or the sample. */
  readonly decisionId?: string;
}

/** One replayed request whose decision flipped, or that a bundle could not decide. */
export interface ImpactExample {
  readonly requestId: string;
  readonly decisionId: string;
  readonly principal: EntityUid;
  readonly action: EntityUid;
  readonly resource: EntityUid;
  readonly active: Outcome;
  readonly candidate: Outcome;
}

/** Flips that share an action, or a determining policy. */
export interface ImpactGroup {
  /** The action (`App::Action::"edit"`) or the policy id. */
  readonly key: string;
  readonly allowToDeny: number;
  readonly denyToAllow: number;
  /** The first few flips of the group, in replay order. */
  readonly examples: readonly ImpactExample[];
}

/**
 * What a candidate bundle would change for a set of requests: every request is decided by the
 * active bundle and by the candidate, and each decision that flips is counted. A flip is listed
 * under its action, and under every policy that determined its old or its new decision.
 * requests = unchanged + flipped + errors.
 */
export interface ImpactReport {
  readonly activeRevision: string;
  readonly candidateRevision: string;
  readonly requests: number;
  readonly unchanged: number;
  readonly flipped: number;
  readonly allowToDeny: number;
  readonly denyToAllow: number;
  /** Requests that either bundle could not decide (refused as invalid, or an engine fault). */
  readonly errors: number;
  readonly byAction: readonly ImpactGroup[];
  readonly byPolicy: readonly ImpactGroup[];
  readonly errorExamples: readonly ImpactExample[];
}

type MutableGroup = { -readonly [K in keyof ImpactGroup]: K extends "examples" ? ImpactExample[] : ImpactGroup[K] };

/** Accumulates outcomes into a report, keeping at most `examplesPerGroup` examples per group. */
export class ImpactTally {
  readonly #examplesPerGroup: number;
  readonly #byAction = new Map<string, MutableGroup>();
  readonly #byPolicy = new Map<string, MutableGroup>();
  readonly #errorExamples: ImpactExample[] = [];
  #requests = 0;
  #allowToDeny = 0;
  #denyToAllow = 0;
  #errors = 0;

  constructor(examplesPerGroup: number) {
    this.#examplesPerGroup = examplesPerGroup;
  }

  /** Counts one request; `request` is undefined when it could not even be read. */
  add(item: ReplayItem, request: AuthzRequest | undefined, active: Outcome, candidate: Outcome): void {
    this.#requests++;
    const kind = divergenceOf(active, candidate);
    if (kind === undefined) return;
    const none = { type: "", id: "" };
    const example: ImpactExample = {
      requestId: item.requestId,
      decisionId: item.decisionId ?? "",
      principal: request?.principal.uid ?? none,
      action: request?.action ?? none,
      resource: request?.resource.uid ?? none,
      active,
      candidate,
    };
    if (kind === "error" || request === undefined) {
      this.#errors++;
      if (this.#errorExamples.length < this.#examplesPerGroup) this.#errorExamples.push(example);
      return;
    }
    if (kind === "allow_to_deny") this.#allowToDeny++;
    else this.#denyToAllow++;
    this.#count(this.#byAction, formatUid(request.action), kind, example);
    const policies = new Set([...("error" in active ? [] : active.determiningPolicies), ...("error" in candidate ? [] : candidate.determiningPolicies)]);
    for (const id of policies) this.#count(this.#byPolicy, id, kind, example);
  }

  #count(groups: Map<string, MutableGroup>, key: string, kind: "allow_to_deny" | "deny_to_allow", example: ImpactExample): void {
    let g = groups.get(key);
    if (g === undefined) groups.set(key, (g = { key, allowToDeny: 0, denyToAllow: 0, examples: [] }));
    if (kind === "allow_to_deny") g.allowToDeny++;
    else g.denyToAllow++;
    if (g.examples.length < this.#examplesPerGroup) g.examples.push(example);
  }

  /** The report so far; groups with the most flips first. */
  report(activeRevision: string, candidateRevision: string): ImpactReport {
    const flipped = this.#allowToDeny + this.#denyToAllow;
    const sorted = (m: Map<string, MutableGroup>) =>
      [...m.values()].sort((a, b) => b.allowToDeny + b.denyToAllow - (a.allowToDeny + a.denyToAllow) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return {
      activeRevision,
      candidateRevision,
      requests: this.#requests,
      unchanged: this.#requests - flipped - this.#errors,
      flipped,
      allowToDeny: this.#allowToDeny,
      denyToAllow: this.#denyToAllow,
      errors: this.#errors,
      byAction: sorted(this.#byAction),
      byPolicy: sorted(this.#byPolicy),
      errorExamples: this.#errorExamples,
    };
  }
}
