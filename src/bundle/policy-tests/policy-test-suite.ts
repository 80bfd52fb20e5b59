import { requestFromJson } from "../../model/request-json.js";
import type { DecisionKind } from "../../model/decision.js";
import { BundleError } from "../bundle-error.js";
import type { PolicyTestCase } from "./policy-test-case.js";

type Json = Record<string, unknown>;

/**
 * Reads a test suite file (YAML or JSON), in the manner of Cerbos test suites: principals,
 * resources, shared entities and context declared once by name, then tests that each cross a
 * list of principals and resources with a matrix of actions and expected decisions. Every
 * combination becomes one `PolicyTestCase`, named `suite/test: principal action resource`.
 *
 * ```yaml
 * name: documents
 * principals: { alice: { uid: {type: App::User, id: alice}, attrs: {…}, parents: […] } }
 * resources:  { plan:  { uid: {type: App::Document, id: plan}, attrs: {…} } }
 * entities: […]            # sent with every request (same form as a CheckRequest's entities)
 * context: { mfa: { bool: true } }
 * tests:
 *   - name: editors edit their documents
 *     principals: [alice]  # or principal: alice
 *     resources: [plan]    # or resource: plan
 *     context: { … }       # fields added over the suite's context
 *     actions: { view: allow, edit: allow, delete: { decision: deny, determiningPolicies: [tenant-isolation] } }
 * ```
 * Values use the JSON form of verdict.v1 (`{string: …}`, `{entity: {type, id}}`, …). An action
 * written as a bare id (`view`) takes the bundle's action type.
 */
export function readTestSuite(doc: Json, file: string): PolicyTestCase[] {
  const stem = file.replace(/^tests\//, "").replace(/\.(json|ya?ml)$/, "");
  const suite = typeof doc["name"] === "string" ? doc["name"] : stem;
  const principals = named(doc["principals"], "principals", file);
  const resources = named(doc["resources"], "resources", file);
  const entities = list(doc["entities"], "entities", file);
  const context = record(doc["context"] ?? {}, "context", file);
  const tests = list(doc["tests"], "tests", file);
  if (tests.length === 0) throw new BundleError(`${file}: "tests" must list at least one test`);
  const cases: PolicyTestCase[] = [];
  const names = new Set<string>();
  tests.forEach((raw, i) => {
    const at = `${file}: tests[${i}]`;
    const t = record(raw, `tests[${i}]`, file);
    const name = t["name"];
    if (typeof name !== "string" || name === "") throw new BundleError(`${at}: "name" is required (it names the behaviour the test proves)`);
    if (names.has(name)) throw new BundleError(`${at}: a test named "${name}" is already in this file`);
    names.add(name);
    const who = pick(t, "principal", "principals", principals, at);
    const what = pick(t, "resource", "resources", resources, at);
    const actions = record(t["actions"], `tests[${i}].actions`, file);
    if (Object.keys(actions).length === 0) throw new BundleError(`${at}: "actions" must map at least one action to allow or deny`);
    const extra = list(t["entities"] ?? [], `tests[${i}].entities`, file);
    const ctx = { ...context, ...record(t["context"] ?? {}, `tests[${i}].context`, file) };
    for (const p of who) {
      for (const r of what) {
        for (const [action, expected] of Object.entries(actions)) {
          const json = { principal: principals.get(p), action: actionUid(action), resource: resources.get(r), context: ctx, entities: [...entities, ...extra] };
          let request;
          try {
            request = requestFromJson(json, `${name} (${p} ${action} ${r})`).request;
          } catch (err) {
            throw new BundleError(`${at}: ${(err as Error).message}`);
          }
          cases.push({
            name: `${suite}/${name}: ${p} ${action} ${r}`,
            file,
            description: `${name}: ${p} ${action} ${r}`,
            request,
            expect: expectation(expected, `${at}.actions.${action}`),
          });
        }
      }
    }
  });
  return cases;
}

/** What a test expects: `allow`, `deny`, or `{decision, determiningPolicies}`. */
export function expectation(raw: unknown, at: string): PolicyTestCase["expect"] {
  const o = typeof raw === "string" ? { decision: raw } : ((raw ?? {}) as Json);
  const decision = o["decision"];
  if (decision !== "allow" && decision !== "deny") throw new BundleError(`${at}: the expected decision must be "allow" or "deny" (got ${JSON.stringify(decision)})`);
  const policies = o["determiningPolicies"];
  if (policies !== undefined && (!Array.isArray(policies) || policies.some((p) => typeof p !== "string"))) {
    throw new BundleError(`${at}: determiningPolicies must be a list of policy ids`);
  }
  return { decision: decision as DecisionKind, ...(policies ? { determiningPolicies: policies as string[] } : {}) };
}

/** `view` → the bundle's action type; `App::Action::"view"` → that uid. */
function actionUid(action: string): { type: string; id: string } {
  const m = /^(.+)::"(.*)"$/.exec(action);
  return m ? { type: m[1]!, id: m[2]! } : { type: "", id: action };
}

function pick(t: Json, one: string, many: string, known: Map<string, unknown>, at: string): string[] {
  const names = t[many] ?? (t[one] === undefined ? undefined : [t[one]]);
  if (!Array.isArray(names) || names.length === 0 || names.some((n) => typeof n !== "string")) throw new BundleError(`${at}: give "${one}: NAME" or "${many}: [NAME, …]"`);
  for (const n of names as string[]) if (!known.has(n)) throw new BundleError(`${at}: ${one} "${n}" is not declared under "${many}" (declared: ${[...known.keys()].join(", ") || "none"})`);
  return names as string[];
}

function named(raw: unknown, what: string, file: string): Map<string, unknown> {
  return new Map(Object.entries(record(raw ?? {}, what, file)));
}

function record(raw: unknown, what: string, file: string): Json {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new BundleError(`${file}: "${what}" must be a map`);
  return raw as Json;
}

function list(raw: unknown, what: string, file: string): unknown[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) throw new BundleError(`${file}: "${what}" must be a list`);
  return raw;
}
