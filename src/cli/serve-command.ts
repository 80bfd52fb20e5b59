import type { Command } from "commander";
import { BundleError } from "../bundle/bundle-error.js";
import { createContainer } from "../container.js";
import { TOKENS } from "../tokens.js";
import { type CommonFlags, configFromFlags, fail } from "./cli-config.js";

/** `verdict serve`: load the bundle (exit 1 with diagnostics if it is bad), then serve until SIGTERM. */
export function registerServe(program: Command): void {
  program
    .command("serve")
    .description("serve decisions over gRPC (and metrics/health over HTTP)")
    .option("--policies <dir>", "bundle directory (default ./policies)")
    .option("--bundle <file>", "bundle tarball (.tar.gz)")
    .option("--grpc-addr <host:port>", "gRPC listener (default 127.0.0.1:50051)")
    .option("--http-addr <host:port>", "HTTP listener (default 127.0.0.1:9464)")
    .option("--admin-addr <host:port>", "admin gRPC listener (default 127.0.0.1:50052)")
    .option("--redis-url <url>", "Redis to share with the fleet: redis://, rediss://, redis+sentinel://, redis+cluster:// (see Running a fleet)")
    .option("--config <file>", "config file (JSON or YAML)")
    .action(async (flags: CommonFlags & { redisUrl?: string }) => {
      const config = configFromFlags(flags, { "redis.url": flags.redisUrl });
      const c = createContainer(config);
      const log = c.resolve(TOKENS.Logger);
      const source = config.policies.bundle ?? config.policies.dir ?? "policies";
      try {
        await c.resolve(TOKENS.BundleSources).start();
      } catch (err) {
        log.flush();
        fail(err instanceof BundleError ? err.message : `cannot load bundle ${source}: ${(err as Error).message}`);
        return;
      }
      const app = c.resolve(TOKENS.App);
      await app.start();
      const stop = () => {
        app.stop().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      };
      process.once("SIGTERM", stop);
      process.once("SIGINT", stop);
    });
}
