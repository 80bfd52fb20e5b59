import { toJson } from "@bufbuild/protobuf";
import type { Command } from "commander";
import { type CheckRequest, CheckRequestSchema, type CheckResponse, CheckResponseSchema } from "../gen/verdict/v1/authorization_pb.js";
import { fromCheckRequest, toCheckResponse } from "../server/authorization/check-mapping.js";
import { TOKENS } from "../tokens.js";
import { callServer, failWith, localVerdict, readRequestJson } from "./one-shot.js";

/** `verdict check`: decide one request (proto JSON of CheckRequest) locally or on a server. */
export function registerCheck(program: Command): void {
  program
    .command("check")
    .description("decide one request given as the JSON form of verdict.v1.CheckRequest")
    .requiredOption("--request <file>", "request JSON file ('-' for stdin)")
    .option("--policies <dir>", "bundle to decide with, locally (default ./policies)")
    .option("--addr <host:port>", "ask a running server instead of deciding locally")
    .action(async (flags: { request: string; policies?: string; addr?: string }) => {
      const request = await readRequestJson(CheckRequestSchema, flags.request);
      if (request === undefined) return;
      try {
        const response = flags.addr ? await callServer<CheckResponse>(flags.addr, "check", request) : await checkLocal(flags.policies, request);
        process.stdout.write(`${JSON.stringify(toJson(CheckResponseSchema, response, { alwaysEmitImplicit: true }), null, 2)}\n`);
      } catch (err) {
        failWith("check", err, flags.addr);
      }
    });
}

async function checkLocal(policies: string | undefined, request: CheckRequest): Promise<CheckResponse> {
  const c = await localVerdict(policies);
  const result = await c.resolve(TOKENS.DecisionService).decide(fromCheckRequest(request), { api: "check", requestId: request.requestId });
  return toCheckResponse(result);
}
