// Expected decisions for the bench requests: cedar-wasm on the Cedar form of the same abstract
// request (scenario policies and schema), computed in the runner and memoized per request.
import { loadCedarScenario, toCedar } from "./scenario-requests.mjs";
import { requestPool } from "./workload-bodies.mjs";
import { preparedAuthorizer } from "./cedar-wasm.mjs";

const authorizers = new Map();
const pools = new Map();

// The abstract request pool of a workload (same seed and size as its frames were built from).
export function poolFor(w) {
  const key = `${w.scenario}/${w.seed}`;
  let p = pools.get(key);
  if (!p || p.length < w.poolSize) pools.set(key, (p = requestPool(w.scenario, w.seed, w.poolSize)));
  return p;
}

// poolIndex -> "allow" | "deny" for workload `w`.
export function expectedFor(w) {
  if (!authorizers.has(w.scenario)) authorizers.set(w.scenario, { decide: preparedAuthorizer(`expected-${w.scenario}`, loadCedarScenario(w.scenario)), memo: new Map() });
  const a = authorizers.get(w.scenario);
  const pool = poolFor(w);
  return (i) => {
    const key = `${w.seed}/${i}`;
    if (!a.memo.has(key)) a.memo.set(key, a.decide(toCedar(pool[i])));
    return a.memo.get(key);
  };
}
