/** Plain, transport-free shapes that every folder shares. */

/** Identity of one entity: `App::User` / `alice`. */
export interface EntityUid {
  readonly type: string;
  readonly id: string;
}

/** A Cedar value, independent of any wire or engine encoding. */
export type Value =
  | { readonly kind: "bool"; readonly value: boolean }
  | { readonly kind: "long"; readonly value: number }
  | { readonly kind: "string"; readonly value: string }
  | { readonly kind: "set"; readonly values: readonly Value[] }
  | { readonly kind: "record"; readonly fields: Readonly<Record<string, Value>> }
  | { readonly kind: "entity"; readonly uid: EntityUid }
  | { readonly kind: "extension"; readonly fn: string; readonly arg: string };

/** An entity with attributes, direct parents and tags. */
export interface Entity {
  readonly uid: EntityUid;
  readonly attrs: Readonly<Record<string, Value>>;
  readonly parents: readonly EntityUid[];
  readonly tags: Readonly<Record<string, Value>>;
}

/** Formats a uid the way Cedar prints it, for logs and messages only (never for keys or policy text). */
export function formatUid(uid: EntityUid): string {
  return `${uid.type}::${JSON.stringify(uid.id)}`;
}
