/** One Redis endpoint. */
export interface RedisNode {
  readonly host: string;
  readonly port: number;
}

/** Credentials and TLS for the data nodes (and, for Sentinel, the sentinels). */
interface Auth {
  readonly username?: string;
  readonly password?: string;
  readonly tls: boolean;
}

/** Where Redis is, parsed from `redis.url`; one setting shape for every topology. */
export type RedisTopology =
  | (Auth & { readonly kind: "standalone"; readonly node: RedisNode; readonly db: number })
  | (Auth & {
      readonly kind: "sentinel";
      readonly sentinels: readonly RedisNode[];
      readonly masterName: string;
      readonly db: number;
      readonly sentinelUsername?: string;
      readonly sentinelPassword?: string;
    })
  | (Auth & { readonly kind: "cluster"; readonly nodes: readonly RedisNode[] });

/** The URL forms `redis.url` accepts, for error messages and docs. */
export const REDIS_URL_FORMS =
  "redis://[user:password@]host[:6379][/db], rediss://… (TLS), redis+sentinel://[user:password@]host[:26379][,host…]/masterName[/db][?sentinelPassword=…&sentinelUsername=…], redis+cluster://[user:password@]host:port[,host:port…] (rediss+sentinel:// and rediss+cluster:// for TLS)";

const SCHEMES: Record<string, { kind: RedisTopology["kind"]; tls: boolean; port: number }> = {
  "redis:": { kind: "standalone", tls: false, port: 6379 },
  "rediss:": { kind: "standalone", tls: true, port: 6379 },
  "redis+sentinel:": { kind: "sentinel", tls: false, port: 26379 },
  "rediss+sentinel:": { kind: "sentinel", tls: true, port: 26379 },
  "redis+cluster:": { kind: "cluster", tls: false, port: 6379 },
  "rediss+cluster:": { kind: "cluster", tls: true, port: 6379 },
};

/** A problem with `redis.url`, worded for the operator. */
export class RedisUrlError extends Error {}

/**
 * Parses `redis.url` into a topology, or throws `RedisUrlError` naming what is wrong. Several
 * hosts (comma-separated) are the sentinels or the cluster's seed nodes; credentials in the
 * user-info part are the data nodes' (URL-encoded).
 */
export function parseRedisUrl(url: string): RedisTopology {
  const m = /^([a-z+]+:)\/\/(?:([^@/?#]*)@)?([^/?#]*)(\/[^?#]*)?(\?[^#]*)?$/i.exec(url.trim());
  if (m === null) throw new RedisUrlError(`redis.url ${mask(url)} is not a URL; expected one of: ${REDIS_URL_FORMS}`);
  const scheme = SCHEMES[m[1]!.toLowerCase()];
  if (scheme === undefined) throw new RedisUrlError(`redis.url scheme "${m[1]}" is not supported; expected one of: ${REDIS_URL_FORMS}`);
  const auth = userInfo(m[2]);
  const nodes = (m[3] ?? "").split(",").map((h) => node(h, scheme.port));
  if (nodes.length === 0 || m[3] === "") throw new RedisUrlError("redis.url names no host");
  const path = (m[4] ?? "").split("/").filter((p) => p !== "").map(decodeURIComponent);
  const query = new URLSearchParams(m[5] ?? "");
  const allowed = scheme.kind === "sentinel" ? ["sentinelPassword", "sentinelUsername"] : [];
  for (const k of query.keys()) if (!allowed.includes(k)) throw new RedisUrlError(`redis.url: unknown parameter "${k}"${allowed.length ? ` (known: ${allowed.join(", ")})` : ""}`);
  const base = { ...auth, tls: scheme.tls };
  switch (scheme.kind) {
    case "standalone":
      if (nodes.length > 1) throw new RedisUrlError(`redis.url: ${m[1]}// takes one host; for several, use redis+sentinel:// (Sentinel) or redis+cluster:// (Cluster)`);
      if (path.length > 1) throw new RedisUrlError(`redis.url: the path must be a database number, not "${path.join("/")}"`);
      return { ...base, kind: "standalone", node: nodes[0]!, db: db(path[0]) };
    case "sentinel": {
      const [masterName, dbText, ...rest] = path;
      if (masterName === undefined) throw new RedisUrlError("redis.url: redis+sentinel:// needs the master name as its path (redis+sentinel://host:26379/mymaster)");
      if (rest.length > 0) throw new RedisUrlError(`redis.url: the path must be /masterName[/db], not "/${path.join("/")}"`);
      const sentinelPassword = query.get("sentinelPassword") ?? undefined;
      const sentinelUsername = query.get("sentinelUsername") ?? undefined;
      return { ...base, kind: "sentinel", sentinels: nodes, masterName, db: db(dbText), ...(sentinelPassword ? { sentinelPassword } : {}), ...(sentinelUsername ? { sentinelUsername } : {}) };
    }
    case "cluster":
      if (path.length > 0) throw new RedisUrlError("redis.url: a cluster has no database number or path (Redis Cluster only has db 0)");
      return { ...base, kind: "cluster", nodes };
  }
}

/** The problems with `redis.url`, for start-up validation (empty when it parses). */
export function redisUrlProblems(url: string | undefined): string[] {
  if (url === undefined) return [];
  try {
    parseRedisUrl(url);
    return [];
  } catch (err) {
    return [(err as Error).message];
  }
}

/** A printable form of a topology (no credentials), for logs. */
export function describeTopology(t: RedisTopology): string {
  const hosts = (ns: readonly RedisNode[]) => ns.map((n) => `${n.host}:${n.port}`).join(",");
  if (t.kind === "standalone") return `standalone ${hosts([t.node])}/${t.db}${t.tls ? " (TLS)" : ""}`;
  if (t.kind === "sentinel") return `sentinel master "${t.masterName}" via ${hosts(t.sentinels)}${t.tls ? " (TLS)" : ""}`;
  return `cluster seeds ${hosts(t.nodes)}${t.tls ? " (TLS)" : ""}`;
}

/** The addresses a topology names (standalone node, sentinels or cluster seeds), for status. */
export function topologyEndpoints(t: RedisTopology): string[] {
  const nodes = t.kind === "standalone" ? [t.node] : t.kind === "sentinel" ? t.sentinels : t.nodes;
  return nodes.map((n) => `${n.host}:${n.port}`);
}

function userInfo(text: string | undefined): { username?: string; password?: string } {
  if (text === undefined || text === "") return {};
  const colon = text.indexOf(":");
  const username = decodeURIComponent(colon < 0 ? text : text.slice(0, colon));
  const password = colon < 0 ? undefined : decodeURIComponent(text.slice(colon + 1));
  // redis://:password@host is the classic form: a password with the default user.
  if (colon < 0) return { password: username };
  return { ...(username === "" ? {} : { username }), ...(password === undefined || password === "" ? {} : { password }) };
}

function node(text: string, defaultPort: number): RedisNode {
  const m = /^(\[[0-9a-f:.]+\]|[^:[\]\s]+)(?::(\d{1,5}))?$/i.exec(text.trim());
  if (m === null) throw new RedisUrlError(`redis.url: "${text}" is not host[:port]`);
  const port = m[2] === undefined ? defaultPort : Number(m[2]);
  if (port < 1 || port > 65535) throw new RedisUrlError(`redis.url: port ${m[2]} of "${text}" is out of range`);
  return { host: m[1]!.replace(/^\[|\]$/g, ""), port };
}

function db(text: string | undefined): number {
  if (text === undefined) return 0;
  if (!/^\d{1,2}$/.test(text)) throw new RedisUrlError(`redis.url: database "${text}" must be a number (0–15 by default)`);
  return Number(text);
}

/** The URL with any password replaced, for error messages. */
function mask(url: string): string {
  return JSON.stringify(url.replace(/\/\/([^@/]*)@/, "//***@"));
}

/**
 * Why the server a connection reached does not fit the configured topology, from its `INFO
 * replication` + `INFO server` text; undefined when it fits. Catches the classic mistakes with a
 * message that says what to write instead.
 */
export function topologyMismatch(t: RedisTopology, info: string): string | undefined {
  if (t.kind === "cluster") return undefined;
  const field = (name: string) => new RegExp(`^${name}:(\\S+)`, "m").exec(info)?.[1];
  const mode = field("redis_mode");
  if (mode === "sentinel") return `redis.url points at a Redis Sentinel, not a data node: use redis+sentinel://${t.kind === "standalone" ? `${t.node.host}:${t.node.port}` : "host:26379"}/<master name>`;
  if (mode === "cluster") return "redis.url points at a Redis Cluster node: use redis+cluster://host:port[,host:port…]";
  if (field("role") === "slave") return "redis.url points at a read-only replica: writes would fail (point it at the master, or use redis+sentinel:// to follow failovers)";
  return undefined;
}
