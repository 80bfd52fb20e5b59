import { create, type DescService, fromBinary, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { ClientDecisionCache } from "./decision-cache.js";
import {
  AuthorizationService,
  type BatchCheckResponse,
  BatchCheckRequestSchema,
  CacheStatus,
  type CheckRequest,
  CheckRequestSchema,
  type CheckResponse,
  Decision,
} from "./gen/verdict/v1/authorization_pb.js";
import { backoffMs, DEFAULT_RETRY, RetryBudget, type RetrySettings } from "./retry-policy.js";
import { type EntityInput, isUid, type PlainValue, toEntity, toEntityUid, toFields, type Uid } from "./values.js";

/** One authorization question, written with the builders (`entity`, `uid`, `ip`, …). */
export interface CheckInput {
  readonly principal: EntityInput | Uid;
  /** An action id (of the bundle's namespace `Action` type) or a full `uid("App::Action", "view")`. */
  readonly action: string | Uid;
  readonly resource: EntityInput | Uid;
  readonly context?: Readonly<Record<string, PlainValue>>;
  /** More entities the policies may reach (groups, owners, …). */
  readonly entities?: readonly EntityInput[];
  /** Correlation id, echoed and logged by the server; never part of a cache key. */
  readonly requestId?: string;
}

/** A decision. */
export interface CheckResult {
  readonly decision: "allow" | "deny";
  readonly allowed: boolean;
  readonly determiningPolicies: readonly string[];
  readonly errors: readonly { readonly policyId: string; readonly message: string }[];
  readonly decisionId: string;
  readonly bundleRevision: string;
  /** Where the answer came from: the server's cache status, or "client" for this client's cache. */
  readonly cache: "miss" | "local" | "shared" | "bypass" | "client" | "unspecified";
  readonly requestId: string;
}

/** A failed call or batch item: the gRPC status code and message. */
export class VerdictCallError extends Error {
  readonly code: grpc.status;

  constructor(code: grpc.status, message: string) {
    super(message);
    this.code = code;
    this.name = "VerdictCallError";
  }
}

/** A batch item's outcome. */
export type BatchResult = { readonly ok: true; readonly result: CheckResult } | { readonly ok: false; readonly error: VerdictCallError };

/** How the client connects and behaves. */
export interface VerdictClientOptions {
  /** host:port of Verdict's gRPC listener. */
  readonly address: string;
  /** Default: plaintext (loopback); use grpc.credentials.createSsl(…) for TLS or mTLS. */
  readonly credentials?: grpc.ChannelCredentials;
  /** Deadline of one call, retries included (default 250 ms, an ext_authz-like budget). */
  readonly deadlineMs?: number;
  readonly retry?: Partial<RetrySettings>;
  /** Client-side decision cache (off by default): entries and how long one may live. */
  readonly cache?: { readonly maxEntries: number; readonly ttlMs: number };
}

const CACHE: Record<CacheStatus, CheckResult["cache"]> = {
  [CacheStatus.UNSPECIFIED]: "unspecified",
  [CacheStatus.MISS]: "miss",
  [CacheStatus.HIT_LOCAL]: "local",
  [CacheStatus.HIT_SHARED]: "shared",
  [CacheStatus.BYPASS]: "bypass",
};

/**
 * A client of `verdict.v1.AuthorizationService`: typed request builders, a deadline per call,
 * retries only on UNAVAILABLE (nothing else can succeed by trying again) with jittered backoff
 * inside a retry budget, an optional cache that honours the bundle revision, and `isAllowed`,
 * which fails closed: any error is a deny.
 */
export class VerdictClient {
  readonly #client: grpc.Client;
  readonly #deadlineMs: number;
  readonly #retry: RetrySettings;
  readonly #budget: RetryBudget;
  readonly #cache: ClientDecisionCache<CheckResult> | undefined;

  constructor(options: VerdictClientOptions) {
    this.#client = new grpc.Client(options.address, options.credentials ?? grpc.credentials.createInsecure());
    this.#deadlineMs = options.deadlineMs ?? 250;
    this.#retry = { ...DEFAULT_RETRY, ...options.retry };
    this.#budget = new RetryBudget(this.#retry);
    this.#cache = options.cache === undefined ? undefined : new ClientDecisionCache(options.cache.maxEntries, options.cache.ttlMs);
  }

  /** Decides one request; throws a VerdictCallError (or a TypeError for a value Cedar cannot hold). */
  async check(input: CheckInput): Promise<CheckResult> {
    const request = toCheckRequest(input);
    const key = this.#cache === undefined ? "" : cacheKey(request);
    const cached = this.#cache?.get(key);
    if (cached !== undefined) return { ...cached, cache: "client", requestId: request.requestId };
    const bytes = await this.#call("Check", toBinary(CheckRequestSchema, request));
    const result = toResult(fromBinary(AuthorizationService.method.check.output, bytes));
    this.#cache?.set(key, result, result.bundleRevision);
    return result;
  }

  /** True only when Verdict answered ALLOW; every error, timeout or refusal is false (fail closed). */
  async isAllowed(input: CheckInput): Promise<boolean> {
    try {
      return (await this.check(input)).decision === "allow";
    } catch {
      return false;
    }
  }

  /** Decides several requests in one call; results in request order, each a decision or its own error. */
  async batchCheck(inputs: readonly CheckInput[]): Promise<BatchResult[]> {
    const request = create(BatchCheckRequestSchema, { checks: inputs.map(toCheckRequest) });
    const bytes = await this.#call("BatchCheck", toBinary(BatchCheckRequestSchema, request));
    const response: BatchCheckResponse = fromBinary(AuthorizationService.method.batchCheck.output, bytes);
    return response.results.map((r): BatchResult => {
      if (r.result.case === "response") {
        this.#cache?.observeRevision(r.result.value.bundleRevision);
        return { ok: true, result: toResult(r.result.value) };
      }
      const status = r.result.case === "error" ? r.result.value : undefined;
      return { ok: false, error: new VerdictCallError(status?.code ?? grpc.status.INTERNAL, status?.message ?? "no result for this item") };
    });
  }

  /**
   * Connects now and waits until the channel is ready (at most `timeoutMs`), so the first
   * check does not spend its deadline on name resolution and the connection handshake.
   */
  ready(timeoutMs = 5_000): Promise<void> {
    return new Promise((resolve, reject) => this.#client.waitForReady(Date.now() + timeoutMs, (err) => (err ? reject(new VerdictCallError(grpc.status.UNAVAILABLE, `Verdict is not reachable: ${err.message}`)) : resolve())));
  }

  /** Closes the channel. */
  close(): void {
    this.#client.close();
  }

  /** One unary call with the deadline and the retry policy. */
  async #call(method: string, body: Uint8Array): Promise<Uint8Array> {
    const deadline = Date.now() + this.#deadlineMs;
    for (let attempt = 1; ; attempt++) {
      try {
        const out = await this.#unary(method, body, deadline);
        this.#budget.succeeded();
        return out;
      } catch (err) {
        const e = err as grpc.ServiceError;
        const error = new VerdictCallError(e.code ?? grpc.status.UNKNOWN, e.details || e.message);
        if (error.code !== grpc.status.UNAVAILABLE || attempt >= this.#retry.maxAttempts) throw error;
        const wait = backoffMs(this.#retry, attempt);
        if (Date.now() + wait >= deadline || !this.#budget.take()) throw error;
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  }

  #unary(method: string, body: Uint8Array, deadline: number): Promise<Uint8Array> {
    const path = `/${(AuthorizationService as DescService).typeName}/${method}`;
    return new Promise((resolve, reject) => {
      this.#client.makeUnaryRequest(
        path,
        (b: Uint8Array) => Buffer.from(b),
        (b: Buffer) => new Uint8Array(b),
        body,
        new grpc.Metadata(),
        { deadline },
        (err, res) => (err ? reject(err) : resolve(res!)),
      );
    });
  }
}

/** The wire request for an input. */
export function toCheckRequest(input: CheckInput): CheckRequest {
  return create(CheckRequestSchema, {
    principal: toEntity(input.principal, "principal"),
    // An action given by id alone has an empty type: the server reads it as the bundle's Action type.
    action: typeof input.action === "string" ? { type: "", id: input.action } : toEntityUid(input.action),
    resource: toEntity(input.resource, "resource"),
    context: toFields(input.context ?? {}, "context"),
    entities: (input.entities ?? []).map((e, i) => toEntity(e, `entities[${i}]`)),
    requestId: input.requestId ?? "",
  });
}

/** The request's bytes without its correlation id: equal keys are equal questions. */
function cacheKey(request: CheckRequest): string {
  return Buffer.from(toBinary(CheckRequestSchema, { ...request, requestId: "" })).toString("base64");
}

function toResult(r: CheckResponse): CheckResult {
  const allowed = r.decision === Decision.ALLOW;
  return {
    decision: allowed ? "allow" : "deny",
    allowed,
    determiningPolicies: [...r.determiningPolicies],
    errors: r.errors.map((e) => ({ policyId: e.policyId, message: e.message })),
    decisionId: r.decisionId,
    bundleRevision: r.bundleRevision,
    cache: CACHE[r.cache] ?? "unspecified",
    requestId: r.requestId,
  };
}

export { isUid };
