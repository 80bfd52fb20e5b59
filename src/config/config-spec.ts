import { DEFAULT_BUNDLE_READ_LIMITS as B } from "../bundle/bundle-files.js";
import { redisUrlProblems } from "../cache/redis-topology.js";
import { DEFAULT_REQUEST_LIMITS as L } from "../decision/request-limits.js";
import { addr, bool, type ConfigOf, int, num, oneOf, optStr, str } from "./setting.js";

const MiB = 1024 * 1024;

/** TLS settings of one listener; no certificate file means plaintext (the local default). */
const tlsFor = (listener: string) => ({
  certFile: optStr(`${listener}: PEM certificate chain; setting it turns TLS on`),
  keyFile: optStr(`${listener}: PEM private key`),
  caFile: optStr(`${listener}: PEM CA bundle that client certificates must chain to (turns mTLS on)`),
  allowedClients: str("", `${listener}: comma-separated client identities (SAN URI such as a SPIFFE id, or SAN DNS name) allowed to call; empty allows any verified client`),
  reloadMs: int(60_000, 1_000, 86_400_000, `${listener}: how often certificate files are re-read (rotation without restart)`),
});

/**
 * Every setting Verdict reads. A setting at `a.bY` is `aBY` in a config file's `a` section,
 * `VERDICT_A_B_Y` in the environment; precedence: flags > environment > file > default.
 */
export const CONFIG_SPEC = {
  server: {
    grpcAddr: addr("127.0.0.1:50051", "gRPC listener: verdict.v1, Envoy ext_authz, health, reflection"),
    adminAddr: addr("127.0.0.1:50052", "admin gRPC listener (PolicyAdminService)"),
    httpAddr: addr("127.0.0.1:9464", "HTTP listener: /metrics, /healthz, /readyz"),
    maxReceiveBytes: int(4 * MiB, 1024, 64 * MiB, "largest gRPC message accepted"),
    maxConcurrentStreams: int(1024, 1, 100_000, "HTTP/2 concurrent streams per connection"),
    shutdownGraceMs: int(10_000, 0, 600_000, "time in-flight calls get to finish on SIGTERM"),
    shutdownDelayMs: int(0, 0, 60_000, "time between turning health NOT_SERVING and closing the listeners on SIGTERM"),
    readyMaxLagMs: int(1_000, 0, 60_000, "event-loop lag above which /readyz turns false (every front door is that late); 0: never"),
    readyRecoverMs: int(2_000, 0, 600_000, "how long the lag must stay under readyMaxLagMs before /readyz is true again"),
  },
  tls: {
    grpc: tlsFor("gRPC listener"),
    admin: tlsFor("admin listener"),
    http: tlsFor("HTTP listener"),
  },
  policies: {
    dir: optStr("bundle directory to serve (default ./policies when no --bundle is given)"),
    bundle: optStr("bundle tarball (.tar.gz) to serve instead of a directory"),
  },
  engine: {
    strict: bool(true, "a forbid policy that errors denies (off: Cedar skips it)"),
    maxPolicyNesting: int(64, 8, 120, "deepest bracket nesting accepted in policy text"),
    workers: int(0, 0, 16, "worker threads that evaluate policies beside the main thread (0: evaluate on the main thread); each holds its own copy of the bundle"),
    evaluator: oneOf("compiled", ["compiled", "wasm"], "which evaluator decides Check, BatchCheck, what-if, replay and shadow: compiled (policies compiled to closures, cross-checked against cedar-wasm) or wasm; Plan always uses cedar-wasm (docs/evaluators.md)"),
    crossCheckRate: num(0.01, 0, 1, "with the compiled evaluator, fraction of decisions re-decided by cedar-wasm after the answer; disagreements are counted and logged"),
    divergenceFallback: bool(false, "on a cross-check disagreement, decide the rest of that bundle's requests with cedar-wasm"),
    untrustedEntityData: oneOf("refuse", ["refuse", "ignore"], "request data for the bundle's trustedEntityTypes: refuse the request, or ignore the data"),
  },
  limits: {
    maxEntities: int(L.maxEntities, 0, 1_000_000, "entities per request"),
    maxDepth: int(L.maxDepth, 1, 100, "nesting depth of a value"),
    maxStringLength: int(L.maxStringLength, 16, 16 * MiB, "characters in a string, id or type"),
    maxSetSize: int(L.maxSetSize, 1, 1_000_000, "elements in a set (and parents of an entity)"),
    maxRecordFields: int(L.maxRecordFields, 1, 1_000_000, "fields in a record, attribute map or context"),
    maxBatchSize: int(L.maxBatchSize, 1, 10_000, "checks in one BatchCheck"),
    maxParentEdges: int(L.maxParentEdges, 0, 1_000_000, "parent edges over all of a request's entities (principal, resource, entities)"),
    maxHierarchyDepth: int(L.maxHierarchyDepth, 1, 10_000, "levels of the parent hierarchy a request's entities form (a chain of n groups is n deep)"),
    maxAncestorPairs: int(L.maxAncestorPairs, 1, 10_000_000, "entity-ancestor pairs a request's hierarchy implies (the transitive closure Cedar computes for it)"),
    maxBatchEntities: int(L.maxBatchEntities, 0, 10_000_000, "entities in the entities lists of all checks of one batch together"),
    maxPathLength: int(L.maxPathLength, 16, 16 * MiB, "characters in an HTTP request path (Envoy ext_authz); longer is refused with 414"),
  },
  bundles: {
    verificationKey: optStr("PEM public key (Ed25519 or P-256); when set, only bundles signed with its private key are accepted, from every source"),
    keyId: optStr("when set, a bundle's signature must name this key id"),
    stateDir: str("", "folder where the last pushed bundle is kept when there is no Redis, so a restart serves it (empty: nowhere; nothing is written or read from the working directory)"),
    startupFallback: bool(false, "when the --policies/--bundle given at start is refused, serve the last pushed bundle (stateDir or Redis) instead of exiting"),
    watch: bool(true, "reload the --policies folder when its files change"),
    watchDebounceMs: int(300, 10, 60_000, "quiet time after a change before the folder is reloaded"),
    fanoutCheckMs: int(2_000, 100, 600_000, "how often a replica compares its revision with the fleet's (Redis)"),
    historySize: int(10, 1, 1000, "pushed bundles kept for ListBundles and ActivateBundle"),
    maxPushBytes: int(16 * MiB, 1024, 1024 * MiB, "largest bundle archive accepted by PushBundle"),
    minCoverage: int(0, 0, 100, "percentage of policies that must decide at least one of a bundle's own tests for it to be accepted (pushes, folder changes, start-up); 0: no minimum"),
  },
  envoy: {
    forwardPrincipal: bool(false, "on allow, add x-verdict-principal (the principal id) to the upstream request"),
    removeAuthorization: bool(false, "strip the authorization header from every request Envoy lets through (allowed, or unmatched with `unmatched: allow`)"),
    xffTrustedHops: int(0, 0, 10, "set to Envoy's xff_num_trusted_hops: 0 takes the source IP from Envoy's downstream connection; N > 0 takes the (N+1)th x-forwarded-for entry from the right, the one Envoy trusts"),
  },
  forwardAuth: {
    enabled: bool(false, "serve the forward-auth endpoint (nginx auth_request, Caddy forward_auth, Traefik, HAProxy, Envoy HTTP ext_authz) on the HTTP listener; callers may assert the original request, so only trusted gateways may reach it"),
    path: str("/forward-auth", "the endpoint's path; requests below it (path/…) are Envoy's HTTP-service mode"),
    token: optStr("when set, gateways must send it in the x-verdict-gateway-token header (VERDICT_FORWARD_AUTH_TOKEN)"),
    tokenFile: optStr("file holding the forward-auth gateway token"),
    xffTrustedHops: int(0, 0, 10, "proxies in front of the gateway whose x-forwarded-for entries are trusted: the source IP is the (N+1)th entry from the right"),
    peerHeader: optStr("header in which the gateway passes the verified client certificate identity (e.g. x-client-spiffe-id); unset: no mTLS principals"),
    forwardPrincipal: bool(false, "on allow, answer x-verdict-principal (the principal id) for the gateway to copy upstream"),
    trustNetwork: bool(false, "allow forward-auth on a non-loopback HTTP listener without a token or mTLS allow-list (only when nothing but your gateways can reach it)"),
  },
  authzen: {
    enabled: bool(true, "serve the OpenID AuthZEN Authorization API on the HTTP listener"),
    token: optStr("bearer token AuthZEN callers must send (VERDICT_AUTHZEN_TOKEN); unset: no token needed"),
    tokenFile: optStr("file holding the AuthZEN bearer token"),
    maxBodyBytes: int(1024 * 1024, 1024, 64 * MiB, "largest AuthZEN request body; a larger one is refused with 413 before it is buffered"),
    publicUrl: optStr("base URL announced by /.well-known/authzen-configuration (e.g. https://pdp.example.com); unset: the scheme and Host the caller used"),
  },
  admin: {
    token: optStr("bearer token admin callers must present (VERDICT_ADMIN_TOKEN); without it or an mTLS allow-list the admin listener is off"),
    tokenFile: optStr("file holding the admin bearer token"),
  },
  bundleLimits: {
    maxFiles: int(B.maxFiles, 1, 1_000_000, "files in a bundle"),
    maxFileBytes: int(B.maxFileBytes, 1024, 1024 * MiB, "bytes in one bundle file"),
    maxTotalBytes: int(B.maxTotalBytes, 1024, 4096 * MiB, "bytes in a whole bundle (uncompressed)"),
    maxDepth: int(B.maxDepth, 1, 256, "folder depth inside a bundle"),
  },
  redis: {
    url: optStr("Redis to share (enables the shared cache and bundle fan-out): redis://[user:password@]host:port/db, rediss://… (TLS), redis+sentinel://host:26379,host:26379/masterName, redis+cluster://host:port,host:port (see Running a fleet)", ["VERDICT_REDIS_URL"]),
    namespace: str("default", "key namespace, so several deployments can share one Redis"),
    commandTimeoutMs: int(20, 1, 10_000, "per-command timeout; a slow Redis must not slow decisions"),
    connectTimeoutMs: int(500, 10, 60_000, "connection timeout"),
  },
  cache: {
    enabled: bool(true, "cache decisions (in process, and in Redis when redis.url is set)"),
    localMaxEntries: int(100_000, 1, 10_000_000, "decisions kept in the in-process cache"),
    localTtlMs: int(60_000, 1, 86_400_000, "how long a decision stays in the in-process cache"),
    sharedTtlMs: int(300_000, 1, 86_400_000, "how long a decision stays in Redis"),
    macSecret: optStr("secret for the HMACs that seal decisions in Redis and the fleet's bundle records (Redis and bundles.stateDir); required with redis.url; the same on every replica"),
    breakerFailures: int(5, 1, 1000, "Redis failures within breakerWindowMs that open the circuit breaker"),
    breakerWindowMs: int(5_000, 100, 600_000, "window for counting Redis failures"),
    breakerCooldownMs: int(2_000, 50, 600_000, "how long Redis is skipped once the breaker opens"),
  },
  decisionLog: {
    destination: str("stdout", "where decision log lines go: stdout, off, or a file path"),
    allowSampleRate: num(1, 0, 1, "fraction of ALLOW decisions logged (DENYs are always logged)"),
    includeInput: bool(true, "log the request's context and principal/resource attributes (after masking)"),
    includeRequest: bool(false, "also log the whole request (`request`, the JSON form of verdict.v1.CheckRequest, after masking), so `verdict replay --decisions` can re-decide it"),
    mask: str("", "comma-separated paths logged as a keyed digest (HMAC-SHA256 under maskSecret) instead of in clear, e.g. context.email,principal.attrs.ssn"),
    maskSecret: optStr("key of the HMAC that masks `mask` paths (VERDICT_DECISION_LOG_MASK_SECRET), at least 16 characters, the same on every replica; required when mask is set unless maskRandomKey is on"),
    maskRandomKey: bool(false, "with mask set and no maskSecret, make a random masking key at each start: digests then correlate only within one process, never across replicas or restarts"),
    drop: str("", "comma-separated paths never logged; keys that look like credentials (authorization, cookie, token, jwt, bearer, password, secret, api key, credential, session id…) are always dropped, at any depth"),
    bufferBytes: int(4 * 1024 * 1024, 4096, 1024 * 1024 * 1024, "bytes buffered for a slow sink before lines are dropped (and counted)"),
  },
  whatIf: {
    sampleSize: int(0, 0, 1_000_000, "recent decided requests kept in memory for PushBundle dry runs to report what a bundle would change (0: off)"),
    sampleRate: num(1, 0, 1, "fraction of decided requests recorded in that sample"),
  },
  shadow: {
    sampleRate: num(1, 0, 1, "fraction of decided requests also evaluated against a shadow bundle, after the answer is sent"),
    queueSize: int(10_000, 1, 1_000_000, "shadow evaluations waiting at most; beyond it they are dropped and counted"),
    maxLogLinesPerSecond: int(100, 0, 100_000, "divergences logged per second at most (all are counted in verdict_shadow_divergences_total)"),
  },
  tracing: {
    enabled: bool(false, "export an OpenTelemetry span per decision over OTLP/HTTP (protobuf); off costs nothing"),
    endpoint: str("http://127.0.0.1:4318/v1/traces", "OTLP/HTTP traces endpoint (a collector's /v1/traces)"),
    samplingRatio: num(1, 0, 1, "fraction of traces sampled when the caller sends no sampled traceparent (a sampled parent is always followed)"),
    resourceAttributes: str("", "comma-separated key=value resource attributes, e.g. deployment.environment=prod,service.namespace=authz (service.name is verdict unless given)"),
    maxQueueSize: int(2048, 1, 1_000_000, "spans waiting for export at most; beyond it they are dropped"),
  },
  logShipping: {
    url: optStr("HTTP(S) endpoint that receives decision logs as gzip JSON arrays (OPA decision-log style); unset: no remote sink"),
    token: optStr("bearer token sent to the log endpoint (VERDICT_LOG_SHIPPING_TOKEN)"),
    batchSize: int(500, 1, 100_000, "decisions per POST at most"),
    flushMs: int(1_000, 10, 600_000, "longest a decision waits in the buffer before its batch is sent"),
    bufferLines: int(10_000, 1, 10_000_000, "decisions buffered (including the batch in flight) before new ones are dropped and counted"),
    timeoutMs: int(5_000, 100, 600_000, "per-POST timeout; a slow sink counts as a failed attempt"),
    maxRetries: int(5, 0, 100, "retries of a failed batch (backoff with full jitter) before it is dropped and counted"),
    retryBaseMs: int(200, 1, 600_000, "first retry's backoff ceiling; doubled each retry"),
    retryMaxMs: int(10_000, 1, 3_600_000, "largest backoff between retries"),
  },
  anomalies: {
    enabled: bool(false, "run the anomaly detectors over the decision stream (off the answering path)"),
    windowMs: int(60_000, 1_000, 3_600_000, "sliding window for deny bursts and enumeration"),
    enumerationThreshold: int(50, 2, 1_000_000, "distinct resources one principal may be denied on within a window before it is flagged as enumeration"),
    burstFactor: num(5, 1, 1000, "denies in a window above this multiple of the subject's own baseline are a burst"),
    burstMinDenies: int(20, 1, 1_000_000, "fewest denies in a window that can be a burst (small counts are noise)"),
    warmupMs: int(600_000, 0, 86_400_000, "first-seen principals, routes and actions are reported only after this long"),
    maxTracked: int(10_000, 100, 10_000_000, "principals and sources tracked at once (the least recently seen are evicted): memory stays bounded"),
    maxSeen: int(100_000, 100, 10_000_000, "principals remembered for first-seen detection (an approximate set: a Bloom filter of this capacity)"),
    queueSize: int(10_000, 1, 1_000_000, "decisions waiting for the detectors at most; beyond it they are skipped and counted"),
  },
  log: {
    level: oneOf("info", ["fatal", "error", "warn", "info", "debug", "trace", "silent"], "service log level (stderr)"),
  },
};

/** The validated, frozen configuration. */
export type Config = ConfigOf<typeof CONFIG_SPEC>;

/** Rules that span settings; each problem names the settings involved. */
export function crossCheck(c: Config): string[] {
  const problems: string[] = [];
  for (const [name, tls] of Object.entries(c.tls)) {
    if (tls.certFile !== undefined && tls.keyFile === undefined) problems.push(`tls.${name}.keyFile is required when tls.${name}.certFile is set`);
    if (tls.certFile === undefined && (tls.keyFile !== undefined || tls.caFile !== undefined)) {
      problems.push(`tls.${name}.certFile is required when tls.${name}.keyFile or tls.${name}.caFile is set`);
    }
    if (tls.allowedClients !== "" && tls.caFile === undefined) problems.push(`tls.${name}.allowedClients needs tls.${name}.caFile (client certificates must be verified)`);
  }
  if (c.redis.url !== undefined && (c.cache.macSecret === undefined || c.cache.macSecret.length < 16)) {
    problems.push("cache.macSecret (VERDICT_CACHE_MAC_SECRET) of at least 16 characters is required when redis.url is set: it seals cached decisions and the fleet's bundle record against forgery and rollback");
  }
  if (c.decisionLog.mask.trim() !== "" && c.decisionLog.maskSecret === undefined && !c.decisionLog.maskRandomKey) {
    problems.push("decisionLog.maskSecret (VERDICT_DECISION_LOG_MASK_SECRET) is required when decisionLog.mask is set: masked values are keyed digests (or set decisionLog.maskRandomKey=true for a per-process random key)");
  }
  if (c.decisionLog.maskSecret !== undefined && c.decisionLog.maskSecret.length < 16) problems.push("decisionLog.maskSecret must be at least 16 characters");
  problems.push(...redisUrlProblems(c.redis.url));
  if (c.authzen.token !== undefined && c.authzen.tokenFile !== undefined) problems.push("authzen.token and authzen.tokenFile: give one, not both");
  if (c.authzen.publicUrl !== undefined && !/^https?:\/\/[^/?#\s]+(\/[^?#\s]*[^/?#\s])?$/.test(c.authzen.publicUrl)) {
    problems.push(`authzen.publicUrl must be an absolute http(s) URL with no query, fragment or trailing slash (got ${JSON.stringify(c.authzen.publicUrl)})`);
  }
  if (c.forwardAuth.token !== undefined && c.forwardAuth.tokenFile !== undefined) problems.push("forwardAuth.token and forwardAuth.tokenFile: give one, not both");
  if (!/^\/[A-Za-z0-9._~-]+(\/[A-Za-z0-9._~-]+)*$/.test(c.forwardAuth.path)) problems.push(`forwardAuth.path must be an absolute path such as /forward-auth, without a trailing slash, query or encoded characters (got ${JSON.stringify(c.forwardAuth.path)})`);
  const loopback = /^(127\.\d+\.\d+\.\d+|\[::1\]|localhost):\d+$/.test(c.server.httpAddr);
  if (c.forwardAuth.enabled && !loopback && c.forwardAuth.token === undefined && c.forwardAuth.tokenFile === undefined && c.tls.http.allowedClients === "" && !c.forwardAuth.trustNetwork) {
    problems.push("forwardAuth.enabled on a non-loopback server.httpAddr needs forwardAuth.token, tls.http.allowedClients, or forwardAuth.trustNetwork=true: whoever reaches the endpoint may assert any original request");
  }
  for (const [name, url] of [["tracing.endpoint", c.tracing.endpoint], ["logShipping.url", c.logShipping.url]] as const) {
    if (url !== undefined && !/^https?:\/\/[^/?#\s]+/.test(url)) problems.push(`${name} must be an http(s) URL (got ${JSON.stringify(url)})`);
  }
  if (c.tracing.resourceAttributes.split(",").some((kv) => kv.trim() !== "" && !/^[^=\s]+=[^=]*$/.test(kv.trim()))) {
    problems.push(`tracing.resourceAttributes must be comma-separated key=value pairs (got ${JSON.stringify(c.tracing.resourceAttributes)})`);
  }
  if (c.policies.dir !== undefined && c.policies.bundle !== undefined) problems.push("policies.dir and policies.bundle: give one bundle source, not both");
  return problems;
}
