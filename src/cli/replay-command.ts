import { readFile, stat } from "node:fs/promises";
import { create, toJson } from "@bufbuild/protobuf";
import type { Command } from "commander";
import { BundleError } from "../bundle/bundle-error.js";
import { packBundle } from "../bundle/signing/bundle-archive.js";
import { readBundlePath } from "../bundle/sources/read-bundle-path.js";
import { createContainer } from "../container.js";
import { VerdictError } from "../errors.js";
import { compareBundles, DEFAULT_EXAMPLES } from "../impact/compare-bundles.js";
import { parseReplayLines } from "../impact/replay-lines.js";
import { sideOf } from "../impact/sample-impact.js";
import { type ImpactReport, ImpactReportSchema, PushBundleRequestSchema, type PushBundleResponse } from "../gen/verdict/v1/admin_pb.js";
import { toImpactReport } from "../server/admin/impact-mapping.js";
import { TOKENS } from "../tokens.js";
import { adminCall, adminError, type AdminFlags } from "./admin-client.js";
import { configFromFlags, fail } from "./cli-config.js";
import { formatImpactReport } from "./impact-text.js";
import { silentLogger } from "./silent-logger.js";

/** Exit code when at least one decision flips, so CI can stop a bundle that changes answers. */
export const FLIPS_EXIT_CODE = 3;

interface ReplayFlags {
  bundle: string;
  decisions?: string;
  policies?: string;
  addr?: string;
  token?: string;
  examples: string;
  json?: boolean;
}

/** `verdict replay`: what a candidate bundle would change for recorded requests. */
export function registerReplay(program: Command): void {
  program
    .command("replay")
    .description(
      `decide recorded requests with the current bundle and a candidate and report every decision that flips; exit ${FLIPS_EXIT_CODE} when one does, 1 on failure, 0 otherwise`,
    )
    .requiredOption("--bundle <path>", "candidate bundle (directory or .tar.gz)")
    .option("--decisions <file>", "JSON lines to replay: decision log lines written with decisionLog.includeRequest, or CheckRequest JSON (one per line)")
    .option("--policies <dir>", "with --decisions: the current bundle (default ./policies)")
    .option("--addr <host:port>", "instead of --decisions: a server's admin listener; its recent requests (whatIf.sampleSize) and active bundle are used, through a dry-run push")
    .option("--token <token>", "with --addr: admin bearer token (default: $VERDICT_ADMIN_TOKEN)")
    .option("--examples <n>", "examples shown per group", String(DEFAULT_EXAMPLES))
    .option("--json", "print the report as the JSON form of verdict.v1.ImpactReport")
    .action(async (flags: ReplayFlags) => {
      const examples = Number(flags.examples);
      if (!Number.isInteger(examples) || examples < 1 || examples > 1000) return fail(`--examples must be a whole number from 1 to 1000 (got ${flags.examples})`, 2);
      if ((flags.decisions === undefined) === (flags.addr === undefined)) return fail("give --decisions FILE (replay locally) or --addr HOST:PORT (the server's sample), not both or neither", 2);
      if (flags.addr !== undefined && flags.policies !== undefined) return fail("--policies goes with --decisions; with --addr the server's active bundle is the current one", 2);
      let report: ImpactReport;
      try {
        report = flags.addr !== undefined ? await replayOnServer({ addr: flags.addr, ...(flags.token ? { token: flags.token } : {}) }, flags.bundle, examples) : await replayLocally(flags.decisions!, flags.policies, flags.bundle, examples);
      } catch (err) {
        return fail(err instanceof BundleError || err instanceof VerdictError ? err.message : `replay failed: ${(err as Error).message}`);
      }
      process.stdout.write(`${flags.json ? JSON.stringify(toJson(ImpactReportSchema, report, { alwaysEmitImplicit: true }), null, 2) : formatImpactReport(report)}\n`);
      if (report.flipped > 0) process.exitCode = FLIPS_EXIT_CODE;
    });
}

async function replayLocally(decisions: string, policies: string | undefined, candidatePath: string, examples: number): Promise<ImpactReport> {
  const config = configFromFlags({ policies }, { "decisionLog.destination": "off" });
  const c = createContainer(config, silentLogger());
  const loader = c.resolve(TOKENS.BundleLoader);
  const items = parseReplayLines(await readFile(decisions, "utf8"), decisions);
  const current = await loader.load(await readBundlePath(config.policies.dir ?? "policies", config.bundleLimits));
  const candidate = await loader.load(await readBundlePath(candidatePath, config.bundleLimits));
  const evaluator = c.resolve(TOKENS.UncachedEvaluator);
  return toImpactReport(await compareBundles(items, sideOf(current, evaluator), sideOf(candidate, evaluator), examples));
}

async function replayOnServer(admin: AdminFlags, candidatePath: string, examples: number): Promise<ImpactReport> {
  const config = configFromFlags({});
  const archive = (await stat(candidatePath)).isDirectory() ? await packBundle(await readBundlePath(candidatePath, config.bundleLimits)) : await readFile(candidatePath);
  let response: PushBundleResponse;
  try {
    response = await adminCall<PushBundleResponse>(admin, "pushBundle", create(PushBundleRequestSchema, { bundle: archive, dryRun: true, maxExamples: examples }));
  } catch (err) {
    throw new Error(adminError("replay (a dry-run push)", admin, err));
  }
  if (response.impact === undefined) throw new Error(`the server at ${admin.addr} keeps no request sample to replay: set whatIf.sampleSize there`);
  return response.impact;
}
