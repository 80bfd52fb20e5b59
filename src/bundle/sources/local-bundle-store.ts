import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { BundlePublisher, PublishedBundle } from "../bundle-registry.js";

/**
 * Keeps the bundle an operator last pushed or re-activated on local disk (write, then rename,
 * so a crash never leaves half an archive), so a replica without Redis restarts on it. The
 * archive is verified, compiled and tested again when it is read back, like any other source.
 */
export class LocalBundleStore implements BundlePublisher {
  readonly #dir: string;

  constructor(dir: string) {
    this.#dir = dir;
  }

  async publish(bundle: PublishedBundle): Promise<void> {
    await mkdir(this.#dir, { recursive: true });
    const tmp = join(this.#dir, `.active.${process.pid}.tmp`);
    await writeFile(tmp, bundle.archive);
    await rename(tmp, join(this.#dir, "active.tar.gz"));
    // For people looking at the folder; the archive itself is what is loaded.
    await writeFile(join(this.#dir, "active.revision"), `${bundle.revision}\n`);
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
