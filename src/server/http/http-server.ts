import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createTlsServer, type Server as TlsServer } from "node:https";
import type { AddressInfo } from "node:net";
import type { TLSSocket } from "node:tls";
import type { TlsSettings } from "../tls/grpc-credentials.js";
import { isAllowed, parseAllowList } from "../tls/peer-identity.js";

/** A route handler; it must answer the response. */
export type HttpHandler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

/** The HTTP listener: small exact-path routing for metrics, health and JSON APIs. */
export class HttpServer {
  readonly #addr: string;
  readonly #routes = new Map<string, HttpHandler>();
  readonly #prefixes: [string, HttpHandler][] = [];
  readonly #server: Server | TlsServer;
  readonly #allow: ReadonlySet<string>;
  #reload: NodeJS.Timeout | undefined;

  /** Plaintext unless `tls.certFile` is set; mTLS (client certificate required) when `tls.caFile` is. */
  constructor(addr: string, tls?: TlsSettings) {
    this.#addr = addr;
    this.#allow = parseAllowList(tls?.allowedClients ?? "");
    const handler = (req: IncomingMessage, res: ServerResponse) => this.#dispatch(req, res);
    if (tls?.certFile === undefined) {
      this.#server = createServer(handler);
    } else {
      const server = createTlsServer({ ...secureContextOf(tls), requestCert: tls.caFile !== undefined, rejectUnauthorized: tls.caFile !== undefined }, handler);
      // Re-read the files periodically so a rotated certificate is served without a restart.
      this.#reload = setInterval(() => {
        try {
          server.setSecureContext(secureContextOf(tls));
        } catch {
          // A half-written file: keep the current context and try again next time.
        }
      }, tls.reloadMs).unref();
      this.#server = server;
    }
    this.#server.headersTimeout = 10_000;
    this.#server.requestTimeout = 30_000;
  }

  /** Registers `METHOD /path`. */
  route(method: string, path: string, handler: HttpHandler): void {
    this.#routes.set(`${method} ${path}`, handler);
  }

  /** Registers `path` and everything below it (`path/…`), for any method. */
  prefix(path: string, handler: HttpHandler): void {
    this.#prefixes.push([path, handler]);
  }

  /** Binds; resolves with the bound port. */
  start(): Promise<number> {
    const i = this.#addr.lastIndexOf(":");
    const host = this.#addr.slice(0, i).replace(/^\[|\]$/g, "");
    const port = Number(this.#addr.slice(i + 1));
    return new Promise((resolve, reject) => {
      this.#server.once("error", (err) => reject(new Error(`cannot listen on ${this.#addr}: ${err.message}`)));
      this.#server.listen(port, host, () => resolve((this.#server.address() as AddressInfo).port));
    });
  }

  /** Stops listening and closes idle connections. */
  stop(): Promise<void> {
    clearInterval(this.#reload);
    return new Promise((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeIdleConnections();
    });
  }

  #dispatch(req: IncomingMessage, res: ServerResponse): void {
    if (this.#allow.size > 0 && !isAllowed(this.#allow, (req.socket as TLSSocket).getPeerCertificate?.())) {
      sendJson(res, 403, { error: "client certificate identity is not on this listener's allow-list" });
      return;
    }
    const path = (req.url ?? "/").split("?")[0];
    // A prefix (forward-auth) wins over exact routes: were its path also /healthz or AuthZEN's,
    // a gateway would get their 200 for a request nobody decided.
    const handler = this.#prefixes.find(([p]) => path === p || path!.startsWith(`${p}/`))?.[1] ?? this.#routes.get(`${req.method} ${path}`);
    if (handler === undefined) {
      const known = [...this.#routes.keys()].some((k) => k.endsWith(` ${path}`));
      sendJson(res, known ? 405 : 404, { error: known ? "method not allowed" : "not found" });
      return;
    }
    Promise.resolve()
      .then(() => handler(req, res))
      .catch(() => {
        if (!res.headersSent) sendJson(res, 500, { error: "internal error" });
        else res.destroy();
      });
  }
}

/** Answers with a JSON body. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), ...headers });
  res.end(text);
}

function secureContextOf(tls: TlsSettings): { cert: Buffer; key: Buffer; ca?: Buffer } {
  return {
    cert: readFileSync(tls.certFile!),
    key: readFileSync(tls.keyFile ?? tls.certFile!),
    ...(tls.caFile === undefined ? {} : { ca: readFileSync(tls.caFile) }),
  };
}
