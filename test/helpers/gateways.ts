import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, request, type IncomingHttpHeaders, type Server } from "node:http";
import { type AddressInfo, connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A port free on loopback a moment ago (the gateway binds it right after). */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** What the upstream received. */
export interface Received {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
}

/** An upstream that records every request it gets and answers 200 "upstream". */
export async function startUpstream(): Promise<{ port: number; seen: Received[]; stop(): Promise<void> }> {
  const seen: Received[] = [];
  const server: Server = createServer((req, res) => {
    seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers });
    req.resume();
    res.writeHead(200, { "content-type": "text/plain" });
    res.end("upstream");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    stop: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** A gateway process started by a test. */
export interface Gateway {
  readonly name: string;
  readonly port: number;
  stop(): Promise<void>;
}

/** The settings every gateway config uses. */
export interface GatewayTarget {
  readonly verdictPort: number;
  readonly upstreamPort: number;
  readonly token: string;
}

/** nginx with `auth_request` to Verdict's forward-auth endpoint; the config README documents. */
export function nginxConfig(port: number, t: GatewayTarget): string {
  return `worker_processes 1;
events { worker_connections 128; }
http {
  access_log off;
  client_body_temp_path tmp/body;
  proxy_temp_path tmp/proxy;
  fastcgi_temp_path tmp/fastcgi;
  uwsgi_temp_path tmp/uwsgi;
  scgi_temp_path tmp/scgi;
  server {
    listen 127.0.0.1:${port};
    location / {
      auth_request /_verdict;
      auth_request_set $verdict_decision $upstream_http_x_verdict_decision_id;
      auth_request_set $verdict_principal $upstream_http_x_verdict_principal;
      proxy_set_header X-Verdict-Decision-Id $verdict_decision;
      proxy_set_header X-Verdict-Principal $verdict_principal;
      proxy_pass http://127.0.0.1:${t.upstreamPort};
    }
    location = /_verdict {
      internal;
      proxy_pass http://127.0.0.1:${t.verdictPort}/forward-auth;
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_set_header X-Forwarded-Method $request_method;
      proxy_set_header X-Forwarded-Uri $request_uri;
      proxy_set_header X-Forwarded-Host $host;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Verdict-Gateway-Token "${t.token}";
    }
  }
}
`;
}

/** Caddy with `forward_auth` to Verdict's forward-auth endpoint; the config README documents. */
export function caddyConfig(port: number, t: GatewayTarget, dir: string): string {
  return `{
  admin off
  auto_https off
  storage file_system ${join(dir, "data")}
  log {
    output stderr
    level ERROR
  }
}
http://:${port} {
  bind 127.0.0.1
  forward_auth 127.0.0.1:${t.verdictPort} {
    uri /forward-auth
    header_up X-Verdict-Gateway-Token "${t.token}"
    copy_headers X-Verdict-Decision-Id X-Verdict-Principal
  }
  reverse_proxy 127.0.0.1:${t.upstreamPort}
}
`;
}

/** Starts nginx or Caddy in a temp folder with a generated config; resolves once it answers. */
export async function startGateway(kind: "nginx" | "caddy", t: GatewayTarget): Promise<Gateway> {
  const dir = mkdtempSync(join(tmpdir(), `verdict-${kind}-`));
  mkdirSync(join(dir, "tmp"));
  const port = await freePort();
  let child: ChildProcess;
  const env = { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: dir, XDG_DATA_HOME: join(dir, "data"), XDG_CONFIG_HOME: join(dir, "config") };
  if (kind === "nginx") {
    writeFileSync(join(dir, "nginx.conf"), nginxConfig(port, t));
    child = spawn("/usr/sbin/nginx", ["-p", dir, "-c", join(dir, "nginx.conf"), "-e", "stderr", "-g", `daemon off; pid ${join(dir, "tmp/nginx.pid")}; error_log stderr;`], { env, stdio: ["ignore", "ignore", "pipe"] });
  } else {
    writeFileSync(join(dir, "Caddyfile"), caddyConfig(port, t, dir));
    child = spawn("/usr/bin/caddy", ["run", "--config", join(dir, "Caddyfile"), "--adapter", "caddyfile"], { env, stdio: ["ignore", "ignore", "pipe"] });
  }
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  // No test may leave a gateway running: a hard stop after 5 minutes whatever happens.
  const guard = setTimeout(() => child.kill("SIGKILL"), 300_000).unref();
  const stop = async () => {
    clearTimeout(guard);
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((r) => child.once("exit", () => r()));
      child.kill("SIGTERM");
      const killer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(killer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) break;
    try {
      await send(port, { path: "/__ready" });
      return { name: kind, port, stop };
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  await stop();
  throw new Error(`${kind} did not start: ${stderr}`);
}

/** One client request through a gateway. */
export interface ClientRequest {
  readonly method?: string;
  /** Sent verbatim as the request target. */
  readonly path: string;
  readonly headers?: Record<string, string | string[]>;
}

/** Sends a request with the method and target exactly as given (over a raw socket); the status. */
export function sendRaw(port: number, method: string, target: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let data = "";
    socket.setTimeout(10_000, () => socket.destroy(new Error("timeout")));
    socket.on("data", (d: Buffer) => {
      data += d.toString("latin1");
      const m = /^HTTP\/1\.1 (\d{3})/.exec(data);
      if (m) {
        resolve(Number(m[1]));
        socket.destroy();
      }
    });
    socket.on("error", reject);
    const lines = Object.entries({ host: "api.example.test", connection: "close", ...headers }).map(([k, v]) => `${k}: ${v}`);
    socket.write(`${method} ${target} HTTP/1.1\r\n${lines.join("\r\n")}\r\n\r\n`);
  });
}

/** Sends a request with the target as given (no client-side normalization); status and body. */
export function send(port: number, r: ClientRequest): Promise<{ status: number; body: string; headers: IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, method: r.method ?? "GET", path: r.path, headers: { host: "api.example.test", ...(r.headers ?? {}) }, timeout: 10_000, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end();
  });
}
