import type { Logger } from "../observability/logger.js";
import type { Activation, ActiveBundle } from "./active-bundle.js";
import type { BundleFiles } from "./bundle-files.js";
import type { BundleLoader } from "./bundle-loader.js";

/** What the activator reports, for metrics. */
export interface BundleMetrics {
  /** A bundle was refused: why, and who or what asked (for status). */
  activationFailed(error?: unknown, by?: string): void;
  /** A stored record refused for going back in time ("stale") or failing its seal ("unsealed"). */
  activationRefused?(result: "stale" | "unsealed"): void;
}

/**
 * Builds a snapshot completely and only then swaps it in. A bundle that fails anywhere
 * throws `BundleError` and the active one keeps serving.
 */
export class BundleActivator {
  readonly #loader: BundleLoader;
  readonly #active: ActiveBundle;
  readonly #log: Logger;
  readonly #metrics: BundleMetrics | undefined;

  constructor(loader: BundleLoader, active: ActiveBundle, log: Logger, metrics?: BundleMetrics) {
    this.#loader = loader;
    this.#active = active;
    this.#log = log;
    this.#metrics = metrics;
  }

  /** Loads and activates; `by` records who asked (a source name or an admin identity). */
  async activate(files: BundleFiles, by: string): Promise<Activation> {
    try {
      const snapshot = await this.#loader.load(files);
      const activation = this.#active.activate(snapshot, by);
      this.#log.info({ bundle: snapshot.name, revision: snapshot.revision, policies: snapshot.policies.policies.length, by }, "bundle activated");
      return activation;
    } catch (err) {
      this.#metrics?.activationFailed(err, by);
      this.#log.warn({ err: (err as Error).message, by }, "bundle refused; the active bundle keeps serving");
      throw err;
    }
  }
}
