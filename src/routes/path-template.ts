/** A compiled path template such as `/v1/tenants/{tenant}/documents/{id}`. */
export interface PathTemplate {
  readonly source: string;
  /** Captured parameters when the normalized segments match, else undefined. */
  match(segments: readonly string[]): Record<string, string> | undefined;
}

/** Compiles a template; `{name}` captures exactly one non-empty segment. */
export function compileTemplate(source: string): PathTemplate {
  const parts = source.split("/").filter((s) => s !== "");
  const params = parts.map((p) => /^\{([A-Za-z_][A-Za-z0-9_]*)\}$/.exec(p)?.[1]);
  return {
    source,
    match(segments) {
      if (segments.length !== parts.length) return undefined;
      const out: Record<string, string> = {};
      for (let i = 0; i < parts.length; i++) {
        const name = params[i];
        if (name !== undefined) out[name] = segments[i]!;
        else if (parts[i] !== segments[i]) return undefined;
      }
      return out;
    },
  };
}

/** Replaces numbers and uuids by placeholders, so unmatched paths group into templates. */
export function templateOf(segments: readonly string[]): string {
  return `/${segments
    .map((s) => (/^\d+$/.test(s) ? "{n}" : /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s) ? "{uuid}" : s))
    .join("/")}`;
}
