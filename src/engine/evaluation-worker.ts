import { parentPort, workerData } from "node:worker_threads";
import { toVerdictError } from "../errors.js";
import { CedarEngine } from "./cedar-engine.js";
import { CedarRuntime } from "./cedar-runtime.js";
import type { CompiledPolicies } from "./compiled-policies.js";
import type { FromWorker, ToWorker, WorkerSettings } from "./evaluation-messages.js";

/**
 * An evaluation worker: its own Cedar instance, the bundles the pool sent it, and nothing
 * else. It decides exactly as the main thread would, because it compiles the same sources
 * with the same engine settings.
 */
const settings = workerData as WorkerSettings;
const engine = new CedarEngine(new CedarRuntime(), settings.engine);
const bundles = new Map<number, CompiledPolicies>();
const port = parentPort!;
const reply = (message: FromWorker) => port.postMessage(message);

port.on("message", (message: ToWorker) => {
  switch (message.kind) {
    case "compile":
      try {
        bundles.set(message.bundle, engine.compile(message.sources));
        reply({ kind: "compiled", bundle: message.bundle });
      } catch (err) {
        reply({ kind: "compiled", bundle: message.bundle, error: (err as Error).message });
      }
      return;
    case "evaluate": {
      const policies = bundles.get(message.bundle);
      try {
        if (policies === undefined) throw new Error(`bundle ${message.bundle} is not compiled in this worker`);
        reply({ kind: "evaluated", seq: message.seq, evaluation: policies.evaluate(message.request) });
      } catch (err) {
        const error = toVerdictError(err);
        reply({ kind: "failed", seq: message.seq, code: error.code, message: error.message });
      }
      return;
    }
    case "release":
      bundles.delete(message.bundle);
      return;
  }
});
