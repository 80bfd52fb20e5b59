import type { Logger } from "../observability/logger.js";
import type { Activation, ActiveBundle } from "./active-bundle.js";
import { BundleError } from "./bundle-error.js";
import type { BundleReadLimits } from "./bundle-files.js";
import type { BundleLoader } from "./bundle-loader.js";
import type { BundleMetrics } from "./bundle-activator.js";
import type { BundleSnapshot } from "./bundle-snapshot.js";
import { readPolicyTests } from "./policy-tests/policy-test-case.js";
import { type PolicyTestResult, runPolicyTests } from "./policy-tests/run-policy-tests.js";
import { readBundleArchive } from "./sources/read-tarball.js";
import type { RequestLimits } from "../decision/request-limits.js";

/** A bundle this replica has built, with the archive it came from. */
export interface KnownBundle {
  readonly snapshot: BundleSnapshot;
  readonly archive: Uint8Array;
  activatedAt?: Date;
  activatedBy?: string;
}

/** Where activated archives go so they outlive the process or reach other replicas. */
export interface BundlePublisher {
  publish(revision: string, archive: Uint8Array): Promise<void>;
}

/** The outcome of a push. */
export interface PushOutcome {
  readonly snapshot: BundleSnapshot;
  readonly tests: readonly PolicyTestResult[];
  readonly activated: boolean;
}

/**
 * Pushed bundles: each is read in memory, verified, compiled and tested before the single
 * swap; a failure anywhere leaves the active bundle serving. Keeps a bounded history so a
 * known revision can be re-activated explicitly, and refuses to silently go back to an older
 * one (a replayed, validly signed bundle is still refused).
 */
export class BundleRegistry {
  readonly #loader: BundleLoader;
  readonly #active: ActiveBundle;
  readonly #log: Logger;
  readonly #metrics: BundleMetrics | undefined;
  readonly #readLimits: BundleReadLimits;
  readonly #requestLimits: RequestLimits;
  readonly #historySize: number;
  readonly #publishers: BundlePublisher[] = [];
  /** Newest activation first. */
  #history: KnownBundle[] = [];

  constructor(
    loader: BundleLoader,
    active: ActiveBundle,
    log: Logger,
    limits: { read: BundleReadLimits; request: RequestLimits; historySize: number },
    metrics?: BundleMetrics,
  ) {
    this.#loader = loader;
    this.#active = active;
    this.#log = log;
    this.#metrics = metrics;
    this.#readLimits = limits.read;
    this.#requestLimits = limits.request;
    this.#historySize = limits.historySize;
    active.onActivate((a) => this.#remember(a));
  }

  /** Adds a place activated archives are written to (local store, Redis fan-out). */
  addPublisher(p: BundlePublisher): void {
    this.#publishers.push(p);
  }

  /** The revision deciding now. */
  get activeRevision(): string | undefined {
    return this.#active.snapshot?.revision;
  }

  /** Known bundles, newest activation first. */
  get history(): readonly KnownBundle[] {
    return this.#history;
  }

  /**
   * Verifies, compiles and tests an archive; activates it unless `dryRun`. `by` names the
   * caller. `source` distinguishes an author's push (published onward) from one received from
   * the fleet or a store (not published again).
   */
  async push(archive: Uint8Array, opts: { dryRun: boolean; by: string; publish: boolean }): Promise<PushOutcome> {
    try {
      const files = await readBundleArchive(archive, this.#readLimits);
      const snapshot = await this.#loader.load(files);
      const tests = runPolicyTests(snapshot.policies, readPolicyTests(files), this.#requestLimits, snapshot.trustedEntityTypes);
      const failed = tests.filter((t) => !t.passed);
      if (failed.length > 0) throw new BundleError(`bundle "${snapshot.name}" revision ${snapshot.revision}: ${failed.length} of ${tests.length} policy tests failed (${failed.map((t) => t.test.name).join(", ")})`);
      const current = this.#active.snapshot;
      if (current?.digest === snapshot.digest) return { snapshot: current, tests, activated: false };
      this.#refuseReplay(snapshot, current);
      if (opts.dryRun) return { snapshot, tests, activated: false };
      this.#pending = { snapshot, archive };
      this.#active.activate(snapshot, opts.by);
      this.#log.info({ bundle: snapshot.name, revision: snapshot.revision, by: opts.by }, "bundle activated");
      if (opts.publish) await this.#publish(snapshot.revision, archive);
      return { snapshot, tests, activated: true };
    } catch (err) {
      if (!opts.dryRun) this.#metrics?.activationFailed();
      this.#log.warn({ err: (err as Error).message, by: opts.by }, "bundle refused; the active bundle keeps serving");
      throw err;
    }
  }

  /** Re-activates a known revision: the explicit way back (or forward) to it. */
  async activate(revision: string, by: string): Promise<Activation> {
    const known = this.#history.find((k) => k.snapshot.revision === revision);
    if (known === undefined) throw new BundleError(`revision ${revision} is not known to this replica (see ListBundles)`);
    this.#pending = known;
    const activation = this.#active.activate(known.snapshot, by);
    await this.#publish(revision, known.archive);
    return activation;
  }

  /** An archive received from a store or the fleet: activate it if it is new to us. */
  async receive(archive: Uint8Array, from: string): Promise<void> {
    await this.push(archive, { dryRun: false, by: from, publish: false });
  }

  #pending: { snapshot: BundleSnapshot; archive: Uint8Array } | undefined;

  #refuseReplay(next: BundleSnapshot, current: BundleSnapshot | undefined): void {
    if (current?.signedAt !== undefined && next.signedAt !== undefined && next.signedAt < current.signedAt) {
      throw new BundleError(`revision ${next.revision} was signed before the active revision ${current.revision}; use ActivateBundle to roll back on purpose`);
    }
    if (this.#history.some((k) => k.snapshot.digest === next.digest && k.snapshot !== current)) {
      throw new BundleError(`revision ${next.revision} was active before; use ActivateBundle to return to it on purpose`);
    }
  }

  #remember(a: Activation): void {
    const archive = this.#pending?.snapshot === a.snapshot ? this.#pending.archive : undefined;
    this.#pending = undefined;
    const prior = this.#history.find((k) => k.snapshot.digest === a.snapshot.digest);
    const entry: KnownBundle = prior ?? { snapshot: a.snapshot, archive: archive ?? new Uint8Array() };
    entry.activatedAt = a.activatedAt;
    entry.activatedBy = a.activatedBy;
    this.#history = [entry, ...this.#history.filter((k) => k !== entry)].slice(0, this.#historySize);
  }

  async #publish(revision: string, archive: Uint8Array): Promise<void> {
    if (archive.length === 0) return; // a bundle loaded from a folder at startup has no archive to share
    for (const p of this.#publishers) {
      try {
        await p.publish(revision, archive);
      } catch (err) {
        this.#log.warn({ err: (err as Error).message, revision }, "could not publish the activated bundle");
      }
    }
  }
}
