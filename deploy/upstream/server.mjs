// A sample upstream API for the compose stack: echoes what reached it, including the
// headers Verdict added (x-verdict-decision-id).
import { createServer } from "node:http";

createServer((req, res) => {
  const body = JSON.stringify({ method: req.method, path: req.url, decisionId: req.headers["x-verdict-decision-id"] ?? null });
  res.writeHead(200, { "content-type": "application/json" });
  res.end(`${body}\n`);
}).listen(8081, "0.0.0.0");
