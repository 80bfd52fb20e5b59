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
import { FleetRecordSealer } from "./bundle/sources/fleet-record.js";
import { RedisBundleFanout } from "./bundle/sources/redis-bundle-fanout.js";
import { BundleVerifier } from "./bundle/signing/bundle-verifier.js";
import type { Config } from "./config/config-spec.js";
import { ValueSealer } from "./cache/sealed-value.js";
import { parseRedisUrl, topologyEndpoints } from "./cache/redis-topology.js";
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
import { EventLoopMonitor } from "./observability/event-loop-monitor.js";
import { Metrics } from "./observability/metrics.js";
import { adminService } from "./server/admin/admin-service.js";
import { bearerTokenInterceptor } from "./server/admin/admin-auth.js";
import { GrpcServer } from "./server/grpc-server.js";
import { addMainServices } from "./server/main-listener.js";
import { addAuthzenRoutes } from "./server/authzen/authzen-routes.js";
import { UnmatchedInventory } from "./server/envoy/unmatched-inventory.js";
import { addForwardAuthRoute } from "./server/http/forward-auth-route.js";
import { addHealthRoutes, Lifecycle } from "./server/http/health-routes.js";
import { addMetricsRoute } from "./server/http/metrics-route.js";
import { HttpServer } from "./server/http/http-server.js";
import { clientAllowListInterceptor, grpcServerCredentials } from "./server/tls/grpc-credentials.js";
import { TOKENS } from "./tokens.js";
import { LogAccounting } from "./observability/status/log-accounting.js";
import { SignalMetrics } from "./observability/signal-metrics.js";
import { DecisionTracer } from "./observability/tracing/decision-tracer.js";
import { HttpLogSink } from "./observability/sinks/http-log-sink.js";
import { AnomalyDetector } from "./observability/anomaly/anomaly-detector.js";
import { LogMasking } from "./observability/log-masking.js";
import { ReplicaStatus } from "./observability/status/replica-status.js";

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
  single(TOKENS.Engine, (r) => new CedarEngine(new CedarRuntime(), { ...config.engine, observer: engineObserver(r.resolve(TOKENS.Metrics), r.resolve(TOKENS.Logger), r.resolve(TOKENS.LogMasking)) }));
  single(TOKENS.LogMasking, () => new LogMasking(config.decisionLog));
  single(TOKENS.BundleLoader, (r) => {
    const { verificationKey, keyId } = config.bundles;
    return new BundleLoader(r.resolve(TOKENS.Engine), verificationKey === undefined ? undefined : BundleVerifier.fromFile(verificationKey, keyId));
  });
  single(TOKENS.Metrics, () => {
    const metrics = new Metrics();
    metrics.redisConfigured(config.redis.url !== undefined);
    return metrics;
  });
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
    (r) => new BundleActivator(r.resolve(TOKENS.BundleLoader), r.resolve(TOKENS.ActiveBundle), r.resolve(TOKENS.Logger), bundleMetrics(r)),
  );
  single(
    TOKENS.BundleRegistry,
    (r) =>
      new BundleRegistry(
        r.resolve(TOKENS.BundleLoader),
        r.resolve(TOKENS.ActiveBundle),
        r.resolve(TOKENS.ShadowBundle),
        r.resolve(TOKENS.Logger),
        { read: config.bundleLimits, request: config.limits, historySize: config.bundles.historySize, minCoverage: config.bundles.minCoverage },
        bundleMetrics(r),
      ),
  );
  single(TOKENS.BundleSources, (r) => {
    const registry = r.resolve(TOKENS.BundleRegistry);
    const log = r.resolve(TOKENS.Logger);
    const url = config.redis.url;
    const secret = config.cache.macSecret;
    const fanout =
      url === undefined
        ? undefined
        : new RedisBundleFanout(
            { topology: parseRedisUrl(url), namespace: config.redis.namespace, commandTimeoutMs: config.redis.commandTimeoutMs, connectTimeoutMs: config.redis.connectTimeoutMs },
            registry,
            new FleetRecordSealer(secret!, config.redis.namespace),
            log,
          );
    const store = url === undefined && config.bundles.stateDir !== "" ? new LocalBundleStore(config.bundles.stateDir, secret === undefined ? undefined : new FleetRecordSealer(secret, "local")) : undefined;
    for (const p of [fanout, store]) if (p) registry.addPublisher(p);
    const settings = {
      path: config.policies.bundle ?? config.policies.dir ?? "policies",
      watch: config.bundles.watch,
      watchDebounceMs: config.bundles.watchDebounceMs,
      fanoutCheckMs: config.bundles.fanoutCheckMs,
      readLimits: config.bundleLimits,
      startupFallback: config.bundles.startupFallback,
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
        status: r.resolve(TOKENS.ReplicaStatus),
        anomalies: r.resolve(TOKENS.AnomalyDetector),
      }),
    );
    return server;
  });
  single(TOKENS.DecisionCache, (r) => {
    if (!config.cache.enabled) return new NoDecisionCache();
    const metrics = r.resolve(TOKENS.Metrics);
    const shared = r.resolve(TOKENS.SharedCache);
    return new TieredDecisionCache({ maxEntries: config.cache.localMaxEntries, ttlMs: config.cache.localTtlMs, namespace: config.redis.namespace, variant: config.engine.strict ? "strict" : "cedar" }, shared, metrics);
  });
  single(TOKENS.SharedCache, (r) => {
    if (!config.cache.enabled || config.redis.url === undefined) return undefined;
    const log = r.resolve(TOKENS.Logger);
    const shared = new SharedCache(sharedCacheSettings(config, config.redis.url), new ValueSealer(config.cache.macSecret!), r.resolve(TOKENS.Metrics), (problem) =>
      log.error({ problem }, "Redis is not usable as configured; deciding without the shared cache"),
    );
    r.resolve(TOKENS.Lifecycle).onClose(() => shared.close());
    return shared;
  });
  single(TOKENS.SignalMetrics, (r) => new SignalMetrics(r.resolve(TOKENS.Metrics).registry));
  single(TOKENS.LogAccounting, (r) => new LogAccounting(r.resolve(TOKENS.Metrics), config.decisionLog.destination));
  single(TOKENS.HttpLogSink, (r) => {
    const url = config.logShipping.url;
    return url === undefined ? undefined : new HttpLogSink({ ...config.logShipping, url }, r.resolve(TOKENS.SignalMetrics));
  });
  single(TOKENS.DecisionLog, (r) => {
    const remote = r.resolve(TOKENS.HttpLogSink);
    return new DecisionLog(config.decisionLog, r.resolve(TOKENS.LogAccounting), remote === undefined ? [] : [remote], r.resolve(TOKENS.LogMasking));
  });
  single(TOKENS.AnomalyDetector, (r) => {
    if (!config.anomalies.enabled) return undefined;
    const inventory = r.resolve(TOKENS.UnmatchedInventory);
    const log = r.resolve(TOKENS.DecisionLog);
    return new AnomalyDetector(config.anomalies, r.resolve(TOKENS.SignalMetrics), () => inventory.list(), (a) => log.anomaly(a));
  });
  single(TOKENS.ReplicaStatus, (r) => {
    // Read when asked: resolving the cache here would connect to Redis in one-shot commands.
    const localSize = () => {
      const cache = r.resolve(TOKENS.DecisionCache);
      return cache instanceof TieredDecisionCache ? cache.localSize : 0;
    };
    const topology = config.redis.url === undefined ? undefined : parseRedisUrl(config.redis.url);
    const endpoints = topology === undefined ? [] : topologyEndpoints(topology);
    return new ReplicaStatus({
      active: r.resolve(TOKENS.ActiveBundle),
      redis: () => {
        const shared = r.resolve(TOKENS.SharedCache);
        return { configured: config.redis.url !== undefined, topology: topology?.kind ?? "", endpoints, up: shared?.up ?? false, breaker: shared?.breakerState ?? "" };
      },
      cache: () => ({ enabled: config.cache.enabled, localEntries: localSize(), localMaxEntries: config.cache.enabled ? config.cache.localMaxEntries : 0 }),
      sinks: () => {
        const remote = r.resolve(TOKENS.HttpLogSink);
        return [r.resolve(TOKENS.LogAccounting).account(), ...(remote === undefined ? [] : [remote.account()])];
      },
      tracing: { enabled: config.tracing.enabled, endpoint: config.tracing.enabled ? config.tracing.endpoint : "", samplingRatio: config.tracing.samplingRatio },
      anomaliesEnabled: config.anomalies.enabled,
    });
  });
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
    return new DecisionObservers([r.resolve(TOKENS.Metrics), r.resolve(TOKENS.DecisionLog), ...(sample ? [sample] : []), r.resolve(TOKENS.ShadowEvaluator), ...optionalObservers(r)]);
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
    }, config.tracing.enabled);
    return server;
  });
  single(TOKENS.HttpServer, () => new HttpServer(config.server.httpAddr, config.tls.http));
  single(TOKENS.Lifecycle, () => new Lifecycle());
  single(TOKENS.UnmatchedInventory, () => new UnmatchedInventory());
  single(TOKENS.App, (r) => {
    const http = r.resolve(TOKENS.HttpServer);
    const lifecycle = r.resolve(TOKENS.Lifecycle);
    const app = new App(config, r.resolve(TOKENS.GrpcServer), http, r.resolve(TOKENS.Logger), lifecycle, r.resolve(TOKENS.AdminServer));
    const loop = new EventLoopMonitor({ maxLagMs: config.server.readyMaxLagMs, recoverMs: config.server.readyRecoverMs }, r.resolve(TOKENS.Metrics).registry);
    loop.start();
    lifecycle.onClose(() => loop.stop());
    addHealthRoutes(http, r.resolve(TOKENS.ActiveBundle), lifecycle, loop);
    addMetricsRoute(http, r.resolve(TOKENS.Metrics));
    r.resolve(TOKENS.SignalMetrics);
    if (config.authzen.enabled) {
      addAuthzenRoutes(http, r.resolve(TOKENS.DecisionService), r.resolve(TOKENS.ActiveBundle), {
        maxBodyBytes: config.authzen.maxBodyBytes,
        token: tokenOf(config.authzen),
        publicUrl: config.authzen.publicUrl,
        traced: config.tracing.enabled,
      });
    }
    if (config.forwardAuth.enabled) {
      const door = { decisions: r.resolve(TOKENS.DecisionService), active: r.resolve(TOKENS.ActiveBundle), metrics: r.resolve(TOKENS.Metrics), inventory: r.resolve(TOKENS.UnmatchedInventory) };
      addForwardAuthRoute(http, door, { ...config.forwardAuth, token: tokenOf(config.forwardAuth) }, config.tracing.enabled);
    }
    const decisionLog = r.resolve(TOKENS.DecisionLog);
    lifecycle.onClose(() => decisionLog.close());
    return app;
  });
  return c;
}

/** Observers that exist only when their feature is on (tracing), closed at shutdown. */
function optionalObservers(r: DependencyContainer) {
  const config = r.resolve(TOKENS.Config);
  const lifecycle = r.resolve(TOKENS.Lifecycle);
  const out = [];
  const anomalies = r.resolve(TOKENS.AnomalyDetector);
  if (anomalies !== undefined) out.push(anomalies);
  if (config.tracing.enabled) {
    const tracer = new DecisionTracer(config.tracing);
    lifecycle.onClose(() => tracer.close());
    out.push(tracer);
  }
  return out;
}

/** Refused bundles go to the metrics and to the status (its last activation error). */
function bundleMetrics(r: DependencyContainer) {
  const metrics = r.resolve(TOKENS.Metrics);
  const status = r.resolve(TOKENS.ReplicaStatus);
  return {
    activationFailed: (error?: unknown, by?: string) => {
      metrics.activationFailed();
      status.activationFailed(error, by);
    },
    activationRefused: (result: "stale" | "unsealed") => {
      metrics.activationRefused(result);
      status.activationFailed(`a stored bundle record was refused (${result})`, "fleet record");
    },
  };
}

/** The shared cache's settings, from the redis and cache sections. */
function sharedCacheSettings(config: Config, url: string) {
  return {
    topology: parseRedisUrl(url),
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
