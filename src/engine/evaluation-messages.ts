import type { ErrorCode } from "../errors.js";
import type { AuthzRequest } from "../model/authz-request.js";
import type { Evaluation } from "../model/decision.js";
import type { EngineOptions } from "./cedar-engine.js";
import type { PolicySources } from "./policy-sources.js";

/** What an evaluation worker is started with. */
export interface WorkerSettings {
  readonly engine: EngineOptions;
}

/** Main thread → worker. Messages are handled in order, so an evaluation sent after a compile waits for it. */
export type ToWorker =
  | { readonly kind: "compile"; readonly bundle: number; readonly sources: PolicySources }
  | { readonly kind: "evaluate"; readonly seq: number; readonly bundle: number; readonly request: AuthzRequest }
  | { readonly kind: "release"; readonly bundle: number };

/** Worker → main thread. */
export type FromWorker =
  | { readonly kind: "compiled"; readonly bundle: number; readonly error?: string }
  | { readonly kind: "evaluated"; readonly seq: number; readonly evaluation: Evaluation }
  | { readonly kind: "failed"; readonly seq: number; readonly code: ErrorCode; readonly message: string };
