import { invalidArgument, limitExceeded } from "../errors.js";
import { type Entity, formatUid } from "../model/entity.js";
import type { RequestLimits } from "./request-limits.js";

const keyOf = (type: string, id: string) => `${type}\u0000${id}`;

/**
 * Bounds the work a request's entity hierarchy causes before anything reaches Cedar, which
 * computes the transitive closure of the entities it is given (a 1,000-group chain costs it
 * ~500k ancestor pairs and about a second). Checked, in this order: parent edges
 * (`limits.maxParentEdges`), depth (`limits.maxHierarchyDepth`), a cycle (Cedar refuses those),
 * and the (entity, ancestor) pairs the hierarchy implies (`limits.maxAncestorPairs`).
 *
 * The walk itself is linear in the edges plus the pairs it counts: each entity's ancestors are
 * computed once (memoized, in post-order), deduplicated with a stamp array, and the walk stops
 * as soon as a bound is passed. Parents the request does not define (the bundle's entities,
 * or none) count as ancestors without ancestors of their own: the bundle's are its author's.
 */
export function guardHierarchy(entities: readonly Entity[], limits: RequestLimits): void {
  let edges = 0;
  for (const e of entities) edges += e.parents.length;
  if (edges > limits.maxParentEdges) {
    throw limitExceeded(`entities: ${edges} parent edges is over the limit of ${limits.maxParentEdges} (limits.maxParentEdges)`);
  }
  if (edges === 0) return;
  // Nodes: every uid that has parents or is one; a uid listed twice has the union of its parents.
  const index = new Map<string, number>();
  const uids: Entity["uid"][] = [];
  const parents: number[][] = [];
  const node = (uid: Entity["uid"]) => {
    const k = keyOf(uid.type, uid.id);
    let i = index.get(k);
    if (i === undefined) {
      i = uids.length;
      index.set(k, i);
      uids.push(uid);
      parents.push([]);
    }
    return i;
  };
  for (const e of entities) {
    if (e.parents.length === 0) continue;
    const list = parents[node(e.uid)]!;
    for (const p of e.parents) list.push(node(p));
  }
  const n = uids.length;
  const state = new Uint8Array(n); // 0 unvisited, 1 on the walk's path, 2 done
  const depth = new Int32Array(n);
  const ancestors: (Int32Array | undefined)[] = new Array(n);
  const stamp = new Int32Array(n);
  let pairs = 0;
  const stack = new Int32Array(n);
  const next = new Int32Array(n); // which parent of the node on the stack to visit next
  for (let root = 0; root < n; root++) {
    if (state[root] !== 0) continue;
    let top = 0;
    stack[top++] = root;
    state[root] = 1;
    next[root] = 0;
    while (top > 0) {
      const x = stack[top - 1]!;
      const ps = parents[x]!;
      const k = next[x]!;
      if (k < ps.length) {
        next[x] = k + 1;
        const p = ps[k]!;
        if (state[p] === 1) throw invalidArgument(`entities: the parent hierarchy has a cycle through ${formatUid(uids[p]!)}`);
        if (state[p] === 0) {
          state[p] = 1;
          next[p] = 0;
          stack[top++] = p;
        }
        continue;
      }
      // All parents done: depth and ancestors of x.
      top--;
      state[x] = 2;
      let d = 0;
      const found: number[] = [];
      const mark = x + 1;
      for (const p of ps) {
        if (depth[p]! + 1 > d) d = depth[p]! + 1;
        if (stamp[p] !== mark) {
          stamp[p] = mark;
          found.push(p);
        }
        const up = ancestors[p];
        if (up === undefined) continue;
        for (let k = 0; k < up.length; k++) {
          const a = up[k]!;
          if (stamp[a] !== mark) {
            stamp[a] = mark;
            found.push(a);
          }
        }
      }
      depth[x] = d;
      if (d > limits.maxHierarchyDepth) {
        throw limitExceeded(`entities: the parent hierarchy is more than ${limits.maxHierarchyDepth} levels deep (limits.maxHierarchyDepth), at ${formatUid(uids[x]!)}`);
      }
      pairs += found.length;
      if (pairs > limits.maxAncestorPairs) {
        throw limitExceeded(`entities: the parent hierarchy implies more than ${limits.maxAncestorPairs} entity-ancestor pairs (limits.maxAncestorPairs)`);
      }
      if (found.length > 0) ancestors[x] = Int32Array.from(found);
    }
  }
}
