import { AuthorizationService } from "../../src/gen/verdict/v1/authorization_pb.js";
import { createServiceClient, type ServiceClient } from "../../src/cli/grpc-client.js";
import { silentLogger } from "../../src/cli/silent-logger.js";
import { loadConfig } from "../../src/config/load-config.js";
import { createContainer } from "../../src/container.js";
import { TOKENS } from "../../src/tokens.js";
import type { DependencyContainer } from "tsyringe";

/** A real Verdict server on free loopback ports, in this process. */
export interface RunningVerdict {
  readonly grpcAddr: string;
  /** Empty when the admin listener is off. */
  readonly adminAddr: string;
  readonly httpUrl: string;
  readonly client: ServiceClient;
  readonly container: DependencyContainer;
  stop(): Promise<void>;
}

/** Starts a server for `bundleDir` with extra settings (dotted paths → values). */
export async function startVerdict(bundleDir: string, settings: Record<string, unknown> = {}): Promise<RunningVerdict> {
  const config = loadConfig({
    env: {},
    flags: {
      "server.grpcAddr": "127.0.0.1:0",
      "server.httpAddr": "127.0.0.1:0",
      "server.adminAddr": "127.0.0.1:0",
      "server.shutdownGraceMs": 2000,
      "decisionLog.destination": "off",
      "bundles.stateDir": "",
      "bundles.watch": false,
      // A busy test machine lags; readiness by event-loop lag is tested on its own.
      "server.readyMaxLagMs": 0,
      "policies.dir": bundleDir,
      ...settings,
    },
  });
  const container = createContainer(config, silentLogger());
  await container.resolve(TOKENS.BundleSources).start();
  const app = container.resolve(TOKENS.App);
  const { grpcPort, httpPort, adminPort } = await app.start();
  const grpcAddr = `127.0.0.1:${grpcPort}`;
  const client = createServiceClient(AuthorizationService, grpcAddr);
  return {
    grpcAddr,
    adminAddr: adminPort ? `127.0.0.1:${adminPort}` : "",
    httpUrl: `http://127.0.0.1:${httpPort}`,
    client,
    container,
    async stop() {
      client.close();
      await app.stop();
    },
  };
}
