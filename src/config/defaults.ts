/**
 * The embedded default config of the `jobmeter serve` service (what `npm start` runs with no
 * file, no flags and no OTEL_* variables). It is the lowest layer in resolve.ts.
 *
 * It spells out the library's own defaults (see options.ts) rather than inventing new ones, so the
 * service with no config behaves exactly like `createJobmeter({})`:
 * - the native `otel` naming profile, `service.name` = `jobmeter`, no extra resource attributes;
 * - a pull listener on http://127.0.0.1:9464/metrics (loopback only), negotiating
 *   OpenMetrics / text 0.0.4 from `Accept`;
 * - Node process/runtime metrics on, `target_info` / `otel_scope_*` kept;
 * - OTLP push settings ready (http/protobuf, every 60 s, 30 s timeout, cumulative) but no
 *   `endpoint`, so nothing is pushed until one is configured (file, flag or
 *   OTEL_EXPORTER_OTLP_[METRICS_]ENDPOINT).
 *
 * As a file, this is:
 * ```toml
 * profile = "otel"
 * service_name = "jobmeter"
 * process_metrics = true
 * otel_scope_info = true
 *
 * [listener]
 * enabled = true
 * host = "127.0.0.1"
 * port = 9464
 * allow_non_loopback = false
 * # format: unset, so each profile serves what its original does (otel: negotiate,
 * # runwisp: openmetrics, the other legacy profiles: text)
 *
 * [otlp]
 * # endpoint = "http://127.0.0.1:4318/v1/metrics"   # unset: no push
 * protocol = "http/protobuf"
 * interval_ms = 60000
 * timeout_ms = 30000
 * temporality = "cumulative"
 * ```
 */
import type { ServiceConfig } from './schema.ts';

/** The embedded defaults. Deeply frozen: layers are merged into copies, never into this. */
export const DEFAULT_SERVICE_CONFIG: Readonly<ServiceConfig> = deepFreeze({
  profile: 'otel',
  serviceName: 'jobmeter',
  processMetrics: true,
  otelScopeInfo: true,
  resourceAttributes: {},
  listener: {
    enabled: true,
    host: '127.0.0.1',
    port: 9464,
    allowNonLoopback: false,
    // No format: the profile's own applies (wasmrun serves text 0.0.4 whatever Accept prefers).
  },
  otlp: {
    // No endpoint: no push reader.
    headers: {},
    protocol: 'http/protobuf',
    intervalMillis: 60_000,
    timeoutMillis: 30_000,
    temporality: 'cumulative',
  },
} satisfies ServiceConfig);

function deepFreeze<T extends object>(value: T): T {
  for (const v of Object.values(value)) {
    if (typeof v === 'object' && v !== null) deepFreeze(v);
  }
  return Object.freeze(value);
}
