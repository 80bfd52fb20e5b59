import { readFile } from "node:fs/promises";
import { createPublicKey, type KeyObject } from "node:crypto";
import { BundleError } from "../bundle-error.js";
import type { BundleFiles } from "../bundle-files.js";
import { type SignedPayload, verifyBundle } from "./bundle-signature.js";

/**
 * Checks bundles against the configured public key (PEM). Every replica verifies every bundle
 * itself, whatever its source, so a bundle written into Redis or a shared folder by someone
 * without the signing key is refused.
 */
export class BundleVerifier {
  readonly #keyFile: string;
  readonly #keyId: string | undefined;
  #key: Promise<KeyObject> | undefined;

  constructor(keyFile: string, keyId?: string) {
    this.#keyFile = keyFile;
    this.#keyId = keyId;
  }

  async verify(files: BundleFiles): Promise<SignedPayload> {
    this.#key ??= readFile(this.#keyFile).then(
      (pem) => createPublicKey(pem),
      (err: Error) => {
        throw new BundleError(`cannot read the bundle verification key ${this.#keyFile}: ${err.message}`);
      },
    );
    return verifyBundle(files, await this.#key, this.#keyId);
  }
}
