import type { BundleSnapshot } from "./bundle-snapshot.js";

/** Who or what activated a bundle, for status and audit. */
export interface Activation {
  readonly snapshot: BundleSnapshot;
  readonly activatedAt: Date;
  readonly activatedBy: string;
}

/** Called after each successful swap. */
export type ActivationListener = (activation: Activation, previous: Activation | undefined) => void;

/**
 * The one reference to the active bundle. Swapping it is a single assignment: requests that
 * already read the old snapshot finish on it, every later request sees the new one.
 */
export class ActiveBundle {
  #current: Activation | undefined;
  readonly #listeners: ActivationListener[] = [];

  /** The active snapshot, or undefined before the first activation. */
  get snapshot(): BundleSnapshot | undefined {
    return this.#current?.snapshot;
  }

  /** The active snapshot with when and by whom it was activated. */
  get activation(): Activation | undefined {
    return this.#current;
  }

  /** Makes a fully built snapshot active. */
  activate(snapshot: BundleSnapshot, activatedBy: string): Activation {
    const previous = this.#current;
    const activation: Activation = { snapshot, activatedAt: new Date(), activatedBy };
    this.#current = activation;
    for (const l of this.#listeners) l(activation, previous);
    return activation;
  }

  /** Subscribes to activations (metrics, logs, cache housekeeping). */
  onActivate(listener: ActivationListener): void {
    this.#listeners.push(listener);
  }
}
