#!/usr/bin/env node
// An evenly paced, open-loop gRPC load: request k is due at start + k/rate, sent on time
// whatever answers are outstanding, and its latency counts from when it was due (so a server
// that stalls is charged for the requests queued behind the stall). h2load's --rate paces
// connections, not requests, so it cannot do this. Run it pinned to the load core:
//   taskset -c 1 node paced-load.mjs URL PATH BODIES FRAME_LEN START RATE SECONDS [CONNS]
// -> one JSON line: { sent, ok, failed, late, rate, p50, p90, p99 } (latencies in µs).
import { connect } from "node:http2";
import { openSync, readSync, fstatSync } from "node:fs";
import { percentiles } from "./stats.mjs";

const [url, path, bodies, frameLenS, startS, rateS, secondsS, connsS = "4"] = process.argv.slice(2);
const frameLen = Number(frameLenS);
const rate = Number(rateS);
const total = Math.floor(rate * Number(secondsS));
const fd = openSync(bodies, "r");
const frames = Math.floor(fstatSync(fd).size / frameLen);
const sessions = Array.from({ length: Number(connsS) }, () => {
  const s = connect(url);
  s.on("error", () => {});
  return s;
});

const frame = (k) => {
  const buf = Buffer.alloc(frameLen);
  readSync(fd, buf, 0, frameLen, ((Number(startS) + k) % frames) * frameLen);
  return buf;
};

const lat = [];
let ok = 0;
let failed = 0;
let late = 0;
let done = 0;

function send(k, due) {
  const req = sessions[k % sessions.length].request({ ":method": "POST", ":path": path, "content-type": "application/grpc", te: "trailers" });
  let status = -1;
  req.on("trailers", (t) => (status = Number(t["grpc-status"] ?? -1)));
  req.on("response", (h) => { if (h["grpc-status"] !== undefined) status = Number(h["grpc-status"]); });
  req.on("data", () => {});
  const finish = () => {
    const us = (performance.now() - due) * 1000;
    if (status === 0) { ok++; lat.push(us); } else failed++;
    if (++done === total) report();
  };
  req.on("end", finish);
  req.on("error", () => { status = -1; finish(); });
  req.end(frame(k));
}

function report() {
  for (const s of sessions) s.close();
  const elapsed = (performance.now() - t0) / 1000;
  console.log(JSON.stringify({ sent: total, ok, failed, late, rate: total / elapsed, ...percentiles(lat) }));
  process.exit(0);
}

// A tight scheduler: each turn sends every request now due. Turns are a macrotask apart, so
// requests go out within a fraction of a millisecond of their due time unless this process is
// itself starved, which `late` (sent more than 1 ms after due) reports.
const t0 = performance.now();
let next = 0;
function tick() {
  const now = performance.now();
  while (next < total && t0 + (next * 1000) / rate <= now) {
    const due = t0 + (next * 1000) / rate;
    if (now - due > 1) late++;
    send(next++, due);
  }
  if (next < total) setImmediate(tick);
}
tick();
setTimeout(() => { console.log(JSON.stringify({ sent: next, ok, failed: failed + (next - done), late, rate: 0, timeout: true })); process.exit(1); }, (Number(secondsS) + 30) * 1000).unref();
