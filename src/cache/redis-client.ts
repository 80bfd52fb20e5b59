import { createRequire } from "node:module";
import type * as IORedis from "ioredis";
import type { Redis, RedisOptions } from "ioredis";
import type { RedisTopology } from "./redis-topology.js";

/**
 * The ioredis module, loaded on first use rather than with the modules that use it: a server
 * without Redis (the embedded default) never loads it, which saves about 10 MB of memory and
 * 50 ms of startup. Shared by the decision cache and the bundle fan-out.
 */
function ioredis(): typeof IORedis {
  return createRequire(import.meta.url)("ioredis") as typeof IORedis;
}

/** The ioredis client class (standalone), for tests and tools. */
export function redisClient(): typeof IORedis.Redis {
  return ioredis().Redis;
}

/** Per-connection options the callers choose (timeouts, queueing, retry). */
export type ConnectionOptions = Pick<
  RedisOptions,
  "commandTimeout" | "connectTimeout" | "enableOfflineQueue" | "maxRetriesPerRequest" | "enableAutoPipelining" | "retryStrategy" | "autoResubscribe"
>;

/**
 * A client for any topology through ioredis's own support: standalone, Sentinel (the master is
 * asked of the sentinels, and asked again on every reconnect and on a `+switch-master`, so a
 * failover is followed without a restart) or Cluster (slots, MOVED/ASK, node failover). Callers
 * use the common command API; a Cluster is typed as a `Redis` for that reason only.
 * A READONLY error (a demoted master still reachable) forces a reconnect, which re-resolves.
 */
export function connectRedis(topology: RedisTopology, options: ConnectionOptions): Redis {
  const { Redis, Cluster } = ioredis();
  const reconnectOnError = (err: Error) => (err.message.startsWith("READONLY") ? 2 : false);
  const auth = { ...(topology.username ? { username: topology.username } : {}), ...(topology.password ? { password: topology.password } : {}) };
  const tls = topology.tls ? { tls: {} } : {};
  if (topology.kind === "standalone") {
    return new Redis({ ...options, ...auth, ...tls, host: topology.node.host, port: topology.node.port, db: topology.db, reconnectOnError });
  }
  if (topology.kind === "sentinel") {
    return reconnectingAfterFailedConnect(new Redis({
      ...options,
      ...auth,
      ...tls,
      sentinels: topology.sentinels.map((n) => ({ host: n.host, port: n.port })),
      name: topology.masterName,
      db: topology.db,
      role: "master",
      failoverDetector: true,
      reconnectOnError,
      ...(topology.sentinelUsername ? { sentinelUsername: topology.sentinelUsername } : {}),
      ...(topology.sentinelPassword ? { sentinelPassword: topology.sentinelPassword } : {}),
      ...(topology.tls ? { enableTLSForSentinelMode: true, sentinelTLS: {} } : {}),
      sentinelRetryStrategy: (n: number) => Math.min(100 * 2 ** Math.min(n, 5), 2000),
    }));
  }
  const { retryStrategy, enableOfflineQueue, ...redisOptions } = options;
  const cluster = new Cluster(
    topology.nodes.map((n) => ({ host: n.host, port: n.port })),
    {
      redisOptions: { ...redisOptions, ...auth, ...tls, reconnectOnError },
      ...(enableOfflineQueue === undefined ? {} : { enableOfflineQueue }),
      ...(retryStrategy ? { clusterRetryStrategy: (n: number) => retryStrategy(n) } : {}),
      scaleReads: "master",
      // A failover takes a few seconds; commands that meet it fail fast (callers fall back) and
      // the slot map is refreshed in the background so the next ones go to the new master.
      retryDelayOnFailover: 100,
      retryDelayOnClusterDown: 100,
      slotsRefreshInterval: 2000,
      enableReadyCheck: true,
    },
  );
  return cluster as unknown as Redis;
}

/**
 * ioredis ends a client for good when its connector fails while (re)connecting — with Sentinel,
 * a failover that closes the connection while the master is being resolved — instead of
 * retrying. Such a client is connected again after a pause, until it is closed on purpose.
 */
function reconnectingAfterFailedConnect(client: Redis): Redis {
  let closing = false;
  const quit = client.quit.bind(client);
  const disconnect = client.disconnect.bind(client);
  client.quit = ((...args: Parameters<Redis["quit"]>) => {
    closing = true;
    return quit(...args);
  }) as Redis["quit"];
  client.disconnect = (reconnect = false) => {
    if (!reconnect) closing = true;
    disconnect(reconnect);
  };
  client.on("end", () => {
    if (closing) return;
    setTimeout(() => {
      if (!closing && client.status === "end") client.connect().catch(() => undefined);
    }, 1000).unref();
  });
  return client;
}
