import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { describe, it } from "node:test";
import { gunzipSync, gzipSync } from "node:zlib";
import { CompactSign } from "jose";
import { DEFAULT_BUNDLE_READ_LIMITS } from "../../src/bundle/bundle-files.js";
import { packBundle } from "../../src/bundle/signing/bundle-archive.js";
import { SIGNATURE_FILE, signBundle, verifyBundle } from "../../src/bundle/signing/bundle-signature.js";
import { readBundleArchive } from "../../src/bundle/sources/read-tarball.js";
import { tarGz } from "../helpers/tar.js";
import { utf8 } from "../helpers/wire.js";

const read = (gz: Buffer) => readBundleArchive(gz, DEFAULT_BUNDLE_READ_LIMITS);
const manifest = { name: "manifest.json", content: '{"name":"t"}' };
/** Recomputes a ustar header's checksum after a test edited it. */
function fixChecksum(h: Buffer): void {
  h.write("        ", 148);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148);
}

describe("bundle archives are read in memory and refused when hostile", () => {
  it("reads regular files and folders", async () => {
    const files = await read(tarGz([{ name: "./", type: "5" }, manifest, { name: "a/p.cedar", content: "permit(principal, action, resource);" }]));
    assert.deepEqual([...files.keys()].sort(), ["a/p.cedar", "manifest.json"]);
  });
  for (const [what, entry, message] of [
    ["B-01 traversal", { name: "../x.cedar", content: "x" }, /path traversal/],
    ["B-01 deep traversal", { name: "a/../../x.cedar", content: "x" }, /path traversal/],
    ["B-01 absolute path", { name: "/etc/x.cedar", content: "x" }, /absolute path/],
    ["B-01 drive letter", { name: "C:x.cedar", content: "x" }, /drive-letter/],
    ["B-02 symlink", { name: "l.cedar", type: "2", linkname: "/etc/passwd" }, /SymbolicLink entries are refused/],
    ["B-02 hard link", { name: "h.cedar", type: "1", linkname: "manifest.json" }, /Link entries are refused/],
    ["B-02 character device", { name: "dev", type: "3" }, /CharacterDevice entries are refused/],
    ["B-02 FIFO", { name: "fifo", type: "6" }, /FIFO entries are refused/],
  ] as const) {
    it(what, async () => {
      await assert.rejects(read(tarGz([manifest, entry])), (err: Error) => message.test(err.message));
    });
  }
  it("B-03 the same name twice", async () => {
    await assert.rejects(read(tarGz([manifest, { name: "p.cedar", content: "a" }, { name: "p.cedar", content: "b" }])), /appears twice/);
  });
  it("B-04 gzip bombs stop early: zeros, one huge file, many large files", async () => {
    const zeros = gzipSync(Buffer.alloc(64 * 1024 * 1024));
    assert.ok(zeros.length < 1024 * 1024);
    await assert.rejects(read(zeros), /Unrecognized archive format/);
    const header = gunzipSync(tarGz([{ name: "big.cedar", content: Buffer.alloc(64 * 1024) }])).subarray(0, 512);
    const claimsHuge = Buffer.from(header);
    claimsHuge.write(`${(200 * 1024 * 1024).toString(8).padStart(11, "0")}\0`, 124);
    fixChecksum(claimsHuge);
    await assert.rejects(read(gzipSync(Buffer.concat([claimsHuge, Buffer.alloc(16 * 1024 * 1024)]))), /big\.cedar: 209715200 bytes is over the \d+-byte file limit/);
    const limits = { ...DEFAULT_BUNDLE_READ_LIMITS, maxFileBytes: 1024 * 1024, maxTotalBytes: 4 * 1024 * 1024 };
    const many = Array.from({ length: 40 }, (_, i) => ({ name: `f${i}.cedar`, content: Buffer.alloc(1024 * 1024) }));
    await assert.rejects(readBundleArchive(tarGz([manifest, ...many]), limits), /f3\.cedar: bundle is over the 4194304-byte size limit/);
  });
  it("a truncated archive and a corrupted header are refused", async () => {
    const raw = gunzipSync(tarGz([manifest, { name: "a.cedar", content: "x".repeat(3000) }]));
    await assert.rejects(read(gzipSync(raw.subarray(0, 1200))), /truncated/);
    const bad = Buffer.from(raw);
    bad[10] = bad[10]! ^ 1;
    await assert.rejects(read(gzipSync(bad)), /checksum failure/);
  });
  it("B-04 too many entries", async () => {
    const many = Array.from({ length: 50 }, (_, i) => ({ name: `f${i}.cedar`, content: "" }));
    await assert.rejects(readBundleArchive(tarGz([manifest, ...many]), { ...DEFAULT_BUNDLE_READ_LIMITS, maxFiles: 20 }), /more than 20 entries/);
  });
  it("garbage is not a bundle", async () => {
    await assert.rejects(read(Buffer.from("not gzip")), /not a gzip archive/);
  });
});

describe("bundle signatures", () => {
  const files = new Map([
    ["manifest.json", utf8('{"name":"t","revision":"r2"}')],
    ["p.cedar", utf8("permit(principal, action, resource);")],
  ]);
  const ed = generateKeyPairSync("ed25519");
  const other = generateKeyPairSync("ed25519");
  const signed = async (kid?: string) => new Map([...files, [SIGNATURE_FILE, utf8(await signBundle(files, { name: "t", revision: "r2" }, ed.privateKey, "EdDSA", kid))]]);

  it("verifies a bundle signed with the matching key, through an archive round trip", async () => {
    const back = await readBundleArchive(await packBundle(await signed("k1")), DEFAULT_BUNDLE_READ_LIMITS);
    const payload = await verifyBundle(back, ed.publicKey, "k1");
    assert.equal(payload.revision, "r2");
    assert.equal(payload.files.length, 2);
  });
  it("P-256 (ES256) works too", async () => {
    const ec = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const sig = await signBundle(files, { name: "t", revision: "r2" }, ec.privateKey, "ES256");
    await verifyBundle(new Map([...files, [SIGNATURE_FILE, utf8(sig)]]), ec.publicKey);
  });
  it("B-05 an unsigned bundle is refused when a key is configured", async () => {
    await assert.rejects(verifyBundle(files, ed.publicKey), /not signed/);
  });
  it("B-06 another key, an unknown key id, alg none, HS256 keyed with the public key", async () => {
    await assert.rejects(verifyBundle(await signed(), other.publicKey), /does not verify/);
    await assert.rejects(verifyBundle(await signed("k9"), ed.publicKey, "k1"), /key id "k9", expected "k1"/);
    const payload = (await signed()).get(SIGNATURE_FILE)!;
    const jws = (JSON.parse(Buffer.from(payload).toString()) as { signatures: string[] }).signatures[0]!;
    const [, body] = jws.split(".");
    const none = `${Buffer.from('{"alg":"none"}').toString("base64url")}.${body}.`;
    await assert.rejects(verifyBundle(new Map([...files, [SIGNATURE_FILE, utf8(JSON.stringify({ signatures: [none] }))]]), ed.publicKey), /algorithm "none" is not accepted/);
    const hmacKey = ed.publicKey.export({ type: "spki", format: "pem" });
    const hs = await new CompactSign(Buffer.from(body!, "base64url")).setProtectedHeader({ alg: "HS256" }).sign(Buffer.from(hmacKey));
    await assert.rejects(verifyBundle(new Map([...files, [SIGNATURE_FILE, utf8(JSON.stringify({ signatures: [hs] }))]]), ed.publicKey), /algorithm "HS256" is not accepted/);
  });
  it("B-07 an extra unsigned file, a changed file, a missing file", async () => {
    const s = await signed();
    await assert.rejects(verifyBundle(new Map([...s, ["extra.cedar", utf8("forbid(principal, action, resource);")]]), ed.publicKey), /extra\.cedar: not covered by the signature/);
    await assert.rejects(verifyBundle(new Map([...s, ["p.cedar", utf8("permit(principal, action, resource); ")]]), ed.publicKey), /p\.cedar: changed since the bundle was signed/);
    const missing = new Map(s);
    missing.delete("p.cedar");
    await assert.rejects(verifyBundle(missing, ed.publicKey), /p\.cedar: signed but missing/);
  });
});
