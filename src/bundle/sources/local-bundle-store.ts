import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { BundleOrigin, BundlePublisher, PublishedBundle } from "../bundle-registry.js";
import { type FleetRecordSealer, nextSequence, parseRecord, recordFields } from "./fleet-record.js";

/** The stored archive and what its record says about it. */
export interface StoredBundle {
  readonly archive: Uint8Array;
  readonly origin: BundleOrigin;
}

/**
 * Keeps the bundle an operator last pushed or re-activated on local disk (write, then rename,
 * so a crash never leaves half an archive), so a replica without Redis restarts on it. Beside it,
 * `active.json` holds the same sealed record as the fleet's (with `cache.macSecret` when set):
 * read back, an archive is verified, compiled and tested again like any other source, and unless
 * its record is a sealed activation it may not take the replica back to an older signature — so
 * an older signed archive dropped into the folder does not roll the replica back at restart.
 */
export class LocalBundleStore implements BundlePublisher {
  readonly #dir: string;
  readonly #sealer: FleetRecordSealer | undefined;
  #lastSeq = 0;

  constructor(dir: string, sealer?: FleetRecordSealer) {
    this.#dir = dir;
    this.#sealer = sealer;
  }

  async publish(bundle: PublishedBundle): Promise<void> {
    await mkdir(this.#dir, { recursive: true });
    await this.#replace("active.tar.gz", bundle.archive);
    const record = { revision: bundle.revision, digest: bundle.digest, signedAt: bundle.signedAt, seq: (this.#lastSeq = nextSequence(this.#lastSeq)), kind: bundle.kind };
    const fields = this.#sealer ? recordFields(this.#sealer.seal(record)) : { ...record, seq: String(record.seq), signedAt: String(record.signedAt ?? "") };
    await this.#replace("active.json", `${JSON.stringify(fields, null, 2)}\n`);
    // For people looking at the folder; the archive itself is what is loaded.
    await writeFile(join(this.#dir, "active.revision"), `${bundle.revision}\n`);
  }

  /** The stored archive and its origin, or undefined when nothing was pushed yet. */
  async load(): Promise<StoredBundle | undefined> {
    let archive: Uint8Array;
    try {
      archive = await readFile(join(this.#dir, "active.tar.gz"));
    } catch {
      return undefined;
    }
    const fields = await readFile(join(this.#dir, "active.json"), "utf8").then(
      (text) => JSON.parse(text) as Record<string, string>,
      () => ({}),
    );
    const record = parseRecord(fields);
    if (this.#sealer === undefined || record === undefined || !this.#sealer.verify(record)) return { archive, origin: { kind: "unsealed" } };
    this.#lastSeq = record.seq;
    return { archive, origin: { kind: record.kind, digest: record.digest, signedAt: record.signedAt } };
  }

  async #replace(name: string, content: Uint8Array | string): Promise<void> {
    const tmp = join(this.#dir, `.${name}.${process.pid}.tmp`);
    await writeFile(tmp, content);
    await rename(tmp, join(this.#dir, name));
  }
}
