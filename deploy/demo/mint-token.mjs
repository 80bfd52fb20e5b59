// Mints a bearer token for the compose demo, signed with the demo identity provider's key
// (deploy/demo/idp-private-key.jwk.json; its public half is the example bundle's jwks.json).
// DEMO ONLY: that private key is public, so never trust this JWKS outside the demo.
//   node deploy/demo/mint-token.mjs alice acme viewer        → a viewer in tenant acme
//   node deploy/demo/mint-token.mjs bob acme editor,admin    → roles are comma-separated
import { readFileSync } from "node:fs";
import { importJWK, SignJWT } from "jose";

const [sub = "alice", tenant = "acme", roles = "viewer"] = process.argv.slice(2);
const jwk = JSON.parse(readFileSync(new URL("./idp-private-key.jwk.json", import.meta.url), "utf8"));
const key = await importJWK(jwk, "RS256");
const token = await new SignJWT({ tenant, roles: roles.split(",").filter(Boolean) })
  .setProtectedHeader({ alg: "RS256", kid: jwk.kid })
  .setSubject(sub)
  .setIssuer("https://idp.example.test")
  .setAudience("docs-gateway")
  .setIssuedAt()
  .setExpirationTime("1h")
  .sign(key);
process.stdout.write(`${token}\n`);
