import { createHmac, timingSafeEqual } from "node:crypto";

/** Why a bundle was stored: an operator's push, or an operator's ActivateBundle (the only way back). */
export type RecordKind = "push" | "activate";

/**
 * What a replica stored about an operator's activation, next to the archive (in Redis or the
 * local state folder). The seal binds these fields; the digest binds the archive, which every
 * reader rebuilds and compares.
 */
export interface FleetRecord {
  readonly revision: string;
  readonly digest: string;
  /** When the bundle was signed (seconds since the epoch); undefined for an unsigned bundle. */
  readonly signedAt: number | undefined;
  /**
   * Activation sequence: strictly increasing across the fleet's activations (a hybrid clock:
   * at least the wall clock in ms, and above every sequence the writer has seen), so a replayed
   * older record is always lower than the one it would replace.
   */
  readonly seq: number;
  readonly kind: RecordKind;
}

/** A record with its seal, as stored. */
export interface SealedRecord extends FleetRecord {
  readonly mac: string;
}

/**
 * Seals fleet records with an HMAC keyed by the fleet's secret (`cache.macSecret`), derived for
 * this one use so a sealed cache value can never pass as a record. The scope (the Redis
 * namespace, or "local") is part of the seal, so a record cannot be moved between fleets.
 */
export class FleetRecordSealer {
  readonly #key: Buffer;
  readonly #scope: string;

  constructor(secret: string, scope: string) {
    this.#key = createHmac("sha256", secret).update("verdict fleet record v1").digest();
    this.#scope = scope;
  }

  seal(record: FleetRecord): SealedRecord {
    return { ...record, mac: this.#mac(record) };
  }

  /** Whether `record` carries this fleet's seal over exactly its fields. */
  verify(record: SealedRecord): boolean {
    const want = Buffer.from(this.#mac(record), "hex");
    const got = Buffer.from(record.mac, "hex");
    return got.length === want.length && timingSafeEqual(got, want);
  }

  #mac(r: FleetRecord): string {
    const fields = [this.#scope, r.revision, r.digest, r.signedAt ?? null, r.seq, r.kind];
    return createHmac("sha256", this.#key).update(JSON.stringify(fields)).digest("hex");
  }
}

/** The next activation sequence after `seen` (and never behind the wall clock). */
export function nextSequence(...seen: number[]): number {
  return Math.max(Date.now(), ...seen.map((s) => s + 1));
}

/** A record's fields as strings (Redis hash fields, JSON file). */
export function recordFields(r: SealedRecord): Record<string, string> {
  return { revision: r.revision, digest: r.digest, signedAt: r.signedAt === undefined ? "" : String(r.signedAt), seq: String(r.seq), kind: r.kind, mac: r.mac };
}

/** Parses stored fields; undefined when any is missing or malformed (an unsealed or foreign record). */
export function parseRecord(f: Readonly<Record<string, string | undefined>>): SealedRecord | undefined {
  const { revision, digest, signedAt, seq, kind, mac } = f;
  if (revision === undefined || digest === undefined || signedAt === undefined || seq === undefined || mac === undefined) return undefined;
  if ((kind !== "push" && kind !== "activate") || !/^\d{1,16}$/.test(seq) || !/^(\d{1,16})?$/.test(signedAt) || !/^[0-9a-f]{64}$/.test(mac)) return undefined;
  return { revision, digest, signedAt: signedAt === "" ? undefined : Number(signedAt), seq: Number(seq), kind, mac };
}
