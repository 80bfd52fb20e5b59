import { createHash } from "node:crypto";
import { CompactSign, compactVerify, decodeProtectedHeader, type CryptoKey, type KeyObject } from "jose";
import { BundleError } from "../bundle-error.js";
import type { BundleFiles } from "../bundle-files.js";

/** The signature file inside a bundle (a JSON object holding one compact JWS). */
export const SIGNATURE_FILE = ".signatures.json";
/** Asymmetric algorithms only: a symmetric or `none` signature is never accepted. */
export const SIGNING_ALGORITHMS = ["EdDSA", "ES256"] as const;
export type SigningAlgorithm = (typeof SIGNING_ALGORITHMS)[number];

/** What a bundle signature asserts. */
export interface SignedPayload {
  readonly name: string;
  readonly revision: string;
  /** Seconds since the epoch when it was signed; orders revisions against replay. */
  readonly iat: number;
  /** Every file of the bundle except the signature file, with its SHA-256. */
  readonly files: readonly { readonly name: string; readonly sha256: string }[];
}

type Key = CryptoKey | KeyObject;
const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

/** The files a signature covers: all but the signature file itself. */
export function contentFiles(files: BundleFiles): BundleFiles {
  return new Map([...files].filter(([p]) => p !== SIGNATURE_FILE));
}

/** Signs every file of a bundle; returns the signature file's content. */
export async function signBundle(files: BundleFiles, meta: { name: string; revision: string }, key: Key, alg: SigningAlgorithm, kid?: string): Promise<string> {
  const payload: SignedPayload = {
    name: meta.name,
    revision: meta.revision,
    iat: Math.floor(Date.now() / 1000),
    files: [...contentFiles(files)].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, bytes]) => ({ name, sha256: sha256(bytes) })),
  };
  const jws = await new CompactSign(new TextEncoder().encode(JSON.stringify(payload))).setProtectedHeader({ alg, ...(kid ? { kid } : {}) }).sign(key);
  return `${JSON.stringify({ signatures: [jws] }, null, 2)}\n`;
}

/**
 * Verifies a bundle's signature with the configured public key: the algorithm must be an
 * asymmetric one we accept, the key id must match when one is configured, and the signed file
 * list must equal the bundle's files exactly (no file missing, changed, or added).
 */
export async function verifyBundle(files: BundleFiles, key: Key, keyId?: string): Promise<SignedPayload> {
  const raw = files.get(SIGNATURE_FILE);
  if (raw === undefined) throw new BundleError(`bundle is not signed (${SIGNATURE_FILE} missing) and a verification key is configured`);
  let jws: string;
  try {
    const parsed = JSON.parse(Buffer.from(raw).toString("utf8")) as { signatures?: unknown };
    if (!Array.isArray(parsed.signatures) || parsed.signatures.length !== 1 || typeof parsed.signatures[0] !== "string") throw new Error("expected {\"signatures\": [\"<compact JWS>\"]}");
    jws = parsed.signatures[0];
  } catch (err) {
    throw new BundleError(`${SIGNATURE_FILE}: ${(err as Error).message}`);
  }
  let header;
  try {
    header = decodeProtectedHeader(jws);
  } catch {
    throw new BundleError(`${SIGNATURE_FILE}: not a compact JWS`);
  }
  if (!SIGNING_ALGORITHMS.includes(header.alg as SigningAlgorithm)) {
    throw new BundleError(`${SIGNATURE_FILE}: algorithm "${String(header.alg)}" is not accepted (use ${SIGNING_ALGORITHMS.join(" or ")})`);
  }
  if (keyId !== undefined && header.kid !== keyId) throw new BundleError(`${SIGNATURE_FILE}: signed with key id "${String(header.kid)}", expected "${keyId}"`);
  let payload: SignedPayload;
  try {
    const { payload: bytes } = await compactVerify(jws, key, { algorithms: [...SIGNING_ALGORITHMS] });
    payload = JSON.parse(new TextDecoder().decode(bytes)) as SignedPayload;
  } catch (err) {
    throw new BundleError(`${SIGNATURE_FILE}: signature does not verify with the configured key (${(err as Error).message})`);
  }
  const signed = new Map((payload.files ?? []).map((f) => [f.name, f.sha256]));
  const content = contentFiles(files);
  for (const [name, bytes] of content) {
    const want = signed.get(name);
    if (want === undefined) throw new BundleError(`${name}: not covered by the signature`);
    if (want !== sha256(bytes)) throw new BundleError(`${name}: changed since the bundle was signed`);
  }
  for (const name of signed.keys()) if (!content.has(name)) throw new BundleError(`${name}: signed but missing from the bundle`);
  if (typeof payload.iat !== "number" || typeof payload.revision !== "string") throw new BundleError(`${SIGNATURE_FILE}: payload lacks revision or iat`);
  return payload;
}
