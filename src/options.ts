/**
 * Options of {@link createJobmeter}. Every field is optional: `{}` gives the native profile,
 * a pull listener on 127.0.0.1:9464, process metrics, and no OTLP push.
 * Each option is defined once in common/option-table.ts (its config file key, default, rule and
 * doc line; docs/options.md is generated from it): these types must name the same keys and
 * `@default`s (test/config/options-doc.test.ts). A bad value, or an unknown key, is a ConfigError.
 */
import type { IMetricReader, MetricProducer, ViewOptions } from '@opentelemetry/sdk-metrics';
import type { MessagePort } from 'node:worker_threads';
import type { MergePolicy } from './cluster/merge-policy.ts';
import type { BuildInfo } from './domain/recorder.ts';
import type { SnapshotSourceOptions } from './domain/snapshot.ts';
import type { DeclaredInstrumentSpec } from './domain/types.ts';
import type { TranslationStrategy } from './naming/prometheus-names.ts';
import type { FamilyRule } from './naming/types.ts';
import type { ApiKey } from './http/route-options.ts';
import type {
  HostInstruments,
  ListenerFormat,
  OtlpNaming,
  OtlpProtocol,
  ProfileName,
  Temporality,
} from './common/option-values.ts';

export {
  HOST_INSTRUMENTS,
  LISTENER_FORMATS,
  OTLP_NAMINGS,
  OTLP_PROTOCOLS,
  PROFILE_NAMES,
  TEMPORALITIES,
  type HostInstruments,
  type ListenerFormat,
  type OtlpNaming,
  type OtlpProtocol,
  type ProfileName,
  type Temporality,
} from './common/option-values.ts';

/**
 * The option `listener`: jobmeter's own pull listener (`GET /metrics`), loopback unless allowed otherwise.
 * @example
 *   const listener: PullListenerOptions = { host: '127.0.0.1', port: 9464 };
 */
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
  format?: ListenerFormat;
  /** A request's headers must arrive within this many ms; past it 408 and the connection closes. @default 30000 */
  requestTimeoutMillis?: number;
  /** A keep-alive connection with no request in progress is closed after this many ms. @default 30000 */
  idleTimeoutMillis?: number;
  /** Connections open at once; more are closed as soon as accepted. @default 256 */
  maxConnections?: number;
}

/**
 * The option `otlp`: where and how jobmeter pushes its metrics over OTLP/HTTP.
 * @example
 *   const otlp: OtlpPushOptions = { endpoint: 'http://127.0.0.1:4318/v1/metrics', intervalMillis: 15_000 };
 */
export interface OtlpPushOptions {
  /**
   * The metrics URL, e.g. `http://127.0.0.1:4318/v1/metrics`. A URL without a path is a base URL, as
   * `OTEL_EXPORTER_OTLP_ENDPOINT` is: `/v1/metrics` is appended. No endpoint -> no push reader.
   */
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
  temporality?: Temporality;
  /**
   * The names pushed. `canonical`: the OpenTelemetry instrument names (`jobmeter.run.finished`).
   * `profile`: the profile's exact series names, labels and values, as on the pull endpoint
   * (`solti_runner_tasks_completed_total`), for a Collector that re-exposes them unchanged
   * (otel-collector.yaml, docs/collector.md).
   * `profile` needs cumulative temporality (a ConfigError otherwise).
   * @default 'profile' with a legacy profile and cumulative temporality, else 'canonical'
   */
  naming?: OtlpNaming;
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
  /** Requests processed at once (a slot is taken once the body is in); one more waits for a slot, its body counted against the bytes in flight ((this + 1) x maxBodyBytes), past which the answer is 503 with Retry-After. @default 8 */
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
  /**
   * A bearer token every sender must present (`Authorization: Bearer <token>`; a Collector's
   * `otlphttp` exporter: `headers`). Puts the gate in force: without it the answer is 401
   * UNAUTHENTICATED, before the body is read (docs/collector.md "The ingest gate"). Never logged.
   * @default none (no token asked)
   */
  token?: string;
  /** API keys (each a token) and their tenants, accepted like {@link token}; with it, any one is. @default [] */
  apiKeys?: readonly ApiKey[];
  /**
   * Networks (CIDRs or addresses) a sender's TCP peer must be in; outside them the answer is 403
   * PERMISSION_DENIED (401 while a token is asked too: both must pass). @default [] (any peer)
   */
  trustedCidrs?: readonly string[];
  /**
   * Directory of the ingest state file (created if missing), so a restart goes on from what was
   * ingested: loaded at start, before the listener takes a request; written every 5 s when
   * something changed, before a collection serves what was not yet written, and at `shutdown()`.
   * The file is named after the listener's `host` and `port` (two jobmeters never share one; none
   * is kept with port 0) and is at most {@link maxMemoryBytes}. A file that cannot be used is
   * one warning line and a fresh start. `false`: no state file, a restart starts the ingested
   * series afresh (docs/collector.md "jobmeter's own restart"). `jobmeter serve` sets it by default.
   * @default false
   */
  stateDir?: string | false;
}

/** The ingest gate's options: without defaults, compiled and checked where options are resolved (http/ingest-gate.ts). */
export type IngestGateKey = 'token' | 'apiKeys' | 'trustedCidrs';

/** A profile extended with rules of the host's own (the config file's `[profile]` table). */
export interface ProfileOptions {
  /** @default 'otel' */
  name?: ProfileName;
  /**
   * Rules of the host's, the same shape as the built-in tables (src/naming/profiles/): each
   * renders one instrument (`instrument`, e.g. a host counter `app.tasks.started`) as one family
   * with the exact `name`, `type`, `help`, `unit`, `labels` (`[attribute, label]` pairs), `values`
   * (attribute -> { value -> word }) and `zeroFill` (label -> words always emitted). Under a legacy
   * profile they come after the table's own; on `otel` they replace the native naming of the
   * instruments they name. Validated at start: a bad rule is a ConfigError naming it. @default []
   */
  rules?: readonly FamilyRule[];
}

/**
 * Several processes or threads, one endpoint (README "node:cluster"). In a `node:cluster` app the
 * primary and every worker call `createJobmeter()` with the same options: workers bind nothing
 * and push nothing, they report to the primary over the cluster's IPC channel; the primary serves
 * (and pushes) the aggregate. Worker threads do the same over a port: the thread passes
 * `reportTo: parentPort`, the parent calls `jm.aggregate(worker)`. In the primary, the first
 * jobmeter created aggregates the workers, until its `shutdown()`.
 */
export interface ClusterOptions {
  /**
   * How long a scrape (or an OTLP export) of the primary waits for its members' reports. A member
   * that answers late, or not at all, counts with its last report: never less than before.
   * @default 1000
   */
  timeoutMillis?: number;
  /**
   * In a worker thread: report to the thread that aggregates over this port (usually
   * `parentPort` from node:worker_threads) instead of serving. @default none (a `node:cluster`
   * worker reports to its primary by itself)
   */
  reportTo?: MessagePort;
  /**
   * How an instrument's series from several processes combine, by instrument name: `sum` (the
   * default; counters and histograms keep the totals of exited members, up-down counters and
   * gauges count live members only) or `max` (every process observes the same value: jobmeter's
   * snapshot instruments, build info, last failure time, uptime and system.* default to it).
   * @default {} (src/cluster/merge-policy.ts has jobmeter's own)
   */
  merge?: Record<string, MergePolicy>;
}

/**
 * What {@link createJobmeter} is given; each option is defined once in common/option-table.ts
 * (docs/options.md). `I`: the `instruments` declared, kept literal so the Jobmeter's `counter`,
 * `histogram`, `gauge` and `observe` take only their names and attribute keys.
 * @example
 *   const options: JobmeterOptions = { serviceName: 'my-scheduler', profile: 'runwisp', listener: { port: 9464 } };
 */
export interface JobmeterOptions<
  I extends readonly DeclaredInstrumentSpec[] = readonly DeclaredInstrumentSpec[],
> {
  /** Naming profile the pull endpoint renders, by name or with rules of the host's own. @default 'otel' */
  profile?: ProfileName | ProfileOptions;
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
  /** OTLP push; omitted or without `endpoint` -> no push reader. */
  otlp?: OtlpPushOptions;
  /**
   * OTLP/HTTP ingest listener (`POST /v1/metrics`); omitted or `false` -> none. Ingested metrics
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
   * Counters and histograms carry their start time on the pull endpoint: OpenMetrics `_created`
   * samples and protobuf `created_timestamp` (text 0.0.4 has no place for it). Off by default, for
   * every profile (the legacy originals never wrote them; client_golang leaves OpenMetrics
   * `_created` off too): Prometheus 2.x stores each `_created` sample as a series of its own.
   * Prometheus 3 with `--enable-feature=created-timestamp-zero-ingestion` reads both as the start
   * of the series instead. @default false
   */
  startTimestamps?: boolean;
  /**
   * The `otel` profile's naming of OTel instruments, the OTel spec's translation strategies:
   * `UnderscoreEscapingWithSuffixes` (`http_server_duration_seconds`), `UnderscoreEscapingWithoutSuffixes`
   * (`http_server_duration`), `NoUTF8EscapingWithSuffixes` (`http.server.duration_seconds`, label
   * names as the attribute keys), `NoTranslation` (`http.server.duration`). UTF-8 names are served
   * only to scrapers that negotiate `escaping=allow-utf-8` (Prometheus 3 does by default); any other
   * gets them escaped (`underscores`, or `values` when asked). Legacy profiles never change names:
   * setting it with one is a ConfigError. @default 'UnderscoreEscapingWithSuffixes'
   */
  translationStrategy?: TranslationStrategy;
  /**
   * `false`: the `otel` profile's names leave out the unit word (`app_job_latency`, not
   * `app_job_latency_seconds`; `_total` stays on counters): exactly the series names and labels
   * `@opentelemetry/exporter-prometheus` serves, so a switch from it keeps every series. Legacy
   * profiles never change names: setting it with one is a ConfigError. @default true
   */
  unitSuffixes?: boolean;
  /**
   * Extra instruments the host declares, bounded like the domain's own (their attributes are
   * declared here): observable ones it feeds with `jobmeter.observe(name, callback)` (e.g. counts
   * it keeps in its database), and counters, up-down counters, histograms and gauges it records
   * with `jobmeter.counter(name)`, `jobmeter.histogram(name)`, `jobmeter.gauge(name)` (the
   * domain's fast record path). @default []
   */
  instruments?: I;
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
  /**
   * Register jobmeter's MeterProvider as the global one (`metrics.setGlobalMeterProvider`), so
   * instruments a host or a library creates later with `metrics.getMeter(name)` are served on
   * jobmeter's endpoint. When another provider is already registered, jobmeter leaves it and logs
   * one line saying what to do. `shutdown()` unregisters what it registered. `false` opts out.
   * @default true
   */
  global?: boolean;
  /**
   * Series each host instrument may hold -- one jobmeter has no spec for, created through
   * `jm.meter`, `jm.meterProvider` or the global API -- the overflow series included. Counted over
   * the instrument's life (not per collection, as the SDK counts), so attribute churn (a `job_id`)
   * cannot grow memory: past it, new attribute sets record into one series with
   * `otel.metric.overflow="true"`. A View's `aggregationCardinalityLimit` overrides it for the
   * instruments it selects. @default 2000 (OpenTelemetry's default limit)
   */
  cardinalityLimit?: number;
  /**
   * Longest attribute value of a host's instruments, in characters (OpenTelemetry's attribute
   * value length limit, `OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT` under `jobmeter serve`): a longer
   * string is cut to this many, its last `...`, and so is each string of an array; other values are
   * kept. Applied to every record and observation before aggregation (values that differ only past
   * it share a series), each value cut counted in `jobmeter.attribute_values.truncated`, one `diag`
   * warning per instrument. Always finite, so no label carries an unbounded value.
   * @default 256 (the length jobmeter cuts its own attribute values to)
   */
  attributeValueLengthLimit?: number;
  /**
   * Trace-linked exemplars on host instruments (made on `jm.meter`, `jm.meterProvider` or the
   * global API) as on jobmeter's own: a counter's or a histogram's record made in a sampled span
   * keeps that span's ids, the latest per series (per bucket for a histogram), served in
   * OpenMetrics and protobuf under the host's own scope. One small object per series or bucket at
   * most. An instrument a View selects is the SDK's, which keeps none. @default false
   */
  hostExemplars?: boolean;
  /**
   * OpenTelemetry Views (the SDK's `ViewOptions`) for every instrument on jobmeter's provider: the
   * host's own -- e.g. an attribute allow-list (`attributesProcessors:
   * [createAllowListAttributesProcessor(['queue'])]`) that drops a `job_id`, buckets, a limit -- and
   * jobmeter's (`{ instrumentName: 'jobmeter.run.duration', aggregation: { type:
   * AggregationType.EXPLICIT_BUCKET_HISTOGRAM, options: { boundaries: [1, 10, 60] } } }`). An own
   * instrument a View selects keeps its spec's attribute bounds. Under a legacy profile, a View
   * that renames an own instrument takes it out of the profile's rule for it. @default []
   */
  views?: readonly ViewOptions[];
  /**
   * Standard OpenTelemetry readers of the host's choosing on jobmeter's provider -- a
   * `PeriodicExportingMetricReader` with an official OTLP exporter, a `PrometheusExporter` -- beside
   * jobmeter's own pull and push readers. They read every instrument (jobmeter's included) under
   * the canonical OpenTelemetry names. @default []
   */
  readers?: readonly IMetricReader[];
  /**
   * Where jobmeter writes its lines: startup (a global provider already registered; host
   * instruments a profile drops), the OTLP push failing and recovering, the ingest state. @default one line each on stderr, prefixed `jobmeter: `
   */
  log?: (line: string) => void;
  /**
   * Instruments of the host's (declared, observed, made on `jm.meter` or the global API, or
   * ingested) that the profile has no rule for. `native`: served after the profile's families
   * under native OTel naming (`app_jobs_total`), never silently dropped; `drop`: left out, with a
   * startup line saying how many declared ones are. jobmeter's own instruments a legacy profile
   * has no rule for are always left out (the original has no such series). Rules of the host's
   * own (`profile: { name, rules }`) name any instrument exactly as the built-in tables do.
   * @default 'native'
   */
  hostInstruments?: HostInstruments;
  /**
   * `node:cluster` and worker threads ({@link ClusterOptions}). In a cluster worker (or with
   * `reportTo`) jobmeter reports to the primary and binds no listener, pushes nothing and takes no
   * ingest, whatever `listener`, `otlp` and `ingest` say; the primary serves the aggregate. `false`:
   * every process stands alone (then workers must not share one listener port).
   * @default {} (on)
   */
  cluster?: ClusterOptions | false;
}
