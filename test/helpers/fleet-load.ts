import type { CheckRequest, CheckResponse } from "../../src/gen/verdict/v1/authorization_pb.js";
import { CacheStatus, Decision } from "../../src/gen/verdict/v1/authorization_pb.js";
import { oracle } from "./cedar-oracle.js";
import { exampleBundleForOracle, exampleRequest, policiesOf } from "./example-requests.js";
import { rng } from "./random.js";
import type { RunningVerdict } from "./start-verdict.js";

/** The forbid `noEdits` bundles add, for the oracle. */
export const FREEZE = `@id("edit-freeze") forbid(principal, action == App::Action::"edit", resource);`;

/** What a load run saw. */
export interface LoadReport {
  sent: number;
  failed: number;
  wrong: number;
  notes: string[];
  /** When (performance.now()) each shared-cache hit was answered. */
  sharedHits: number[];
  revisions: Record<string, number>;
  /** Milliseconds of each answered or failed call, in the order they ended. */
  latencies: number[];
}

/**
 * A continuous Check load over two (or more) replicas: a pool of random example questions, a
 * few of them repeated often, each answer compared with cedar-wasm for the revision it names —
 * revisions listed in `frozen` carry the `FREEZE` policy, every other one is the example bundle.
 * `replicas` is read at every call, so a caller may take a replica out of rotation (or add one).
 */
export function startLoad(replicas: readonly Pick<RunningVerdict, "client">[], frozen: ReadonlySet<string>, opts: { concurrency?: number; poolSize?: number } = {}) {
  const { policies, entities, schema } = exampleBundleForOracle();
  const withFreeze = { ...policies, ...policiesOf([FREEZE]) };
  const r = rng(17);
  const pool: CheckRequest[] = Array.from({ length: opts.poolSize ?? 200 }, () => exampleRequest(r));
  const want = (i: number, revision: string): string => {
    const cache = frozen.has(revision) ? frozenAnswers : baseAnswers;
    return (cache[i] ??= answer(pool[i]!, frozen.has(revision) ? withFreeze : policies));
  };
  const answer = (req: CheckRequest, set: Record<string, string>) => {
    const a = oracle(req, set, entities, schema);
    return "error" in a ? `refused: ${a.error}` : a.decision;
  };
  const baseAnswers: string[] = [];
  const frozenAnswers: string[] = [];
  const report: LoadReport = { sent: 0, failed: 0, wrong: 0, notes: [], sharedHits: [], revisions: {}, latencies: [] };
  let stopping = false;
  let turn = 0;
  const worker = async () => {
    while (!stopping) {
      const i = r.next() < 0.7 ? r.int(20) : r.int(pool.length);
      const target = replicas[turn++ % replicas.length]!;
      report.sent++;
      const started = performance.now();
      try {
        const res = await target.client.call<CheckResponse>("check", pool[i]!, undefined, { deadline: Date.now() + 5000 });
        report.revisions[res.bundleRevision] = (report.revisions[res.bundleRevision] ?? 0) + 1;
        const got = res.decision === Decision.ALLOW ? "allow" : res.decision === Decision.DENY ? "deny" : `decision ${res.decision}`;
        const expected = want(i, res.bundleRevision);
        if (got !== expected) {
          report.wrong++;
          if (report.notes.length < 5) report.notes.push(`got ${got}, want ${expected} (revision ${res.bundleRevision})`);
        }
        if (res.cache === CacheStatus.HIT_SHARED) report.sharedHits.push(performance.now());
      } catch (err) {
        report.failed++;
        if (report.notes.length < 5) report.notes.push(`failed: ${(err as Error).message}`);
      } finally {
        report.latencies.push(performance.now() - started);
      }
    }
  };
  const workers = Array.from({ length: opts.concurrency ?? 6 }, worker);
  return {
    report,
    /** Shared hits answered after `since` (performance.now()). */
    hitsAfter: (since: number) => report.sharedHits.filter((t) => t > since).length,
    async stop(): Promise<LoadReport> {
      stopping = true;
      await Promise.all(workers);
      return report;
    },
  };
}
