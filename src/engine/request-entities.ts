import type { EntityJson } from "@cedar-policy/cedar-wasm/nodejs";
import { invalidArgument } from "../errors.js";
import type { AuthzRequest } from "../model/authz-request.js";
import type { Entity, EntityUid, Value } from "../model/entity.js";
import { formatUid } from "../model/entity.js";
import { toCedarEntity } from "./cedar-json.js";
import type { EntityGraph } from "./entity-graph.js";
import { uidKey } from "./policy-scope.js";

/** Action entities come from the schema, never from a request. */
export const isActionType = (type: string) => type === "Action" || type.endsWith("::Action");

/** A uid with no attributes, parents or tags: a reference (see `RequestEntities.load`). */
export function isBare(e: Entity): boolean {
  if (e.parents.length > 0) return false;
  for (const _ in e.attrs) return false;
  for (const _ in e.tags) return false;
  return true;
}

/** The entities a request carries: a Check names its resource, a Plan does not. */
export type RequestEntitySource = Pick<AuthzRequest, "principal" | "entities"> & { readonly resource?: Entity };

const roleOf = (req: RequestEntitySource, e: Entity): string =>
  e === req.principal ? "principal" : e === req.resource ? "resource" : `entities[${req.entities.indexOf(e)}]`;

/**
 * A request's own entities as Cedar will see them, checked against the bundle's, plus the
 * uid → entity lookup that ancestor walks need. One instance per compiled bundle, reused by
 * every request (evaluation is synchronous), so a request allocates only its converted
 * entities.
 */
export class RequestEntities {
  readonly #graph: EntityGraph;
  /** Request entities with data (attributes, parents or tags), by `uidKey`. */
  readonly #defined = new Map<string, Entity>();

  constructor(graph: EntityGraph) {
    this.#graph = graph;
  }

  /**
   * Checks and converts the request's entities into `out`, so that Cedar validates every one
   * of them against the schema exactly as it validates any entity it is given.
   *
   * Entities with data are read first. A bare mention (a uid with no attributes, parents or
   * tags) then means, in this order: the bundle's static entity of that uid; the request's
   * own entity of that uid that has data (principal also listed in `entities`); otherwise an
   * entity with no attributes, parents or tags, passed to Cedar like any other, so a type
   * whose schema requires attributes refuses it, naming the missing attribute.
   */
  load(req: RequestEntitySource, out: EntityJson[]): void {
    this.#defined.clear();
    this.#loadOne(req, req.principal, out);
    if (req.resource !== undefined) this.#loadOne(req, req.resource, out);
    for (const e of req.entities) this.#loadOne(req, e, out);
    this.#loadBare(req, req.principal, out);
    if (req.resource !== undefined) this.#loadBare(req, req.resource, out);
    for (const e of req.entities) this.#loadBare(req, e, out);
  }

  #loadOne(req: RequestEntitySource, e: Entity, out: EntityJson[]): void {
    if (isBare(e)) return;
    const { type, id } = e.uid;
    if (isActionType(type)) throw actionEntity(req, e);
    if (this.#graph.lookup(type, id) >= 0) {
      throw invalidArgument(`${roleOf(req, e)}: entity ${formatUid(e.uid)} is defined by the bundle and cannot be redefined by a request`);
    }
    const key = uidKey(type, id);
    if (this.#defined.has(key)) throw invalidArgument(`${roleOf(req, e)}: entity ${formatUid(e.uid)} appears more than once in the request`);
    this.#defined.set(key, e);
    out.push(toCedarEntity(e));
  }

  #loadBare(req: RequestEntitySource, e: Entity, out: EntityJson[]): void {
    if (!isBare(e)) return;
    const { type, id } = e.uid;
    if (isActionType(type)) throw actionEntity(req, e);
    if (this.#graph.lookup(type, id) >= 0) return;
    const key = uidKey(type, id);
    if (this.#defined.has(key)) return;
    this.#defined.set(key, e);
    out.push(toCedarEntity(e));
  }

  /** Every ancestor key of `uid` over the request's and the bundle's entities, as Cedar computes them. */
  ancestorsOf(uid: EntityUid, into: Set<string>): void {
    into.clear();
    let pending: EntityUid[] | undefined;
    let current: EntityUid | undefined = uid;
    while (current !== undefined) {
      const i = this.#graph.lookup(current.type, current.id);
      const parents = i >= 0 ? this.#graph.parentsOf(i) : this.#defined.get(uidKey(current.type, current.id))?.parents;
      if (parents !== undefined) {
        for (const p of parents) {
          const key = uidKey(p.type, p.id);
          if (!into.has(key)) {
            into.add(key);
            (pending ??= []).push(p);
          }
        }
      }
      current = pending?.pop();
    }
  }

  /** Marks, in the bundle's graph, every static entity the request's own data mentions. */
  visitReachable(req: AuthzRequest, action: EntityUid): void {
    const g = this.#graph;
    if (g.size === 0) return;
    g.visitUid(req.principal.uid);
    g.visitUid(req.resource.uid);
    g.visitUid(action);
    for (const key in req.context) visitValue(g, req.context[key]!);
    this.#visitEntity(req.principal);
    this.#visitEntity(req.resource);
    for (const e of req.entities) this.#visitEntity(e);
  }

  #visitEntity(e: Entity): void {
    const g = this.#graph;
    g.visitUid(e.uid);
    for (const p of e.parents) g.visitUid(p);
    for (const key in e.attrs) visitValue(g, e.attrs[key]!);
    for (const key in e.tags) visitValue(g, e.tags[key]!);
  }
}

/**
 * Marks every static entity a value can refer to. Under a schema Cedar also reads a record
 * `{type, id}` in an entity-typed slot (context, attribute, tag, nested record or set) as an
 * entity reference, so such a record is followed wherever it appears: following one that
 * Cedar reads as a plain record only hands Cedar one more entity, never changes its answer.
 */
function visitValue(g: EntityGraph, v: Value): void {
  switch (v.kind) {
    case "entity":
      return g.visitUid(v.uid);
    case "set":
      for (const x of v.values) visitValue(g, x);
      return;
    case "record": {
      const { type, id } = v.fields;
      if (type?.kind === "string" && id?.kind === "string") g.visitUid({ type: type.value, id: id.value });
      for (const key in v.fields) visitValue(g, v.fields[key]!);
      return;
    }
    default:
      return;
  }
}

function actionEntity(req: RequestEntitySource, e: Entity) {
  return invalidArgument(`${roleOf(req, e)}: action entities come from the bundle's schema, not the request (${formatUid(e.uid)})`);
}
