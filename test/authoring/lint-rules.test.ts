import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatFinding, lintBundle } from "../../src/authoring/lint-bundle.js";
import { LINT_RULES } from "../../src/authoring/lint-rules.js";
import { layoutBundle } from "../../src/bundle/bundle-layout.js";
import { readBundleDirectory } from "../../src/bundle/sources/read-directory.js";
import { analyseBundle } from "../../src/engine/authoring/bundle-analysis.js";
import { CedarRuntime } from "../../src/engine/cedar-runtime.js";
import { EXAMPLE_BUNDLE } from "../helpers/bundles.js";

const runtime = new CedarRuntime();
const enc = new TextEncoder();

const SCHEMA = `namespace App {
  entity User = { department?: String, tenant: String };
  entity Doc = { owner: User };
  entity Orphan;
  action view, edit appliesTo { principal: User, resource: Doc, context: { mfa?: Bool } };
  action archive appliesTo { principal: User, resource: Doc };
}`;

/** Lints policies (with the schema above unless `schema` is null); returns `rule@line [policy]` strings. */
function lint(policies: string, schema: string | null = SCHEMA): string[] {
  const files = new Map<string, Uint8Array>([
    ["manifest.json", enc.encode('{"name":"t"}')],
    ["p.cedar", enc.encode(policies)],
    ...(schema === null ? [] : [["schema.cedarschema", enc.encode(schema)] as [string, Uint8Array]]),
  ]);
  return lintBundle(analyseBundle(runtime, layoutBundle(files).sources)).map((f) => `${f.rule}@${f.line ?? "-"}${f.policy ? ` [${f.policy.id}]` : ""}`);
}

/** Policies that keep every schema rule quiet: each action and type is used, nothing else is wrong. */
const BASE = `@id("base")
permit (principal, action in [App::Action::"view", App::Action::"edit", App::Action::"archive"], resource is App::Doc) when { principal.tenant == "t" && resource.owner == principal };
@id("orphan") permit (principal, action == App::Action::"view", resource) when { context has mfa && context.mfa && (principal.tenant == "o" || resource in App::Orphan::"o") };`;

describe("verdict lint rules", () => {
  it("a clean bundle has no findings, and so has the example bundle", async () => {
    assert.deepEqual(lint(BASE), []);
    const files = await readBundleDirectory(EXAMPLE_BUNDLE);
    assert.deepEqual(lintBundle(analyseBundle(runtime, layoutBundle(files).sources)).map(formatFinding), []);
  });

  it("unconstrained-permit: no scope constraint and no condition", () => {
    assert.deepEqual(lint(`${BASE}\n@id("all") permit (principal, action, resource);`), ["unconstrained-permit@4 [all]"]);
    assert.deepEqual(lint(`${BASE}\n@id("cond") permit (principal, action, resource) when { principal.tenant == "x" };`), []);
  });

  it("impossible-policy: Cedar's validator warnings are reported (`when { false }`, impossible scope)", () => {
    assert.deepEqual(lint(`${BASE}\n@id("never") permit (principal, action, resource) when { false };`), ["impossible-policy@4 [never]"]);
    assert.deepEqual(lint(`${BASE}\n@id("scope") permit (principal is App::Doc, action == App::Action::"view", resource);`), ["impossible-policy@4 [scope]"]);
  });

  it("shadowed-permit: an unconditional forbid with the same or wider scope", () => {
    const freeze = `@id("freeze") forbid (principal, action in [App::Action::"edit", App::Action::"archive"], resource);`;
    assert.deepEqual(lint(`${BASE}\n${freeze}\n@id("editors") permit (principal, action == App::Action::"edit", resource is App::Doc) when { principal.tenant == "a" };`), [
      "shadowed-permit@5 [editors]",
    ]);
    // A forbid with a condition, or a narrower scope, shadows nothing.
    assert.deepEqual(lint(`${BASE}\n@id("f") forbid (principal, action == App::Action::"edit", resource) when { principal.tenant == "b" };\n@id("e") permit (principal, action == App::Action::"edit", resource);`), []);
    assert.deepEqual(lint(`${BASE}\n@id("f") forbid (principal, action == App::Action::"edit", resource is App::Doc);\n@id("e") permit (principal, action in [App::Action::"edit", App::Action::"view"], resource);`), []);
  });

  it("unless-never-holds: an unless that no request can satisfy", () => {
    assert.deepEqual(lint(`${BASE}\n@id("u") forbid (principal, action == App::Action::"view", resource) unless { principal is App::Doc };`), ["unless-never-holds@4 [u]"]);
    assert.deepEqual(lint(`${BASE}\n@id("u") forbid (principal, action == App::Action::"view", resource) unless { false };`), ["unless-never-holds@4 [u]"]);
    assert.deepEqual(lint(`${BASE}\n@id("u") forbid (principal, action == App::Action::"view", resource) unless { principal.tenant == "t" };`), []);
  });

  it("duplicate-policy: same effect, scope and conditions", () => {
    const p = `permit (principal, action == App::Action::"view", resource) when { principal.tenant == "x" };`;
    assert.deepEqual(lint(`${BASE}\n@id("a") ${p}\n@id("b") ${p}`), ["duplicate-policy@5 [b]"]);
  });

  it("unused-action and unused-entity-type: schema declarations no policy reaches", () => {
    const onlyView = `@id("v") permit (principal, action == App::Action::"view", resource is App::Doc) when { principal.tenant == "t" };`;
    assert.deepEqual(lint(onlyView), ["unused-entity-type@4", "unused-action@5", "unused-action@6"]);
  });

  it("forbid-unguarded-optional: without a schema every attribute may be missing", () => {
    assert.deepEqual(lint(`@id("f") forbid (principal, action, resource) when { principal.suspended };`, null), ["forbid-unguarded-optional@1 [f]"]);
    assert.deepEqual(lint(`@id("f") forbid (principal, action, resource) when { principal has suspended && principal.suspended };`, null), []);
  });

  it("@lint_allow silences one rule for one policy; a misspelt rule id is itself reported", () => {
    assert.deepEqual(lint(`${BASE}\n@id("all")\n@lint_allow("unconstrained-permit")\npermit (principal, action, resource);`), []);
    assert.deepEqual(lint(`${BASE}\n@id("all")\n@lint_allow("duplicate-policy")\npermit (principal, action, resource);`), ["unconstrained-permit@4 [all]"]);
    assert.deepEqual(lint(`${BASE}\n@id("all")\n@lint_allow("unconstrained-permits")\npermit (principal, action, resource);`), ["unconstrained-permit@4 [all]", "unknown-lint-rule@4 [all]"]);
    // Schema declarations take the annotation too.
    assert.deepEqual(lint(BASE, SCHEMA.replace("entity Orphan;", `entity Orphan; @lint_allow("unused-entity-type") entity Lonely;`)), []);
    assert.deepEqual(lint(BASE, SCHEMA.replace("entity Orphan;", `entity Orphan; entity Lonely;`)), ["unused-entity-type@4"]);
  });

  it("a finding names file:line, the policy, the rule and the fix", () => {
    const files = new Map<string, Uint8Array>([
      ["manifest.json", enc.encode('{"name":"t"}')],
      ["p.cedar", enc.encode(`// a comment\n\n@id("all")\npermit (principal, action, resource);`)],
    ]);
    const [f] = lintBundle(analyseBundle(runtime, layoutBundle(files).sources));
    assert.equal(formatFinding(f!), "p.cedar:3 [all] unconstrained-permit: permits every principal every action on every resource\n    fix: constrain the scope (principal in …, action == …, resource is …) or add a `when` condition");
    assert.ok(LINT_RULES.every((r) => /^[a-z]+(-[a-z]+)*$/.test(r.id) && r.summary.length > 20));
  });
});
