import { readFile } from "node:fs/promises";
import { toJson } from "@bufbuild/protobuf";
import type { Command } from "commander";
import { type PlanRequest, PlanRequestSchema, type PlanResponse, PlanResponseSchema } from "../gen/verdict/v1/authorization_pb.js";
import { closureTableAncestry, type SqlFilterOptions, toSqlFilter } from "../planning/sql-filter.js";
import { fromPlanRequest, fromPlanResponse, toPlanResponse } from "../server/authorization/plan-mapping.js";
import { TOKENS } from "../tokens.js";
import { fail } from "./cli-config.js";
import { callServer, failWith, localVerdict, readRequestJson } from "./one-shot.js";

/** `verdict plan`: which resources of a type may a principal act on (proto JSON of PlanRequest), locally or on a server. */
export function registerPlan(program: Command): void {
  program
    .command("plan")
    .description("plan which resources of a type a principal may act on, given the JSON form of verdict.v1.PlanRequest")
    .requiredOption("--request <file>", "request JSON file ('-' for stdin)")
    .option("--policies <dir>", "bundle to plan with, locally (default ./policies)")
    .option("--addr <host:port>", "ask a running server instead of planning locally")
    .option("--sql <mapping>", "also print a parameterised SQL WHERE clause; the JSON file maps attributes to columns: {columns, idColumn?, placeholders?, closureTable?}")
    .action(async (flags: { request: string; policies?: string; addr?: string; sql?: string }) => {
      const request = await readRequestJson(PlanRequestSchema, flags.request);
      if (request === undefined) return;
      let sql: SqlFilterOptions | undefined;
      try {
        if (flags.sql !== undefined) sql = sqlOptions(JSON.parse(await readFile(flags.sql, "utf8")) as unknown);
      } catch (err) {
        fail(`${flags.sql}: ${(err as Error).message}`, 2);
        return;
      }
      try {
        const response = flags.addr ? await callServer<PlanResponse>(flags.addr, "plan", request) : await planLocal(flags.policies, request);
        const plan = toJson(PlanResponseSchema, response, { alwaysEmitImplicit: true });
        const out = sql === undefined ? plan : { plan, sql: toSqlFilter(fromPlanResponse(response), sql) };
        process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
      } catch (err) {
        failWith("plan", err, flags.addr);
      }
    });
}

async function planLocal(policies: string | undefined, request: PlanRequest): Promise<PlanResponse> {
  const c = await localVerdict(policies);
  return toPlanResponse(c.resolve(TOKENS.PlanService).plan(fromPlanRequest(request), request.requestId));
}

/** Reads the `--sql` mapping file: `{columns: {path: column}, idColumn?, placeholders?: "dollar"|"question", closureTable?}`. */
function sqlOptions(json: unknown): SqlFilterOptions {
  const o = (json ?? {}) as Record<string, unknown>;
  const columns = o["columns"];
  if (typeof columns !== "object" || columns === null || Array.isArray(columns) || Object.values(columns).some((c) => typeof c !== "string")) {
    throw new Error(`"columns" must map attribute paths to column names, e.g. {"owner": "owner_id"}`);
  }
  const idColumn = o["idColumn"];
  if (idColumn !== undefined && typeof idColumn !== "string") throw new Error(`"idColumn" must be a column name`);
  const placeholders = o["placeholders"];
  if (placeholders !== undefined && placeholders !== "dollar" && placeholders !== "question") throw new Error(`"placeholders" must be "dollar" or "question"`);
  const closureTable = o["closureTable"];
  if (closureTable !== undefined && typeof closureTable !== "string") throw new Error(`"closureTable" must be a table name`);
  return {
    columns: columns as Record<string, string>,
    ...(idColumn === undefined ? {} : { idColumn }),
    ...(placeholders === undefined ? {} : { placeholders }),
    ...(closureTable === undefined ? {} : { ancestry: closureTableAncestry(closureTable) }),
  };
}
