import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { BundlePublisher } from "../bundle-registry.js";

/**
 * Keeps the last activated pushed bundle on local disk (atomically: write, then rename), so a
 * replica without Redis restarts on what was pushed to it. The archive is verified again when
 * it is read back, like any other source.
 */
export class LocalBundleStore implements BundlePublisher {
  readonly #dir: string;

  constructor(dir: string) {
    this.#dir = dir;
  }

  async publish(revision: string, archive: Uint8Array): Promise<void> {
    await mkdir(this.#dir, { recursive: true });
    const tmp = join(this.#dir, `.active.${process.pid}.tmp`);
    await writeFile(tmp, archive);
    await rename(tmp, join(this.#dir, "active.tar.gz"));
    await writeFile(join(this.#dir, "active.revision"), `${revision}\n`);
  }

  /** The stored archive, or undefined when nothing was pushed yet. */
  async load(): Promise<Uint8Array | undefined> {
    try {
      return await readFile(join(this.#dir, "active.tar.gz"));
    } catch {
      return undefined;
    }
  }
}
