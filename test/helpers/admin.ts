import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { create, fromJson, type JsonValue } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import type { KeyObject } from "node:crypto";
import { packBundle } from "../../src/bundle/signing/bundle-archive.js";
import { SIGNATURE_FILE, signBundle } from "../../src/bundle/signing/bundle-signature.js";
import { createServiceClient } from "../../src/cli/grpc-client.js";
import {
  ActivateBundleRequestSchema,
  GetActiveBundleRequestSchema,
  type GetActiveBundleResponse,
  ListBundlesRequestSchema,
  type ListBundlesResponse,
  ListUnmatchedRoutesRequestSchema,
  type ListUnmatchedRoutesResponse,
  PolicyAdminService,
  PushBundleRequestSchema,
  type PushBundleResponse,
} from "../../src/gen/verdict/v1/admin_pb.js";
import { CheckRequestSchema, type CheckResponse } from "../../src/gen/verdict/v1/authorization_pb.js";
import { EXAMPLE_BUNDLE } from "./bundles.js";
import type { RunningVerdict } from "./start-verdict.js";
import { utf8 } from "./wire.js";

/** The admin token the tests configure. */
export const TOKEN = "admin-token-for-tests";
type Files = Map<string, Uint8Array>;

/** An example test's request. */
export const example = (name: string) =>
  fromJson(CheckRequestSchema, (JSON.parse(readFileSync(join(EXAMPLE_BUNDLE, "tests", `${name}.json`), "utf8")) as { request: JsonValue }).request);
/** Allowed by the example bundle, denied by `noEdits`. */
export const allowed = example("editor_can_edit_document");

/** The example bundle's files. */
export const exampleFiles = (): Files =>
  new Map(
    ["manifest.json", "schema.cedarschema", "entities.json", "guardrails.cedar", "roles.cedar", "ownership.cedar", ...readdirSync(join(EXAMPLE_BUNDLE, "tests")).map((t) => `tests/${t}`)].map(
      (f) => [f, readFileSync(join(EXAMPLE_BUNDLE, f))] as [string, Uint8Array],
    ),
  );
/** The example bundle under another revision. */
export const withRevision = (revision: string): Files => {
  const files = exampleFiles();
  files.set("manifest.json", utf8(JSON.stringify({ name: "example-docs-api", revision })));
  return files;
};
/** The example bundle with a new revision and a forbid that denies every edit. */
export const noEdits = (revision: string): Files => {
  const files = withRevision(revision);
  files.set("freeze.cedar", utf8(`@id("edit-freeze") forbid(principal, action == App::Action::"edit", resource);`));
  // The freeze contradicts these examples; a bundle must carry tests that pass.
  files.delete("tests/editor_can_edit_document.json");
  files.delete("tests/viewer_cannot_edit_document.json");
  files.delete("tests/document_roles.yaml");
  return files;
};
/** The example bundle with a new revision and without the policy `id`, and the tests that name it. */
export const withoutPolicy = (revision: string, id: string): Files => {
  const files = withRevision(revision);
  const statement = new RegExp(`@id\\("${id}"\\)[^;]*;`);
  for (const [path, bytes] of files) {
    const text = Buffer.from(bytes).toString("utf8");
    if (path.endsWith(".cedar") && statement.test(text)) files.set(path, utf8(text.replace(statement, "")));
    if (path.startsWith("tests/") && text.includes(`"${id}"`)) files.delete(path);
  }
  return files;
};
/** Bundle files as text, for `writeBundle`. */
export const asText = (files: Files): Record<string, string> => Object.fromEntries([...files].map(([p, b]) => [p, Buffer.from(b).toString("utf8")]));
/** Adds a signature over the files, as `verdict bundle build --signing-key` does. */
export const signed = async (files: Files, revision: string, key: KeyObject): Promise<Files> =>
  new Map([...files, [SIGNATURE_FILE, utf8(await signBundle(files, { name: "example-docs-api", revision }, key, "EdDSA"))]]);

/** An admin client; an empty token sends no authorization header. */
export function admin(v: RunningVerdict, token = TOKEN) {
  const client = createServiceClient(PolicyAdminService, v.adminAddr);
  const md = new grpc.Metadata();
  if (token) md.set("authorization", `Bearer ${token}`);
  const pushWith = async (files: Files | Buffer, opts: { dryRun?: boolean; shadow?: boolean; maxExamples?: number }) =>
    client.call<PushBundleResponse>("pushBundle", create(PushBundleRequestSchema, { bundle: Buffer.isBuffer(files) ? files : await packBundle(files), ...opts }), md);
  return {
    push: (files: Files | Buffer, dryRun = false, maxExamples = 0) => pushWith(files, { dryRun, maxExamples }),
    shadow: (files: Files | Buffer) => pushWith(files, { shadow: true }),
    pushWith,
    active: () => client.call<GetActiveBundleResponse>("getActiveBundle", create(GetActiveBundleRequestSchema, {}), md),
    list: () => client.call<ListBundlesResponse>("listBundles", create(ListBundlesRequestSchema, {}), md),
    activate: (revision: string) => client.call("activateBundle", create(ActivateBundleRequestSchema, { revision }), md),
    unmatched: () => client.call<ListUnmatchedRoutesResponse>("listUnmatchedRoutes", create(ListUnmatchedRoutesRequestSchema, {}), md),
    close: () => client.close(),
  };
}

/** The revision a replica answers `allowed` with. */
export const servedRevision = async (v: RunningVerdict) => (await v.client.call<CheckResponse>("check", allowed)).bundleRevision;

/** Polls until the replica serves `revision` (fan-out is asynchronous; no timing is asserted). */
export async function waitForRevision(v: RunningVerdict, revision: string, withinMs = 10_000): Promise<void> {
  const until = Date.now() + withinMs;
  while ((await servedRevision(v)) !== revision) {
    if (Date.now() > until) assert.fail(`replica still serves ${await servedRevision(v)}, not ${revision}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Asserts a FAILED_PRECONDITION whose message matches. */
export const failedPrecondition = (pattern: RegExp) => (err: grpc.ServiceError) => {
  assert.equal(err.code, grpc.status.FAILED_PRECONDITION, err.details);
  assert.match(err.details, pattern);
  return true;
};
