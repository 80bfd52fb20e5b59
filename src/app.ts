import type { Config } from "./config/config-spec.js";
import type { Logger } from "./observability/logger.js";
import type { GrpcServer } from "./server/grpc-server.js";
import type { HttpServer } from "./server/http/http-server.js";
import type { Lifecycle } from "./server/http/health-routes.js";

/** Bound ports of a running server. */
export interface Listening {
  readonly grpcPort: number;
  readonly httpPort: number;
  /** 0 when the admin listener is off (no token and no mTLS allow-list configured). */
  readonly adminPort: number;
}

/** Starts and stops the listeners in order; readiness turns false before draining. */
export class App {
  readonly #config: Config;
  readonly #grpc: GrpcServer;
  readonly #http: HttpServer;
  readonly #log: Logger;
  readonly #lifecycle: Lifecycle;
  readonly #admin: GrpcServer | undefined;

  constructor(config: Config, grpc: GrpcServer, http: HttpServer, log: Logger, lifecycle: Lifecycle, admin?: GrpcServer) {
    this.#admin = admin;
    this.#config = config;
    this.#grpc = grpc;
    this.#http = http;
    this.#log = log;
    this.#lifecycle = lifecycle;
  }

  async start(): Promise<Listening> {
    const grpcPort = await this.#grpc.start();
    const httpPort = await this.#http.start();
    const adminPort = this.#admin ? await this.#admin.start() : 0;
    const { grpcAddr, httpAddr, adminAddr } = this.#config.server;
    this.#log.info({ grpc: hostPort(grpcAddr, grpcPort), http: hostPort(httpAddr, httpPort), admin: adminPort ? hostPort(adminAddr, adminPort) : "off" }, "serving");
    if (!this.#admin) this.#log.warn("admin listener off: set admin.token (VERDICT_ADMIN_TOKEN) or tls.admin.allowedClients to enable bundle pushes");
    return { grpcPort, httpPort, adminPort };
  }

  /** Graceful stop: not ready, finish in-flight calls within the grace period, close the rest. */
  async stop(): Promise<void> {
    if (this.#lifecycle.draining) return;
    // Health turns NOT_SERVING first; the optional delay lets load balancers notice before
    // the listener stops accepting calls.
    this.#lifecycle.draining = true;
    this.#log.info({ graceMs: this.#config.server.shutdownGraceMs }, "shutting down");
    if (this.#config.server.shutdownDelayMs > 0) await new Promise((r) => setTimeout(r, this.#config.server.shutdownDelayMs));
    await Promise.all([this.#grpc.stop(this.#config.server.shutdownGraceMs), this.#admin?.stop(this.#config.server.shutdownGraceMs)]);
    await this.#http.stop();
    for (const close of [...this.#lifecycle.closers].reverse()) {
      try {
        await close();
      } catch (err) {
        this.#log.warn({ err: (err as Error).message }, "error during shutdown");
      }
    }
    this.#log.flush();
  }
}

const hostPort = (addr: string, port: number) => `${addr.slice(0, addr.lastIndexOf(":"))}:${port}`;
