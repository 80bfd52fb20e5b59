/** Verdict's TypeScript client: builders, VerdictClient, and a fail-closed middleware. */
export { verdictMiddleware, type RequestMapper } from "./middleware.js";
export { DEFAULT_RETRY, type RetrySettings } from "./retry-policy.js";
export { type BatchResult, type CheckInput, type CheckResult, toCheckRequest, VerdictCallError, VerdictClient, type VerdictClientOptions } from "./verdict-client.js";
export { datetime, decimal, duration, entity, type EntityInput, ip, type PlainValue, type Uid, uid } from "./values.js";
