import { join } from "node:path";
const root = "/work/wt/compiled";
const { CedarEngine } = await import(join(root, "dist/src/engine/cedar-engine.js"));
const { CedarRuntime } = await import(join(root, "dist/src/engine/cedar-runtime.js"));
const { distinctRequests, loadCedarScenario, toCedar, toModel } = await import(join(root, "bench/lib/scenario-requests.mjs"));
const { policies, schema } = loadCedarScenario("large");
const sources = { policyFiles: [{ path: "policies.cedar", text: policies }], schema: { path: "schema.cedarschema", text: schema, format: "cedar" } };
const compiled = new CedarEngine(new CedarRuntime(), { strict: true, maxPolicyNesting: 64, evaluator: "compiled", crossCheckRate: 0 }).compile(sources);
const reqs = []; for (const r of distinctRequests("large", 42)) { reqs.push(toModel(toCedar(r))); if (reqs.length >= 2000) break; }
const t = Date.now(); let n = 0;
while (Date.now() - t < 4000) { for (let i = 0; i < 1000; i++) compiled.evaluate(reqs[(n + i) % reqs.length]); n += 1000; }
console.log("per call µs", (4000e3 / n).toFixed(2));
