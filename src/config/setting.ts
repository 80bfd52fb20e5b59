/** One configuration setting: its type, default and bounds. The path gives its names. */
export interface Setting<T> {
  readonly kind: "string" | "int" | "number" | "bool" | "addr" | "enum" | "optional-string";
  readonly default: T;
  readonly min?: number;
  readonly max?: number;
  readonly values?: readonly string[];
  /** One line for the README's configuration table. */
  readonly doc: string;
  /** Extra environment variable names accepted besides the derived `VERDICT_…` one. */
  readonly envAliases?: readonly string[];
}

/** A nested table of settings. */
export interface SpecTree {
  readonly [key: string]: Setting<unknown> | SpecTree;
}

/** The config type a spec tree describes. */
export type ConfigOf<S> = { readonly [K in keyof S]: S[K] extends Setting<infer T> ? T : ConfigOf<S[K]> };

export const str = (d: string, doc: string, envAliases?: string[]): Setting<string> => ({ kind: "string", default: d, doc, ...(envAliases ? { envAliases } : {}) });
export const optStr = (doc: string, envAliases?: string[]): Setting<string | undefined> => ({ kind: "optional-string", default: undefined, doc, ...(envAliases ? { envAliases } : {}) });
export const int = (d: number, min: number, max: number, doc: string): Setting<number> => ({ kind: "int", default: d, min, max, doc });
export const num = (d: number, min: number, max: number, doc: string): Setting<number> => ({ kind: "number", default: d, min, max, doc });
export const bool = (d: boolean, doc: string): Setting<boolean> => ({ kind: "bool", default: d, doc });
export const addr = (d: string, doc: string): Setting<string> => ({ kind: "addr", default: d, doc });
export const oneOf = <T extends string>(d: T, values: readonly T[], doc: string): Setting<T> => ({ kind: "enum", default: d, values, doc });

/** True for a leaf of the spec tree. */
export function isSetting(x: Setting<unknown> | SpecTree): x is Setting<unknown> {
  return typeof (x as Setting<unknown>).kind === "string" && "doc" in x;
}
