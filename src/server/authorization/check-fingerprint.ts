import { hash } from "node:crypto";
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";

/** CheckRequest's `request_id`: correlation only, so it is left out of the fingerprint. */
const REQUEST_ID_FIELD = 6;

/** What the Check front door learns from a request's bytes without decoding them. */
export interface CheckFingerprint {
  /** SHA-256 (base64) of the encoding without `request_id`: equal bytes, equal question. */
  readonly fingerprint: string;
  readonly requestId: string;
}

/**
 * Walks the top-level fields of an encoded verdict.v1.CheckRequest, hashing every byte except
 * the `request_id` fields. Identical bytes decode to the identical request, so a repeat can be
 * answered from the cache without decoding, mapping, guarding or hashing the model again.
 * Bytes that are not well-formed at the top level are fingerprinted whole: decoding them fails
 * the same way every time, so nothing is ever remembered under that fingerprint.
 */
export function fingerprintCheck(bytes: Uint8Array): CheckFingerprint {
  try {
    const reader = new BinaryReader(bytes);
    const kept: Uint8Array[] = [];
    let requestId = "";
    let from = 0;
    while (reader.pos < reader.len) {
      const start = reader.pos;
      const [field, wireType] = reader.tag();
      if (field === REQUEST_ID_FIELD && wireType === WireType.LengthDelimited) {
        if (start > from) kept.push(bytes.subarray(from, start));
        requestId = reader.string(true); // proto3 strings are strict UTF-8, as in decoding
        from = reader.pos;
      } else {
        reader.skip(wireType, field);
      }
    }
    if (from < bytes.length) kept.push(bytes.subarray(from));
    // Usually request_id is encoded last (field order), leaving one piece to hash as it is.
    const hashed = kept.length === 1 ? kept[0]! : Buffer.concat(kept);
    return { fingerprint: hash("sha256", hashed, "base64"), requestId };
  } catch {
    return { fingerprint: `malformed:${hash("sha256", bytes, "base64")}`, requestId: "" };
  }
}
