/**
 * Every default of {@link JobmeterOptions}, in one object. The library resolves its options
 * against it (jobmeter.ts), the listeners and the ingest store fall back to it when used on their
 * own, and `jobmeter serve`'s embedded config (config/service-defaults.ts) is built from it, so
 * the service with no config behaves exactly as `createJobmeter({})`. options.ts's `@default`
 * tags document these values.
 */
import type { ClusterOptions, IngestGateKey, IngestOptions, JobmeterOptions, OtlpPushOptions, ProfileName, PullListenerOptions } from '../options.ts';

/** The timeouts and connection cap of every listener jobmeter opens (http/server-limits.ts). */
type ServerLimitKeys = 'requestTimeoutMillis' | 'idleTimeoutMillis' | 'maxConnections';

export interface OptionDefaults {
  readonly profile: ProfileName;
  readonly serviceName: string;
  readonly processMetrics: boolean;
  readonly otelScopeInfo: boolean;
  readonly global: boolean;
  readonly cardinalityLimit: number;
  readonly hostExemplars: boolean;
  readonly hostInstruments: NonNullable<JobmeterOptions['hostInstruments']>;
  readonly listener: Readonly<Required<Pick<PullListenerOptions, 'host' | 'port' | 'allowNonLoopback'>>>;
  readonly serverLimits: Readonly<Required<Pick<PullListenerOptions, ServerLimitKeys>>>;
  readonly otlp: Readonly<Required<Pick<OtlpPushOptions, 'protocol' | 'intervalMillis' | 'timeoutMillis' | 'temporality'>>>;
  readonly ingest: Readonly<Required<Omit<IngestOptions, ServerLimitKeys | IngestGateKey>>>;
  readonly cluster: Readonly<Required<Pick<ClusterOptions, 'timeoutMillis'>>>;
  /** The snapshot cache's, where the profile sets none (crewshipd's TTL is its own). */
  readonly snapshot: Readonly<Required<NonNullable<JobmeterOptions['snapshot']>>>;
}

/** Deeply frozen: resolution copies from it, never into it. */
export const OPTION_DEFAULTS: OptionDefaults = deepFreeze({
  profile: 'otel',
  serviceName: 'jobmeter',
  processMetrics: true,
  otelScopeInfo: true,
  global: true,
  // OpenTelemetry's default cardinality limit: series per host instrument, overflow included.
  cardinalityLimit: 2000,
  hostExemplars: false,
  hostInstruments: 'native',
  listener: { host: '127.0.0.1', port: 9464, allowNonLoopback: false },
  // The idle timeout outlasts Prometheus's default 15 s scrape interval, so a scraper's
  // connection is reused.
  serverLimits: { requestTimeoutMillis: 30_000, idleTimeoutMillis: 30_000, maxConnections: 256 },
  otlp: { protocol: 'http/protobuf', intervalMillis: 60_000, timeoutMillis: 30_000, temporality: 'cumulative' },
  ingest: {
    host: '127.0.0.1',
    port: 4318,
    allowNonLoopback: false,
    // The Collector's `max_request_body_size` default.
    maxBodyBytes: 20 * 1024 * 1024,
    maxConcurrentRequests: 8,
    // The Collector's Prometheus exporter `metric_expiration` default.
    expiryMillis: 5 * 60_000,
    maxSeriesPerInstrument: 2000,
    maxSeries: 50_000,
    maxMemoryBytes: 128 * 1024 * 1024,
    // The library keeps no file unasked; `jobmeter serve` defaults it (config/service-defaults.ts).
    stateDir: false,
  },
  cluster: { timeoutMillis: 1000 },
  snapshot: { ttlMillis: 0, timeoutMillis: 2000 },
});

/** `object` deeply frozen, for defaults that many readers share. */
export function deepFreeze<T extends object>(value: T): T {
  for (const v of Object.values(value)) {
    if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) deepFreeze(v);
  }
  return Object.freeze(value);
}
