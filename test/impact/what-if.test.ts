import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fromJson, type JsonValue } from "@bufbuild/protobuf";
import { type ImpactReport, ImpactReportSchema } from "../../src/gen/verdict/v1/admin_pb.js";
import { type CheckRequest, type CheckResponse, Decision } from "../../src/gen/verdict/v1/authorization_pb.js";
import { runCliAsync } from "../helpers/cli.js";
import { admin, asText, TOKEN, withoutPolicy, withRevision } from "../helpers/admin.js";
import { EXAMPLE_BUNDLE, writeBundle } from "../helpers/bundles.js";
import { oracle } from "../helpers/cedar-oracle.js";
import { exampleBundleForOracle, exampleRequest } from "../helpers/example-requests.js";
import { rng } from "../helpers/random.js";
import { type RunningVerdict, startVerdict } from "../helpers/start-verdict.js";

/** Runs the CLI; resolves with its exit code and output whatever the code. */
const verdictCli = (args: string[]) => runCliAsync(args);

const REMOVED = "editor-documents";
const tmp = mkdtempSync(join(tmpdir(), "verdict-whatif-"));
const logFile = join(tmp, "decisions.jsonl");
const candidate = writeBundle(asText(withoutPolicy("r-no-editor", REMOVED)));
const identical = writeBundle(asText(withRevision("r-identical")));
after(() => {
  rmSync(tmp, { recursive: true, force: true });
  candidate.cleanup();
  identical.cleanup();
});

/** Every request id whose decision flips, from a report whose examples hold them all. */
const flippedIds = (r: ImpactReport) => r.byAction.flatMap((g) => g.examples.map((e) => e.requestId)).sort();

describe("what-if: the impact of a bundle before it goes live", () => {
  let v: RunningVerdict;
  let a: ReturnType<typeof admin>;
  const sent: CheckRequest[] = [];
  let expectedFlips: string[];

  before(async () => {
    v = await startVerdict(EXAMPLE_BUNDLE, {
      "admin.token": TOKEN,
      "whatIf.sampleSize": 1000,
      "decisionLog.destination": logFile,
      "decisionLog.includeRequest": true,
      "decisionLog.mask": "principal.attrs.department",
      "decisionLog.maskSecret": "what-if-mask-secret",
    });
    a = admin(v);
    const r = rng(90210);
    for (let i = 0; i < 300; i++) sent.push(exampleRequest(r, `q${i}`));
    // Repeats are answered from the cache without decoding; the sample must still hold them.
    for (let i = 0; i < 50; i++) sent.push(sent[i * 3]!);
    for (const req of sent) await v.client.call<CheckResponse>("check", req);
    // The expected flips, from cedar-wasm directly: decisions under both policy sets.
    const { policies, entities, schema } = exampleBundleForOracle();
    const { [REMOVED]: removed, ...without } = policies;
    assert.ok(removed, "the example bundle has the permit");
    expectedFlips = [];
    for (const req of sent) {
      const before = oracle(req, policies, entities, schema);
      const afterRemoval = oracle(req, without, entities, schema);
      assert.ok("decision" in before && "decision" in afterRemoval);
      if (before.decision !== afterRemoval.decision) expectedFlips.push(req.requestId);
    }
    expectedFlips.sort();
    assert.ok(expectedFlips.length >= 5, `the sample exercises the permit (${expectedFlips.length} flips)`);
  });
  after(() => a.close());

  it("a dry run of a bundle without one permit reports exactly the requests that flip, grouped by action and policy", async () => {
    const active = (await a.active()).bundle!.revision;
    const out = await a.push(withoutPolicy("r-no-editor", REMOVED), true, 1000);
    assert.equal(out.activated, false);
    const report = out.impact!;
    assert.equal(report.activeRevision, active);
    assert.equal(report.candidateRevision, "r-no-editor");
    assert.equal(report.requests, sent.length);
    assert.equal(report.errors, 0);
    assert.equal(report.flipped, expectedFlips.length);
    assert.equal(report.allowToDeny, expectedFlips.length, "removing a permit only takes access away");
    assert.equal(report.denyToAllow, 0);
    assert.equal(report.unchanged, sent.length - expectedFlips.length);
    assert.deepEqual(flippedIds(report), expectedFlips);
    const byPolicy = report.byPolicy.find((g) => g.key === REMOVED)!;
    assert.equal(byPolicy.allowToDeny, expectedFlips.length, "every flip is listed under the removed permit");
    for (const g of report.byAction) {
      assert.match(g.key, /^App::Action::"(read|view|comment|edit|share)"$/);
      for (const e of g.examples) {
        assert.equal(e.active!.decision, Decision.ALLOW);
        assert.ok(e.active!.determiningPolicies.includes(REMOVED));
        assert.equal(e.candidate!.decision, Decision.DENY);
        assert.equal(`${e.action!.type}::"${e.action!.id}"`, g.key);
        assert.notEqual(e.decisionId, "", "an example names the recorded decision");
      }
    }
    assert.equal((await a.active()).bundle!.revision, active, "a dry run activates nothing");
  });

  it("keeps a few examples per group unless asked for more", async () => {
    const report = (await a.push(withoutPolicy("r-no-editor", REMOVED), true)).impact!;
    assert.equal(report.flipped, expectedFlips.length);
    for (const g of [...report.byAction, ...report.byPolicy]) assert.ok(g.examples.length <= 5);
  });

  it("an identical bundle under another revision reports zero flips", async () => {
    const report = (await a.push(withRevision("r-identical"), true)).impact!;
    assert.equal(report.requests, sent.length);
    assert.equal(report.flipped, 0);
    assert.equal(report.unchanged, sent.length);
    assert.deepEqual(report.byAction, []);
  });

  it("`verdict replay --addr` asks the server (dry run) and exits 3 when decisions flip, 0 when none do", async () => {
    const flips = await verdictCli(["replay", "--bundle", candidate.dir, "--addr", v.adminAddr, "--token", TOKEN, "--json", "--examples", "1000"]);
    assert.equal(flips.code, 3, flips.stderr);
    const report = fromJson(ImpactReportSchema, JSON.parse(flips.stdout) as JsonValue);
    assert.deepEqual(flippedIds(report), expectedFlips);
    const none = await verdictCli(["replay", "--bundle", identical.dir, "--addr", v.adminAddr, "--token", TOKEN]);
    assert.equal(none.code, 0, none.stderr);
    assert.match(none.stdout, /350 requests, 350 unchanged, 0 flipped/);
  });

  it("`verdict replay --decisions` replays the decision log locally, with the same flips", async () => {
    await v.stop(); // flushes the decision log
    const lines = readFileSync(logFile, "utf8").trim().split("\n");
    assert.equal(lines.length, sent.length);
    const flips = await verdictCli(["replay", "--bundle", candidate.dir, "--decisions", logFile, "--policies", EXAMPLE_BUNDLE, "--json", "--examples", "1000"]);
    assert.equal(flips.code, 3, flips.stderr);
    const report = fromJson(ImpactReportSchema, JSON.parse(flips.stdout) as JsonValue);
    assert.equal(report.requests, sent.length);
    assert.equal(report.errors, 0);
    assert.deepEqual(flippedIds(report), expectedFlips);
    const loggedIds = new Set(lines.map((l) => (JSON.parse(l) as { decision_id: string }).decision_id));
    for (const g of report.byAction) for (const e of g.examples) assert.ok(loggedIds.has(e.decisionId), "examples point at decision log lines");
    const text = await verdictCli(["replay", "--bundle", candidate.dir, "--decisions", logFile, "--policies", EXAMPLE_BUNDLE]);
    assert.equal(text.code, 3);
    assert.match(text.stdout, new RegExp(`${expectedFlips.length} flipped \\(${expectedFlips.length} allow→deny, 0 deny→allow\\)`));
    assert.match(text.stdout, new RegExp(`by determining policy[^\\n]*\\n(.*\\n)*  ${REMOVED}: ${expectedFlips.length} flipped`));
    const none = await verdictCli(["replay", "--bundle", identical.dir, "--decisions", logFile, "--policies", EXAMPLE_BUNDLE]);
    assert.equal(none.code, 0, none.stderr);
  });

  it("refuses bad replay input with a message naming the problem", async () => {
    const unlogged = join(tmp, "no-request.jsonl");
    writeFileSync(unlogged, `${JSON.stringify({ decision_id: "d-1", api: "check", principal: 'App::User::"alice"', decision: "allow" })}\n`);
    const r = await verdictCli(["replay", "--bundle", candidate.dir, "--decisions", unlogged, "--policies", EXAMPLE_BUNDLE]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no-request\.jsonl:1: a decision log line without "request"; log with decisionLog\.includeRequest=true/);
    const both = await verdictCli(["replay", "--bundle", candidate.dir, "--decisions", unlogged, "--addr", "127.0.0.1:1"]);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /--decisions FILE .* or --addr HOST:PORT/);
  });
});
