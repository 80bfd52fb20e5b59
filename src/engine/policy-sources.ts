/** The text a bundle hands the engine; the engine never reads files itself. */
export interface SourceFile {
  /** Path inside the bundle, with forward slashes; used in diagnostics and default policy ids. */
  readonly path: string;
  readonly text: string;
}

/** Everything Cedar needs from a bundle. */
export interface PolicySources {
  readonly policyFiles: readonly SourceFile[];
  /** `schema.cedarschema` (Cedar text) or `schema.cedarschema.json`. */
  readonly schema?: SourceFile & { readonly format: "cedar" | "json" };
  /** `entities.json`: static entities in Cedar's JSON entity format. */
  readonly entities?: SourceFile;
}

/** One problem found while compiling a bundle, precise enough to fix it. */
export interface Diagnostic {
  readonly file: string;
  readonly line?: number;
  readonly column?: number;
  readonly policyId?: string;
  readonly message: string;
}

/** Formats a diagnostic as `file:line:col [policy id]: message`. */
export function formatDiagnostic(d: Diagnostic): string {
  const where = d.line === undefined ? d.file : `${d.file}:${d.line}${d.column === undefined ? "" : `:${d.column}`}`;
  return `${where}${d.policyId === undefined ? "" : ` [${d.policyId}]`}: ${d.message}`;
}

/** A bundle the engine refused, with every diagnostic found. */
export class CompileError extends Error {
  readonly diagnostics: readonly Diagnostic[];

  constructor(diagnostics: readonly Diagnostic[]) {
    super(`bundle rejected:\n${diagnostics.map((d) => `  ${formatDiagnostic(d)}`).join("\n")}`);
    this.name = "CompileError";
    this.diagnostics = diagnostics;
  }
}
