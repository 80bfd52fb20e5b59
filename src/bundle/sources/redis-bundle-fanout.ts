import { Redis } from "ioredis";
import type { Logger } from "../../observability/logger.js";
import type { BundlePublisher } from "../bundle-registry.js";

/** What the fan-out hands received archives to. */
export interface BundleReceiver {
  receive(archive: Uint8Array, from: string): Promise<void>;
  readonly activeRevision: string | undefined;
}

/**
 * Shares the active pushed bundle through Redis: the archive and its revision are stored under
 * one key and announced on a channel; every replica fetches, verifies and activates it itself.
 * A periodic revision check catches announcements missed while disconnected, and a replica
 * started later picks the fleet's bundle up at start.
 */
export class RedisBundleFanout implements BundlePublisher {
  readonly #redis: Redis;
  readonly #subscriber: Redis;
  readonly #key: string;
  readonly #channel: string;
  readonly #receiver: BundleReceiver;
  readonly #log: Logger;
  #timer: NodeJS.Timeout | undefined;
  #syncing = false;

  constructor(url: string, namespace: string, receiver: BundleReceiver, log: Logger, commandTimeoutMs: number) {
    const options = { commandTimeout: Math.max(commandTimeoutMs, 2000), enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: (n: number) => Math.min(100 * 2 ** Math.min(n, 5), 3000) * (0.5 + Math.random()) };
    this.#redis = new Redis(url, options);
    this.#subscriber = new Redis(url, { ...options, enableOfflineQueue: true });
    this.#redis.on("error", () => {});
    this.#subscriber.on("error", () => {});
    this.#key = `verdict:v1:${namespace}:bundle`;
    this.#channel = `verdict:v1:${namespace}:bundles`;
    this.#receiver = receiver;
    this.#log = log;
  }

  /** Subscribes, loads the fleet's current bundle, and starts the periodic check. */
  async start(checkEveryMs: number): Promise<void> {
    this.#subscriber.on("message", () => void this.sync());
    this.#subscriber.on("ready", () => void this.#subscriber.subscribe(this.#channel).catch(() => {}));
    await this.sync();
    this.#timer = setInterval(() => void this.sync(), checkEveryMs);
    this.#timer.unref();
  }

  async publish(revision: string, archive: Uint8Array): Promise<void> {
    await this.#redis.hset(this.#key, { revision, archive: Buffer.from(archive) });
    await this.#redis.publish(this.#channel, revision);
  }

  /** Activates the fleet's bundle if it differs from ours. */
  async sync(): Promise<void> {
    if (this.#syncing) return;
    this.#syncing = true;
    try {
      const revision = await this.#redis.hget(this.#key, "revision");
      if (revision === null || revision === this.#receiver.activeRevision) return;
      const archive = await this.#redis.hgetBuffer(this.#key, "archive");
      if (archive === null) return;
      await this.#receiver.receive(archive, `fleet:${revision}`);
    } catch (err) {
      this.#log.debug({ err: (err as Error).message }, "bundle fan-out check failed");
    } finally {
      this.#syncing = false;
    }
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    this.#subscriber.disconnect(false);
    this.#redis.disconnect(false);
  }
}
