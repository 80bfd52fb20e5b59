import type { BundleSnapshot } from "./bundle-snapshot.js";

/** A bundle evaluated beside the active one, without deciding anything. */
export interface Shadow {
  readonly snapshot: BundleSnapshot;
  /** The archive it was pushed as, so promoting it can share it with the fleet. */
  readonly archive: Uint8Array;
  readonly since: Date;
  readonly by: string;
}

/** Called when a shadow starts (`shadow`) or ends (undefined). */
export type ShadowListener = (shadow: Shadow | undefined) => void;

/**
 * The one reference to the shadow bundle, if any. Like the active bundle it is a fully built
 * snapshot behind one reference; only the bundle registry sets or clears it.
 */
export class ShadowBundle {
  #current: Shadow | undefined;
  readonly #listeners: ShadowListener[] = [];

  /** The shadow, or undefined when there is none. */
  get current(): Shadow | undefined {
    return this.#current;
  }

  /** Starts evaluating `snapshot` in shadow, replacing any previous shadow. */
  set(snapshot: BundleSnapshot, archive: Uint8Array, by: string): Shadow {
    const shadow: Shadow = { snapshot, archive, since: new Date(), by };
    this.#current = shadow;
    for (const l of this.#listeners) l(shadow);
    return shadow;
  }

  /** Ends the shadow; returns the one that ended, if any. */
  clear(): Shadow | undefined {
    const ended = this.#current;
    if (ended === undefined) return undefined;
    this.#current = undefined;
    for (const l of this.#listeners) l(undefined);
    return ended;
  }

  /** Subscribes to starts and ends (metrics). */
  onChange(listener: ShadowListener): void {
    this.#listeners.push(listener);
  }
}
