/**
 * Options of {@link createJobmeter}. Every field is optional: `{}` gives the native profile,
 * a pull listener on 127.0.0.1:9464, process metrics, and no OTLP push.
 * Defaults are resolved in one place (`resolveOptions` in jobmeter.ts).
 */
import type { MetricProducer } from '@opentelemetry/sdk-metrics';
import type { BuildInfo } from './domain/recorder.ts';
import type { SnapshotSourceOptions } from './domain/snapshot.ts';
import type { InstrumentSpec } from './domain/types.ts';
import type { ExpositionFormat } from './exposition/types.ts';

export type ProfileName = 'otel' | 'runwisp' | 'wasmrun' | 'crewshipd' | 'rm' | 'solti';

export interface PullListenerOptions {
  /**
   * Address to bind. Must be a loopback address (127.0.0.0/8, ::1, `localhost`) unless
   * {@link allowNonLoopback} is true.
   * @default '127.0.0.1'
   */
  host?: string;
  /** TCP port; 0 picks a free port (read it back from `jobmeter.pullAddress`). @default 9464 */
  port?: number;
  /** Explicit opt-in to bind a non-loopback address. @default false */
  allowNonLoopback?: boolean;
  /**
   * Which format to serve. `negotiate` follows the client's `Accept` (OpenMetrics 1.0.0 when
   * preferred, text 0.0.4 otherwise); `text` / `openmetrics` force one.
   * @default 'negotiate'
   */
  format?: 'negotiate' | ExpositionFormat;
  /** A request's headers must arrive within this many ms; past it 408 and the connection closes. @default 30000 */
  requestTimeoutMillis?: number;
  /** A keep-alive connection with no request in progress is closed after this many ms. @default 30000 */
  idleTimeoutMillis?: number;
  /** Connections open at once; more are closed as soon as accepted. @default 256 */
  maxConnections?: number;
}

export type OtlpProtocol = 'http/protobuf' | 'http/json';

export interface OtlpPushOptions {
  /** Full metrics URL, e.g. `http://127.0.0.1:4318/v1/metrics`. No endpoint → no push reader. */
  endpoint?: string;
  /** Extra request headers (e.g. auth). Never logged. @default {} */
  headers?: Record<string, string>;
  /** @default 'http/protobuf' */
  protocol?: OtlpProtocol;
  /** Export interval in ms. @default 60000 */
  intervalMillis?: number;
  /** Export timeout in ms; must not exceed the interval. @default 30000 */
  timeoutMillis?: number;
  /** @default 'cumulative' */
  temporality?: 'cumulative' | 'delta';
  /**
   * The names pushed. `canonical`: the OpenTelemetry instrument names (`jobmeter.run.finished`).
   * `profile`: the profile's exact series names, labels and values, as on the pull endpoint
   * (`solti_runner_tasks_completed_total`), for a Collector that re-exposes them unchanged
   * (otel-collector.yaml, docs/collector.md).
   * `profile` needs cumulative temporality (a ConfigError otherwise).
   * @default 'profile' with a legacy profile and cumulative temporality, else 'canonical'
   */
  naming?: 'canonical' | 'profile';
}

/**
 * OTLP/HTTP ingest: a listener where foreign OpenTelemetry SDKs push metrics that then join every
 * collection, through the same bounds and naming profile (docs/collector.md).
 */
export interface IngestOptions {
  /** Address to bind; loopback unless {@link allowNonLoopback}. @default '127.0.0.1' */
  host?: string;
  /** TCP port; 0 picks a free one (read it back from `jobmeter.ingestAddress`). @default 4318 */
  port?: number;
  /** Explicit opt-in to bind a non-loopback address. @default false */
  allowNonLoopback?: boolean;
  /** Largest request body, as sent and once decompressed; past it the answer is 413. @default 20971520 (20 MiB) */
  maxBodyBytes?: number;
  /** Requests processed at once (a slot is taken once the body is in); past it the answer is 503 with Retry-After. @default 8 */
  maxConcurrentRequests?: number;
  /** A request's headers and body must arrive within this many ms; past it 408 and the connection closes. @default 30000 */
  requestTimeoutMillis?: number;
  /** A keep-alive connection with no request in progress is closed after this many ms. @default 30000 */
  idleTimeoutMillis?: number;
  /** Connections open at once; more are closed as soon as accepted. @default 256 */
  maxConnections?: number;
  /** A series not updated for this long disappears (the Collector's `metric_expiration`). @default 300000 */
  expiryMillis?: number;
  /** Source series one instrument may hold; points of new ones past it are refused. @default 2000 */
  maxSeriesPerInstrument?: number;
  /** Source series in all; points of new ones past it are refused. @default 50000 */
  maxSeries?: number;
  /**
   * Estimated bytes the ingested state may take (series keys, attributes, the naming stage's label
   * strings; docs/collector.md "Limits"); points of new series past it are refused with
   * `partial_success` and counted in `jobmeter.ingest.refused{reason="memory_budget"}`.
   * @default 134217728 (128 MiB)
   */
  maxMemoryBytes?: number;
}

export interface JobmeterOptions {
  /** Naming profile the pull endpoint renders. @default 'otel' */
  profile?: ProfileName;
  /**
   * OpenTelemetry `service.name` resource attribute. The library reads no environment itself; the
   * instrumentation entry and `jobmeter serve` map OTEL_SERVICE_NAME here.
   * @default 'jobmeter'
   */
  serviceName?: string;
  /** Extra resource attributes (merged over OTEL_RESOURCE_ATTRIBUTES). @default {} */
  resourceAttributes?: Record<string, string>;
  /** Pull listener; `false` disables it (embed-only or push-only use). @default {} (enabled) */
  listener?: PullListenerOptions | false;
  /** OTLP push; omitted or without `endpoint` → no push reader. */
  otlp?: OtlpPushOptions;
  /**
   * OTLP/HTTP ingest listener (`POST /v1/metrics`); omitted or `false` → none. Ingested metrics
   * join the pull endpoint and the OTLP push. @default none
   */
  ingest?: IngestOptions | false;
  /** Record Node process/runtime metrics. @default true */
  processMetrics?: boolean;
  /**
   * Native profile only: keep `target_info` and `otel_scope_*` labels. Legacy profiles never
   * emit them, as the originals do not. @default true
   */
  otelScopeInfo?: boolean;
  /**
   * Extra instruments the host declares, bounded like the domain's own (their attributes are
   * declared here): observable ones it feeds with `jobmeter.observe(name, callback)` (e.g. counts
   * it keeps in its database), and counters, up-down counters, histograms and gauges it records
   * with `jobmeter.counter(name)`, `jobmeter.histogram(name)`, `jobmeter.gauge(name)` (the
   * domain's fast record path). @default []
   */
  instruments?: readonly InstrumentSpec[];
  /** Reported as `jobmeter.build.info` (runwisp_build_info, rm_build_info). Omitted when absent. */
  build?: BuildInfo;
  /**
   * Cache policy for the host's snapshot callback (`jobmeter.setSnapshotSource`).
   * @default the profile's (crewshipd: ttlMillis 15000), else { ttlMillis: 0, timeoutMillis: 2000 }
   */
  snapshot?: SnapshotSourceOptions;
  /**
   * Value of the `hostname` label that crewshipd puts on every series.
   * @default os.hostname()
   */
  hostname?: string;
  /**
   * Producers whose metrics join every pull collection, after the SDK's own (OTLP ingest uses
   * this). They bypass the SDK's views, so they must bound their own attributes. @default []
   */
  metricProducers?: MetricProducer[];
  /**
   * Where to print, one call per line, every OTLP request the ingest listener decodes and every
   * OTLP export pushed, as the Collector's `debug` exporter prints them at `verbosity: normal`
   * (`name{attrs} value` per data point; src/debug/). Never headers or tokens. `jobmeter serve
   * --debug` writes them to stderr. @default none (nothing printed, no cost)
   */
  debug?: (line: string) => void;
}
