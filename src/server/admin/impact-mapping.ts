import { create } from "@bufbuild/protobuf";
import type { ImpactExample, ImpactGroup, ImpactReport } from "../../impact/impact-report.js";
import type { Outcome } from "../../impact/divergence.js";
import {
  type ImpactExample as PbImpactExample,
  ImpactExampleSchema,
  type ImpactGroup as PbImpactGroup,
  ImpactGroupSchema,
  type ImpactOutcome as PbImpactOutcome,
  ImpactOutcomeSchema,
  type ImpactReport as PbImpactReport,
  ImpactReportSchema,
} from "../../gen/verdict/v1/admin_pb.js";
import { Decision } from "../../gen/verdict/v1/authorization_pb.js";

/** An impact report as verdict.v1.ImpactReport (the dry-run answer, and `verdict replay --json`). */
export function toImpactReport(r: ImpactReport): PbImpactReport {
  return create(ImpactReportSchema, {
    activeRevision: r.activeRevision,
    candidateRevision: r.candidateRevision,
    requests: r.requests,
    unchanged: r.unchanged,
    flipped: r.flipped,
    allowToDeny: r.allowToDeny,
    denyToAllow: r.denyToAllow,
    errors: r.errors,
    byAction: r.byAction.map(toGroup),
    byPolicy: r.byPolicy.map(toGroup),
    errorExamples: r.errorExamples.map(toExample),
  });
}

const toGroup = (g: ImpactGroup): PbImpactGroup =>
  create(ImpactGroupSchema, { key: g.key, allowToDeny: g.allowToDeny, denyToAllow: g.denyToAllow, examples: g.examples.map(toExample) });

const toExample = (e: ImpactExample): PbImpactExample =>
  create(ImpactExampleSchema, {
    requestId: e.requestId,
    decisionId: e.decisionId,
    principal: e.principal,
    action: e.action,
    resource: e.resource,
    active: toOutcome(e.active),
    candidate: toOutcome(e.candidate),
  });

const toOutcome = (o: Outcome): PbImpactOutcome =>
  "error" in o
    ? create(ImpactOutcomeSchema, { decision: Decision.UNSPECIFIED, error: o.error })
    : create(ImpactOutcomeSchema, { decision: o.decision === "allow" ? Decision.ALLOW : Decision.DENY, determiningPolicies: [...o.determiningPolicies] });
