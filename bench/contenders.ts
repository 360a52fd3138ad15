/**
 * The three contenders, each set up the way its own documentation tells a user to:
 *
 * - **jobmeter**: `createJobmeter` with the pull listener, process metrics and scope labels off
 *   (a bench instance); extra instruments are declared in `options.instruments`, so they go
 *   through jobmeter's views (the bounded-attributes processor, bucket layout, cardinality limit)
 *   exactly like the domain ones.
 * - **prom-client**: a `Registry` of its own (the global one is the same class) and
 *   `registry.metrics()`.
 * - **otel**: a `MeterProvider` whose reader is a `PrometheusExporter` with
 *   `preventServerStart: true`. Its scrape is `exporter.collect()` then
 *   `new PrometheusSerializer().serialize(resourceMetrics)`, which is line for line what the
 *   exporter's `getMetricsRequestHandler` does per request, minus the HTTP write (the default
 *   `ExporterConfig` builds its serializer with these same defaults: target_info and
 *   `otel_scope_*` labels on).
 */
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import type { Meter } from '@opentelemetry/api';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { createJobmeter, DEFAULT_RUN_DURATION_BUCKETS, type InstrumentSpec, type Jobmeter } from '../src/index.ts';

export const CONTENDERS = ['jobmeter', 'prom-client', 'otel'] as const;
export type Contender = (typeof CONTENDERS)[number];

/** The 15 bucket bounds every contender's histograms use (jobmeter's default run-duration buckets). */
export const BUCKETS: readonly number[] = DEFAULT_RUN_DURATION_BUCKETS;
if (BUCKETS.length !== 15) throw new Error(`bench expects 15 buckets, got ${BUCKETS.length}`);

export function benchJobmeter(instruments: readonly InstrumentSpec[]): Promise<Jobmeter> {
  return createJobmeter({ listener: false, processMetrics: false, otelScopeInfo: false, instruments });
}

export function promRegistry(): Registry {
  return new Registry();
}

export interface PlainOtel {
  readonly provider: MeterProvider;
  readonly exporter: PrometheusExporter;
  readonly meter: Meter;
  readonly serializer: PrometheusSerializer;
}

/**
 * @param cardinalityLimit per-instrument series limit, through a catch-all view; `undefined` keeps
 *   the SDK's default (2000), which is what a user gets without configuring one.
 */
export function plainOtel(cardinalityLimit?: number): PlainOtel {
  const exporter = new PrometheusExporter({ preventServerStart: true });
  const views = cardinalityLimit === undefined ? [] : [{ instrumentName: '*', aggregationCardinalityLimit: cardinalityLimit }];
  // The exporter is built on its own nested copy of @opentelemetry/sdk-metrics (3.1.0) while the
  // provider is the app's 3.1.1: what npm gives a user who installs both, and it works as is.
  const provider = new MeterProvider({ readers: [exporter], views });
  return { provider, exporter, meter: provider.getMeter('bench'), serializer: new PrometheusSerializer() };
}

/** What the exporter's request handler does per scrape, minus the HTTP write. */
export async function otelScrape(o: PlainOtel): Promise<string> {
  const { resourceMetrics, errors } = await o.exporter.collect();
  if (errors.length > 0) throw new Error(`otel collect errors: ${errors.map(String).join('; ')}`);
  return o.serializer.serialize(resourceMetrics);
}

/** prom-client behind `http.createServer` answering `await register.metrics()`, as its users serve it; on loopback, a free port. */
export async function promClientServer(registry: Registry): Promise<{ url: string; close: () => Promise<void> }> {
  const server: Server = createServer((_req, res) => {
    registry.metrics().then(
      (text) => {
        res.setHeader('Content-Type', registry.contentType);
        res.end(text);
      },
      (err: unknown) => {
        res.statusCode = 500;
        res.end(String(err));
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
