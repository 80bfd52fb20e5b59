import "reflect-metadata";
import { container as root, type DependencyContainer, type InjectionToken, instanceCachingFactory } from "tsyringe";
import { App } from "./app.js";
import { ActiveBundle } from "./bundle/active-bundle.js";
import { BundleActivator } from "./bundle/bundle-activator.js";
import { BundleLoader } from "./bundle/bundle-loader.js";
import type { Config } from "./config/config-spec.js";
import { NoDecisionCache } from "./decision/decision-cache.js";
import { DecisionObservers } from "./decision/decision-observer.js";
import { DecisionService } from "./decision/decision-service.js";
import { CedarEngine } from "./engine/cedar-engine.js";
import { CedarRuntime } from "./engine/cedar-runtime.js";
import { createLogger, type Logger } from "./observability/logger.js";
import { authorizationService } from "./server/authorization/authorization-service.js";
import { GrpcServer } from "./server/grpc-server.js";
import { addHealthRoutes } from "./server/http/health-routes.js";
import { HttpServer } from "./server/http/http-server.js";
import { clientAllowListInterceptor, grpcServerCredentials } from "./server/tls/grpc-credentials.js";
import { TOKENS } from "./tokens.js";

/**
 * The composition root: the only place that knows tsyringe and how the parts fit. Every
 * other file receives its dependencies through its constructor.
 */
export function createContainer(config: Config, logger?: Logger): DependencyContainer {
  const c = root.createChildContainer();
  const single = <T>(token: InjectionToken<T>, make: (c: DependencyContainer) => T) =>
    c.register(token, { useFactory: instanceCachingFactory(make) });

  c.register(TOKENS.Config, { useValue: config });
  single(TOKENS.Logger, () => logger ?? createLogger(config.log.level));
  single(TOKENS.Engine, () => new CedarEngine(new CedarRuntime(), config.engine));
  single(TOKENS.BundleLoader, (r) => new BundleLoader(r.resolve(TOKENS.Engine)));
  single(TOKENS.ActiveBundle, () => new ActiveBundle());
  single(TOKENS.BundleActivator, (r) => new BundleActivator(r.resolve(TOKENS.BundleLoader), r.resolve(TOKENS.ActiveBundle), r.resolve(TOKENS.Logger)));
  single(TOKENS.DecisionCache, () => new NoDecisionCache());
  single(TOKENS.DecisionObserver, () => new DecisionObservers([]));
  single(
    TOKENS.DecisionService,
    (r) =>
      new DecisionService(r.resolve(TOKENS.ActiveBundle), config.limits, r.resolve(TOKENS.DecisionCache), r.resolve(TOKENS.DecisionObserver), config.engine.untrustedEntityData),
  );
  single(TOKENS.GrpcServer, (r) => {
    const interceptor = clientAllowListInterceptor(config.tls.grpc);
    const server = new GrpcServer({
      ...config.server,
      addr: config.server.grpcAddr,
      credentials: grpcServerCredentials(config.tls.grpc),
      interceptors: interceptor ? [interceptor] : [],
    });
    server.add(...authorizationService(r.resolve(TOKENS.DecisionService)));
    return server;
  });
  single(TOKENS.HttpServer, () => new HttpServer(config.server.httpAddr, config.tls.http));
  single(TOKENS.App, (r) => {
    const http = r.resolve(TOKENS.HttpServer);
    const app = new App(config, r.resolve(TOKENS.GrpcServer), http, r.resolve(TOKENS.Logger));
    addHealthRoutes(http, r.resolve(TOKENS.ActiveBundle), app);
    return app;
  });
  return c;
}
