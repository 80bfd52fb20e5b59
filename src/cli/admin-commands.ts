import { readFileSync } from "node:fs";
import { create } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import type { Command } from "commander";
import {
  ActivateBundleRequestSchema,
  type ActivateBundleResponse,
  type BundleInfo,
  GetActiveBundleRequestSchema,
  type GetActiveBundleResponse,
  ListBundlesRequestSchema,
  type ListBundlesResponse,
  ListUnmatchedRoutesRequestSchema,
  type ListUnmatchedRoutesResponse,
  PolicyAdminService,
  PushBundleRequestSchema,
  type PushBundleResponse,
} from "../gen/verdict/v1/admin_pb.js";
import { fail } from "./cli-config.js";
import { createServiceClient } from "./grpc-client.js";
import { formatImpactReport } from "./impact-text.js";

/** `verdict bundle push | list | active | unmatched | activate`: calls on a server's admin listener. */
export function registerAdminCommands(bundle: Command): void {
  const withAdmin = (c: Command) =>
    c.option("--addr <host:port>", "admin listener", "127.0.0.1:50052").option("--token <token>", "admin bearer token (default: $VERDICT_ADMIN_TOKEN)");
  withAdmin(
    bundle
      .command("push")
      .description("push a bundle archive to a running server")
      .argument("<file>", "bundle .tar.gz")
      .option("--dry-run", "verify and test without activating (and report what it would change, when the server keeps a request sample)")
      .option("--shadow", "verify and test, then evaluate it beside the active bundle without letting it decide"),
  ).action((file: string, flags: AdminFlags & { dryRun?: boolean; shadow?: boolean }) =>
    call<PushBundleResponse>(flags, "pushBundle", create(PushBundleRequestSchema, { bundle: readFileSync(file), dryRun: flags.dryRun ?? false, shadow: flags.shadow ?? false }), (r) => {
      const state = r.activated ? "activated" : r.bundle?.shadow ? "in shadow" : "not activated";
      const line = `${state}: ${describe(r.bundle!)}; ${r.tests.filter((t) => t.passed).length}/${r.tests.length} tests passed`;
      return r.impact === undefined ? line : `${line}\n\n${formatImpactReport(r.impact)}`;
    }),
  );
  withAdmin(bundle.command("list").description("list the bundles a server knows: the shadow (~), then newest first (* active)")).action((flags: AdminFlags) =>
    call<ListBundlesResponse>(flags, "listBundles", create(ListBundlesRequestSchema, {}), (r) => r.bundles.map((b) => `${b.active ? "*" : b.shadow ? "~" : " "} ${describe(b)}`).join("\n")),
  );
  withAdmin(bundle.command("active").description("show the active bundle (and the shadow, if any)")).action((flags: AdminFlags) =>
    call<GetActiveBundleResponse>(flags, "getActiveBundle", create(GetActiveBundleRequestSchema, {}), (r) => [describe(r.bundle!), ...(r.shadow ? [`shadow: ${describe(r.shadow)}`] : [])].join("\n")),
  );
  withAdmin(bundle.command("unmatched").description("list gateway requests that matched no route, most frequent first")).action((flags: AdminFlags) =>
    call<ListUnmatchedRoutesResponse>(flags, "listUnmatchedRoutes", create(ListUnmatchedRoutesRequestSchema, {}), (r) =>
      [...r.routes.map((u) => `${u.count}\t${u.method} ${u.template}\t(last ${u.lastSeen})`), ...(r.dropped > 0n ? [`(${r.dropped} more not kept: the inventory is full)`] : [])].join("\n"),
    ),
  );
  withAdmin(bundle.command("activate").description("activate a known revision (roll back or forward)").argument("<revision>")).action((revision: string, flags: AdminFlags) =>
    call<ActivateBundleResponse>(flags, "activateBundle", create(ActivateBundleRequestSchema, { revision }), (r) => `activated: ${describe(r.bundle!)}`),
  );
}

const describe = (b: BundleInfo) =>
  `${b.name} ${b.revision} (${b.policyCount} policies${b.signedAt ? `, signed ${b.signedAt}` : ""}${b.activatedAt ? `, activated ${b.activatedAt} by ${b.activatedBy}` : ""}${b.shadow ? `, in shadow since ${b.shadowSince} by ${b.shadowBy}` : ""})`;

/** Flags every admin call takes. */
export interface AdminFlags {
  addr: string;
  token?: string;
}

/** One call on a server's admin listener, with the bearer token from --token or $VERDICT_ADMIN_TOKEN. */
export async function adminCall<R>(flags: AdminFlags, method: string, request: unknown): Promise<R> {
  const token = flags.token ?? process.env["VERDICT_ADMIN_TOKEN"];
  const metadata = new grpc.Metadata();
  if (token) metadata.set("authorization", `Bearer ${token}`);
  const client = createServiceClient(PolicyAdminService, flags.addr);
  try {
    return await client.call<R>(method, request, metadata, { deadline: Date.now() + 60_000 });
  } finally {
    client.close();
  }
}

/** The message of a failed admin call, as the server worded it. */
export const adminError = (method: string, err: unknown) => `${method} failed: ${(err as grpc.ServiceError).details ?? (err as Error).message}`;

async function call<R>(flags: AdminFlags, method: string, request: unknown, show: (r: R) => string): Promise<void> {
  try {
    process.stdout.write(`${show(await adminCall<R>(flags, method, request))}\n`);
  } catch (err) {
    fail(adminError(method, err));
  }
}
