// Workloads as files h2load can send: a sequence of pre-encoded, equal-length gRPC frames (one
// per request, in sending order) plus the first frame alone as h2load's -d file. The
// h2mix-preload shim then feeds frame k to request k. Files are cached under the work dir.
import { existsSync, mkdirSync, openSync, writeSync, readSync, closeSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { distinctRequests, rng } from "./scenario-requests.mjs";
import { padToFrame, commonFrameLength } from "./grpc-frame.mjs";

// Positions -> pool indices for each workload kind. `distinct`: every request new (a decision
// cache only misses); `hot90`: a hot set of `hot` requests sent first, then 9 of every 10
// requests from the hot set and 1 new (90% hits once warm); `cycle`: `count` distinct requests
// sent round and round (the shim wraps), used for shared-cache (L2) hits after a first pass.
// `zipf`: `count` requests drawn from 10,000 distinct ones with Zipf(1) popularity (request r
// has weight 1/(r+1)), the skew of real traffic: a few very hot requests, a long cold tail.
export function workloadPositions(kind, count, { hot = 100, seed = 7 } = {}) {
  if (kind === "distinct" || kind === "cycle") return { positions: Array.from({ length: count }, (_, i) => i), poolSize: count };
  if (kind === "zipf") return { positions: zipfPositions(count, ZIPF_DISTINCT, seed), poolSize: ZIPF_DISTINCT };
  if (kind !== "hot90") throw new Error(`unknown workload ${kind}`);
  const R = rng(seed);
  const positions = Array.from({ length: hot }, (_, i) => i);
  let fresh = hot;
  for (let i = 0; positions.length < count; i++) positions.push(i % 10 === 9 ? fresh++ : Math.floor(R() * hot));
  return { positions, poolSize: fresh };
}

const ZIPF_DISTINCT = 10_000;

function zipfPositions(count, distinct, seed) {
  const R = rng(seed);
  const cdf = new Float64Array(distinct);
  let sum = 0;
  for (let r = 0; r < distinct; r++) cdf[r] = sum += 1 / (r + 1);
  const out = new Array(count);
  for (let i = 0; i < count; i++) {
    const u = R() * sum;
    let lo = 0;
    let hi = distinct - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid] < u) lo = mid + 1;
      else hi = mid;
    }
    out[i] = lo;
  }
  return out;
}

// The first `n` distinct abstract requests of a scenario for a seed (the shared request pool).
export function requestPool(scenario, seed, n) {
  const gen = distinctRequests(scenario, seed);
  return Array.from({ length: n }, () => gen.next().value);
}

// Builds (or reuses) the frame files for one codec/scenario/workload. `codec` is
// { name, tag, toJson(req), encode(json) }. Returns paths, frame length and the positions.
export function buildWorkload({ workDir, codec, scenario, kind, count, seed = 1, hot = 100 }) {
  mkdirSync(workDir, { recursive: true });
  const base = join(workDir, `${codec.name}-${scenario}-${kind}-${count}-s${seed}-h${hot}`);
  const meta = `${base}.json`;
  const { positions, poolSize } = workloadPositions(kind, count, { hot, seed: seed + 6 });
  const out = { bodiesPath: `${base}.bodies`, dataPath: `${base}.data`, positions, poolSize, scenario, kind, seed };
  if (existsSync(meta) && existsSync(out.bodiesPath) && existsSync(out.dataPath)) {
    return { ...out, frameLen: JSON.parse(readFileSync(meta, "utf8")).frameLen };
  }
  const pool = requestPool(scenario, seed, poolSize);
  const msgs = pool.map((r) => codec.encode(codec.toJson(r)));
  const maxLen = msgs.reduce((m, b) => Math.max(m, b.length), 0);
  const idChars = 12;
  const frameLen = commonFrameLength(maxLen, idChars);
  const fd = openSync(out.bodiesPath, "w");
  const chunk = [];
  let first = null;
  positions.forEach((p, k) => {
    const f = padToFrame(msgs[p], codec.tag, `b${k}`, frameLen);
    if (!f) throw new Error(`cannot pad request ${p} to ${frameLen} bytes`);
    first ??= f;
    chunk.push(f);
    if (chunk.length === 4096) writeSync(fd, Buffer.concat(chunk.splice(0)));
  });
  if (chunk.length) writeSync(fd, Buffer.concat(chunk));
  closeSync(fd);
  writeFileSync(out.dataPath, first);
  writeFileSync(meta, JSON.stringify({ frameLen, count, poolSize }));
  return { ...out, frameLen };
}

// Frame k of a workload, read back from its bodies file (the exact bytes h2load sends).
export function frameAt(w, k) {
  const buf = Buffer.alloc(w.frameLen);
  const fd = openSync(w.bodiesPath, "r");
  try {
    readSync(fd, buf, 0, w.frameLen, k * w.frameLen);
  } finally {
    closeSync(fd);
  }
  return buf;
}
