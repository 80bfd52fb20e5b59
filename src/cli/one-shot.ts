import { readFile } from "node:fs/promises";
import { type DescMessage, fromJson, type JsonValue, type MessageShape } from "@bufbuild/protobuf";
import { BundleError } from "../bundle/bundle-error.js";
import { readBundlePath } from "../bundle/sources/read-bundle-path.js";
import { createContainer } from "../container.js";
import { VerdictError } from "../errors.js";
import { AuthorizationService } from "../gen/verdict/v1/authorization_pb.js";
import { TOKENS } from "../tokens.js";
import { callErrorText } from "./call-error.js";
import { configFromFlags, fail, readStdin } from "./cli-config.js";
import { createServiceClient } from "./grpc-client.js";
import { silentLogger } from "./silent-logger.js";

/**
 * Reads a request given as proto JSON from a file or stdin ('-'), bare or wrapped as a policy
 * test is (`{"request": …, "expect": …}`); exits 2 naming the problem.
 */
export async function readRequestJson<D extends DescMessage>(schema: D, path: string): Promise<MessageShape<D> | undefined> {
  try {
    const text = path === "-" ? await readStdin() : await readFile(path, "utf8");
    const json = JSON.parse(text) as JsonValue;
    const wrapped = typeof json === "object" && json !== null && !Array.isArray(json) && "request" in json && !schema.fields.some((f) => f.jsonName === "request");
    return fromJson(schema, wrapped ? (json as { request: JsonValue }).request : json);
  } catch (err) {
    fail(`${path}: not a valid ${schema.name} JSON: ${(err as Error).message}`, 2);
    return undefined;
  }
}

/** A container deciding with the bundle at `policies` (default ./policies), for one command. */
export async function localVerdict(policies: string | undefined) {
  const config = configFromFlags({ policies }, { "decisionLog.destination": "off" });
  const c = createContainer(config, silentLogger());
  const source = config.policies.dir ?? "policies";
  await c.resolve(TOKENS.BundleActivator).activate(await readBundlePath(source, config.bundleLimits), `cli:${source}`);
  return c;
}

/** Calls one AuthorizationService method on a running server. */
export async function callServer<R>(addr: string, method: string, request: unknown): Promise<R> {
  const client = createServiceClient(AuthorizationService, addr);
  try {
    return await client.call<R>(method, request, undefined, { deadline: Date.now() + 10_000 });
  } finally {
    client.close();
  }
}

/** Exits 1 with a bundle's or request's own message, or why the call on `addr` failed. */
export function failWith(what: string, err: unknown, addr?: string): void {
  if (err instanceof BundleError || err instanceof VerdictError) return fail(err.message);
  fail(addr === undefined ? `${what} failed: ${(err as Error).message}` : callErrorText(what, addr, err));
}
