/** The kinds of signal the detectors raise; a bounded metric label. */
export const ANOMALY_KINDS = ["deny_burst_principal", "deny_burst_source", "enumeration", "new_principal", "new_route", "new_action", "deprecated_route"] as const;
export type AnomalyKind = (typeof ANOMALY_KINDS)[number];

/** One signal raised from the decision stream. */
export interface Anomaly {
  readonly kind: AnomalyKind;
  /** A principal uid, a source, a route or an action. */
  readonly subject: string;
  readonly at: number;
  /** The measure: denies in the window, distinct resources, calls. */
  readonly value: number;
  /** The threshold or baseline it was compared with. */
  readonly baseline: number;
  readonly decisionId: string;
}

/** A gateway request kind no route matched, with who called it. */
export interface ShadowApi {
  readonly method: string;
  readonly template: string;
  readonly count: number;
  readonly firstSeen: number;
  readonly lastSeen: number;
  readonly callers: readonly string[];
}

/** What ListAnomalies reports. */
export interface AnomalyReport {
  readonly anomalies: readonly Anomaly[];
  readonly counts: ReadonlyMap<AnomalyKind, number>;
  readonly deprecatedRoutes: readonly { readonly route: string; readonly count: number }[];
  readonly shadowApis: readonly ShadowApi[];
  readonly skipped: number;
  readonly warmedUp: boolean;
}

/** Something that produces an anomaly report. */
export interface AnomalySource {
  report(): AnomalyReport;
}
