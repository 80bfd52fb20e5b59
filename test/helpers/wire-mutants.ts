import { toBinary } from "@bufbuild/protobuf";
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";
import { type CheckRequest, CheckRequestSchema } from "../../src/gen/verdict/v1/authorization_pb.js";
import { rng } from "./random.js";
import { concat, lenField, utf8, varint } from "./wire.js";

/*
 * Encodings and mis-encodings of a protobuf message at the level of its top-level records, for
 * properties that compare a shortcut over raw bytes with real protobuf-es decoding.
 */

/** One top-level record of an encoding: its tag's field and wire type, and its bytes. */
export interface Rec {
  readonly field: number;
  readonly wireType: number;
  readonly bytes: Uint8Array;
}

/** Splits a well-formed encoding into its top-level records. */
export function records(bytes: Uint8Array): Rec[] {
  const reader = new BinaryReader(bytes);
  const out: Rec[] = [];
  while (reader.pos < reader.len) {
    const start = reader.pos;
    const [field, wireType] = reader.tag();
    reader.skip(wireType, field);
    out.push({ field, wireType, bytes: bytes.subarray(start, reader.pos) });
  }
  return out;
}

/** The payload of a length-delimited record. */
function payload(rec: Rec): Uint8Array {
  const reader = new BinaryReader(rec.bytes);
  reader.tag();
  return reader.bytes();
}

/** A varint padded with `extra` redundant continuation bytes (non-minimal, still the same number). */
function paddedVarint(n: number, extra: number): number[] {
  const v = varint(n);
  if (extra === 0) return v;
  v[v.length - 1]! |= 0x80;
  for (let i = 1; i < extra; i++) v.push(0x80);
  v.push(0x00);
  return v;
}

export const withTag = (field: number, wireType: number, rest: number[] | Uint8Array) => concat(Uint8Array.from(varint((field << 3) | wireType)), Uint8Array.from(rest));

/** The ways a caller can encode (or mis-encode) a request, each a function of a seed. */
export const MUTANTS: Record<string, (recs: Rec[], r: ReturnType<typeof rng>) => Rec[] | Uint8Array> = {
  reorder: (recs, r) => [...recs].sort(() => r.next() - 0.5),
  duplicate: (recs, r) => {
    const i = r.int(recs.length);
    return [...recs.slice(0, i + 1), recs[i]!, ...recs.slice(i + 1)];
  },
  unknownField: (recs, r) => {
    const field = 7 + r.int(100);
    const kind = r.int(4);
    const bytes =
      kind === 0 ? withTag(field, WireType.Varint, varint(r.int(1000))) : kind === 1 ? withTag(field, WireType.Bit32, [1, 2, 3, 4]) : kind === 2 ? withTag(field, WireType.Bit64, [1, 2, 3, 4, 5, 6, 7, 8]) : lenField(field, utf8("x"));
    const i = r.int(recs.length + 1);
    return [...recs.slice(0, i), { field, wireType: 0, bytes }, ...recs.slice(i)];
  },
  wrongWireType: (recs, r) => {
    const i = r.int(recs.length);
    const rec = recs[i]!;
    const rest = rec.bytes.subarray(varint((rec.field << 3) | rec.wireType).length);
    const bytes = withTag(rec.field, r.pick([WireType.Varint, WireType.Bit32, WireType.Bit64]), rest);
    return [...recs.slice(0, i), { field: rec.field, wireType: 0, bytes }, ...recs.slice(i + 1)];
  },
  nonMinimalVarint: (recs, r) => {
    const i = r.int(recs.length);
    const rec = recs[i]!;
    if (rec.wireType !== WireType.LengthDelimited) return recs;
    const body = payload(rec);
    const bytes = r.bool()
      ? concat(Uint8Array.from(paddedVarint((rec.field << 3) | 2, 1 + r.int(3))), Uint8Array.from(varint(body.length)), body)
      : concat(Uint8Array.from(varint((rec.field << 3) | 2)), Uint8Array.from(paddedVarint(body.length, 1 + r.int(3))), body);
    return [...recs.slice(0, i), { ...rec, bytes }, ...recs.slice(i + 1)];
  },
  split: (recs, r) => {
    // A message record as two records of the same field: merge semantics decode it the same.
    const i = r.int(recs.length);
    const rec = recs[i]!;
    if (rec.field > 3) return recs;
    const inner = records(payload(rec));
    if (inner.length < 2) return recs;
    const cut = 1 + r.int(inner.length - 1);
    const a = lenField(rec.field, concat(...inner.slice(0, cut).map((x) => x.bytes)));
    const b = lenField(rec.field, concat(...inner.slice(cut).map((x) => x.bytes)));
    return [...recs.slice(0, i), { ...rec, bytes: a }, { ...rec, bytes: b }, ...recs.slice(i + 1)];
  },
  merge: (recs, r) => {
    // Two records of one field as one record: their payloads concatenated.
    const i = r.int(recs.length);
    const j = recs.findIndex((x, k) => k > i && x.field === recs[i]!.field && x.wireType === 2);
    if (j < 0 || recs[i]!.wireType !== 2) return recs;
    const bytes = lenField(recs[i]!.field, concat(payload(recs[i]!), payload(recs[j]!)));
    return [...recs.slice(0, i), { ...recs[i]!, bytes }, ...recs.slice(i + 1, j), ...recs.slice(j + 1)];
  },
  truncate: (recs, r) => {
    const all = concat(...recs.map((x) => x.bytes));
    return all.subarray(0, r.int(all.length));
  },
  shortLength: (recs, r) => {
    // A record that claims fewer (or more) bytes than its payload: the rest is read as other fields.
    const i = r.int(recs.length);
    const rec = recs[i]!;
    if (rec.wireType !== 2) return recs;
    const body = payload(rec);
    const claimed = Math.max(0, body.length + (r.bool() ? -1 - r.int(4) : 1 + r.int(4)));
    const bytes = concat(Uint8Array.from(varint((rec.field << 3) | 2)), Uint8Array.from(varint(claimed)), body);
    return [...recs.slice(0, i), { ...rec, bytes }, ...recs.slice(i + 1)];
  },
  requestIds: (recs, r) => {
    // request_id records anywhere: these alone keep the fingerprint.
    const out = [...recs];
    for (let n = 1 + r.int(3); n > 0; n--) out.splice(r.int(out.length + 1), 0, { field: 6, wireType: 2, bytes: lenField(6, utf8(`rid-${r.int(1000)}`)) });
    return out;
  },
  smuggledRequestId: (recs, r) => {
    // The published attack: field 6 as a varint whose value the decoder takes for a length,
    // then a real request_id record whose payload is more CheckRequest fields.
    const smuggled = concat(...recs.filter(() => r.bool()).map((x) => x.bytes));
    const extra = concat(withTag(6, WireType.Varint, [0x02]), lenField(6, smuggled));
    return [...recs, { field: 6, wireType: 0, bytes: extra }];
  },
};

/** Applies a mutation; one that cannot apply to records an earlier one broke leaves them as they are. */
export function mutate(name: string, recs: Rec[], r: ReturnType<typeof rng>): Rec[] | Uint8Array {
  try {
    return MUTANTS[name]!(recs, r);
  } catch {
    return recs;
  }
}

/** A second encoding: a mutation of the first's bytes as they are, or a fresh encoding of `req`. */
export function another(req: CheckRequest, first: Uint8Array, seed: number, names = Object.keys(MUTANTS)): { bytes: Uint8Array; how: string[] } {
  const r = rng(seed);
  if (r.bool()) return encoding(req, seed);
  let recs: Rec[];
  try {
    recs = records(first);
  } catch {
    return { bytes: first, how: ["same bytes"] };
  }
  const name = r.pick(names);
  return { bytes: encode(mutate(name, recs, r)), how: [`first+${name}`] };
}

export const encode = (recs: Rec[] | Uint8Array) => (recs instanceof Uint8Array ? recs : concat(...recs.map((x) => x.bytes)));

/** A random encoding of `req` after up to three mutations; names the mutations for failures. */
export function encoding(req: CheckRequest, seed: number): { bytes: Uint8Array; how: string[] } {
  const r = rng(seed);
  let recs: Rec[] | Uint8Array = records(toBinary(CheckRequestSchema, req));
  const how: string[] = [];
  for (let n = r.int(4); n > 0 && !(recs instanceof Uint8Array); n--) {
    const name = r.pick(Object.keys(MUTANTS));
    how.push(name);
    recs = mutate(name, recs, r);
  }
  return { bytes: encode(recs), how };
}

