import type { DetailedError, PolicyJson } from "@cedar-policy/cedar-wasm/nodejs";
import type { CedarModule } from "./cedar-runtime.js";
import { lineAndColumn } from "./nesting-scan.js";
import type { Diagnostic, SourceFile } from "./policy-sources.js";

/** One static policy of a bundle, with where it came from. */
export interface PolicyEntry {
  readonly id: string;
  readonly effect: "permit" | "forbid";
  readonly text: string;
  readonly file: string;
  /** 1-based line of the policy's first character in its file. */
  readonly line: number;
  /** Offset of the policy text in its file, to place Cedar's source locations. */
  readonly offset: number;
  /** Cedar's JSON form, read once at compile time for the policy's scope and entity literals. */
  readonly json: PolicyJson;
}

/** Maps a Cedar error with source locations inside `text` (which starts at `offset` of `file`). */
export function diagnosticFrom(
  err: DetailedError,
  file: string,
  fileText: string,
  offset: number,
  policyId?: string,
): Diagnostic {
  const loc = err.sourceLocations?.[0];
  const at = loc === undefined ? lineAndColumn(fileText, offset) : lineAndColumn(fileText, offset + loc.start);
  const help = err.help ? ` (${err.help})` : "";
  return { file, line: at.line, column: at.column, ...(policyId === undefined ? {} : { policyId }), message: `${err.message}${help}` };
}

/**
 * Splits every policy file into policies, naming each by its `@id("…")` annotation or
 * `path:index`. Collects every problem (parse errors, templates, duplicate ids) rather than
 * stopping at the first, so an author fixes a bundle in one pass.
 */
export function catalogPolicies(cedar: CedarModule, files: readonly SourceFile[], diagnostics: Diagnostic[]): PolicyEntry[] {
  const entries: PolicyEntry[] = [];
  const seen = new Map<string, PolicyEntry>();
  for (const file of files) {
    const parts = cedar.policySetTextToParts(file.text);
    if (parts.type === "failure") {
      for (const e of parts.errors) diagnostics.push(diagnosticFrom(e, file.path, file.text, 0));
      continue;
    }
    for (const t of parts.policy_templates) {
      const offset = Math.max(0, file.text.indexOf(t));
      diagnostics.push({
        file: file.path,
        line: lineAndColumn(file.text, offset).line,
        message: "policy templates (?principal / ?resource slots) are not supported in bundles; write a static policy",
      });
    }
    let lineAt = 0;
    let line = 1;
    // Cedar lists a file's policies by its internal ids ("policy0", "policy1", "policy10", …),
    // not in file order: place each one in the file, then walk them in file order.
    const taken = new Set<number>();
    const placed = parts.policies.map((text) => {
      let at = file.text.indexOf(text);
      while (at >= 0 && taken.has(at)) at = file.text.indexOf(text, at + 1);
      taken.add(at);
      return { text, at };
    });
    placed.sort((a, b) => a.at - b.at);
    placed.forEach(({ text, at }, index) => {
      const offset = Math.max(0, at);
      // Lines are counted incrementally: a bundle of thousands of policies must not rescan its file per policy.
      for (; lineAt < offset; lineAt++) if (file.text.charCodeAt(lineAt) === 0x0a) line++;
      const json = cedar.policyToJson(text);
      if (json.type === "failure") {
        for (const e of json.errors) diagnostics.push(diagnosticFrom(e, file.path, file.text, offset));
        return;
      }
      const id = json.json.annotations?.["id"] ?? `${file.path}:${index}`;
      const entry: PolicyEntry = { id, effect: json.json.effect, text, file: file.path, line, offset, json: json.json };
      const prior = seen.get(id);
      if (prior !== undefined) {
        diagnostics.push({
          file: file.path,
          line,
          policyId: id,
          message: `duplicate policy id "${id}" (first defined at ${prior.file}:${prior.line})`,
        });
        return;
      }
      seen.set(id, entry);
      entries.push(entry);
    });
  }
  return entries;
}
