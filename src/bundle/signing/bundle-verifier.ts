import { readFileSync } from "node:fs";
import { createPublicKey, type KeyObject } from "node:crypto";
import type { BundleFiles } from "../bundle-files.js";
import { type SignedPayload, verifyBundle } from "./bundle-signature.js";

/**
 * Checks bundles against the configured public key (PEM). Every replica verifies every bundle
 * itself, whatever its source, so a bundle written into Redis or a shared folder by someone
 * without the signing key is refused.
 */
export class BundleVerifier {
  readonly #key: KeyObject;
  readonly #keyId: string | undefined;

  constructor(key: KeyObject, keyId?: string) {
    if (key.asymmetricKeyType !== "ed25519" && !(key.asymmetricKeyType === "ec" && key.asymmetricKeyDetails?.namedCurve === "prime256v1")) {
      throw new Error(`the verification key is ${key.asymmetricKeyType ?? "not asymmetric"}; use an Ed25519 or P-256 public key`);
    }
    this.#key = key;
    this.#keyId = keyId;
  }

  /**
   * Reads the key at start, so a missing, empty or wrong key stops the process with the
   * setting's name instead of refusing every bundle later.
   */
  static fromFile(path: string, keyId?: string): BundleVerifier {
    try {
      return new BundleVerifier(createPublicKey(readFileSync(path)), keyId);
    } catch (err) {
      throw new Error(`bundles.verificationKey: cannot use ${path} as a public key: ${(err as Error).message}`);
    }
  }

  verify(files: BundleFiles): Promise<SignedPayload> {
    return verifyBundle(files, this.#key, this.#keyId);
  }
}
