import { unavailable } from "../errors.js";
import type { RequestLimits } from "../decision/request-limits.js";
import type { Logger } from "../observability/logger.js";
import type { Activation, ActiveBundle } from "./active-bundle.js";
import { BundleError } from "./bundle-error.js";
import type { BundleReadLimits } from "./bundle-files.js";
import type { BundleLoader } from "./bundle-loader.js";
import type { BundleMetrics } from "./bundle-activator.js";
import type { BundleSnapshot } from "./bundle-snapshot.js";
import type { ShadowBundle } from "./shadow-bundle.js";
import { coverageShortfall, policyCoverage } from "./policy-tests/policy-coverage.js";
import { readPolicyTests } from "./policy-tests/policy-test-case.js";
import { type PolicyTestResult, runPolicyTests } from "./policy-tests/run-policy-tests.js";
import type { RecordKind } from "./sources/fleet-record.js";
import { readBundleArchive } from "./sources/read-tarball.js";

/** A bundle this replica has built, with the archive it came from. */
export interface KnownBundle {
  readonly snapshot: BundleSnapshot;
  /** Empty for a bundle activated without an archive (e.g. by `verdict check`). */
  readonly archive: Uint8Array;
  activatedAt?: Date;
  activatedBy?: string;
}

/** One activated archive, as handed to a publisher. */
export interface PublishedBundle {
  readonly revision: string;
  readonly digest: string;
  readonly signedAt: number | undefined;
  /** "activate" marks a deliberate ActivateBundle: the only record allowed to go back in time. */
  readonly kind: RecordKind;
  readonly archive: Uint8Array;
}

/**
 * What a stored record (fleet or local state) says about the archive it came with, once its
 * seal was checked: "unsealed" when there is no valid seal (then it may only move forward).
 */
export interface BundleOrigin {
  readonly kind: RecordKind | "unsealed";
  readonly digest?: string;
  readonly signedAt?: number | undefined;
  /** Checked just before the swap: false when a newer record arrived meanwhile (then nothing changes). */
  readonly fresh?: () => boolean;
}

/** Why a stored record was refused before or after its archive was built, as metrics count it. */
export type RecordRefusal = "stale" | "unsealed";

/** Where an operator's activations go so they outlive the process or reach other replicas. */
export interface BundlePublisher {
  publish(bundle: PublishedBundle): Promise<void>;
}

/** The outcome of a push. */
export interface PushOutcome {
  readonly snapshot: BundleSnapshot;
  readonly tests: readonly PolicyTestResult[];
  readonly activated: boolean;
}

/** Settings the registry needs from the config. */
export interface BundleRegistryLimits {
  readonly read: BundleReadLimits;
  readonly request: RequestLimits;
  readonly historySize: number;
  /** Percentage of policies the bundle's own tests must exercise (0: none). */
  readonly minCoverage?: number;
}

/**
 * Every way a bundle becomes active after start goes through here: each archive is read in
 * memory, verified, compiled and tested before the single swap, and a failure anywhere leaves
 * the active bundle serving. Operator actions (push, ActivateBundle) are stored with the
 * publishers first — if that fails nothing is activated, so the fleet cannot split — and a
 * push of an older revision is refused (a replayed, validly signed bundle is still refused);
 * only ActivateBundle goes back on purpose. One change at a time: calls are serialised.
 *
 * A push may instead put the bundle in shadow (this replica only): it is built and tested the
 * same way, then evaluated beside the active bundle until an operator activates something —
 * ActivateBundle with its revision promotes it; any other operator activation ends it.
 */
export class BundleRegistry {
  readonly #loader: BundleLoader;
  readonly #active: ActiveBundle;
  readonly #shadow: ShadowBundle;
  readonly #log: Logger;
  readonly #metrics: BundleMetrics | undefined;
  readonly #limits: BundleRegistryLimits;
  readonly #publishers: BundlePublisher[] = [];
  /** Newest activation first. */
  #history: KnownBundle[] = [];
  #archives = new Map<BundleSnapshot, Uint8Array>();
  #queue: Promise<unknown> = Promise.resolve();

  constructor(loader: BundleLoader, active: ActiveBundle, shadow: ShadowBundle, log: Logger, limits: BundleRegistryLimits, metrics?: BundleMetrics) {
    this.#loader = loader;
    this.#active = active;
    this.#shadow = shadow;
    this.#log = log;
    this.#metrics = metrics;
    this.#limits = limits;
    active.onActivate((a) => this.#remember(a));
  }

  /** Adds a place operator activations are written to (local store or Redis fan-out). */
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
   * An operator's push: verifies, compiles and tests the archive, refuses an older revision,
   * stores it with every publisher, then activates it and ends any shadow. With `dryRun` it
   * stops after the checks; with `shadow` it puts the bundle in shadow instead of activating it.
   * `by` names the caller.
   */
  push(archive: Uint8Array, opts: { dryRun: boolean; shadow?: boolean; by: string }): Promise<PushOutcome> {
    return this.#serial(async () => {
      const counts = !opts.dryRun;
      const built = await this.#build(archive, opts.by, counts);
      const current = this.#active.snapshot;
      if (current?.digest === built.snapshot.digest) {
        if (opts.shadow) this.#refused(new BundleError(`revision ${current.revision} is the active bundle; a shadow must differ from it`), opts.by, counts);
        if (!opts.dryRun) this.#endShadow(opts.by);
        return { snapshot: current, tests: built.tests, activated: false };
      }
      try {
        this.#refuseReplay(built.snapshot, current);
      } catch (err) {
        this.#refused(err, opts.by, counts);
      }
      if (opts.dryRun) return { ...built, activated: false };
      if (opts.shadow) {
        this.#shadow.set(built.snapshot, archive, opts.by);
        this.#log.info({ bundle: built.snapshot.name, revision: built.snapshot.revision, active: current?.revision, by: opts.by }, "bundle in shadow: evaluated beside the active bundle, deciding nothing");
        return { ...built, activated: false };
      }
      await this.#publish(built.snapshot, archive, "push");
      this.#swap(built.snapshot, archive, opts.by);
      this.#endShadow(opts.by);
      return { ...built, activated: true };
    });
  }

  /**
   * Re-activates a known revision: the explicit way back (or forward) to it. The shadow's
   * revision promotes the shadow. Either way the shadow, if any, ends.
   */
  activate(revision: string, by: string): Promise<Activation> {
    return this.#serial(async () => {
      const shadow = this.#shadow.current;
      const known = shadow?.snapshot.revision === revision ? shadow : this.#history.find((k) => k.snapshot.revision === revision);
      if (known === undefined) {
        const revisions = this.#history.map((k) => k.snapshot.revision).join(", ");
        throw new BundleError(`revision ${revision} is not known to this replica; it can activate ${revisions || "nothing yet"} (\`verdict bundle list\`). To return to another bundle, push it again (re-signed by \`verdict bundle build\` if it is older than the active one)`);
      }
      await this.#publish(known.snapshot, known.archive, "activate");
      const activation = this.#swap(known.snapshot, known.archive, by);
      this.#endShadow(by);
      return activation;
    });
  }

  /**
   * An archive from a source rather than an operator: the start-up folder, a folder change,
   * the local store, or the fleet (Redis). It is verified, compiled and tested like a push and
   * activated when it differs from the active bundle. A stored record (`origin`) must describe
   * the archive it came with, and unless it is a sealed activation it may not take this replica
   * back to a bundle signed before the active one: a replayed, validly signed archive is refused
   * (counted as `stale`) and the active bundle keeps serving. Returns whether it was activated.
   */
  receive(archive: Uint8Array, from: string, origin?: BundleOrigin): Promise<boolean> {
    return this.#serial(async () => {
      const { snapshot } = await this.#build(archive, from, true);
      const active = this.#active.snapshot;
      if (origin !== undefined && origin.kind !== "unsealed" && (origin.digest !== snapshot.digest || origin.signedAt !== snapshot.signedAt)) {
        this.refuseRecord("unsealed", `the sealed record names digest ${origin.digest}, but its archive is revision ${snapshot.revision} with digest ${snapshot.digest}`, from);
      }
      if (active?.digest === snapshot.digest || origin?.fresh?.() === false) return false;
      if (origin !== undefined && origin.kind !== "activate" && isOlder(snapshot, active)) {
        this.refuseRecord("stale", `revision ${snapshot.revision} was signed before the active revision ${active.revision} and no operator activated it (ActivateBundle)`, from);
      }
      this.#swap(snapshot, archive, from);
      return true;
    });
  }

  /** Refuses a stored record: logged, counted by reason, and thrown as a `BundleError`. */
  refuseRecord(reason: RecordRefusal, why: string, from: string): never {
    this.#metrics?.activationRefused?.(reason);
    this.#log.warn({ err: why, by: from, reason }, "stored bundle record refused; the active bundle keeps serving");
    throw new BundleError(`${from}: ${why}`);
  }

  async #build(archive: Uint8Array, by: string, counts: boolean): Promise<{ snapshot: BundleSnapshot; tests: readonly PolicyTestResult[] }> {
    try {
      const files = await readBundleArchive(archive, this.#limits.read);
      const snapshot = await this.#loader.load(files);
      const tests = runPolicyTests(snapshot.policies, readPolicyTests(files), this.#limits.request, snapshot.trustedEntityTypes);
      const failed = tests.filter((t) => !t.passed);
      if (failed.length > 0) throw new BundleError(`bundle "${snapshot.name}" revision ${snapshot.revision}: ${failed.length} of ${tests.length} policy tests failed (${failed.map((t) => t.test.name).join(", ")})`);
      const short = coverageShortfall(policyCoverage(snapshot.policies.policies, tests), this.#limits.minCoverage ?? 0);
      if (short !== undefined) throw new BundleError(`bundle "${snapshot.name}" revision ${snapshot.revision}: ${short} (bundles.minCoverage)`);
      return { snapshot, tests };
    } catch (err) {
      return this.#refused(err, by, counts);
    }
  }

  #refused(err: unknown, by: string, counts: boolean): never {
    if (counts) this.#metrics?.activationFailed(err, by);
    this.#log.warn({ err: (err as Error).message, by }, "bundle refused; the active bundle keeps serving");
    throw err;
  }

  #swap(snapshot: BundleSnapshot, archive: Uint8Array, by: string): Activation {
    this.#archives.set(snapshot, archive);
    const activation = this.#active.activate(snapshot, by);
    this.#log.info({ bundle: snapshot.name, revision: snapshot.revision, policies: snapshot.policies.policies.length, by }, "bundle activated");
    return activation;
  }

  #endShadow(by: string): void {
    const ended = this.#shadow.clear();
    if (ended !== undefined) this.#log.info({ revision: ended.snapshot.revision, active: this.#active.snapshot?.revision, by }, "shadow ended");
  }

  #refuseReplay(next: BundleSnapshot, current: BundleSnapshot | undefined): void {
    if (isOlder(next, current)) {
      const known = this.#history.some((k) => k.snapshot.digest === next.digest);
      throw new BundleError(
        `revision ${next.revision} was signed before the active revision ${current.revision}, so a push of it is refused as a replay; ` +
          (known ? `to roll back on purpose run \`verdict bundle activate ${next.revision}\` (ActivateBundle)` : `this replica never served it, so to roll back rebuild and re-sign it with \`verdict bundle build DIR -o FILE --signing-key KEY\` and push that`),
      );
    }
    if (this.#history.some((k) => k.snapshot.digest === next.digest && k.snapshot !== current)) {
      throw new BundleError(`revision ${next.revision} was active before; to return to it on purpose run \`verdict bundle activate ${next.revision}\` (ActivateBundle)`);
    }
  }

  #remember(a: Activation): void {
    const archive = this.#archives.get(a.snapshot) ?? new Uint8Array();
    this.#archives.clear();
    const prior = this.#history.find((k) => k.snapshot.digest === a.snapshot.digest);
    const entry: KnownBundle = prior !== undefined && (prior.archive.length > 0 || archive.length === 0) ? prior : { snapshot: a.snapshot, archive };
    entry.activatedAt = a.activatedAt;
    entry.activatedBy = a.activatedBy;
    this.#history = [entry, ...this.#history.filter((k) => k.snapshot.digest !== a.snapshot.digest)].slice(0, this.#limits.historySize);
  }

  async #publish(snapshot: BundleSnapshot, archive: Uint8Array, kind: RecordKind): Promise<void> {
    if (archive.length === 0) {
      if (this.#publishers.length > 0) throw new BundleError(`revision ${snapshot.revision} has no archive to share with the fleet; push it instead`);
      return;
    }
    for (const p of this.#publishers) {
      try {
        await p.publish({ revision: snapshot.revision, digest: snapshot.digest, signedAt: snapshot.signedAt, kind, archive });
      } catch (err) {
        this.#log.warn({ err: (err as Error).message, revision: snapshot.revision }, "could not store the bundle; nothing was activated");
        throw unavailable(`revision ${snapshot.revision} passed every check but could not be stored (${(err as Error).message}); nothing was activated`, err);
      }
    }
  }

  #serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(work, work);
    this.#queue = run.catch(() => undefined);
    return run;
  }
}

/** Whether `next` was signed before `current` (unsigned bundles carry no time to compare). */
function isOlder(next: BundleSnapshot, current: BundleSnapshot | undefined): current is BundleSnapshot {
  return current?.signedAt !== undefined && next.signedAt !== undefined && next.signedAt < current.signedAt;
}
