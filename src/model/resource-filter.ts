import type { EntityUid, Value } from "./entity.js";

/**
 * The filter language of resource query planning: a condition on one resource of a known type,
 * small enough for an application to turn into a database query (see planning/sql-filter.ts).
 * Engine-neutral: built by the engine from Cedar's residuals, read by transports and translators.
 *
 * Semantics, for a resource R that conforms to the bundle's schema:
 * - an `attribute` operand is R's attribute at that path (through nested records); when it is
 *   absent, every comparison, containment, ancestry or pattern on it is false;
 * - `has` is true when the attribute at that path is present;
 * - `in` is true when the operand descends from the ancestor through entity parents,
 *   transitively. Cedar's `in` also holds for the entity itself: a plan states that case as a
 *   separate `==` (and leaves it out when the types show it cannot happen);
 * - `<`, `<=`, `>`, `>=` compare longs; `==` and `!=` compare any value (entities by uid).
 */
export type ResourceFilter =
  | { readonly op: "and"; readonly args: readonly ResourceFilter[] }
  | { readonly op: "or"; readonly args: readonly ResourceFilter[] }
  | { readonly op: "not"; readonly arg: ResourceFilter }
  | { readonly op: ComparisonOp; readonly left: Operand; readonly right: Operand }
  | { readonly op: "in"; readonly left: Operand; readonly ancestor: EntityUid }
  | { readonly op: "contains"; readonly set: Operand; readonly element: Operand }
  | { readonly op: "has"; readonly path: readonly string[] }
  | { readonly op: "like"; readonly left: Operand; readonly pattern: readonly PatternElement[] };

/** The comparison operators. */
export type ComparisonOp = "==" | "!=" | "<" | "<=" | ">" | ">=";

/** What a comparison, containment or pattern reads: the resource, one of its attributes, or a literal. */
export type Operand =
  | { readonly kind: "resource" }
  | { readonly kind: "attribute"; readonly path: readonly string[] }
  | { readonly kind: "value"; readonly value: Value };

/** One piece of a `like` pattern: literal characters, or any run of characters. */
export type PatternElement = { readonly literal: string } | { readonly wildcard: true };

/** How a plan answers. */
export type PlanKind = "always_allowed" | "always_denied" | "conditional";

/** What the engine planned for one principal, action and resource type. */
export type Plan =
  | { readonly kind: "always_allowed" | "always_denied"; readonly permitPolicies: readonly string[]; readonly forbidPolicies: readonly string[] }
  | { readonly kind: "conditional"; readonly filter: ResourceFilter; readonly permitPolicies: readonly string[]; readonly forbidPolicies: readonly string[] };

/** A plan as answered to a caller. */
export type PlanResult = Plan & { readonly bundleRevision: string; readonly requestId: string };
