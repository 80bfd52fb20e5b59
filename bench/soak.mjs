#!/usr/bin/env node
// Soak test: the real `verdict serve` under busy/idle load cycles, checking every answer.
//
//   npm run build && node bench/soak.mjs --minutes 10 --busy 8 --idle 30
//
// The server runs pinned to CPU 0 (taskset, when present; it execs node, so the child is the
// server) and this load generator stays in
// this process. Every response is compared with the decision the example bundle's tests
// expect. Prints requests, failed RPCs, wrong decisions, server RSS over time; exits non-zero
// if the server dies, any RPC fails or any decision is wrong. Loopback only, bounded in time.
import { spawn, execFileSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { fromJson } from "@bufbuild/protobuf";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const { values: opt } = parseArgs({
  options: {
    minutes: { type: "string", default: "10" },
    busy: { type: "string", default: "8" },
    idle: { type: "string", default: "30" },
    concurrency: { type: "string", default: "32" },
    policies: { type: "string", default: join(root, "policies") },
  },
});
const { CheckRequestSchema, AuthorizationService, Decision } = await import(join(root, "dist/src/gen/verdict/v1/authorization_pb.js"));
const { createServiceClient } = await import(join(root, "dist/src/cli/grpc-client.js"));

const cases = readdirSync(join(opt.policies, "tests"))
  .filter((f) => f.endsWith(".json"))
  .map((f) => JSON.parse(readFileSync(join(opt.policies, "tests", f), "utf8")))
  .map((t) => ({ request: fromJson(CheckRequestSchema, t.request), want: t.expect.decision === "allow" ? Decision.ALLOW : Decision.DENY }));

const hasTaskset = (() => {
  try {
    execFileSync("taskset", ["-c", "0", "true"]);
    return true;
  } catch {
    return false;
  }
})();
const serveArgs = [join(root, "dist/src/main.js"), "serve", "--policies", opt.policies, "--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0"];
const child = hasTaskset ? spawn("taskset", ["-c", "0", process.execPath, ...serveArgs], { stdio: ["ignore", "ignore", "pipe"] }) : spawn(process.execPath, serveArgs, { stdio: ["ignore", "ignore", "pipe"] });
let died = null;
child.on("exit", (code, signal) => (died = { code, signal }));
const addr = await new Promise((resolve, reject) => {
  let err = "";
  child.stderr.on("data", (d) => {
    err += d;
    const m = /"grpc":"([^"]+)"/.exec(err);
    if (m) resolve(m[1]);
  });
  child.on("exit", () => reject(new Error(`server exited during startup: ${err}`)));
});
const rssMiB = () => {
  try {
    const status = readFileSync(`/proc/${child.pid}/status`, "utf8");
    return Math.round(Number(/VmRSS:\s+(\d+)/.exec(status)[1]) / 1024);
  } catch {
    return NaN;
  }
};

const client = createServiceClient(AuthorizationService, addr);
const stats = { sent: 0, failed: 0, wrong: 0, firstError: "" };
const endAt = Date.now() + Number(opt.minutes) * 60_000;
const rss = [];
const sampler = setInterval(() => rss.push(rssMiB()), 5_000);
let cycle = 0;
while (Date.now() < endAt && died === null) {
  cycle++;
  const busyEnd = Math.min(endAt, Date.now() + Number(opt.busy) * 1000);
  await Promise.all(
    Array.from({ length: Number(opt.concurrency) }, async (_, w) => {
      for (let i = w; Date.now() < busyEnd && died === null; i += Number(opt.concurrency)) {
        const c = cases[i % cases.length];
        stats.sent++;
        try {
          const res = await client.call("check", c.request, undefined, { deadline: Date.now() + 5000 });
          if (res.decision !== c.want) stats.wrong++;
        } catch (err) {
          stats.failed++;
          stats.firstError ||= String(err.message ?? err);
        }
      }
    }),
  );
  process.stdout.write(`cycle ${cycle}: sent ${stats.sent}, failed ${stats.failed}, wrong ${stats.wrong}, server RSS ${rssMiB()} MiB\n`);
  const idleEnd = Math.min(endAt, Date.now() + Number(opt.idle) * 1000);
  while (Date.now() < idleEnd && died === null) await new Promise((r) => setTimeout(r, 250));
}
clearInterval(sampler);
client.close();
const alive = died === null;
if (alive) child.kill("SIGTERM");
console.log(
  JSON.stringify({ cycles: cycle, sent: stats.sent, failed: stats.failed, wrong: stats.wrong, serverAlive: alive, died, rssMiB: { first: rss[0], max: Math.max(...rss.filter(Number.isFinite)), last: rss.at(-1) }, firstError: stats.firstError || undefined }),
);
process.exit(alive && stats.failed === 0 && stats.wrong === 0 ? 0 : 1);
