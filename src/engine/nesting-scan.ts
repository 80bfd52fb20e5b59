/**
 * Deepest bracket nesting in Cedar policy text, ignoring string literals and comments.
 * cedar-wasm overflows its wasm stack (and poisons the instance) at about 140 levels, so
 * policy text is measured before it is ever handed to the parser.
 */
export function maxNestingDepth(text: string): number {
  let depth = 0;
  let max = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      for (i++; i < text.length; i++) {
        const s = text.charCodeAt(i);
        if (s === 0x5c /* \ */) i++;
        else if (s === 0x22) break;
      }
    } else if (c === 0x2f /* / */ && text.charCodeAt(i + 1) === 0x2f) {
      while (i < text.length && text.charCodeAt(i) !== 0x0a) i++;
    } else if (c === 0x28 || c === 0x5b || c === 0x7b /* ( [ { */) {
      if (++depth > max) max = depth;
    } else if (c === 0x29 || c === 0x5d || c === 0x7d /* ) ] } */) {
      depth--;
    }
  }
  return max;
}

/** Converts a UTF-16 offset into 1-based line and column, for diagnostics. */
export function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 0x0a) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}
