import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A throwaway PKI made with the openssl CLI: a CA, a server certificate and client certificates. */
export interface TestPki {
  readonly dir: string;
  readonly caCert: string;
  /** Issues a certificate for `name` with the given SANs, valid between the dates (openssl `YYYYMMDDHHMMSSZ`). */
  issue(name: string, san: string, dates?: { start: string; end: string }): { cert: string; key: string };
  cleanup(): void;
}

export function createPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), "verdict-pki-"));
  const p = (f: string) => join(dir, f);
  const run = (args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe", timeout: 30_000 });
  writeFileSync(p("index.txt"), "");
  writeFileSync(p("serial"), "1000\n");
  writeFileSync(
    p("ca.cnf"),
    `[ca]\ndefault_ca = test\n[test]\ndir = ${dir}\ndatabase = $dir/index.txt\nserial = $dir/serial\nnew_certs_dir = $dir\n` +
      `certificate = $dir/ca.pem\nprivate_key = $dir/ca.key\ndefault_md = sha256\npolicy = any\nunique_subject = no\ncopy_extensions = copy\ndefault_days = 30\n[any]\ncommonName = supplied\n`,
  );
  run(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "30", "-subj", "/CN=Verdict Test CA"]);
  return {
    dir,
    caCert: p("ca.pem"),
    issue(name, san, dates) {
      run(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${name}`, "-addext", `subjectAltName=${san}`]);
      const validity = dates ? ["-startdate", dates.start, "-enddate", dates.end] : [];
      run(["ca", "-batch", "-config", "ca.cnf", "-in", `${name}.csr`, "-out", `${name}.pem`, "-notext", ...validity]);
      return { cert: p(`${name}.pem`), key: p(`${name}.key`) };
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
