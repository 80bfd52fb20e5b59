import type { EngineObserver } from "../engine/evaluator-choice.js";
import { requestToJson } from "../model/request-json.js";
import { type LogMasking, TYPED_VALUES } from "./log-masking.js";
import type { Logger } from "./logger.js";
import type { Metrics } from "./metrics.js";


/**
 * Reports what the engine's evaluator choice sees: which evaluator each compiled bundle uses and
 * which policies it leaves to cedar-wasm (activation log), requests decided by cedar-wasm on that
 * account, cross-checks and divergences (metrics; a divergence is logged with the request masked
 * as the decision log masks it, and both answers).
 */
export function engineObserver(metrics: Metrics, logger: Logger, mask: LogMasking): EngineObserver {
  return {
    compiled({ evaluator, reason, fallbackPolicies }) {
      metrics.engineCompiled(evaluator, fallbackPolicies.length);
      if (fallbackPolicies.length > 0 || reason !== undefined) {
        logger.info({ evaluator, reason, fallbackPolicies }, evaluator === "wasm" ? "bundle decided by cedar-wasm" : "some policies decided by cedar-wasm");
      }
    },
    wasmFallback() {
      metrics.engineWasmFallback();
    },
    crossChecked() {
      metrics.engineCrossChecked();
    },
    divergence({ request, compiled, wasm, switchedToWasm }) {
      metrics.engineDivergence();
      const masked = requestToJson(request, "", (fields, path) => mask.record(fields, path, TYPED_VALUES));
      logger.error({ request: masked, compiled, wasm, switchedToWasm }, "the compiled evaluator and cedar-wasm disagreed on a request");
    },
  };
}
