import type { Diagnostic } from "../engine/policy-sources.js";
import { formatDiagnostic } from "../engine/policy-sources.js";

/** A bundle that cannot become active, with the reasons an author needs to fix it. */
export class BundleError extends Error {
  readonly diagnostics: readonly Diagnostic[];

  constructor(message: string, diagnostics: readonly Diagnostic[] = []) {
    super(diagnostics.length === 0 ? message : `${message}:\n${diagnostics.map((d) => `  ${formatDiagnostic(d)}`).join("\n")}`);
    this.name = "BundleError";
    this.diagnostics = diagnostics;
  }
}
