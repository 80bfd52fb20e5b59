import { createHmac, timingSafeEqual } from "node:crypto";
import type { Evaluation } from "../model/decision.js";

/**
 * Values in the shared cache are sealed with an HMAC over key and value, so that whoever can
 * write to Redis cannot forge a decision, move one to another key, or replay it under a new
 * revision: any value that fails the check is treated as a miss.
 */
export class ValueSealer {
  readonly #secret: Buffer;

  constructor(secret: string) {
    this.#secret = Buffer.from(secret, "utf8");
  }

  /** `mac.json` for storing under `key`. */
  seal(key: string, evaluation: Evaluation): string {
    const json = JSON.stringify({ d: evaluation.decision, p: evaluation.determiningPolicies, e: evaluation.errors });
    return `${this.#mac(key, json)}.${json}`;
  }

  /** The evaluation, or undefined if the value was not sealed by this fleet for this key. */
  open(key: string, stored: string): Evaluation | undefined {
    const dot = stored.indexOf(".");
    if (dot !== 64) return undefined;
    const json = stored.slice(dot + 1);
    const want = Buffer.from(this.#mac(key, json), "hex");
    const got = Buffer.from(stored.slice(0, dot), "hex");
    if (got.length !== want.length || !timingSafeEqual(got, want)) return undefined;
    try {
      const v = JSON.parse(json) as { d: unknown; p: unknown; e: unknown };
      if ((v.d !== "allow" && v.d !== "deny") || !Array.isArray(v.p) || !Array.isArray(v.e)) return undefined;
      return { decision: v.d, determiningPolicies: v.p as string[], errors: v.e as Evaluation["errors"] };
    } catch {
      return undefined;
    }
  }

  #mac(key: string, json: string): string {
    return createHmac("sha256", this.#secret).update(key).update("\n").update(json).digest("hex");
  }
}
