import { parse as parseYaml } from "yaml";
import type { AuthzRequest } from "../../model/authz-request.js";
import type { DecisionKind } from "../../model/decision.js";
import { BundleError } from "../bundle-error.js";
import type { BundleFiles } from "../bundle-files.js";
import { textOf } from "../bundle-layout.js";
import { requestFromJson } from "../../model/request-json.js";

/** One policy test: a request and what the bundle must answer. */
export interface PolicyTestCase {
  /** The file name without extension: it names the behaviour it proves. */
  readonly name: string;
  readonly file: string;
  readonly description: string;
  readonly request: AuthzRequest;
  readonly expect: {
    readonly decision: DecisionKind;
    /** When given, the determining policies must be exactly these (order ignored). */
    readonly determiningPolicies?: readonly string[];
  };
}

const TEST_FILE = /^tests\/.+\.(json|ya?ml)$/;

/** Reads every `tests/**.json|yaml` of a bundle; a malformed test refuses the bundle. */
export function readPolicyTests(files: BundleFiles): PolicyTestCase[] {
  const cases: PolicyTestCase[] = [];
  for (const file of [...files.keys()].sort()) {
    if (!TEST_FILE.test(file)) continue;
    const text = textOf(files, file);
    let doc: unknown;
    try {
      doc = file.endsWith(".json") ? JSON.parse(text) : parseYaml(text);
    } catch (err) {
      throw new BundleError(`${file}: cannot parse: ${(err as Error).message}`);
    }
    cases.push(toCase(doc, file));
  }
  return cases;
}

function toCase(doc: unknown, file: string): PolicyTestCase {
  const name = file.replace(/^tests\//, "").replace(/\.(json|ya?ml)$/, "");
  const o = (doc ?? {}) as Record<string, unknown>;
  const expect = (o["expect"] ?? {}) as Record<string, unknown>;
  if (expect["decision"] !== "allow" && expect["decision"] !== "deny") {
    throw new BundleError(`${file}: expect.decision must be "allow" or "deny"`);
  }
  const policies = expect["determiningPolicies"];
  if (policies !== undefined && (!Array.isArray(policies) || policies.some((p) => typeof p !== "string"))) {
    throw new BundleError(`${file}: expect.determiningPolicies must be a list of policy ids`);
  }
  let request: AuthzRequest;
  try {
    request = requestFromJson(o["request"]).request;
  } catch (err) {
    throw new BundleError(`${file}: ${(err as Error).message}`);
  }
  return {
    name,
    file,
    description: typeof o["description"] === "string" ? o["description"] : name.replace(/_/g, " "),
    request,
    expect: { decision: expect["decision"], ...(policies ? { determiningPolicies: policies as string[] } : {}) },
  };
}
