import { generateKeyPairSync } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { signed, withRevision } from "./admin.js";
import { writeBundle } from "./bundles.js";

/** A signing key pair, its public key on disk, and a start-up folder holding the example bundle signed as r1. */
export async function signedSetup() {
  const keys = generateKeyPairSync("ed25519");
  const dir = writeBundle({});
  const pub = join(dir.dir, "pub.pem");
  writeFileSync(pub, keys.publicKey.export({ type: "spki", format: "pem" }));
  const startup = writeBundle({});
  for (const [p, b] of await signed(withRevision("r1"), "r1", keys.privateKey)) {
    mkdirSync(join(startup.dir, p, ".."), { recursive: true });
    writeFileSync(join(startup.dir, p), b);
  }
  return {
    keys,
    pub,
    startupDir: startup.dir,
    cleanup: () => {
      dir.cleanup();
      startup.cleanup();
    },
  };
}
