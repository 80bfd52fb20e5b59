// Loads cedar-wasm (the bench's own copy under .tools) with V8's JS-to-Wasm call inlining off,
// as Verdict does, so long in-process loops do not meet the V8 deoptimizer crash.
import { setFlagsFromString } from "node:v8";
import { join, dirname } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

setFlagsFromString("--no-turbo-inline-js-wasm-calls");
const TOOLS = join(dirname(fileURLToPath(import.meta.url)), "..", ".tools");

// The cedar-wasm Node.js module.
export const cedar = await import(pathToFileURL(join(TOOLS, "node_modules/@cedar-policy/cedar-wasm/nodejs/cedar_wasm.js")).href);

// Preparses a scenario's policies and schema under `id`; returns a function deciding one Cedar
// call ("allow" | "deny"), with the schema validating the request as Verdict does.
export function preparedAuthorizer(id, { policies, schema }, { useSchema = true } = {}) {
  const p = cedar.preparsePolicySet(id, { staticPolicies: policies });
  if (p.type !== "success") throw new Error(`cedar policies: ${JSON.stringify(p.errors)}`);
  if (useSchema) {
    const s = cedar.preparseSchema(id, schema);
    if (s.type !== "success") throw new Error(`cedar schema: ${JSON.stringify(s.errors)}`);
  }
  const extra = useSchema ? { preparsedSchemaName: id, validateRequest: true } : {};
  return (call) => {
    const a = cedar.statefulIsAuthorized({ ...call, ...extra, preparsedPolicySetId: id });
    if (a.type !== "success") throw new Error(`cedar: ${JSON.stringify(a.errors)}`);
    return a.response.decision;
  };
}
