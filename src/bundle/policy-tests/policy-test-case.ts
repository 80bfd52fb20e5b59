import { parse as parseYaml } from "yaml";
import type { AuthzRequest } from "../../model/authz-request.js";
import type { DecisionKind } from "../../model/decision.js";
import { BundleError } from "../bundle-error.js";
import type { BundleFiles } from "../bundle-files.js";
import { textOf } from "../bundle-layout.js";
import { requestFromJson } from "../../model/request-json.js";
import { expectation, readTestSuite } from "./policy-test-suite.js";

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

/**
 * Reads every `tests/**.json|yaml` of a bundle: a test suite (a file with `tests:`, see
 * `readTestSuite`) or a single case (`request` and `expect`). A malformed test refuses the bundle.
 */
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
    const isSuite = typeof doc === "object" && doc !== null && "tests" in doc;
    cases.push(...(isSuite ? readTestSuite(doc as Record<string, unknown>, file) : [toCase(doc, file)]));
  }
  return cases;
}

function toCase(doc: unknown, file: string): PolicyTestCase {
  const name = file.replace(/^tests\//, "").replace(/\.(json|ya?ml)$/, "");
  const o = (doc ?? {}) as Record<string, unknown>;
  const expect = expectation(o["expect"] ?? {}, `${file}: expect`);
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
    expect,
  };
}
