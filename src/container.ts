import "reflect-metadata";
import { readFileSync } from "node:fs";
import { container as root, type DependencyContainer, type InjectionToken, instanceCachingFactory } from "tsyringe";
import { App } from "./app.js";
import { ActiveBundle } from "./bundle/active-bundle.js";
import { BundleActivator } from "./bundle/bundle-activator.js";
import { BundleLoader } from "./bundle/bundle-loader.js";
import { BundleRegistry } from "./bundle/bundle-registry.js";
import { ShadowBundle } from "./bundle/shadow-bundle.js";
import { BundleSources } from "./bundle/sources/bundle-sources.js";
import { LocalBundleStore } from "./bundle/sources/local-bundle-store.js";
import { RedisBundleFanout } from "./bundle/sources/redis-bundle-fanout.js";
import { BundleVerifier } from "./bundle/signing/bundle-verifier.js";
import type { Config } from "./config/config-spec.js";
import { ValueSealer } from "./cache/sealed-value.js";
import { SharedCache } from "./cache/shared-cache.js";
import { TieredDecisionCache } from "./cache/tiered-decision-cache.js";
import { NoDecisionCache } from "./decision/decision-cache.js";
import { DecisionObservers } from "./decision/decision-observer.js";
import { DecisionService } from "./decision/decision-service.js";
import { PlanService } from "./decision/plan-service.js";
import { UncachedEvaluator } from "./decision/uncached-evaluator.js";
import { CedarEngine } from "./engine/cedar-engine.js";
import { CedarRuntime } from "./engine/cedar-runtime.js";
import { EvaluationPool } from "./engine/evaluation-pool.js";
import { engineObserver } from "./observability/engine-observer.js";
import { RequestSample } from "./impact/request-sample.js";
import { SampleImpact } from "./impact/sample-impact.js";
import { ShadowEvaluator } from "./impact/shadow-evaluator.js";
import { createLogger, type Logger } from "./observability/logger.js";
import { DecisionLog } from "./observability/decision-log.js";
import { Metrics } from "./observability/metrics.js";
import { adminService } from "./server/admin/admin-service.js";
import { bearerTokenInterceptor } from "./server/admin/admin-auth.js";
import { GrpcServer } from "./server/grpc-server.js";
import { addMainServices } from "./server/main-listener.js";
import { addAuthzenRoutes } from "./server/authzen/authzen-routes.js";
import { UnmatchedInventory } from "./server/envoy/unmatched-inventory.js";
import { addHealthRoutes, Lifecycle } from "./server/http/health-routes.js";
import { addMetricsRoute } from "./server/http/metrics-route.js";
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
  single(TOKENS.Engine, (r) => new CedarEngine(new CedarRuntime(), { ...config.engine, observer: engineObserver(r.resolve(TOKENS.Metrics), r.resolve(TOKENS.Logger), config.decisionLog) }));
  single(TOKENS.BundleLoader, (r) => {
    const { verificationKey, keyId } = config.bundles;
    return new BundleLoader(r.resolve(TOKENS.Engine), verificationKey === undefined ? undefined : BundleVerifier.fromFile(verificationKey, keyId));
  });
  single(TOKENS.Metrics, () => new Metrics());
  single(TOKENS.ActiveBundle, (r) => {
    const active = new ActiveBundle();
    const metrics = r.resolve(TOKENS.Metrics);
    active.onActivate((activation) => metrics.activated(activation));
    return active;
  });
  single(TOKENS.ShadowBundle, (r) => {
    const shadow = new ShadowBundle();
    const metrics = r.resolve(TOKENS.Metrics);
    shadow.onChange((s) => metrics.shadowChanged(s));
    return shadow;
  });
  single(
    TOKENS.BundleActivator,
    (r) => new BundleActivator(r.resolve(TOKENS.BundleLoader), r.resolve(TOKENS.ActiveBundle), r.resolve(TOKENS.Logger), r.resolve(TOKENS.Metrics)),
  );
  single(
    TOKENS.BundleRegistry,
    (r) =>
      new BundleRegistry(
        r.resolve(TOKENS.BundleLoader),
        r.resolve(TOKENS.ActiveBundle),
        r.resolve(TOKENS.ShadowBundle),
        r.resolve(TOKENS.Logger),
        { read: config.bundleLimits, request: config.limits, historySize: config.bundles.historySize },
        r.resolve(TOKENS.Metrics),
      ),
  );
  single(TOKENS.BundleSources, (r) => {
    const registry = r.resolve(TOKENS.BundleRegistry);
    const log = r.resolve(TOKENS.Logger);
    const url = config.redis.url;
    const fanout =
      url === undefined
        ? undefined
        : new RedisBundleFanout({ url, namespace: config.redis.namespace, commandTimeoutMs: config.redis.commandTimeoutMs, connectTimeoutMs: config.redis.connectTimeoutMs }, registry, log);
    const store = url === undefined && config.bundles.stateDir !== "" ? new LocalBundleStore(config.bundles.stateDir) : undefined;
    for (const p of [fanout, store]) if (p) registry.addPublisher(p);
    const settings = {
      path: config.policies.bundle ?? config.policies.dir ?? "policies",
      watch: config.bundles.watch,
      watchDebounceMs: config.bundles.watchDebounceMs,
      fanoutCheckMs: config.bundles.fanoutCheckMs,
      readLimits: config.bundleLimits,
    };
    const sources = new BundleSources(settings, registry, r.resolve(TOKENS.ActiveBundle), log, store, fanout);
    r.resolve(TOKENS.Lifecycle).onClose(() => sources.close());
    return sources;
  });
  single(TOKENS.AdminServer, (r) => {
    const token = tokenOf(config.admin);
    const mtls = clientAllowListInterceptor(config.tls.admin);
    if (token === undefined && mtls === undefined) return undefined;
    const server = new GrpcServer({
      ...config.server,
      addr: config.server.adminAddr,
      maxReceiveBytes: Math.max(config.server.maxReceiveBytes, config.bundles.maxPushBytes + 1024),
      credentials: grpcServerCredentials(config.tls.admin),
      interceptors: [...(mtls ? [mtls] : []), ...(token === undefined ? [] : [bearerTokenInterceptor(token)])],
    });
    server.add(
      ...adminService(r.resolve(TOKENS.BundleRegistry), {
        active: r.resolve(TOKENS.ActiveBundle),
        shadow: r.resolve(TOKENS.ShadowBundle),
        maxBundleBytes: config.bundles.maxPushBytes,
        impact: r.resolve(TOKENS.SampleImpact),
        unmatched: r.resolve(TOKENS.UnmatchedInventory),
      }),
    );
    return server;
  });
  single(TOKENS.DecisionCache, (r) => {
    if (!config.cache.enabled) return new NoDecisionCache();
    const metrics = r.resolve(TOKENS.Metrics);
    const shared = config.redis.url === undefined ? undefined : new SharedCache(sharedCacheSettings(config, config.redis.url), new ValueSealer(config.cache.macSecret!), metrics);
    if (shared) r.resolve(TOKENS.Lifecycle).onClose(() => shared.close());
    return new TieredDecisionCache({ maxEntries: config.cache.localMaxEntries, ttlMs: config.cache.localTtlMs, namespace: config.redis.namespace, variant: config.engine.strict ? "strict" : "cedar" }, shared, metrics);
  });
  single(TOKENS.DecisionLog, (r) => new DecisionLog(config.decisionLog, r.resolve(TOKENS.Metrics)));
  single(TOKENS.UncachedEvaluator, () => new UncachedEvaluator(config.limits, config.engine.untrustedEntityData));
  single(TOKENS.RequestSample, () => (config.whatIf.sampleSize === 0 ? undefined : new RequestSample(config.whatIf)));
  single(TOKENS.SampleImpact, (r) => {
    const sample = r.resolve(TOKENS.RequestSample);
    return sample === undefined ? undefined : new SampleImpact(sample, r.resolve(TOKENS.ActiveBundle), r.resolve(TOKENS.UncachedEvaluator));
  });
  single(
    TOKENS.ShadowEvaluator,
    (r) => new ShadowEvaluator(r.resolve(TOKENS.ShadowBundle), r.resolve(TOKENS.UncachedEvaluator), config.shadow, r.resolve(TOKENS.Metrics), r.resolve(TOKENS.Logger)),
  );
  single(TOKENS.DecisionObserver, (r) => {
    const sample = r.resolve(TOKENS.RequestSample);
    return new DecisionObservers([r.resolve(TOKENS.Metrics), r.resolve(TOKENS.DecisionLog), ...(sample ? [sample] : []), r.resolve(TOKENS.ShadowEvaluator)]);
  });
  single(
    TOKENS.DecisionService,
    (r) =>
      new DecisionService(
        r.resolve(TOKENS.ActiveBundle),
        config.limits,
        r.resolve(TOKENS.DecisionCache),
        r.resolve(TOKENS.DecisionObserver),
        config.engine.untrustedEntityData,
        r.resolve(TOKENS.EvaluationPool),
      ),
  );
  single(TOKENS.PlanService, (r) => new PlanService(r.resolve(TOKENS.ActiveBundle), config.limits, r.resolve(TOKENS.Metrics), config.engine.untrustedEntityData));
  single(TOKENS.EvaluationPool, (r) => {
    if (config.engine.workers === 0) return undefined;
    const pool = new EvaluationPool(config.engine.workers, config.engine);
    r.resolve(TOKENS.ActiveBundle).onActivate(({ snapshot }) => void pool.prepare(snapshot.policies));
    r.resolve(TOKENS.Lifecycle).onClose(() => pool.close());
    return pool;
  });
  single(TOKENS.GrpcServer, (r) => {
    const interceptor = clientAllowListInterceptor(config.tls.grpc);
    const server = new GrpcServer({
      ...config.server,
      addr: config.server.grpcAddr,
      credentials: grpcServerCredentials(config.tls.grpc),
      interceptors: interceptor ? [interceptor] : [],
    });
    addMainServices(server, r.resolve(TOKENS.DecisionService), r.resolve(TOKENS.PlanService), r.resolve(TOKENS.ActiveBundle), r.resolve(TOKENS.Lifecycle), {
      settings: config.envoy,
      metrics: r.resolve(TOKENS.Metrics),
      inventory: r.resolve(TOKENS.UnmatchedInventory),
    });
    return server;
  });
  single(TOKENS.HttpServer, () => new HttpServer(config.server.httpAddr, config.tls.http));
  single(TOKENS.Lifecycle, () => new Lifecycle());
  single(TOKENS.UnmatchedInventory, () => new UnmatchedInventory());
  single(TOKENS.App, (r) => {
    const http = r.resolve(TOKENS.HttpServer);
    const lifecycle = r.resolve(TOKENS.Lifecycle);
    const app = new App(config, r.resolve(TOKENS.GrpcServer), http, r.resolve(TOKENS.Logger), lifecycle, r.resolve(TOKENS.AdminServer));
    addHealthRoutes(http, r.resolve(TOKENS.ActiveBundle), lifecycle);
    addMetricsRoute(http, r.resolve(TOKENS.Metrics));
    if (config.authzen.enabled) {
      addAuthzenRoutes(http, r.resolve(TOKENS.DecisionService), r.resolve(TOKENS.ActiveBundle), {
        maxBodyBytes: config.authzen.maxBodyBytes,
        token: tokenOf(config.authzen),
        publicUrl: config.authzen.publicUrl,
      });
    }
    const decisionLog = r.resolve(TOKENS.DecisionLog);
    lifecycle.onClose(() => decisionLog.close());
    return app;
  });
  return c;
}

/** The shared cache's settings, from the redis and cache sections. */
function sharedCacheSettings(config: Config, url: string) {
  return {
    url,
    commandTimeoutMs: config.redis.commandTimeoutMs,
    connectTimeoutMs: config.redis.connectTimeoutMs,
    ttlMs: config.cache.sharedTtlMs,
    breaker: { failures: config.cache.breakerFailures, windowMs: config.cache.breakerWindowMs, cooldownMs: config.cache.breakerCooldownMs },
  };
}

/** A bearer token from its setting or its file, if either is configured. */
function tokenOf(section: { token: string | undefined; tokenFile: string | undefined }): string | undefined {
  if (section.token !== undefined) return section.token;
  if (section.tokenFile === undefined) return undefined;
  const token = readFileSync(section.tokenFile, "utf8").trim();
  if (token === "") throw new Error(`token file ${section.tokenFile} is empty`);
  return token;
}
