import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import type { Command } from "commander";
import { BundleError } from "../bundle/bundle-error.js";
import { coverageShortfall, formatCoverage, policyCoverage } from "../bundle/policy-tests/policy-coverage.js";
import { readPolicyTests } from "../bundle/policy-tests/policy-test-case.js";
import { runPolicyTests } from "../bundle/policy-tests/run-policy-tests.js";
import { formatTestReport } from "../bundle/policy-tests/test-report.js";
import { packBundle } from "../bundle/signing/bundle-archive.js";
import { SIGNATURE_FILE, signBundle, type SigningAlgorithm, verifyBundle } from "../bundle/signing/bundle-signature.js";
import { readBundlePath } from "../bundle/sources/read-bundle-path.js";
import { configFromFlags, fail } from "./cli-config.js";
import { registerAdminCommands } from "./admin-commands.js";
import { loadOffline } from "./offline-bundle.js";
import { minCoverageOption } from "./test-command.js";

/** Reads a PEM key of the kind a command needs, saying plainly when it is the other half of the pair. */
function readKey(path: string, kind: "private" | "public"): KeyObject {
  const pem = readFileSync(path, "utf8");
  const isPublic = /-----BEGIN PUBLIC KEY-----/.test(pem);
  const isPrivate = /-----BEGIN (EC |ENCRYPTED )?PRIVATE KEY-----/.test(pem);
  if (kind === "private" && isPublic) throw new Error(`${path} is a public key; signing needs the private key (the PREFIX.key.pem that \`verdict keygen\` wrote)`);
  if (kind === "public" && isPrivate && !isPublic) throw new Error(`${path} is a private key; verifying needs the public key (PREFIX.pub.pem); never hand out the private one`);
  try {
    return kind === "private" ? createPrivateKey(pem) : createPublicKey(pem);
  } catch (err) {
    throw new Error(`${path} is not a PEM ${kind} key (Ed25519 or P-256): ${(err as Error).message}`);
  }
}

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
    .option("--signing-key <pem>", "PEM private key (Ed25519 or P-256), e.g. the PREFIX.key.pem of `verdict keygen`")
    .option("--key-id <kid>", "key id to put in the signature")
    .option("--min-coverage <percent>", "refuse the bundle when fewer than this percentage of policies decide at least one test")
    .action(async (dir: string, flags: { out: string; signingKey?: string; keyId?: string; minCoverage?: string }) => {
      let key: KeyObject | undefined;
      let min: number | undefined;
      try {
        min = minCoverageOption(flags.minCoverage);
        key = flags.signingKey === undefined ? undefined : readKey(flags.signingKey, "private");
      } catch (err) {
        return fail((err as Error).message, 2);
      }
      const config = configFromFlags({});
      try {
        const { files: all, snapshot } = await loadOffline(dir, config);
        const files = new Map([...all].filter(([p]) => p !== SIGNATURE_FILE));
        const results = runPolicyTests(snapshot.policies, readPolicyTests(files), config.limits, snapshot.trustedEntityTypes);
        if (results.some((r) => !r.passed)) return fail(`policy tests failed; nothing written\n${formatTestReport(results, { passes: false })}`);
        const coverage = policyCoverage(snapshot.policies.policies, results);
        const short = min === undefined ? undefined : coverageShortfall(coverage, min);
        if (short !== undefined) return fail(`${short}; nothing written\n${formatCoverage(coverage)}`);
        if (key !== undefined) {
          const alg: SigningAlgorithm = key.asymmetricKeyType === "ed25519" ? "EdDSA" : "ES256";
          files.set(SIGNATURE_FILE, Buffer.from(await signBundle(files, snapshot, key, alg, flags.keyId)));
        }
        writeFileSync(flags.out, await packBundle(files));
        process.stdout.write(
          `wrote ${flags.out}: "${snapshot.name}" revision ${snapshot.revision}, ${snapshot.policies.policies.length} policies, ${results.length} tests passed, coverage ${coverage.percent}%, ${key ? "signed" : "unsigned"}\n`,
        );
      } catch (err) {
        fail(err instanceof BundleError ? err.message : `${dir}: ${(err as Error).message}`);
      }
    });
  bundle
    .command("verify")
    .description("check a bundle's signature against a public key")
    .argument("<file>", "bundle .tar.gz or directory")
    .requiredOption("--public-key <pem>", "PEM public key (the PREFIX.pub.pem of `verdict keygen`)")
    .option("--key-id <kid>", "required key id")
    .action(async (file: string, flags: { publicKey: string; keyId?: string }) => {
      const config = configFromFlags({});
      try {
        const key = readKey(flags.publicKey, "public");
        const files = await readBundlePath(file, config.bundleLimits);
        if (!files.has(SIGNATURE_FILE)) return fail(`${file} is not signed (it has no ${SIGNATURE_FILE}): sign it with \`verdict bundle build DIR -o ${file} --signing-key KEY.key.pem\``);
        const payload = await verifyBundle(files, key, flags.keyId);
        process.stdout.write(`ok: "${payload.name}" revision ${payload.revision}, ${payload.files.length} files, signed ${new Date(payload.iat * 1000).toISOString()}\n`);
      } catch (err) {
        fail(err instanceof BundleError ? err.message : `${file}: ${(err as Error).message}`);
      }
    });
  registerAdminCommands(bundle);
}
