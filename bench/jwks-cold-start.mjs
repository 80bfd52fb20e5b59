// How long the first request after start (or a key rotation) waits for a remote JWKS whose IdP
// is slow. Compares Verdict's background key set (prefetch at load, bounded wait) with jose's
// plain remote key set as Verdict used it before (fetch inside the first request, 1 s timeout).
// Run after `npm run build`: node bench/jwks-cold-start.mjs [idpDelayMs=2000]
import { generateKeyPairSync } from "node:crypto";
import { createServer } from "node:http";
import { createRemoteJWKSet, exportJWK, jwtVerify, SignJWT } from "jose";
import { createBackgroundJwks } from "../dist/src/routes/background-jwks.js";

const delay = Number(process.argv[2] ?? 2000);
const idp = generateKeyPairSync("ec", { namedCurve: "P-256" });
const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(idp.publicKey)), kid: "k1", alg: "ES256", use: "sig" }] });
const server = createServer((_req, res) => setTimeout(() => res.end(jwks), delay));
await new Promise((r) => server.listen(0, "127.0.0.1", r));
const url = new URL(`http://127.0.0.1:${server.address().port}/jwks`);
const token = await new SignJWT({}).setProtectedHeader({ alg: "ES256", kid: "k1" }).setSubject("a").setExpirationTime("5m").sign(idp.privateKey);

async function firstRequest(name, keys) {
  const start = performance.now();
  let outcome = "verified";
  try {
    await jwtVerify(token, keys);
  } catch (err) {
    outcome = `401 (${err.constructor.name})`;
  }
  console.log(`${name.padEnd(44)} first request: ${(performance.now() - start).toFixed(0).padStart(5)} ms, ${outcome}`);
}

await firstRequest("jose remote set, fetch in request (before)", createRemoteJWKSet(url, { timeoutDuration: 1000 }));
const background = createBackgroundJwks(url, 300_000); // bundle load: the prefetch starts here
await firstRequest("background set, request right after load", background);
await new Promise((r) => setTimeout(r, delay + 200));
await firstRequest("background set, after the prefetch landed", background);
server.closeAllConnections();
server.close();
