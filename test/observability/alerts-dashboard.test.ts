import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { parse } from "yaml";
import { EXAMPLE_BUNDLE, REPO } from "../helpers/bundles.js";
import { type RunningVerdict, startVerdict } from "../helpers/start-verdict.js";

const PROMETHEUS = join(REPO, "deploy", "prometheus");
const dashboard = JSON.parse(readFileSync(join(REPO, "deploy", "grafana", "verdict-dashboard.json"), "utf8")) as {
  panels: { title: string; targets?: { expr: string }[] }[];
  templating: { list: { name: string; query: { query: string } }[] };
};
const rules = (parse(readFileSync(join(PROMETHEUS, "alerts.yml"), "utf8")) as { groups: { rules: { alert: string; expr: string }[] }[] }).groups.flatMap((g) => g.rules);
const dashboardExprs = [...dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)), ...dashboard.templating.list.map((v) => v.query.query)];
/** Metric names a PromQL expression reads. */
const metricNames = (expr: string) => [...expr.matchAll(/\b((?:verdict|nodejs|process)_[a-z0-9_]+)/g)].map((m) => m[1]!);
const promtool = (...args: string[]) => spawnSync("promtool", args, { cwd: PROMETHEUS, encoding: "utf8", timeout: 60_000 });

describe("alert rules and dashboard", () => {
  it("the alert rules are valid and pass their promtool unit tests", () => {
    const check = promtool("check", "rules", "alerts.yml");
    assert.equal(check.status, 0, check.stdout + check.stderr);
    const test = promtool("test", "rules", "alerts.test.yml");
    assert.equal(test.status, 0, test.stdout + test.stderr);
    assert.match(test.stdout, /SUCCESS/);
  });

  it("the rules cover every situation operators page on, each with a unit test", () => {
    const names = rules.map((r) => r.alert);
    for (const want of ["DenyRatioJump", "EnumerationSuspected", "DenyBurst", "RedisBreakerOpen", "RedisDown", "BundleActivationFailed", "FleetRevisionsDiverge", "ShadowWouldAllow", "DecisionLogDrops", "EventLoopLag"]) {
      assert.ok(names.includes(`Verdict${want}`), `alert Verdict${want}`);
    }
    const tested = readFileSync(join(PROMETHEUS, "alerts.test.yml"), "utf8");
    for (const name of names) assert.match(tested, new RegExp(`alertname: ${name}\\n`), `${name} has a unit test`);
  });

  it("the dashboard filters every query by the instance variable and has the operator panels", () => {
    assert.equal(dashboard.templating.list[0]?.name, "instance");
    for (const expr of dashboardExprs.slice(0, -1)) {
      for (const m of expr.matchAll(/\b((?:verdict|nodejs|process)_[a-z0-9_]+)(\{[^}]*\})?/g)) assert.match(m[2] ?? "", /instance=~"\$instance"/, `${m[1]} in ${expr}`);
    }
    const titles = dashboard.panels.map((p) => p.title.toLowerCase());
    for (const want of ["failed requests", "refused requests by reason", "decision log", "shadow divergences", "anomaly"]) assert.ok(titles.some((t) => t.includes(want)), `a panel for ${want}`);
  });

  describe("every metric the dashboard and the rules name is exported by the server", () => {
    let v: RunningVerdict;
    // Every optional part on, so the metrics it registers are there to scrape.
    before(async () => (v = await startVerdict(EXAMPLE_BUNDLE, { "anomalies.enabled": true, "logShipping.url": "http://127.0.0.1:9/never", "logShipping.maxRetries": 0 })));
    after(() => v.stop());

    it("scraped from /metrics", async () => {
      const text = await (await fetch(`${v.httpUrl}/metrics`)).text();
      const exported = new Set<string>();
      for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
        exported.add(name!);
        if (type === "histogram") for (const s of ["_bucket", "_sum", "_count"]) exported.add(name! + s);
      }
      const named = new Set([...dashboardExprs, ...rules.map((r) => r.expr)].flatMap(metricNames));
      assert.ok(named.size >= 20, `found ${named.size} names`);
      const missing = [...named].filter((n) => !exported.has(n));
      assert.deepEqual(missing, [], "named in the dashboard or the rules but not exported");
    });
  });
});
