import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { setFlagsFromString } from "node:v8";
import { compileFunction } from "node:vm";
import type * as CedarWasm from "@cedar-policy/cedar-wasm/nodejs";
import { EXACT_JSON } from "./exact-json.js";

/** The cedar-wasm module's exports: one WebAssembly instance. */
export type CedarModule = typeof CedarWasm;

// Node provides WebAssembly globally; the ES lib typings do not declare it.
declare const WebAssembly: { RuntimeError: new (message?: string) => Error };

/** The error a wasm trap raises; also used to report a failed self-test as a trap. */
export const WasmRuntimeError = WebAssembly.RuntimeError;

// Node 20 and 22 (V8 11–12) can abort the whole process with "unreachable code" in
// Deoptimizer::DoComputeBuiltinContinuation when TurboFan has inlined a JS→Wasm call into a
// function that later deoptimizes. Turning that inlining off removed the crash in every trial,
// at no measurable throughput cost (docs/process-stability.md). It must be set before any
// function that calls into Cedar is optimized, hence here, where Cedar is loaded.
setFlagsFromString("--no-turbo-inline-js-wasm-calls");

const require = createRequire(import.meta.url);
const modulePath = require.resolve("@cedar-policy/cedar-wasm/nodejs");

/**
 * Holds the live cedar-wasm instance. A wasm trap (e.g. a stack overflow on deeply nested
 * input) leaves the instance's memory corrupt, so every later call would fail; `recycle`
 * loads a fresh instance and bumps `generation` so compiled bundles re-preparse into it.
 */
export class CedarRuntime {
  #module: CedarModule;
  #generation = 0;

  constructor() {
    this.#module = CedarRuntime.#load();
  }

  /** The current instance; do not keep it across calls that may recycle. */
  get cedar(): CedarModule {
    return this.#module;
  }

  /** Increases each time the instance is replaced. */
  get generation(): number {
    return this.#generation;
  }

  /** Replaces the instance with a fresh one; preparsed state is gone. */
  recycle(): void {
    this.#module = CedarRuntime.#load();
    this.#generation++;
  }

  /** True for errors that mean the wasm instance itself is no longer trustworthy. */
  static isTrap(err: unknown): boolean {
    return err instanceof WasmRuntimeError || err instanceof RangeError;
  }

  static #load(): CedarModule {
    // cedar-wasm's Node build is a CommonJS file that instantiates its module when run; running
    // it again builds a new instance with fresh memory. It hands every call to Cedar as
    // `JSON.stringify(call)`, which refuses a bigint, so it runs with a `JSON` of its own that
    // writes a bigint as its exact digits: longs beyond ±(2^53−1) reach Cedar unrounded.
    const run = compileFunction(glueSource(), ["exports", "require", "module", "__filename", "__dirname", "JSON"], { filename: modulePath });
    const module = { exports: {} as CedarModule };
    run(module.exports, require, module, modulePath, dirname(modulePath), EXACT_JSON);
    return module.exports;
  }
}

let glue: string | undefined;
const glueSource = (): string => (glue ??= readFileSync(modulePath, "utf8"));
