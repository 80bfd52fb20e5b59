import { hash } from "node:crypto";
import { toBinary } from "@bufbuild/protobuf";
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";
import { type CheckRequest, CheckRequestSchema } from "../../gen/verdict/v1/authorization_pb.js";

/** CheckRequest's `request_id`: correlation only, so it is left out of the fingerprint. */
const REQUEST_ID_FIELD = 6;

/** What the Check front door learns from a request's bytes without decoding them. */
export interface CheckFingerprint {
  /**
   * SHA-256 (base64) of the encoding without its `request_id` fields; undefined when the bytes
   * are not in the only shape a fingerprint is given to (then the request is decoded in full).
   */
  readonly fingerprint: string | undefined;
  readonly requestId: string;
  /**
   * Whether `decoded` (these bytes, decoded) re-encodes to exactly the fingerprinted bytes:
   * only then may a decision be remembered under the fingerprint.
   */
  canonical(decoded: CheckRequest): boolean;
}

const NONE: CheckFingerprint = { fingerprint: undefined, requestId: "", canonical: () => false };

/**
 * Fingerprints an encoded verdict.v1.CheckRequest so a repeat can be answered from the cache
 * without decoding, mapping, guarding or hashing the model again.
 *
 * Why equal fingerprints mean equal questions, for every byte string: a decision is remembered
 * under a fingerprint only when the request's bytes without `request_id` (S) are exactly
 * protobuf-es's own encoding of what they decoded to (`canonical`). Another byte string with
 * that fingerprint is S with `request_id` records inserted between S's top-level records
 * (every other record is kept and hashed). S being canonical, each of its records is one whole,
 * exactly delimited field; the inserted records are tag 6, wire type 2, read as the decoder
 * reads a string. So the decoder splits both byte strings the same way and decodes the same
 * question, whatever the inserted `request_id`s. Anything else (another field number or wire
 * type at the top level, a truncation) gets no fingerprint, and the full path decides it.
 */
export function fingerprintCheck(bytes: Uint8Array): CheckFingerprint {
  let stripped: Uint8Array;
  let requestId = "";
  try {
    const reader = new BinaryReader(bytes);
    const kept: Uint8Array[] = [];
    let from = 0;
    while (reader.pos < reader.len) {
      const start = reader.pos;
      const [field, wireType] = reader.tag();
      // Fields 1-5 (the question) and 6 are all length-delimited; anything else is left to decoding.
      if (wireType !== WireType.LengthDelimited || field > REQUEST_ID_FIELD) return NONE;
      if (field === REQUEST_ID_FIELD) {
        if (start > from) kept.push(bytes.subarray(from, start));
        requestId = reader.string(true); // proto3 strings are strict UTF-8, as in decoding
        from = reader.pos;
      } else {
        reader.skip(wireType, field);
      }
    }
    if (from < bytes.length) kept.push(bytes.subarray(from));
    // Usually request_id is encoded last (field order), leaving one piece to hash as it is.
    stripped = kept.length === 1 ? kept[0]! : Buffer.concat(kept);
  } catch {
    return NONE;
  }
  return {
    fingerprint: hash("sha256", stripped, "base64"),
    requestId,
    canonical: (decoded) => equalBytes(toBinary(CheckRequestSchema, { ...decoded, requestId: "" }, { writeUnknownFields: false }), stripped),
  };
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length));
}
