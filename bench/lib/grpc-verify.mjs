// Checks what h2load cannot see: sends a sample of the exact frames of a workload over HTTP/2
// (node:http2, one unary gRPC call each), reads grpc-status from the trailers, decodes the
// answer and compares its decision with the one cedar-wasm computes for the same request.
import { connect } from "node:http2";
import { frameAt } from "./workload-bodies.mjs";
import { unframe } from "./grpc-frame.mjs";

// One unary gRPC call with a pre-framed body -> { grpcStatus, message, body }.
function unary(session, path, body) {
  return new Promise((resolve, reject) => {
    const req = session.request({ ":method": "POST", ":path": path, "content-type": "application/grpc", te: "trailers" });
    const chunks = [];
    let headers = {};
    req.on("response", (h) => (headers = h));
    req.on("data", (d) => chunks.push(d));
    req.on("trailers", (t) => (headers = { ...headers, ...t }));
    req.on("error", reject);
    req.on("end", () => resolve({
      grpcStatus: Number(headers["grpc-status"] ?? -1),
      message: headers["grpc-message"] ? decodeURIComponent(headers["grpc-message"]) : "",
      body: Buffer.concat(chunks),
    }));
    req.end(body);
  });
}

// Sample positions of a workload: the first `first`, then evenly spaced up to `total`.
export function samplePositions(w, { first = 100, total = 400 } = {}) {
  const n = w.positions.length;
  const out = new Set(Array.from({ length: Math.min(first, n) }, (_, i) => i));
  const step = Math.max(1, Math.floor(n / Math.max(1, total - out.size)));
  for (let k = 0; k < n && out.size < total; k += step) out.add(k);
  return [...out];
}

// Verifies `positions` of workload `w` against `url`. `decide(bytes, poolIndex)` decodes a
// response into { decision, cache? }; `expected(poolIndex)` gives "allow" | "deny".
// Returns { checked, grpcErrors, wrong, allow, deny, cache: {status: n}, examples: [...] }.
export async function verifyWorkload({ url, path, w, positions, decode, expected, concurrency = 8 }) {
  const session = connect(url);
  session.on("error", () => {});
  const res = { checked: 0, grpcErrors: 0, wrong: 0, allow: 0, deny: 0, cache: {}, examples: [] };
  try {
    let next = 0;
    const worker = async () => {
      while (next < positions.length) {
        const k = positions[next++];
        const idx = w.positions[k];
        const r = await unary(session, path, frameAt(w, k));
        res.checked++;
        if (r.grpcStatus !== 0) {
          res.grpcErrors++;
          if (res.examples.length < 3) res.examples.push(`position ${k}: grpc-status ${r.grpcStatus} ${r.message}`);
          continue;
        }
        const got = decode(unframe(r.body), idx);
        if (got.cache) res.cache[got.cache] = (res.cache[got.cache] ?? 0) + 1;
        res[got.decision === "allow" ? "allow" : "deny"]++;
        const want = expected(idx);
        if (got.decision !== want) {
          res.wrong++;
          if (res.examples.length < 3) res.examples.push(`position ${k} (request ${idx}): got ${got.decision}, want ${want}`);
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
  } finally {
    session.close();
  }
  return res;
}
