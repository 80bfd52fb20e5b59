import { readFile, stat } from "node:fs/promises";
import type { Command } from "commander";
import type { ActivateBundleResponse, BundleInfo, GetActiveBundleResponse, ListBundlesResponse, ListUnmatchedRoutesResponse, PushBundleResponse } from "../gen/verdict/v1/admin_pb.js";
import type { AdminFlags } from "./admin-client.js";
import { fail } from "./cli-config.js";

type Gen = typeof import("../gen/verdict/v1/admin_pb.js");

/** `verdict bundle push | list | active | unmatched | activate`: calls on a server's admin listener. */
export function registerAdminCommands(bundle: Command): void {
  const withAdmin = (c: Command) =>
    c.option("--addr <host:port>", "admin listener", "127.0.0.1:50052").option("--token <token>", "admin bearer token (default: $VERDICT_ADMIN_TOKEN)");
  withAdmin(
    bundle
      .command("push")
      .description("push a bundle archive (made by `verdict bundle build`) to a running server")
      .argument("<file>", "bundle .tar.gz")
      .option("--dry-run", "verify and test without activating (and report what it would change, when the server keeps a request sample)")
      .option("--shadow", "verify and test, then evaluate it beside the active bundle without letting it decide"),
  ).action(async (file: string, flags: AdminFlags & { dryRun?: boolean; shadow?: boolean }) => {
    let archive: Buffer;
    try {
      if ((await stat(file)).isDirectory()) return fail(`${file} is a folder; push takes a built bundle: run \`verdict bundle build ${file} -o bundle.tar.gz\` (with --signing-key when the server verifies signatures), then \`verdict bundle push bundle.tar.gz\``, 2);
      archive = await readFile(file);
    } catch (err) {
      return fail(`push: cannot read ${file}: ${(err as Error).message}`, 2);
    }
    await call<PushBundleResponse>(flags, "push", "pushBundle", (g) => g.PushBundleRequestSchema, { bundle: archive, dryRun: flags.dryRun ?? false, shadow: flags.shadow ?? false }, async (r) => {
      const tests = `${r.tests.filter((t) => t.passed).length}/${r.tests.length} tests passed`;
      const state = r.activated
        ? "activated"
        : r.bundle?.shadow
          ? "in shadow"
          : flags.dryRun
            ? "dry run, not activated"
            : "unchanged: this is already the active bundle (same content), so nothing was activated";
      const line = `${state}: ${describe(r.bundle!)}; ${tests}`;
      return r.impact === undefined ? line : `${line}\n\n${(await import("./impact-text.js")).formatImpactReport(r.impact)}`;
    });
  });
  withAdmin(bundle.command("list").description("list the bundles a server knows: the shadow (~), then newest first (* active); `bundle activate` takes these revisions")).action((flags: AdminFlags) =>
    call<ListBundlesResponse>(flags, "list", "listBundles", (g) => g.ListBundlesRequestSchema, {}, (r) => r.bundles.map((b) => `${b.active ? "*" : b.shadow ? "~" : " "} ${describe(b)}`).join("\n")),
  );
  withAdmin(bundle.command("active").description("show the active bundle (and the shadow, if any)")).action((flags: AdminFlags) =>
    call<GetActiveBundleResponse>(flags, "active", "getActiveBundle", (g) => g.GetActiveBundleRequestSchema, {}, (r) => [describe(r.bundle!), ...(r.shadow ? [`shadow: ${describe(r.shadow)}`] : [])].join("\n")),
  );
  withAdmin(bundle.command("unmatched").description("list gateway requests that matched no route, most frequent first")).action((flags: AdminFlags) =>
    call<ListUnmatchedRoutesResponse>(flags, "unmatched", "listUnmatchedRoutes", (g) => g.ListUnmatchedRoutesRequestSchema, {}, (r) =>
      [...r.routes.map((u) => `${u.count}\t${u.method} ${u.template}\t(last ${u.lastSeen})`), ...(r.dropped > 0n ? [`(${r.dropped} more not kept: the inventory is full)`] : [])].join("\n"),
    ),
  );
  withAdmin(bundle.command("activate").description("activate a revision this server knows (see `verdict bundle list`): roll back or forward").argument("<revision>")).action(
    (revision: string, flags: AdminFlags) => call<ActivateBundleResponse>(flags, "activate", "activateBundle", (g) => g.ActivateBundleRequestSchema, { revision }, (r) => `activated: ${describe(r.bundle!)}`),
  );
}

const describe = (b: BundleInfo) =>
  `${b.name} ${b.revision} (${b.policyCount} policies${b.signedAt ? `, signed ${b.signedAt}` : ""}${b.activatedAt ? `, activated ${b.activatedAt} by ${b.activatedBy}` : ""}${b.shadow ? `, in shadow since ${b.shadowSince} by ${b.shadowBy}` : ""})`;

/** One admin call; gRPC and the generated messages load only when a command calls a server. */
async function call<R>(flags: AdminFlags, what: string, method: string, schema: (g: Gen) => Parameters<typeof import("@bufbuild/protobuf").create>[0], init: object, show: (r: R) => string | Promise<string>): Promise<void> {
  const [{ create }, gen, { adminCall, adminError }] = await Promise.all([import("@bufbuild/protobuf"), import("../gen/verdict/v1/admin_pb.js"), import("./admin-client.js")]);
  let response: R;
  try {
    response = await adminCall<R>(flags, method, create(schema(gen), init as never));
  } catch (err) {
    return fail(adminError(what, flags, err));
  }
  process.stdout.write(`${await show(response)}\n`);
}
