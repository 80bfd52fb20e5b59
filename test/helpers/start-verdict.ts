import { AuthorizationService } from "../../src/gen/verdict/v1/authorization_pb.js";
import { createServiceClient, type ServiceClient } from "../../src/cli/grpc-client.js";
import { silentLogger } from "../../src/cli/silent-logger.js";
import { loadConfig } from "../../src/config/load-config.js";
import { createContainer } from "../../src/container.js";
import { readBundlePath } from "../../src/bundle/sources/read-bundle-path.js";
import { TOKENS } from "../../src/tokens.js";
import type { DependencyContainer } from "tsyringe";

/** A real Verdict server on free loopback ports, in this process. */
export interface RunningVerdict {
  readonly grpcAddr: string;
  readonly httpUrl: string;
  readonly client: ServiceClient;
  readonly container: DependencyContainer;
  stop(): Promise<void>;
}

/** Starts a server for `bundleDir` with extra settings (dotted paths → values). */
export async function startVerdict(bundleDir: string, settings: Record<string, unknown> = {}): Promise<RunningVerdict> {
  const config = loadConfig({
    env: {},
    flags: { "server.grpcAddr": "127.0.0.1:0", "server.httpAddr": "127.0.0.1:0", "server.adminAddr": "127.0.0.1:0", "server.shutdownGraceMs": 2000, "decisionLog.destination": "off", ...settings },
  });
  const container = createContainer(config, silentLogger());
  container.resolve(TOKENS.BundleActivator).activate(await readBundlePath(bundleDir, config.bundleLimits), "test");
  const app = container.resolve(TOKENS.App);
  const { grpcPort, httpPort } = await app.start();
  const grpcAddr = `127.0.0.1:${grpcPort}`;
  const client = createServiceClient(AuthorizationService, grpcAddr);
  return {
    grpcAddr,
    httpUrl: `http://127.0.0.1:${httpPort}`,
    client,
    container,
    async stop() {
      client.close();
      await app.stop();
    },
  };
}
