import { DEFAULT_BUNDLE_READ_LIMITS as B } from "../bundle/bundle-files.js";
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
    evaluator: oneOf("wasm", ["compiled", "wasm"], "which evaluator decides Check, BatchCheck, what-if, replay and shadow: compiled (policies compiled to closures, cross-checked against cedar-wasm) or wasm; Plan always uses cedar-wasm (docs/evaluators.md)"),
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
  },
  bundles: {
    verificationKey: optStr("PEM public key (Ed25519 or P-256); when set, only bundles signed with its private key are accepted, from every source"),
    keyId: optStr("when set, a bundle's signature must name this key id"),
    stateDir: str(".verdict/bundles", "where the last pushed bundle is kept when there is no Redis (empty: nowhere)"),
    watch: bool(true, "reload the --policies folder when its files change"),
    watchDebounceMs: int(300, 10, 60_000, "quiet time after a change before the folder is reloaded"),
    fanoutCheckMs: int(2_000, 100, 600_000, "how often a replica compares its revision with the fleet's (Redis)"),
    historySize: int(10, 1, 1000, "pushed bundles kept for ListBundles and ActivateBundle"),
    maxPushBytes: int(16 * MiB, 1024, 1024 * MiB, "largest bundle archive accepted by PushBundle"),
  },
  envoy: {
    forwardPrincipal: bool(false, "on allow, add x-verdict-principal (the principal id) to the upstream request"),
    removeAuthorization: bool(false, "on allow, strip the authorization header before the request goes upstream"),
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
    url: optStr("Redis URL (redis://host:port/db or rediss://…); enables the shared cache and bundle fan-out", ["VERDICT_REDIS_URL"]),
    namespace: str("default", "key namespace, so several deployments can share one Redis"),
    commandTimeoutMs: int(20, 1, 10_000, "per-command timeout; a slow Redis must not slow decisions"),
    connectTimeoutMs: int(500, 10, 60_000, "connection timeout"),
  },
  cache: {
    enabled: bool(true, "cache decisions (in process, and in Redis when redis.url is set)"),
    localMaxEntries: int(100_000, 1, 10_000_000, "decisions kept in the in-process cache"),
    localTtlMs: int(60_000, 1, 86_400_000, "how long a decision stays in the in-process cache"),
    sharedTtlMs: int(300_000, 1, 86_400_000, "how long a decision stays in Redis"),
    macSecret: optStr("secret for the HMAC that seals decisions in Redis; required with redis.url; the same on every replica"),
    breakerFailures: int(5, 1, 1000, "Redis failures within breakerWindowMs that open the circuit breaker"),
    breakerWindowMs: int(5_000, 100, 600_000, "window for counting Redis failures"),
    breakerCooldownMs: int(2_000, 50, 600_000, "how long Redis is skipped once the breaker opens"),
  },
  decisionLog: {
    destination: str("stdout", "where decision log lines go: stdout, off, or a file path"),
    allowSampleRate: num(1, 0, 1, "fraction of ALLOW decisions logged (DENYs are always logged)"),
    includeInput: bool(true, "log the request's context and principal/resource attributes (after masking)"),
    includeRequest: bool(false, "also log the whole request (`request`, the JSON form of verdict.v1.CheckRequest, after masking), so `verdict replay --decisions` can re-decide it"),
    mask: str("", "comma-separated paths logged as a SHA-256 digest instead of in clear, e.g. context.email,principal.attrs.ssn"),
    drop: str("", "comma-separated paths never logged; keys that look like credentials (authorization, token, jwt, password, secret, cookie) are always dropped"),
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
  if (c.cache.enabled && c.redis.url !== undefined && (c.cache.macSecret === undefined || c.cache.macSecret.length < 16)) {
    problems.push("cache.macSecret (VERDICT_CACHE_MAC_SECRET) of at least 16 characters is required when redis.url is set: it seals cached decisions against forgery");
  }
  if (c.authzen.token !== undefined && c.authzen.tokenFile !== undefined) problems.push("authzen.token and authzen.tokenFile: give one, not both");
  if (c.authzen.publicUrl !== undefined && !/^https?:\/\/[^/?#\s]+(\/[^?#\s]*[^/?#\s])?$/.test(c.authzen.publicUrl)) {
    problems.push(`authzen.publicUrl must be an absolute http(s) URL with no query, fragment or trailing slash (got ${JSON.stringify(c.authzen.publicUrl)})`);
  }
  if (c.policies.dir !== undefined && c.policies.bundle !== undefined) problems.push("policies.dir and policies.bundle: give one bundle source, not both");
  return problems;
}
