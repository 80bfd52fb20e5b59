import type { Redis, RedisOptions } from "ioredis";
import { connectRedis } from "../../cache/redis-client.js";
import type { RedisTopology } from "../../cache/redis-topology.js";
import type { Logger } from "../../observability/logger.js";
import { BundleError } from "../bundle-error.js";
import type { BundleOrigin, BundlePublisher, PublishedBundle, RecordRefusal } from "../bundle-registry.js";
import { type FleetRecordSealer, nextSequence, parseRecord, recordFields, type SealedRecord } from "./fleet-record.js";

/** What the fan-out hands received archives and refusals to (the registry). */
export interface BundleReceiver {
  receive(archive: Uint8Array, from: string, origin?: BundleOrigin): Promise<boolean>;
  refuseRecord(reason: RecordRefusal, why: string, from: string): never;
}

/** Connection settings for the fan-out. */
export interface FanoutSettings {
  readonly topology: RedisTopology;
  readonly namespace: string;
  readonly commandTimeoutMs: number;
  readonly connectTimeoutMs: number;
}

const FIELDS = ["revision", "digest", "signedAt", "seq", "kind", "mac"] as const;

/** A record as read, before its seal is checked. */
interface StoredRecord {
  readonly record: SealedRecord | undefined;
  readonly mac: string;
  readonly id: string;
}

/**
 * Replaces the record only if it is still the one the writer read (compare-and-set on its seal),
 * so two concurrent writers cannot interleave; one key, so it runs on any Cluster node.
 */
const WRITE_IF_UNCHANGED = `
if (redis.call('HGET', KEYS[1], 'mac') or '') ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
return 1`;

/**
 * Shares the operator's last pushed or re-activated bundle through Redis: one hash key holds the
 * archive and a record sealed with the fleet's secret (revision, digest, signed-at, activation
 * sequence, push or activate), and each change is announced on a channel. Every replica checks
 * the seal, refuses a record whose sequence is not above the last one it acted on (a replay), and
 * then verifies, tests and activates the archive itself — a push may not go back to an older
 * signature; only a sealed activation (ActivateBundle) may. So a Redis writer without the secret
 * and the signing key can neither inject a bundle nor roll the fleet back. A refused record is
 * logged and counted, the replica keeps serving, and the record it last accepted is written back
 * so replicas started later do not land on the refused one. A periodic check catches
 * announcements missed while disconnected.
 */
export class RedisBundleFanout implements BundlePublisher {
  readonly #redis: Redis;
  readonly #subscriber: Redis;
  readonly #key: string;
  readonly #channel: string;
  readonly #receiver: BundleReceiver;
  readonly #sealer: FleetRecordSealer;
  readonly #log: Logger;
  #timer: NodeJS.Timeout | undefined;
  #syncing: Promise<void> | undefined;
  /** Highest activation sequence this replica accepted or wrote. */
  #lastSeq = 0;
  /** The last record accepted or written, with its archive, to restore after a refused write. */
  #current: { record: SealedRecord; archive: Buffer } | undefined;
  /** The seal (or digest) of the record last handled, accepted or not: each is acted on once. */
  #handled: string | undefined;

  constructor(settings: FanoutSettings, receiver: BundleReceiver, sealer: FleetRecordSealer, log: Logger) {
    // Bundles are rare and up to megabytes: a longer timeout than the cache's, but still bounded,
    // and nothing queued while disconnected (the periodic check retries instead).
    const options: RedisOptions = {
      commandTimeout: Math.max(settings.commandTimeoutMs, 2000),
      connectTimeout: Math.max(settings.connectTimeoutMs, 1000),
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: (n: number) => Math.min(100 * 2 ** Math.min(n, 5), 3000) * (0.5 + Math.random()),
    };
    this.#redis = connectRedis(settings.topology, options);
    // The subscriber only sends SUBSCRIBE, which ioredis replays itself after a reconnect; it
    // needs the offline queue for that, no per-command timeout while it waits for messages, and
    // no retry limit: ioredis's own re-SUBSCRIBE has no rejection handler, so a connection lost
    // right after a reconnect would otherwise reject it unhandled and end the process.
    // In a Cluster, PUBLISH reaches every node, so one subscription per replica hears it.
    const { commandTimeout: _none, ...subscriberOptions } = options;
    this.#subscriber = connectRedis(settings.topology, { ...subscriberOptions, enableOfflineQueue: true, autoResubscribe: true, maxRetriesPerRequest: null });
    this.#redis.on("error", () => {});
    this.#subscriber.on("error", () => {});
    this.#key = `verdict:v1:${settings.namespace}:bundle`;
    this.#channel = `verdict:v1:${settings.namespace}:bundles`;
    this.#receiver = receiver;
    this.#sealer = sealer;
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

  /** Seals the activation with the next sequence and writes it, unless another writer got there first (then retries). */
  async publish(bundle: PublishedBundle): Promise<void> {
    const archive = Buffer.from(bundle.archive);
    for (let attempt = 0; attempt < 5; attempt++) {
      const stored = await this.#readStored();
      const storedSeq = stored?.record !== undefined && this.#sealer.verify(stored.record) ? stored.record.seq : 0;
      const record = this.#sealer.seal({ revision: bundle.revision, digest: bundle.digest, signedAt: bundle.signedAt, seq: nextSequence(this.#lastSeq, storedSeq), kind: bundle.kind });
      if (await this.#writeIf(stored?.mac ?? "", record, archive)) {
        this.#accepted(record, archive);
        await this.#redis.publish(this.#channel, String(record.seq)).catch(() => {
          // The record is stored; replicas that miss the announcement find it at their next check.
        });
        return;
      }
    }
    throw new BundleError("the fleet record kept changing while it was written (concurrent pushes); try again");
  }

  /** Acts on the fleet's record if it changed since this replica last handled it. */
  sync(): Promise<void> {
    this.#syncing ??= this.#sync().finally(() => (this.#syncing = undefined));
    return this.#syncing;
  }

  async #sync(): Promise<void> {
    const from = `fleet:${this.#key}`;
    let stored: StoredRecord | undefined;
    try {
      stored = await this.#readStored();
    } catch (err) {
      this.#log.debug({ err: (err as Error).message }, "bundle fan-out check failed; retrying at the next check");
      return;
    }
    if (stored === undefined || stored.id === this.#handled) return;
    const { record } = stored;
    try {
      if (record === undefined || !this.#sealer.verify(record)) {
        this.#receiver.refuseRecord("unsealed", "the fleet record does not carry this fleet's seal (written without cache.macSecret, or altered)", from);
      }
      if (record.seq <= this.#lastSeq) {
        this.#receiver.refuseRecord("stale", `the fleet record's activation sequence ${record.seq} (revision ${record.revision}) is not after the last one this replica acted on (${this.#lastSeq}): a replayed record`, from);
      }
      // The seal and the archive in one read: a push landing between two reads would pair this
      // record with another archive. A changed seal is handled at the next check.
      const [mac, archive] = await this.#redis.hmgetBuffer(this.#key, "mac", "archive");
      if (archive == null || mac == null || mac.toString() !== stored.mac) return;
      // A newer activation may be written while this one is built: it must not be overtaken.
      await this.#receiver.receive(archive, from, { kind: record.kind, digest: record.digest, signedAt: record.signedAt, fresh: () => record.seq > this.#lastSeq });
      if (record.seq > this.#lastSeq) this.#accepted(record, archive);
    } catch (err) {
      if (!(err instanceof BundleError)) {
        this.#log.debug({ err: (err as Error).message }, "bundle fan-out check failed; retrying at the next check");
        return;
      }
      // A refused record stays refused (the registry logged and counted why); act again only when it changes.
      this.#handled = stored.id;
      // Put back the last good record over a forged or replayed one — not over a newer sealed one
      // this replica merely could not use (another replica may serve it).
      if (record === undefined || !this.#sealer.verify(record) || record.seq <= this.#lastSeq) await this.#restore(stored.mac);
    }
  }

  #accepted(record: SealedRecord, archive: Buffer): void {
    this.#lastSeq = Math.max(this.#lastSeq, record.seq);
    this.#current = { record, archive };
    this.#handled = `${record.mac}:${record.digest}:${record.seq}`;
  }

  /** Writes back the last record this replica accepted over a refused one, so later replicas start right. */
  async #restore(refusedMac: string): Promise<void> {
    if (this.#current === undefined) return;
    try {
      if (await this.#writeIf(refusedMac, this.#current.record, this.#current.archive)) {
        this.#log.warn({ revision: this.#current.record.revision, seq: this.#current.record.seq }, "restored the fleet record this replica last accepted over the refused one");
      }
    } catch {
      // Best effort: the next check tries again only if the record changes.
    }
  }

  /** The stored record (parsed, not yet verified), its seal as stored, and an id to act on it once. */
  async #readStored(): Promise<StoredRecord | undefined> {
    const raw = await this.#redis.hmget(this.#key, ...FIELDS);
    if (raw.every((v) => v === null)) return undefined;
    const record = parseRecord(Object.fromEntries(FIELDS.map((f, i) => [f, raw[i] ?? undefined])));
    const mac = raw[5] ?? "";
    return { record, mac, id: `${mac}:${raw[1]}:${raw[3]}` };
  }

  async #writeIf(expectedMac: string, record: SealedRecord, archive: Buffer): Promise<boolean> {
    const fields = Object.entries({ ...recordFields(record) }).flat();
    return (await this.#redis.eval(WRITE_IF_UNCHANGED, 1, this.#key, expectedMac, ...fields, "archive", archive)) === 1;
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
