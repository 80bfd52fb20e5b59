// The sample upstream behind Envoy: answers every request with what it received, so a demo
// shows the headers Verdict added (x-verdict-decision-id) and removed (authorization).
import { createServer } from "node:http";

createServer((req, res) => {
  res.setHeader("content-type", "application/json");
  res.end(`${JSON.stringify({ upstream: "echo", method: req.method, path: req.url, headers: req.headers }, null, 2)}\n`);
}).listen(8081, "0.0.0.0");
