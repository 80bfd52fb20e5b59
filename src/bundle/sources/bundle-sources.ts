import type { Logger } from "../../observability/logger.js";
import type { BundleActivator } from "../bundle-activator.js";
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
}

/**
 * Start-up order, later sources winning: the configured folder or archive; then the bundle
 * last pushed to this replica (local store, when there is no Redis); then the fleet's pushed
 * bundle (Redis). Afterwards the folder is watched and the fleet is followed.
 */
export class BundleSources {
  readonly #settings: BundleSourceSettings;
  readonly #activator: BundleActivator;
  readonly #registry: BundleRegistry;
  readonly #log: Logger;
  readonly #store: LocalBundleStore | undefined;
  readonly #fanout: RedisBundleFanout | undefined;
  #watcher: { close(): void } | undefined;

  constructor(settings: BundleSourceSettings, activator: BundleActivator, registry: BundleRegistry, log: Logger, store?: LocalBundleStore, fanout?: RedisBundleFanout) {
    this.#settings = settings;
    this.#activator = activator;
    this.#registry = registry;
    this.#log = log;
    this.#store = store;
    this.#fanout = fanout;
  }

  /** Loads the start-up bundle (throws `BundleError` if it is bad), then the pushed ones. */
  async start(): Promise<void> {
    const { path } = this.#settings;
    const files = await readBundlePath(path, this.#settings.readLimits);
    await this.#activator.activate(files, `startup:${path}`);
    const stored = await this.#store?.load();
    if (stored !== undefined) {
      await this.#registry.receive(stored, "local-store").then(
        () => this.#log.info({ path }, "serving the bundle last pushed to this replica instead of the start-up bundle"),
        () => this.#log.warn("the locally stored pushed bundle was refused; serving the start-up bundle"),
      );
    }
    await this.#fanout?.start(this.#settings.fanoutCheckMs);
    if (this.#settings.watch && !path.endsWith(".tar.gz")) {
      this.#watcher = watchDirectory(path, this.#settings.watchDebounceMs, async () => {
        try {
          const next = await readBundlePath(path, this.#settings.readLimits);
          await this.#registry.receive(await packBundle(next), `watch:${path}`);
        } catch (err) {
          this.#log.warn({ err: (err as Error).message, path }, "bundle folder changed but the new content was refused; the last good bundle keeps serving");
        }
      });
    }
  }

  async close(): Promise<void> {
    this.#watcher?.close();
    await this.#fanout?.close();
  }
}
