import { create } from "@bufbuild/protobuf";
import type { Command } from "commander";
import { GetStatusRequestSchema, type GetStatusResponse } from "../gen/verdict/v1/admin_pb.js";
import { adminCall, adminError, type AdminFlags } from "./admin-client.js";

/** `verdict status`: each replica's bundle, activation, Redis, breaker, caches and log shipping. */
export function registerStatus(program: Command): void {
  program
    .command("status")
    .description("show the state of one or more running replicas (admin listener)")
    .option("--addr <host:port...>", "admin listener(s); repeat or list several to compare replicas", ["127.0.0.1:50052"])
    .option("--token <token>", "admin bearer token (default: $VERDICT_ADMIN_TOKEN)")
    .option("--json", "print the responses as JSON")
    .action(async (flags: { addr: string[]; token?: string; json?: boolean }) => {
      let failed = false;
      const out: string[] = [];
      for (const addr of flags.addr) {
        const target: AdminFlags = flags.token === undefined ? { addr } : { addr, token: flags.token };
        try {
          const r = await adminCall<GetStatusResponse>(target, "getStatus", create(GetStatusRequestSchema, {}));
          out.push(flags.json ? JSON.stringify({ addr, ...toPlain(r) }) : formatStatus(addr, r));
        } catch (err) {
          failed = true;
          out.push(`${addr}: ${adminError("status", target, err)}`);
        }
      }
      process.stdout.write(`${out.join(flags.json ? "\n" : "\n\n")}\n`);
      if (failed) process.exitCode = 1;
    });
}

/** A response without protobuf-es internals, bigints as numbers. */
const toPlain = (r: GetStatusResponse): Record<string, unknown> => JSON.parse(JSON.stringify(r, (k, v: unknown) => (k === "$typeName" ? undefined : typeof v === "bigint" ? Number(v) : v))) as Record<string, unknown>;

/** The human-readable status of one replica. */
export function formatStatus(addr: string, r: GetStatusResponse): string {
  const b = r.bundle;
  const e = r.lastActivationError;
  const lines = [
    `${addr} (${r.replica}, up since ${r.startedAt})`,
    b === undefined ? "  bundle:     none active" : `  bundle:     ${b.name} ${b.revision} (${b.policyCount} policies), activated ${b.activatedAt} by ${b.activatedBy}`,
    `  last error: ${e === undefined ? "none" : `${e.at} by ${e.by}: ${e.message}`}`,
    r.redis?.configured ? `  redis:      ${r.redis.topology} ${r.redis.endpoints.join(",")} ${r.redis.up ? "up" : "DOWN"}, breaker ${r.redis.breaker}` : "  redis:      not configured",
    r.cache?.enabled ? `  cache:      ${r.cache.localEntries}/${r.cache.localMaxEntries} local entries` : "  cache:      off",
    ...r.decisionLog.map(
      (s) =>
        `  log ${s.name.padEnd(6)} ${s.destination}: written ${s.written}, shipped ${s.shipped}, dropped ${s.dropped}, sampled out ${s.sampledOut}, backlog ${s.backlog}${s.lastError ? ` (last error: ${s.lastError})` : ""}`,
    ),
    `  tracing:    ${r.tracing?.enabled ? `on → ${r.tracing.endpoint}, ratio ${r.tracing.samplingRatio}` : "off"}`,
    `  anomalies:  ${r.anomaliesEnabled ? "on" : "off"}`,
  ];
  return lines.join("\n");
}
