import { generateKeyPairSync } from "node:crypto";
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exportJWK, SignJWT } from "jose";
import { REPO } from "./bundles.js";

export const ISS = "https://idp.example.test";
export const AUD = "docs-gateway";
export type Claims = { sub?: string; tenant?: string; roles?: string[] };
export type TokenOptions = { aud?: string; exp?: number; nbf?: number; foreign?: boolean };

const idp = generateKeyPairSync("rsa", { modulusLength: 2048 });
const stranger = generateKeyPairSync("rsa", { modulusLength: 2048 });

/** The IdP's public key in PEM (for tests that misuse it, e.g. as an HMAC secret). */
export function idpPublicKeyPem(): string {
  return idp.publicKey.export({ type: "spki", format: "pem" }).toString();
}

/** A signed token for the envoy-gateway example (viewer of acme unless told otherwise). */
export function token(claims: Claims = {}, opts: TokenOptions = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ tenant: "acme", roles: ["viewer"], ...claims })
    .setProtectedHeader({ alg: "RS256", kid: "test" })
    .setSubject(claims.sub ?? "alice")
    .setIssuer(ISS)
    .setAudience(opts.aud ?? AUD)
    .setIssuedAt(now - 60)
    .setNotBefore(opts.nbf ?? now - 60)
    .setExpirationTime(opts.exp ?? now + 600)
    .sign(opts.foreign ? stranger.privateKey : idp.privateKey);
}

/**
 * A copy of the envoy-gateway example in a temp folder, its JWKS holding this IdP's key, with
 * `edit` applied to routes.yaml.
 */
export async function gatewayBundle(edit: (routes: string) => string = (r) => r): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "verdict-gw-"));
  cpSync(join(REPO, "policies/examples/envoy-gateway"), dir, { recursive: true });
  writeFileSync(join(dir, "jwks.json"), JSON.stringify({ keys: [{ ...(await exportJWK(idp.publicKey)), kid: "test", alg: "RS256", use: "sig" }] }));
  const routes = join(dir, "routes.yaml");
  writeFileSync(routes, edit(readFileSync(routes, "utf8")));
  return dir;
}
