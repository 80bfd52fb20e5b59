import { readFile } from "node:fs/promises";
import { fromJson, type JsonValue, toJson } from "@bufbuild/protobuf";
import type { Command } from "commander";
import { BundleError } from "../bundle/bundle-error.js";
import { readBundlePath } from "../bundle/sources/read-bundle-path.js";
import { createContainer } from "../container.js";
import { VerdictError } from "../errors.js";
import { AuthorizationService, type CheckRequest, CheckRequestSchema, type CheckResponse, CheckResponseSchema } from "../gen/verdict/v1/authorization_pb.js";
import { fromCheckRequest, toCheckResponse } from "../server/authorization/check-mapping.js";
import { TOKENS } from "../tokens.js";
import { configFromFlags, fail, readStdin } from "./cli-config.js";
import { createServiceClient } from "./grpc-client.js";
import { silentLogger } from "./silent-logger.js";

/** `verdict check`: decide one request (proto JSON of CheckRequest) locally or on a server. */
export function registerCheck(program: Command): void {
  program
    .command("check")
    .description("decide one request given as the JSON form of verdict.v1.CheckRequest")
    .requiredOption("--request <file>", "request JSON file ('-' for stdin)")
    .option("--policies <dir>", "bundle to decide with, locally (default ./policies)")
    .option("--addr <host:port>", "ask a running server instead of deciding locally")
    .action(async (flags: { request: string; policies?: string; addr?: string }) => {
      let request: CheckRequest;
      try {
        const text = flags.request === "-" ? await readStdin() : await readFile(flags.request, "utf8");
        request = fromJson(CheckRequestSchema, JSON.parse(text) as JsonValue);
      } catch (err) {
        fail(`${flags.request}: not a valid CheckRequest JSON: ${(err as Error).message}`, 2);
        return;
      }
      try {
        const response = flags.addr ? await checkRemote(flags.addr, request) : await checkLocal(flags.policies, request);
        process.stdout.write(`${JSON.stringify(toJson(CheckResponseSchema, response, { alwaysEmitImplicit: true }), null, 2)}\n`);
      } catch (err) {
        fail(err instanceof BundleError || err instanceof VerdictError ? err.message : `check failed: ${(err as Error).message}`);
      }
    });
}

async function checkLocal(policies: string | undefined, request: CheckRequest): Promise<CheckResponse> {
  const config = configFromFlags({ policies }, { "decisionLog.destination": "off" });
  const c = createContainer(config, silentLogger());
  const source = config.policies.dir ?? "policies";
  await c.resolve(TOKENS.BundleActivator).activate(await readBundlePath(source, config.bundleLimits), `cli:${source}`);
  const result = await c.resolve(TOKENS.DecisionService).decide(fromCheckRequest(request), { api: "check", requestId: request.requestId });
  return toCheckResponse(result);
}

async function checkRemote(addr: string, request: CheckRequest): Promise<CheckResponse> {
  const client = createServiceClient(AuthorizationService, addr);
  try {
    return await client.call<CheckResponse>("check", request, undefined, { deadline: Date.now() + 10_000 });
  } finally {
    client.close();
  }
}
