/** Hand-built protobuf bytes, for inputs protobuf-es refuses to encode (deep nesting, bad UTF-8). */
export function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return out;
}

/** A length-delimited field: tag (field, wire type 2), length, bytes. */
export function lenField(field: number, bytes: Uint8Array | number[]): Uint8Array {
  const b = bytes instanceof Uint8Array ? bytes : Uint8Array.from(bytes);
  return Buffer.concat([Uint8Array.from(varint((field << 3) | 2)), Uint8Array.from(varint(b.length)), b]);
}

/** Concatenates byte arrays. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  return Buffer.concat(parts);
}

/** Bytes of a UTF-8 string. */
export const utf8 = (s: string) => new TextEncoder().encode(s);
