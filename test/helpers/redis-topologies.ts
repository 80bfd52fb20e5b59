import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { freePort } from "./redis-server.js";

/** One redis-server or redis-sentinel process of a topology, that a test may kill. */
export interface RedisProcess {
  readonly port: number;
  kill(): Promise<void>;
}

/** Starts `bin` with `args` and resolves once it logs that it is ready; killed on timeout. */
function launch(bin: string, args: string[], port: number, ready: RegExp): Promise<RedisProcess> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${bin} on ${port} did not start: ${out}`));
    }, 15_000);
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      if (ready.test(out)) {
        clearTimeout(timer);
        resolve({
          port,
          kill: () =>
            new Promise<void>((done) => {
              if (child.exitCode !== null || child.signalCode !== null) return done();
              child.once("exit", () => done());
              child.kill("SIGKILL");
            }),
        });
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${bin} on ${port} exited ${code}: ${out}`));
    });
  });
}

const dataNode = (port: number, dir: string, extra: string[] = []) =>
  launch("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir, ...extra], port, /Ready to accept connections/);

/** A master, its replica and three sentinels watching them, on free loopback ports. */
export interface SentinelSetup {
  readonly masterName: string;
  readonly master: RedisProcess;
  readonly replica: RedisProcess;
  readonly sentinels: readonly RedisProcess[];
  /** `redis+sentinel://…/masterName` for Verdict. */
  readonly url: string;
  /** The master's port as the sentinels report it now. */
  currentMasterPort(): Promise<number>;
  stop(): Promise<void>;
}

export async function startSentinelSetup(): Promise<SentinelSetup> {
  const dir = mkdtempSync(join(tmpdir(), "verdict-sentinel-"));
  const masterName = "verdict-master";
  const master = await dataNode(await freePort(), dir);
  const replica = await dataNode(await freePort(), dir, ["--replicaof", "127.0.0.1", String(master.port)]);
  const sentinels: RedisProcess[] = [];
  for (let i = 0; i < 3; i++) {
    const port = await freePort();
    const conf = join(dir, `sentinel-${port}.conf`);
    writeFileSync(
      conf,
      [
        `port ${port}`,
        "bind 127.0.0.1",
        `dir ${dir}`,
        `sentinel monitor ${masterName} 127.0.0.1 ${master.port} 2`,
        `sentinel down-after-milliseconds ${masterName} 1000`,
        `sentinel failover-timeout ${masterName} 4000`,
        `sentinel parallel-syncs ${masterName} 1`,
        "",
      ].join("\n"),
    );
    sentinels.push(await launch("redis-sentinel", [conf], port, /Sentinel ID is|monitor master/));
  }
  const askSentinel = async () => {
    for (const s of sentinels) {
      const c = new Redis({ port: s.port, host: "127.0.0.1", lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 500 });
      c.on("error", () => {});
      try {
        await c.connect();
        const [, port] = (await c.call("SENTINEL", "get-master-addr-by-name", masterName)) as [string, string];
        return Number(port);
      } catch {
        // Try the next sentinel.
      } finally {
        c.disconnect();
      }
    }
    throw new Error("no sentinel answers");
  };
  return {
    masterName,
    master,
    replica,
    sentinels,
    url: `redis+sentinel://${sentinels.map((s) => `127.0.0.1:${s.port}`).join(",")}/${masterName}`,
    currentMasterPort: askSentinel,
    async stop() {
      await Promise.all([master, replica, ...sentinels].map((p) => p.kill()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A free port whose cluster bus port is set explicitly (a free one too). */
async function clusterNode(dir: string): Promise<RedisProcess> {
  const port = await freePort();
  const bus = await freePort();
  return dataNode(port, dir, ["--cluster-enabled", "yes", "--cluster-config-file", join(dir, `nodes-${port}.conf`), "--cluster-node-timeout", "1000", "--cluster-port", String(bus),
    // A replica of a cluster built seconds ago may not have synced yet; let it take over regardless.
    "--cluster-replica-validity-factor", "0"]);
}

/** Three masters and three replicas joined into one cluster. */
export interface ClusterSetup {
  readonly nodes: readonly RedisProcess[];
  /** `redis+cluster://…` (every node as a seed) for Verdict. */
  readonly url: string;
  /** The node that serves `key`'s slot as master now. */
  masterOf(key: string): Promise<RedisProcess>;
  stop(): Promise<void>;
}

export async function startCluster(): Promise<ClusterSetup> {
  const dir = mkdtempSync(join(tmpdir(), "verdict-cluster-"));
  const nodes: RedisProcess[] = [];
  for (let i = 0; i < 6; i++) nodes.push(await clusterNode(dir));
  const created = spawnSync("redis-cli", ["--cluster", "create", ...nodes.map((n) => `127.0.0.1:${n.port}`), "--cluster-replicas", "1", "--cluster-yes"], { timeout: 30_000, encoding: "utf8" });
  if (created.status !== 0) throw new Error(`redis-cli --cluster create failed: ${created.stdout}${created.stderr}`);
  const stop = async () => {
    await Promise.all(nodes.map((n) => n.kill()));
    rmSync(dir, { recursive: true, force: true });
  };
  const until = Date.now() + 30_000;
  for (const n of nodes) {
    while (!String(await rawCall(n.port, "CLUSTER", "INFO").catch(() => "")).includes("cluster_state:ok")) {
      if (Date.now() > until) {
        await stop();
        throw new Error("the cluster did not become ready");
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    nodes,
    url: `redis+cluster://${nodes.map((n) => `127.0.0.1:${n.port}`).join(",")}`,
    async masterOf(key: string) {
      // Ask any live node which master serves the key's slot now.
      for (const n of nodes) {
        const answer = await Promise.all([rawCall(n.port, "CLUSTER", "KEYSLOT", key), rawCall(n.port, "CLUSTER", "SLOTS")]).catch(() => undefined);
        if (answer === undefined) continue;
        const slot = Number(answer[0]);
        const range = (answer[1] as [number, number, [string, number]][]).find(([lo, hi]) => slot >= lo && slot <= hi);
        const owner = nodes.find((x) => x.port === range?.[2][1]);
        if (owner !== undefined) return owner;
      }
      throw new Error(`no master found for ${key}`);
    },
    stop,
  };
}

async function rawCall(port: number, ...cmd: string[]): Promise<unknown> {
  const c = new Redis({ port, host: "127.0.0.1", maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 500, lazyConnect: true });
  c.on("error", () => {});
  try {
    await c.connect();
    return await c.call(cmd[0]!, ...cmd.slice(1));
  } finally {
    c.disconnect();
  }
}
