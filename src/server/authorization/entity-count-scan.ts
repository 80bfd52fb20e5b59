import { type DescField, type DescMessage, ScalarType } from "@bufbuild/protobuf";
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";
import type { RequestLimits } from "../../decision/request-limits.js";
import { limitExceeded, type VerdictError } from "../../errors.js";
import { CheckRequestSchema, EntitySchema } from "../../gen/verdict/v1/authorization_pb.js";

/** BatchCheckRequest.checks. */
const CHECKS = 1;

/** Nesting protobuf-es decodes at most (its default recursion limit). */
const MAX_DEPTH = 100;

/** Counts read from an encoding. */
interface Counts {
  entities: number;
  parents: number;
}

const byNumber = new WeakMap<DescMessage, Map<number, DescField>>();
/** A message's fields by number, built once per message type. */
function fieldsOf(desc: DescMessage): Map<number, DescField> {
  let fields = byNumber.get(desc);
  if (fields === undefined) byNumber.set(desc, (fields = new Map(desc.fields.map((f) => [f.number, f]))));
  return fields;
}

/** The wire type decoding expects for a scalar (no packed or group fields occur in these messages). */
function wireTypeOf(scalar: ScalarType): WireType {
  switch (scalar) {
    case ScalarType.STRING:
    case ScalarType.BYTES:
      return WireType.LengthDelimited;
    case ScalarType.DOUBLE:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      return WireType.Bit64;
    case ScalarType.FLOAT:
    case ScalarType.FIXED32:
    case ScalarType.SFIXED32:
      return WireType.Bit32;
    default:
      return WireType.Varint;
  }
}

/**
 * Walks an encoded message by its schema without building it, counting request entities and
 * parents. Returns false when the encoding is not plain: a known field with another wire type
 * than declared, a record that runs past its enclosing length, nesting deeper than decoding
 * allows, a group. On a plain encoding decoding splits every record exactly as this walk does,
 * so the counts are exactly the decoded request's.
 */
function walk(reader: BinaryReader, end: number, desc: DescMessage, depth: number, counts: Counts): boolean {
  if (depth > MAX_DEPTH) return false;
  while (reader.pos < end) {
    const [no, wireType] = reader.tag();
    const field = fieldsOf(desc).get(no);
    if (field === undefined) {
      if (wireType === WireType.StartGroup || wireType === WireType.EndGroup) return false;
      reader.skip(wireType, no);
    } else if (!walkField(reader, field, wireType, depth, counts)) {
      return false;
    }
    if (reader.pos > end) return false;
  }
  return reader.pos === end;
}

function walkField(reader: BinaryReader, field: DescField, wireType: WireType, depth: number, counts: Counts): boolean {
  switch (field.fieldKind) {
    case "scalar":
      if (wireType !== wireTypeOf(field.scalar)) return false;
      reader.skip(wireType, field.number);
      return true;
    case "enum":
      if (wireType !== WireType.Varint) return false;
      reader.skip(wireType, field.number);
      return true;
    case "message":
    case "list": {
      if (wireType !== WireType.LengthDelimited) return false;
      const message = field.message;
      if (message === undefined) return false; // repeated scalars do not occur here
      if (field.fieldKind === "list") {
        if (field.parent.typeName === CheckRequestSchema.typeName) counts.entities++;
        else if (field.parent.typeName === EntitySchema.typeName) counts.parents++;
      }
      const len = reader.uint32();
      return walk(reader, reader.pos + len, message, depth + 1, counts);
    }
    case "map": {
      if (wireType !== WireType.LengthDelimited) return false;
      const len = reader.uint32();
      const end = reader.pos + len;
      while (reader.pos < end) {
        const [no, wt] = reader.tag();
        if (no === 1) {
          if (wt !== wireTypeOf(field.mapKey)) return false;
          reader.skip(wt, no);
        } else if (no === 2) {
          if (field.mapKind !== "message") {
            if (wt !== (field.mapKind === "scalar" ? wireTypeOf(field.scalar) : WireType.Varint)) return false;
            reader.skip(wt, no);
          } else {
            if (wt !== WireType.LengthDelimited) return false;
            const inner = reader.uint32();
            if (!walk(reader, reader.pos + inner, field.message, depth + 2, counts)) return false;
          }
        } else {
          if (wt === WireType.StartGroup || wt === WireType.EndGroup) return false;
          reader.skip(wt, no);
        }
        if (reader.pos > end) return false;
      }
      return reader.pos === end;
    }
  }
}

/** A CheckRequest's counts from its bytes, or undefined when they are not plain. */
function scanCheck(reader: BinaryReader, end: number): Counts | undefined {
  const counts: Counts = { entities: 0, parents: 0 };
  return walk(reader, end, CheckRequestSchema, 1, counts) ? counts : undefined;
}

const overEntities = (n: number, limits: RequestLimits) => limitExceeded(`entities: ${n} entities is over the limit of ${limits.maxEntities}`);
const overParents = (n: number, limits: RequestLimits) => limitExceeded(`entities: ${n} parent edges is over the limit of ${limits.maxParentEdges} (limits.maxParentEdges)`);

/** The refusal a CheckRequest's bytes already show (too many entities or parent edges), or undefined. */
export function checkTooLarge(bytes: Uint8Array, limits: RequestLimits): VerdictError | undefined {
  try {
    const counts = scanCheck(new BinaryReader(bytes), bytes.length);
    if (counts === undefined) return undefined;
    if (counts.entities > limits.maxEntities) return overEntities(counts.entities, limits);
    if (counts.parents > limits.maxParentEdges) return overParents(counts.parents, limits);
  } catch {
    // Malformed: decoding reports it with its own message.
  }
  return undefined;
}

/** The same for a BatchCheckRequest as a whole: too many checks, or entities over the batch budget. */
export function batchTooLargeEncoded(bytes: Uint8Array, limits: RequestLimits): VerdictError | undefined {
  try {
    const reader = new BinaryReader(bytes);
    let checks = 0;
    let entities = 0;
    while (reader.pos < bytes.length) {
      const [field, wireType] = reader.tag();
      if (wireType !== WireType.LengthDelimited) return undefined;
      const len = reader.uint32();
      const start = reader.pos;
      if (start + len > bytes.length) return undefined;
      if (field === CHECKS) {
        checks++;
        const counts = scanCheck(reader, start + len);
        if (counts === undefined) return undefined;
        entities += counts.entities;
      } else {
        return undefined; // BatchCheckRequest has no other field
      }
    }
    if (checks > limits.maxBatchSize) return limitExceeded(`checks: ${checks} checks is over the batch limit of ${limits.maxBatchSize}`);
    if (entities > limits.maxBatchEntities) {
      return limitExceeded(`checks: ${entities} entities over the batch is over the limit of ${limits.maxBatchEntities} (limits.maxBatchEntities)`);
    }
  } catch {
    // As above.
  }
  return undefined;
}
