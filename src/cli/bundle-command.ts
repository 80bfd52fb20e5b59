import { createPrivateKey, createPublicKey, generateKeyPairSync } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import type { Command } from "commander";
import { BundleError } from "../bundle/bundle-error.js";
import { readPolicyTests } from "../bundle/policy-tests/policy-test-case.js";
import { formatTestReport, runPolicyTests } from "../bundle/policy-tests/run-policy-tests.js";
import { packBundle } from "../bundle/signing/bundle-archive.js";
import { SIGNATURE_FILE, signBundle, type SigningAlgorithm, verifyBundle } from "../bundle/signing/bundle-signature.js";
import { readBundlePath } from "../bundle/sources/read-bundle-path.js";
import { createContainer } from "../container.js";
import { TOKENS } from "../tokens.js";
import { configFromFlags, fail } from "./cli-config.js";
import { registerAdminCommands } from "./admin-commands.js";
import { silentLogger } from "./silent-logger.js";

/** `verdict bundle …` and `verdict keygen`: build, sign, verify, and manage pushed bundles. */
export function registerBundle(program: Command): void {
  program
    .command("keygen")
    .description("write a signing key pair: PREFIX.key.pem (private, keep it secret) and PREFIX.pub.pem")
    .requiredOption("-o, --out <prefix>", "file name prefix")
    .option("--alg <alg>", "EdDSA (Ed25519) or ES256 (P-256)", "EdDSA")
    .action((flags: { out: string; alg: string }) => {
      if (flags.alg !== "EdDSA" && flags.alg !== "ES256") return fail(`--alg must be EdDSA or ES256 (got ${flags.alg})`);
      const { privateKey, publicKey } = flags.alg === "EdDSA" ? generateKeyPairSync("ed25519") : generateKeyPairSync("ec", { namedCurve: "P-256" });
      writeFileSync(`${flags.out}.key.pem`, privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
      writeFileSync(`${flags.out}.pub.pem`, publicKey.export({ type: "spki", format: "pem" }));
      process.stdout.write(`wrote ${flags.out}.key.pem and ${flags.out}.pub.pem (${flags.alg})\n`);
    });

  const bundle = program.command("bundle").description("build, verify, push and manage policy bundles");
  bundle
    .command("build")
    .description("validate a bundle, run its tests, sign it, and write a .tar.gz")
    .argument("<dir>", "bundle directory")
    .requiredOption("-o, --out <file>", "output .tar.gz")
    .option("--signing-key <pem>", "PEM private key (Ed25519 or P-256)")
    .option("--key-id <kid>", "key id to put in the signature")
    .action(async (dir: string, flags: { out: string; signingKey?: string; keyId?: string }) => {
      const config = configFromFlags({});
      try {
        const all = await readBundlePath(dir, config.bundleLimits);
        const files = new Map([...all].filter(([p]) => p !== SIGNATURE_FILE));
        const snapshot = await createContainer(config, silentLogger()).resolve(TOKENS.BundleLoader).load(files);
        const results = runPolicyTests(snapshot.policies, readPolicyTests(files), config.limits, snapshot.trustedEntityTypes);
        if (results.some((r) => !r.passed)) return fail(`policy tests failed; nothing written\n${formatTestReport(results)}`);
        if (flags.signingKey) {
          const key = createPrivateKey(readFileSync(flags.signingKey));
          const alg: SigningAlgorithm = key.asymmetricKeyType === "ed25519" ? "EdDSA" : "ES256";
          files.set(SIGNATURE_FILE, Buffer.from(await signBundle(files, snapshot, key, alg, flags.keyId)));
        }
        writeFileSync(flags.out, await packBundle(files));
        process.stdout.write(`wrote ${flags.out}: "${snapshot.name}" revision ${snapshot.revision}, ${snapshot.policies.policies.length} policies, ${results.length} tests passed, ${flags.signingKey ? "signed" : "unsigned"}\n`);
      } catch (err) {
        fail(err instanceof BundleError ? err.message : `${dir}: ${(err as Error).message}`);
      }
    });
  bundle
    .command("verify")
    .description("check a bundle's signature against a public key")
    .argument("<file>", "bundle .tar.gz or directory")
    .requiredOption("--public-key <pem>", "PEM public key")
    .option("--key-id <kid>", "required key id")
    .action(async (file: string, flags: { publicKey: string; keyId?: string }) => {
      const config = configFromFlags({});
      try {
        const payload = await verifyBundle(await readBundlePath(file, config.bundleLimits), createPublicKey(readFileSync(flags.publicKey)), flags.keyId);
        process.stdout.write(`ok: "${payload.name}" revision ${payload.revision}, ${payload.files.length} files, signed ${new Date(payload.iat * 1000).toISOString()}\n`);
      } catch (err) {
        fail(err instanceof BundleError ? err.message : `${file}: ${(err as Error).message}`);
      }
    });
  registerAdminCommands(bundle);
}
