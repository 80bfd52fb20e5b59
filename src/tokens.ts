import type { InjectionToken } from "tsyringe";
import type { App } from "./app.js";
import type { ActiveBundle } from "./bundle/active-bundle.js";
import type { BundleActivator } from "./bundle/bundle-activator.js";
import type { BundleLoader } from "./bundle/bundle-loader.js";
import type { BundleRegistry } from "./bundle/bundle-registry.js";
import type { ShadowBundle } from "./bundle/shadow-bundle.js";
import type { BundleSources } from "./bundle/sources/bundle-sources.js";
import type { Config } from "./config/config-spec.js";
import type { DecisionCache } from "./decision/decision-cache.js";
import type { DecisionObserver } from "./decision/decision-observer.js";
import type { DecisionService } from "./decision/decision-service.js";
import type { LogMasking } from "./observability/log-masking.js";
import type { PlanService } from "./decision/plan-service.js";
import type { CedarEngine } from "./engine/cedar-engine.js";
import type { UncachedEvaluator } from "./decision/uncached-evaluator.js";
import type { EvaluationPool } from "./engine/evaluation-pool.js";
import type { RequestSample } from "./impact/request-sample.js";
import type { SampleImpact } from "./impact/sample-impact.js";
import type { ShadowEvaluator } from "./impact/shadow-evaluator.js";
import type { DecisionLog } from "./observability/decision-log.js";
import type { Logger } from "./observability/logger.js";
import type { Metrics } from "./observability/metrics.js";
import type { GrpcServer } from "./server/grpc-server.js";
import type { Lifecycle } from "./server/http/health-routes.js";
import type { UnmatchedInventory } from "./server/envoy/unmatched-inventory.js";
import type { HttpServer } from "./server/http/http-server.js";
import type { SharedCache } from "./cache/shared-cache.js";
import type { SignalMetrics } from "./observability/signal-metrics.js";
import type { HttpLogSink } from "./observability/sinks/http-log-sink.js";
import type { AnomalyDetector } from "./observability/anomaly/anomaly-detector.js";
import type { LogAccounting } from "./observability/status/log-accounting.js";
import type { ReplicaStatus } from "./observability/status/replica-status.js";

/** Typed injection tokens: tsc and esbuild emit no decorator metadata, so every dependency is named. */
export const TOKENS = {
  Config: Symbol("Config") as InjectionToken<Config>,
  Logger: Symbol("Logger") as InjectionToken<Logger>,
  Engine: Symbol("CedarEngine") as InjectionToken<CedarEngine>,
  BundleLoader: Symbol("BundleLoader") as InjectionToken<BundleLoader>,
  BundleActivator: Symbol("BundleActivator") as InjectionToken<BundleActivator>,
  ActiveBundle: Symbol("ActiveBundle") as InjectionToken<ActiveBundle>,
  DecisionCache: Symbol("DecisionCache") as InjectionToken<DecisionCache>,
  DecisionObserver: Symbol("DecisionObserver") as InjectionToken<DecisionObserver>,
  DecisionService: Symbol("DecisionService") as InjectionToken<DecisionService>,
  PlanService: Symbol("PlanService") as InjectionToken<PlanService>,
  GrpcServer: Symbol("GrpcServer") as InjectionToken<GrpcServer>,
  HttpServer: Symbol("HttpServer") as InjectionToken<HttpServer>,
  App: Symbol("App") as InjectionToken<App>,
  Metrics: Symbol("Metrics") as InjectionToken<Metrics>,
  Lifecycle: Symbol("Lifecycle") as InjectionToken<Lifecycle>,
  DecisionLog: Symbol("DecisionLog") as InjectionToken<DecisionLog>,
  /** The decision log's masking (one key for every log that shows request data). */
  LogMasking: Symbol("LogMasking") as InjectionToken<LogMasking>,
  BundleRegistry: Symbol("BundleRegistry") as InjectionToken<BundleRegistry>,
  BundleSources: Symbol("BundleSources") as InjectionToken<BundleSources>,
  AdminServer: Symbol("AdminServer") as InjectionToken<GrpcServer | undefined>,
  EvaluationPool: Symbol("EvaluationPool") as InjectionToken<EvaluationPool | undefined>,
  UnmatchedInventory: Symbol("UnmatchedInventory") as InjectionToken<UnmatchedInventory>,
  ShadowBundle: Symbol("ShadowBundle") as InjectionToken<ShadowBundle>,
  UncachedEvaluator: Symbol("UncachedEvaluator") as InjectionToken<UncachedEvaluator>,
  RequestSample: Symbol("RequestSample") as InjectionToken<RequestSample | undefined>,
  SampleImpact: Symbol("SampleImpact") as InjectionToken<SampleImpact | undefined>,
  ShadowEvaluator: Symbol("ShadowEvaluator") as InjectionToken<ShadowEvaluator>,
  SharedCache: Symbol("SharedCache") as InjectionToken<SharedCache | undefined>,
  LogAccounting: Symbol("LogAccounting") as InjectionToken<LogAccounting>,
  ReplicaStatus: Symbol("ReplicaStatus") as InjectionToken<ReplicaStatus>,
  SignalMetrics: Symbol("SignalMetrics") as InjectionToken<SignalMetrics>,
  HttpLogSink: Symbol("HttpLogSink") as InjectionToken<HttpLogSink | undefined>,
  AnomalyDetector: Symbol("AnomalyDetector") as InjectionToken<AnomalyDetector | undefined>,
};
