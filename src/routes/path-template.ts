/** A compiled path template such as `/v1/tenants/{tenant}/documents/{id}`. */
export interface PathTemplate {
  readonly source: string;
  /** Parameter names, in order. */
  readonly params: readonly string[];
  /** Captured parameters when the normalized segments match, else undefined. */
  match(segments: readonly string[]): Record<string, string> | undefined;
}

const PARAM = /^\{([A-Za-z_][A-Za-z0-9_]*)\}$/;

/** Compiles a template; `{name}` captures exactly one non-empty segment. Throws on a bad template. */
export function compileTemplate(source: string): PathTemplate {
  const parts = source.split("/").filter((s) => s !== "");
  const params = parts.map((p) => PARAM.exec(p)?.[1]);
  const names = params.filter((p): p is string => p !== undefined);
  if (new Set(names).size !== names.length) throw new Error("a path parameter appears twice");
  const bad = parts.find((p, i) => params[i] === undefined && /[{}%?#\\]/.test(p));
  if (bad !== undefined) throw new Error(`segment "${bad}" is neither literal text nor one {parameter}`);
  return {
    source,
    params: names,
    match(segments) {
      if (segments.length !== parts.length) return undefined;
      const out: Record<string, string> = Object.create(null);
      for (let i = 0; i < parts.length; i++) {
        const name = params[i];
        if (name !== undefined) out[name] = segments[i]!;
        else if (parts[i] !== segments[i]) return undefined;
      }
      return out;
    },
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Replaces numbers and uuids by placeholders, so unmatched paths group into few templates. */
export function templateOf(segments: readonly string[]): string {
  const out = `/${segments.map(placeholder).join("/")}`;
  return out.length > MAX_TEMPLATE ? `${out.slice(0, MAX_TEMPLATE)}…` : out;
}

/** Inventory entries stay short whatever a client sends. */
const MAX_TEMPLATE = 200;

function placeholder(s: string): string {
  if (/^\d+$/.test(s)) return "{n}";
  if (UUID.test(s)) return "{uuid}";
  if (/^[0-9a-f]{16,}$/i.test(s)) return "{hex}";
  return s.length > 64 ? "{long}" : s;
}
