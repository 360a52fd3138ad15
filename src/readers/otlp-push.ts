/**
 * The OTLP push reader: the official OTLP/HTTP exporters behind a periodic reader. Encoding,
 * transport, gzip and retries are the exporters' own; this file maps jobmeter's options and adds
 * what a service needs to survive a collector outage.
 *
 * Outages (the collector down for minutes, or answering 429/502/503/504):
 * - Retries are the exporter's, as the OTLP specification asks: 429, 502, 503, 504 and network
 *   errors (refused, reset, timed out) are retried with exponential backoff and jitter, honouring
 *   `Retry-After`, within one export's `timeoutMillis`; anything else fails the export at once.
 * - Nothing queues up. The reader runs one export at a time and a failed export is dropped, not
 *   kept: memory stays what the instruments hold, however long the outage. With cumulative
 *   temporality (the default) the next export carries the full totals, so no increment is lost;
 *   with delta temporality the points of failed exports are lost (said in the log line).
 * - One log line per state change — first failure, then recovery — never one per failed export.
 *   Lines name the collector by origin only (`http://host:port`): paths, query strings, userinfo
 *   and headers may hold tokens and are never logged.
 * - Shutdown makes one last export within a bounded time (`shutdownTimeoutMillis`, default
 *   min(timeoutMillis, 5 s)), then returns whether or not it was delivered, so `jobmeter serve`
 *   exits 0 on SIGTERM even while the collector is unreachable. With cumulative temporality an
 *   export still retrying when shutdown starts is abandoned at once (the last export supersedes
 *   it); with delta it may finish within the same budget.
 */
import {
  AggregationTemporalityPreference,
  CumulativeTemporalitySelector,
  DeltaTemporalitySelector,
  LowMemoryTemporalitySelector,
} from '@opentelemetry/exporter-metrics-otlp-http';
import {
  PeriodicExportingMetricReader,
  type AggregationTemporalitySelector,
  type MetricProducer,
} from '@opentelemetry/sdk-metrics';
import type { OtlpPushOptions } from '../options.ts';
import type { Temporality } from '../common/option-values.ts';
import { millis } from '../common/option-rules.ts';
import { otlpMetricsUrl, printableUrl } from './otlp-endpoint.ts';
import { OtlpMetricExporter } from './otlp-exporter.ts';
import { logTo, type Log } from '../common/log.ts';
import {
  ResilientExporter,
  StateLog,
  type OnExport,
  type PushTransform,
} from './resilient-exporter.ts';

export type { PushTransform };

/**
 * {@link OtlpPushOptions} after defaults: every field present, `endpoint` included (no endpoint
 * means no push reader is built at all). `naming` is not the reader's business: the composition
 * root turns it into a {@link OtlpPushHooks.transform}.
 */
export type ResolvedOtlpPushOptions = Required<Omit<OtlpPushOptions, 'naming'>>;

/** Each `temporality` as the OTLP exporter takes it: the exporter's selector decides per instrument kind. */
const PREFERENCE: Record<Temporality, AggregationTemporalityPreference> = {
  cumulative: AggregationTemporalityPreference.CUMULATIVE,
  delta: AggregationTemporalityPreference.DELTA,
  lowmemory: AggregationTemporalityPreference.LOWMEMORY,
};

/** The temporality the push's exporter gives each instrument type under `temporality`. */
export const TEMPORALITY_SELECTOR: Record<Temporality, AggregationTemporalitySelector> = {
  cumulative: CumulativeTemporalitySelector,
  delta: DeltaTemporalitySelector,
  lowmemory: LowMemoryTemporalitySelector,
};

/** Longest the last export at shutdown may take, unless `timeoutMillis` is shorter. */
export const DEFAULT_SHUTDOWN_EXPORT_MILLIS = 5_000;

/** What a host can add to the reader besides the options. Every field is optional. */
export interface OtlpPushHooks {
  /**
   * Producers whose metrics join every export, after the SDK's own (the OTLP ingest store, so
   * ingested metrics reach the collector too). @default []
   */
  metricProducers?: MetricProducer[];
  /** Series per instrument per export when no View sets a limit. @default 2000 (the SDK's) */
  cardinalityLimit?: number;
  /**
   * Rewrites each collection before it is encoded (e.g. profile naming, dropping the SDK's own
   * metrics that ingested ones shadow, or a cluster primary's aggregate replacing them). A throw
   * or a rejection fails that export. @default none
   */
  transform?: PushTransform;
  /**
   * Where the state-change records go (the `log` option's, resolved).
   * @default a write of `jobmeter: ${line}\n` to stderr
   */
  log?: Log;
  /**
   * Budget of the last export at shutdown, in ms; past it shutdown returns without it.
   * @default min(timeoutMillis, 5000)
   */
  shutdownTimeoutMillis?: number;
  /**
   * Called with each collection as it is handed to the exporter (after {@link transform}); the
   * function it may return is called with the export's result once it settles
   * (`jobmeter serve --debug` prints both). Throws are ignored. @default none
   */
  onExport?: OnExport;
}

/**
 * A reader that exports every `intervalMillis`, on `forceFlush()`, and once more on shutdown, so
 * the last measurements before exit reach the collector.
 *
 * The exporter still reads from `process.env` what jobmeter has no option for:
 * `OTEL_EXPORTER_OTLP_[METRICS_]COMPRESSION` (`gzip`; the default is none) and the TLS file
 * variables. It also merges `OTEL_EXPORTER_OTLP_[METRICS_]HEADERS` from `process.env` under
 * `headers` (ours win on the same name).
 *
 * The options are resolved ones (resolve-options.ts: the option table's defaults and rules, the
 * timeout within the interval), so none is checked again here.
 * @throws {ConfigError} for a `shutdownTimeoutMillis` that is not a duration.
 */
export function createOtlpPushReader(
  options: ResolvedOtlpPushOptions,
  hooks: OtlpPushHooks = {},
): OtlpPushReader {
  const shutdownMillis =
    hooks.shutdownTimeoutMillis ?? Math.min(options.timeoutMillis, DEFAULT_SHUTDOWN_EXPORT_MILLIS);
  millis(shutdownMillis, 'otlp.shutdownTimeoutMillis');
  const url = otlpMetricsUrl(options.endpoint);
  const config = {
    url,
    // A copy: the exporter keeps the object and reads it on every request.
    headers: { ...options.headers },
    // One budget for one export: the reader abandons an export after exportTimeoutMillis, and the
    // exporter stops retrying after timeoutMillis, so giving them the same value means a retry is
    // never still scheduled when the reader has already given up.
    timeoutMillis: options.timeoutMillis,
    // Passed explicitly so the exporter does not fall back to reading
    // OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE itself: config/otel-env.ts has already
    // folded that into `temporality`.
    temporalityPreference: PREFERENCE[options.temporality],
  };
  const log = new StateLog(
    {
      target: printableUrl(url),
      intervalMillis: options.intervalMillis,
      temporality: options.temporality,
      shutdownMillis,
    },
    hooks.log ?? logTo((line) => void process.stderr.write(`jobmeter: ${line}\n`)),
  );
  const exporter = new ResilientExporter(
    new OtlpMetricExporter(options.protocol, config),
    log,
    hooks,
  );
  return new OtlpPushReader(
    {
      exporter,
      exportIntervalMillis: options.intervalMillis,
      exportTimeoutMillis: options.timeoutMillis,
      ...(hooks.metricProducers !== undefined && { metricProducers: hooks.metricProducers }),
      ...(hooks.cardinalityLimit !== undefined && {
        cardinalityLimits: { default: hooks.cardinalityLimit },
      }),
    },
    exporter,
  );
}

/** The SDK's periodic reader, with a shutdown that bounds its last export, and its push state. */
export class OtlpPushReader extends PeriodicExportingMetricReader {
  readonly #exporter: ResilientExporter;

  constructor(
    options: ConstructorParameters<typeof PeriodicExportingMetricReader>[0],
    exporter: ResilientExporter,
  ) {
    super(options);
    this.#exporter = exporter;
  }

  /**
   * The push state, for `/ready`, diagnostics and tests: `failedExports` since the last success,
   * exports handed to the exporter and not yet settled (`inFlight`), the most ever at once.
   */
  stats() {
    const { log, inFlight, maxInFlight } = this.#exporter;
    return { state: log.state, failedExports: log.failed, inFlight, maxInFlight };
  }

  protected override async onShutdown(): Promise<void> {
    this.#exporter.beginShutdown();
    await super.onShutdown();
  }
}
