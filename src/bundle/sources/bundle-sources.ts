import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { Logger } from "../../observability/logger.js";
import type { ActiveBundle } from "../active-bundle.js";
import { BundleError } from "../bundle-error.js";
import type { BundleReadLimits } from "../bundle-files.js";
import type { BundleRegistry } from "../bundle-registry.js";
import { packBundle } from "../signing/bundle-archive.js";
import { watchDirectory } from "./directory-watcher.js";
import type { LocalBundleStore } from "./local-bundle-store.js";
import { readBundlePath } from "./read-bundle-path.js";
import type { RedisBundleFanout } from "./redis-bundle-fanout.js";

/** Where bundles come from at start and afterwards. */
export interface BundleSourceSettings {
  /** The folder or .tar.gz given at start. */
  readonly path: string;
  readonly watch: boolean;
  readonly watchDebounceMs: number;
  readonly fanoutCheckMs: number;
  readonly readLimits: BundleReadLimits;
  /** Serve the last pushed bundle when the start-up bundle is refused (else: refuse to start). */
  readonly startupFallback?: boolean;
}

/**
 * Start-up precedence, later sources winning: the configured folder or archive; then the
 * bundle an operator last pushed or re-activated — from Redis when it is configured, else from
 * the local store (only when `bundles.stateDir` is set). A push is a deliberate act made after
 * deployment, so it wins over what the deployment ships until the next push; the folder is the
 * fallback before the first push and whenever the pushed bundle cannot be loaded. A broken
 * folder stops the start (an operator who asked for that folder learns it is broken) unless
 * `startupFallback` allows serving the pushed bundle instead. The bundle chosen, and why, is
 * logged. Afterwards the folder is watched (a change is activated on this replica only) and the
 * fleet is followed. Everything goes through the registry: verified, compiled and tested like a push.
 */
export class BundleSources {
  readonly #settings: BundleSourceSettings;
  readonly #registry: BundleRegistry;
  readonly #active: ActiveBundle;
  readonly #log: Logger;
  readonly #store: LocalBundleStore | undefined;
  readonly #fanout: RedisBundleFanout | undefined;
  #watcher: { close(): void } | undefined;
  /** Digest of the last archive read from the configured path. */
  #lastRead: string | undefined;

  constructor(settings: BundleSourceSettings, registry: BundleRegistry, active: ActiveBundle, log: Logger, store?: LocalBundleStore, fanout?: RedisBundleFanout) {
    this.#settings = settings;
    this.#registry = registry;
    this.#active = active;
    this.#log = log;
    this.#store = store;
    this.#fanout = fanout;
  }

  /** Activates the start-up bundle; throws `BundleError` only when no source gave a good one. */
  async start(): Promise<void> {
    const { path } = this.#settings;
    let startupError: unknown;
    try {
      const archive = await this.#readPath();
      this.#isNew(archive);
      await this.#registry.receive(archive, `startup:${path}`);
    } catch (err) {
      startupError = err;
      if (this.#settings.startupFallback !== true) throw err;
    }
    const stored = await this.#store?.load();
    if (stored !== undefined) {
      await this.#registry.receive(stored.archive, "local-store", stored.origin).then(
        (changed) => changed && this.#log.info({ path }, "serving the bundle last pushed to this replica instead of the start-up bundle"),
        () => this.#log.warn("the locally stored pushed bundle was refused; serving the start-up bundle"),
      );
    }
    await this.#fanout?.start(this.#settings.fanoutCheckMs);
    if (this.#active.snapshot === undefined) throw startupError instanceof Error ? startupError : new BundleError(`no bundle could be loaded from ${path}`);
    if (startupError !== undefined) this.#log.warn({ err: (startupError as Error).message, path }, "the start-up bundle was refused; serving the pushed bundle (bundles.startupFallback)");
    const chosen = this.#active.activation!;
    this.#log.info(
      { bundle: chosen.snapshot.name, revision: chosen.snapshot.revision, from: chosen.activatedBy, path },
      chosen.activatedBy.startsWith("startup:") ? "serving the start-up bundle (no newer pushed bundle)" : "serving the last pushed bundle: a push wins over the start-up bundle until the next push",
    );
    if (this.#settings.watch) {
      // A tarball is watched through its folder: a ConfigMap update replaces the folder's `..data` link, not the file.
      const tarball = path.endsWith(".tar.gz");
      this.#watcher = watchDirectory(tarball ? dirname(path) : path, this.#settings.watchDebounceMs, async () => {
        try {
          // Only new content at the path counts: any other event in the folder (a push writing
          // its state there, an unrelated file) must not re-activate the start-up bundle over a push.
          const archive = await this.#readPath();
          if (this.#isNew(archive)) await this.#registry.receive(archive, `watch:${path}`);
        } catch (err) {
          this.#log.warn({ err: (err as Error).message, path }, "bundle folder changed but the new content was refused; the last good bundle keeps serving");
        }
      }, !tarball);
    }
  }

  async close(): Promise<void> {
    this.#watcher?.close();
    await this.#fanout?.close();
  }

  /** Whether `archive` differs from the last one read from the path (and remembers it). */
  #isNew(archive: Uint8Array): boolean {
    const digest = createHash("sha256").update(archive).digest("hex");
    const changed = digest !== this.#lastRead;
    this.#lastRead = digest;
    return changed;
  }

  /** The configured source as an archive: a tarball as it is, a folder packed in memory order. */
  async #readPath(): Promise<Uint8Array> {
    const { path, readLimits } = this.#settings;
    const files = await readBundlePath(path, readLimits);
    if (files.size === 0) throw new BundleError(`${path}: no files`);
    return path.endsWith(".tar.gz") ? readFile(path) : packBundle(files);
  }
}
