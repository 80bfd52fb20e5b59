import { Worker } from "node:worker_threads";
import { VerdictError } from "../errors.js";
import type { AuthzRequest } from "../model/authz-request.js";
import type { Evaluation } from "../model/decision.js";
import type { EngineOptions } from "./cedar-engine.js";
import type { CompiledPolicies } from "./compiled-policies.js";
import type { FromWorker, ToWorker, WorkerSettings } from "./evaluation-messages.js";
import type { PolicySources } from "./policy-sources.js";

type Pending = { resolve: (e: Evaluation) => void; reject: (e: Error) => void };

/** One worker thread and what the pool knows of it. */
class PoolWorker {
  readonly thread: Worker;
  readonly pending = new Map<number, Pending>();
  /** Bundles sent to this worker: resolves true once compiled there, false if it could not. */
  readonly #compiles = new Map<number, Promise<boolean>>();
  readonly #waiters = new Map<number, (ok: boolean) => void>();
  readonly #ready = new Set<number>();

  constructor(settings: WorkerSettings, onMessage: (w: PoolWorker, m: FromWorker) => void, onExit: (w: PoolWorker, why: string) => void) {
    this.thread = new Worker(new URL("./evaluation-worker.js", import.meta.url), { workerData: settings });
    this.thread.on("message", (m: FromWorker) => onMessage(this, m));
    this.thread.on("error", (err) => onExit(this, err.message));
    this.thread.on("exit", (code) => onExit(this, `exited with code ${code}`));
  }

  isReady(bundle: number): boolean {
    return this.#ready.has(bundle);
  }

  /** Sends a bundle to compile, once. */
  compile(bundle: number, sources: PolicySources): Promise<boolean> {
    let done = this.#compiles.get(bundle);
    if (done === undefined) {
      done = new Promise<boolean>((resolve) => this.#waiters.set(bundle, resolve));
      this.#compiles.set(bundle, done);
      this.send({ kind: "compile", bundle, sources });
    }
    return done;
  }

  compiled(bundle: number, ok: boolean): void {
    if (ok) this.#ready.add(bundle);
    this.#waiters.get(bundle)?.(ok);
    this.#waiters.delete(bundle);
  }

  release(bundle: number): void {
    if (!this.#compiles.delete(bundle)) return;
    this.#ready.delete(bundle);
    this.send({ kind: "release", bundle });
  }

  /** The thread is gone: nothing it was compiling will finish. */
  stopped(): void {
    for (const resolve of this.#waiters.values()) resolve(false);
    this.#waiters.clear();
  }

  send(message: ToWorker): void {
    this.thread.postMessage(message);
  }
}

/**
 * Evaluates on worker threads, so decisions use more cores than the one that runs gRPC and
 * the cache. Each worker compiles every bundle it is asked about from the bundle's sources
 * (`prepare` at activation, or on first use); until one has, `evaluate` returns undefined and
 * the caller evaluates in place, so an activation never waits on the workers. A worker that dies fails its calls (never an allow)
 * and is replaced.
 */
export class EvaluationPool {
  readonly #settings: WorkerSettings;
  readonly #workers: PoolWorker[] = [];
  readonly #ids = new WeakMap<CompiledPolicies, number>();
  readonly #released = new FinalizationRegistry<number>((bundle) => this.#release(bundle));
  #nextBundle = 0;
  #nextSeq = 0;
  #closed = false;

  constructor(size: number, engine: EngineOptions) {
    this.#settings = { engine };
    for (let i = 0; i < size; i++) this.#workers.push(this.#spawn());
  }

  /** The worker threads now running, for status and tests. */
  get threads(): readonly Worker[] {
    return this.#workers.map((w) => w.thread);
  }

  /** Has every worker compile `policies` (at activation, so no request waits for it); true if all could. */
  async prepare(policies: CompiledPolicies): Promise<boolean> {
    const bundle = this.#idOf(policies);
    const outcomes = await Promise.all(this.#workers.map((w) => w.compile(bundle, policies.sources)));
    return outcomes.every(Boolean);
  }

  /** Decides on the least busy worker that has compiled `policies`; undefined while none has. */
  evaluate(policies: CompiledPolicies, request: AuthzRequest): Promise<Evaluation> | undefined {
    const bundle = this.#idOf(policies);
    let best: PoolWorker | undefined;
    for (const w of this.#workers) {
      if (!w.isReady(bundle)) void w.compile(bundle, policies.sources);
      else if (best === undefined || w.pending.size < best.pending.size) best = w;
    }
    if (best === undefined) return undefined;
    const seq = this.#nextSeq++;
    const worker = best;
    return new Promise<Evaluation>((resolve, reject) => {
      worker.pending.set(seq, { resolve, reject });
      worker.send({ kind: "evaluate", seq, bundle, request });
    });
  }

  /** Stops every worker; calls in flight fail. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#workers.map((w) => w.thread.terminate()));
  }

  #idOf(policies: CompiledPolicies): number {
    let id = this.#ids.get(policies);
    if (id === undefined) {
      id = this.#nextBundle++;
      this.#ids.set(policies, id);
      this.#released.register(policies, id);
    }
    return id;
  }

  #spawn(): PoolWorker {
    return new PoolWorker(this.#settings, (w, m) => this.#onMessage(w, m), (w, why) => this.#onExit(w, why));
  }

  #onMessage(worker: PoolWorker, m: FromWorker): void {
    switch (m.kind) {
      case "compiled":
        // A bundle the worker could not compile never becomes ready there: it gets no such calls.
        worker.compiled(m.bundle, m.error === undefined);
        return;
      case "evaluated":
        worker.pending.get(m.seq)?.resolve(m.evaluation);
        worker.pending.delete(m.seq);
        return;
      case "failed":
        worker.pending.get(m.seq)?.reject(new VerdictError(m.code, m.message));
        worker.pending.delete(m.seq);
        return;
    }
  }

  #onExit(worker: PoolWorker, why: string): void {
    const i = this.#workers.indexOf(worker);
    if (i < 0) return;
    for (const p of worker.pending.values()) p.reject(new VerdictError("internal", `an evaluation worker stopped (${why})`));
    worker.pending.clear();
    worker.stopped();
    if (this.#closed) return;
    this.#workers[i] = this.#spawn();
  }

  /** A retired bundle: workers drop their copy. */
  #release(bundle: number): void {
    for (const w of this.#workers) w.release(bundle);
  }
}
