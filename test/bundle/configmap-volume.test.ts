import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { type CheckResponse, Decision } from "../../src/gen/verdict/v1/authorization_pb.js";
import { allowed, asText, noEdits, waitForRevision, withRevision } from "../helpers/admin.js";
import { metricValue } from "../helpers/metrics.js";
import { type RunningVerdict, startVerdict } from "../helpers/start-verdict.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const served = async (v: RunningVerdict) => (await v.client.call<CheckResponse>("check", allowed)).bundleRevision;
const failures = async (v: RunningVerdict) => metricValue(await (await fetch(`${v.httpUrl}/metrics`)).text(), "verdict_bundle_activations_total", { result: "failure" });

/**
 * A ConfigMap volume as kubelet writes it: the data in `..<timestamp>/`, `..data` → that folder,
 * and one `<key> → ..data/<key>` link per top-level name. An update writes a new timestamped
 * folder, points `..data_tmp` at it, renames it over `..data` (atomic), and removes the old one.
 */
class ConfigMapVolume {
  readonly mount = mkdtempSync(join(tmpdir(), "verdict-configmap-"));
  #version = 0;
  #current: string | undefined;

  write(files: Record<string, string>): void {
    const stamp = `..2026_12_05_14_00_${String(++this.#version).padStart(2, "0")}.${process.pid}`;
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(join(this.mount, stamp, path, ".."), { recursive: true });
      writeFileSync(join(this.mount, stamp, path), text);
    }
    symlinkSync(stamp, join(this.mount, "..data_tmp"));
    renameSync(join(this.mount, "..data_tmp"), join(this.mount, "..data"));
    for (const name of readdirSync(join(this.mount, stamp))) {
      try {
        symlinkSync(join("..data", name), join(this.mount, name));
      } catch {
        // Already linked by an earlier version.
      }
    }
    if (this.#current !== undefined) rmSync(join(this.mount, this.#current), { recursive: true, force: true });
    this.#current = stamp;
  }

  cleanup(): void {
    rmSync(this.mount, { recursive: true, force: true });
  }
}

describe("a bundle mounted from a Kubernetes ConfigMap", () => {
  it("serves the ..data version, activates two atomic swaps, and refuses a bad one while the last good keeps serving", async () => {
    const volume = new ConfigMapVolume();
    volume.write(asText(withRevision("cm-1")));
    const v = await startVerdict(volume.mount, { "bundles.watch": true, "bundles.watchDebounceMs": 50 });
    try {
      assert.equal(await served(v), "cm-1");
      volume.write(asText(withRevision("cm-2")));
      await waitForRevision(v, "cm-2", 15_000);
      volume.write(asText(noEdits("cm-3")));
      await waitForRevision(v, "cm-3", 15_000);
      assert.equal((await v.client.call<CheckResponse>("check", allowed)).decision, Decision.DENY, "the second update decides");

      const bad = asText(withRevision("cm-4"));
      bad["broken.cedar"] = "permit(principal, action resource);";
      const before = await failures(v);
      volume.write(bad);
      const until = Date.now() + 15_000;
      while ((await failures(v)) === before) {
        if (Date.now() > until) assert.fail("the bad update was never read");
        await sleep(50);
      }
      assert.equal(await served(v), "cm-3", "the last good bundle keeps serving");
    } finally {
      await v.stop();
      volume.cleanup();
    }
  });

  it("never follows ..data outside the mount", async () => {
    const outside = mkdtempSync(join(tmpdir(), "verdict-outside-"));
    const mount = mkdtempSync(join(tmpdir(), "verdict-configmap-"));
    try {
      for (const [path, text] of Object.entries(asText(withRevision("outside")))) {
        mkdirSync(join(outside, path, ".."), { recursive: true });
        writeFileSync(join(outside, path), text);
      }
      for (const target of [outside, `../${outside.split("/").at(-1)}`, "..data", "..2026/../.."]) {
        rmSync(join(mount, "..data"), { force: true });
        symlinkSync(target, join(mount, "..data"));
        await assert.rejects(startVerdict(mount), /\.\.data points to .*only a folder directly inside the mount/);
      }
      // A timestamped folder that is itself a link is refused too.
      rmSync(join(mount, "..data"), { force: true });
      symlinkSync(outside, join(mount, "..2026_link"));
      symlinkSync("..2026_link", join(mount, "..data"));
      await assert.rejects(startVerdict(mount), /\.\.data points to \.\.2026_link, which is not a folder/);
    } finally {
      rmSync(outside, { recursive: true, force: true });
      rmSync(mount, { recursive: true, force: true });
    }
  });
});
