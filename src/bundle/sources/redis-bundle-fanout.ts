import type { Redis, RedisOptions } from "ioredis";
import { redisClient } from "../../cache/redis-client.js";
import type { Logger } from "../../observability/logger.js";
import { BundleError } from "../bundle-error.js";
import type { BundlePublisher, PublishedBundle } from "../bundle-registry.js";

/** What the fan-out hands received archives to. */
export interface BundleReceiver {
  receive(archive: Uint8Array, from: string): Promise<boolean>;
}

/** Connection settings for the fan-out. */
export interface FanoutSettings {
  readonly url: string;
  readonly namespace: string;
  readonly commandTimeoutMs: number;
  readonly connectTimeoutMs: number;
}

/**
 * Shares the operator's last pushed or re-activated bundle through Redis: the archive, its
 * revision and digest live under one hash key and each change is announced on a channel; every
 * replica fetches, verifies, tests and activates it itself, so bytes written into Redis by
 * someone without the signing key are refused everywhere. A periodic check of the digest catches
 * announcements missed while disconnected, and a replica started later picks the fleet's bundle
 * up at start. A replica acts only when the fleet's record changes, so a local folder reload is
 * not undone by the next check.
 */
export class RedisBundleFanout implements BundlePublisher {
  readonly #redis: Redis;
  readonly #subscriber: Redis;
  readonly #key: string;
  readonly #channel: string;
  readonly #receiver: BundleReceiver;
  readonly #log: Logger;
  #timer: NodeJS.Timeout | undefined;
  #syncing: Promise<void> | undefined;
  /** The digest of the fleet record this replica last acted on. */
  #seen: string | undefined;

  constructor(settings: FanoutSettings, receiver: BundleReceiver, log: Logger) {
    // Bundles are rare and up to megabytes: a longer timeout than the cache's, but still bounded,
    // and nothing queued while disconnected (the periodic check retries instead).
    const options: RedisOptions = {
      commandTimeout: Math.max(settings.commandTimeoutMs, 2000),
      connectTimeout: Math.max(settings.connectTimeoutMs, 1000),
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      lazyConnect: false,
      retryStrategy: (n: number) => Math.min(100 * 2 ** Math.min(n, 5), 3000) * (0.5 + Math.random()),
    };
    this.#redis = new (redisClient())(settings.url, options);
    // The subscriber only sends SUBSCRIBE, which ioredis replays itself after a reconnect; it
    // needs the offline queue for that and no per-command timeout while it waits for messages.
    this.#subscriber = new (redisClient())(settings.url, { ...options, enableOfflineQueue: true, commandTimeout: undefined, autoResubscribe: true });
    this.#redis.on("error", () => {});
    this.#subscriber.on("error", () => {});
    this.#key = `verdict:v1:${settings.namespace}:bundle`;
    this.#channel = `verdict:v1:${settings.namespace}:bundles`;
    this.#receiver = receiver;
    this.#log = log;
  }

  /** Subscribes, loads the fleet's current bundle, and starts the periodic check. */
  async start(checkEveryMs: number): Promise<void> {
    this.#subscriber.on("message", () => void this.sync());
    // After a reconnect, messages sent meanwhile are lost: look at the record again.
    this.#subscriber.on("ready", () => void this.sync());
    this.#subscriber.subscribe(this.#channel).catch((err: Error) => this.#log.warn({ err: err.message }, "cannot subscribe to bundle announcements; relying on the periodic check"));
    await this.#whenConnected();
    await this.sync();
    this.#timer = setInterval(() => void this.sync(), checkEveryMs);
    this.#timer.unref();
  }

  async publish(bundle: PublishedBundle): Promise<void> {
    await this.#redis.hset(this.#key, { revision: bundle.revision, digest: bundle.digest, archive: Buffer.from(bundle.archive) });
    this.#seen = bundle.digest;
    await this.#redis.publish(this.#channel, bundle.revision).catch(() => {
      // The record is stored; replicas that miss the announcement find it at their next check.
    });
  }

  /** Activates the fleet's bundle if the record changed since this replica last acted on it. */
  sync(): Promise<void> {
    this.#syncing ??= this.#sync().finally(() => (this.#syncing = undefined));
    return this.#syncing;
  }

  async #sync(): Promise<void> {
    let digest: string | null;
    let archive: Buffer | null;
    try {
      digest = await this.#redis.hget(this.#key, "digest");
      if (digest === null || digest === this.#seen) return;
      archive = await this.#redis.hgetBuffer(this.#key, "archive");
      if (archive === null) return;
    } catch (err) {
      this.#log.debug({ err: (err as Error).message }, "bundle fan-out check failed; retrying at the next check");
      return;
    }
    try {
      await this.#receiver.receive(archive, `fleet:${this.#key}`);
      this.#seen = digest;
    } catch (err) {
      // A refused bundle stays refused (the registry logged why); try again only when it changes.
      if (err instanceof BundleError) this.#seen = digest;
    }
  }

  /** Waits (bounded) for the command connection so start-up sees the fleet's bundle. */
  async #whenConnected(): Promise<void> {
    if (this.#redis.status === "ready") return;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#redis.off("ready", done);
        resolve();
      };
      const timer = setTimeout(done, 3000);
      this.#redis.once("ready", done);
    });
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.#syncing;
    this.#subscriber.disconnect(false);
    this.#redis.disconnect(false);
  }
}
