import { VerdictError } from "../errors.js";
import type { ResourceFilter } from "../model/resource-filter.js";

/** A filter while it is being built: `true` and `false` fold away before a plan is answered. */
export type Cond = ResourceFilter | boolean;

type Junction = "and" | "or";
const dual = (op: Junction): Junction => (op === "and" ? "or" : "and");
const keyOf = (f: ResourceFilter): string => JSON.stringify(f);
/** The key `not f` would have, without building it. */
const negationKeyOf = (f: ResourceFilter): string => (f.op === "not" ? keyOf(f.arg) : JSON.stringify({ op: "not", arg: f }));

/**
 * Builds filters in a simplified form, so that Cedar's residual `true && (true && resource.a == 1)`
 * comes out as the single comparison and an application's query stays readable: constants fold,
 * nested and/or flatten, duplicates go, `not` is pushed down to the leaves, `x` with `not x`
 * cancels, and absorption applies (`x and (x or y)` is `x`, `x and (not x or y)` is `x and y`,
 * and the same with and/or swapped). Every rewrite keeps the meaning exactly.
 *
 * Counts the nodes it creates and refuses past `budget`: the true / false / error split of a
 * condition can grow with nesting, and a plan must stay small and cheap.
 */
export class FilterBuilder {
  #left: number;

  constructor(budget: number) {
    this.#left = budget;
  }

  /** Every condition holds. */
  and(...xs: Cond[]): Cond {
    return this.#combine("and", xs);
  }

  /** At least one condition holds. */
  or(...xs: Cond[]): Cond {
    return this.#combine("or", xs);
  }

  /** The condition does not hold. */
  not(x: Cond): Cond {
    if (typeof x === "boolean") return !x;
    if (x.op === "not") return x.arg;
    if (x.op === "and" || x.op === "or") return this.#combine(dual(x.op), x.args.map((a) => this.not(a)));
    return this.#count({ op: "not", arg: x }, 1);
  }

  /** A leaf (comparison, ancestry, containment, has, like). */
  leaf(f: ResourceFilter): ResourceFilter {
    return this.#count(f, 1);
  }

  #combine(op: Junction, xs: readonly Cond[]): Cond {
    const absorbing = op === "or";
    const args: ResourceFilter[] = [];
    const keys = new Set<string>();
    const add = (x: Cond): boolean => {
      if (typeof x === "boolean") return x === absorbing;
      if (x.op === op) return x.args.some(add);
      const key = keyOf(x);
      if (keys.has(key)) return false;
      if (keys.has(negationKeyOf(x))) return true;
      keys.add(key);
      args.push(x);
      return false;
    };
    for (const x of xs) if (add(x)) return absorbing;
    const absorbed = this.#absorb(op, args, keys);
    if (absorbed !== undefined) return this.#combine(op, absorbed);
    if (args.length === 0) return !absorbing;
    if (args.length === 1) return args[0]!;
    return this.#count({ op, args }, args.length);
  }

  /** Applies absorption to the members of one junction; undefined when nothing changes. */
  #absorb(op: Junction, args: readonly ResourceFilter[], keys: ReadonlySet<string>): Cond[] | undefined {
    const inner = dual(op);
    let changed = false;
    const out: Cond[] = [];
    for (const x of args) {
      if (x.op !== inner) {
        out.push(x);
        continue;
      }
      if (x.args.some((p) => keys.has(keyOf(p)))) {
        changed = true;
        continue;
      }
      const kept = x.args.filter((p) => !keys.has(negationKeyOf(p)));
      if (kept.length === x.args.length) out.push(x);
      else {
        changed = true;
        out.push(this.#combine(inner, kept));
      }
    }
    return changed ? out : undefined;
  }

  #count<T extends ResourceFilter>(f: T, nodes: number): T {
    this.#left -= nodes;
    if (this.#left < 0) throw new VerdictError("failed_precondition", "the policies' conditions on the resource are too complex to plan as a filter");
    return f;
  }
}
