/**
 * The OTLP push reader: the official OTLP/HTTP exporters behind a periodic reader. Encoding,
 * transport, gzip and retries are the exporters' own; this file only maps jobmeter's options.
 */
import {
  AggregationTemporalityPreference,
  OTLPMetricExporter as JsonMetricExporter,
} from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as ProtobufMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { ConfigError, maskUserinfo } from '../config/errors.ts';
import type { OtlpPushOptions } from '../options.ts';

/**
 * {@link OtlpPushOptions} after defaults: every field present, `endpoint` included (no endpoint
 * means no push reader is built at all).
 */
export type ResolvedOtlpPushOptions = Required<OtlpPushOptions>;

/**
 * A reader that exports every `intervalMillis`, on `forceFlush()`, and once more on shutdown, so
 * the last measurements before exit reach the collector.
 *
 * The exporter still reads from `process.env` what jobmeter has no option for:
 * `OTEL_EXPORTER_OTLP_[METRICS_]COMPRESSION` (`gzip`; the default is none) and the TLS file
 * variables. It also merges `OTEL_EXPORTER_OTLP_[METRICS_]HEADERS` from `process.env` under
 * `headers` (ours win on the same name).
 *
 * @throws {ConfigError} naming the option, when an option cannot be used.
 */
export function createOtlpPushReader(options: ResolvedOtlpPushOptions): PeriodicExportingMetricReader {
  validate(options);
  const config = {
    url: options.endpoint,
    // A copy: the exporter keeps the object and reads it on every request.
    headers: { ...options.headers },
    // One budget for one export: the reader abandons an export after exportTimeoutMillis, and the
    // exporter stops retrying after timeoutMillis, so giving them the same value means a retry is
    // never still scheduled when the reader has already given up.
    timeoutMillis: options.timeoutMillis,
    // Passed explicitly so the exporter does not fall back to reading
    // OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE itself: config/otel-env.ts has already
    // folded that into `temporality`.
    temporalityPreference:
      options.temporality === 'delta' ? AggregationTemporalityPreference.DELTA : AggregationTemporalityPreference.CUMULATIVE,
  };
  const exporter = options.protocol === 'http/json' ? new JsonMetricExporter(config) : new ProtobufMetricExporter(config);
  return new PeriodicExportingMetricReader({
    exporter,
    exportIntervalMillis: options.intervalMillis,
    exportTimeoutMillis: options.timeoutMillis,
  });
}

// The SDK checks some of these too, but with messages that name its own option names
// (`exportTimeoutMillis`) or, for a bad URL, only on the first export.
function validate(options: ResolvedOtlpPushOptions): void {
  let url: URL | undefined;
  try {
    url = new URL(options.endpoint);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new ConfigError('otlp.endpoint', maskUserinfo(options.endpoint), 'an absolute http:// or https:// URL');
  }
  if (options.protocol !== 'http/protobuf' && options.protocol !== 'http/json') {
    throw new ConfigError('otlp.protocol', options.protocol, 'http/protobuf or http/json');
  }
  if (options.temporality !== 'cumulative' && options.temporality !== 'delta') {
    throw new ConfigError('otlp.temporality', options.temporality, 'cumulative or delta');
  }
  if (!isPositiveFinite(options.intervalMillis)) {
    throw new ConfigError('otlp.intervalMillis', options.intervalMillis, 'a positive number of milliseconds');
  }
  if (!isPositiveFinite(options.timeoutMillis) || options.timeoutMillis > options.intervalMillis) {
    throw new ConfigError(
      'otlp.timeoutMillis',
      options.timeoutMillis,
      `a positive number of milliseconds, at most otlp.intervalMillis (${options.intervalMillis})`,
    );
  }
}

function isPositiveFinite(value: number): boolean {
  return typeof value === 'number' && Number.isFinite(value) && value > 0;
}
