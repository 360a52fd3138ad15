/**
 * The contenders, each set up the way its own documentation tells a user to:
 *
 * - **jobmeter**: `createJobmeter` with the pull listener, process metrics and scope labels off
 *   (a bench instance); extra instruments are declared in `options.instruments`, so they go
 *   through jobmeter's views (the bounded-attributes processor, bucket layout, cardinality limit)
 *   exactly like the domain ones.
 * - **@prometheus-io/client** (prom-client's successor under the Prometheus organisation, the
 *   anchor the ratios are taken against) and **prom-client**: the same API (`Counter`,
 *   `Histogram`, `Registry`), so one code path ({@link PromLib}) drives both: a `Registry` of its
 *   own (the global one is the same class) and `registry.metrics()`.
 * - **otel**: a `MeterProvider` whose reader is a `PrometheusExporter` with
 *   `preventServerStart: true`. Its scrape is `exporter.collect()` then
 *   `new PrometheusSerializer().serialize(resourceMetrics)`, which is line for line what the
 *   exporter's `getMetricsRequestHandler` does per request, minus the HTTP write (the default
 *   `ExporterConfig` builds its serializer with these same defaults: target_info and
 *   `otel_scope_*` labels on).
 * - **otel-jobmeter-reader** (the full-scrape table only, {@link SCRAPE_CONTENDERS}): the same
 *   provider and instruments as otel, but jobmeter's `JobmeterReader` in place of the exporter, as
 *   docs/host-apps.md has a host with its own MeterProvider add it (reader defaults: native
 *   profile, `target_info` and `otel_scope_*` labels on, like the exporter's). Its scrape is what
 *   the reader's listener does: `await reader.scrape()` then `renderBuffers(format, families)`.
 */
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import type { Meter } from '@opentelemetry/api';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as prometheusIo from '@prometheus-io/client';
import * as promClient from 'prom-client';
import {
  createJobmeter,
  JobmeterReader,
  type InstrumentSpec,
  type Jobmeter,
} from '../src/index.ts';
import { DEFAULT_RUN_DURATION_BUCKETS } from '../src/index-catalog.ts';

export const CONTENDERS = ['jobmeter', 'prometheus-io', 'prom-client', 'otel'] as const;
export type Contender = (typeof CONTENDERS)[number];

/**
 * The full scrape's contenders: {@link CONTENDERS} and a host's own SDK with jobmeter as its
 * reader. Kept apart so the other scenarios that run every contender (heap, and what shares
 * series.ts's `Built`) stay as they are.
 */
export const SCRAPE_CONTENDERS = [...CONTENDERS, 'otel-jobmeter-reader'] as const;
export type ScrapeContender = (typeof SCRAPE_CONTENDERS)[number];

/** The two Prometheus client libraries: one API, two packages. */
export const PROM_LIBS = ['prometheus-io', 'prom-client'] as const;
export type PromLibName = (typeof PROM_LIBS)[number];

/** Table labels; `prometheus-io` is the anchor every ratio divides by. */
export const PROM_LABEL: Readonly<Record<PromLibName, string>> = {
  'prometheus-io': '@prometheus-io/client',
  'prom-client': 'prom-client',
};

export function isPromLib(c: string): c is PromLibName {
  return (PROM_LIBS as readonly string[]).includes(c);
}

/** What the bench uses of a Prometheus client library's registry. */
export interface PromRegistry {
  metrics(): Promise<string>;
  readonly contentType: string;
}

type Labels = Partial<Record<string, string | number>>;

/** What a sample of `metric.get()` carries (a histogram's name its `_bucket`/`_sum`/`_count`). */
export interface PromValues {
  readonly values: readonly { readonly value: number; readonly metricName?: string }[];
}

export interface PromCounter {
  inc(labels: Labels, value?: number): void;
  labels(...values: string[]): { inc(value?: number): void };
  get(): Promise<PromValues>;
}

export interface PromHistogram {
  observe(labels: Labels, value: number): void;
  labels(...values: string[]): { observe(value: number): void };
  get(): Promise<PromValues>;
}

interface PromConfig {
  name: string;
  help: string;
  labelNames: string[];
  registers: PromRegistry[];
}

/** The part of either library's exports the bench uses. */
export interface PromLib {
  readonly Registry: new () => PromRegistry;
  readonly Counter: new (c: PromConfig) => PromCounter;
  readonly Histogram: new (c: PromConfig & { buckets: number[] }) => PromHistogram;
}

/**
 * The cast: each library's `Counter` wants its own `Registry` class in `registers`, which the
 * structural {@link PromRegistry} cannot name for both; the bench only ever passes a library the
 * registry it made (`promRegistry(lib)`).
 */
export const promLib = (name: PromLibName): PromLib =>
  (name === 'prometheus-io' ? prometheusIo : promClient) as unknown as PromLib;

/** The 15 bucket bounds every contender's histograms use (jobmeter's default run-duration buckets). */
export const BUCKETS: readonly number[] = DEFAULT_RUN_DURATION_BUCKETS;
if (BUCKETS.length !== 15) throw new Error(`bench expects 15 buckets, got ${BUCKETS.length}`);

export function benchJobmeter(instruments: readonly InstrumentSpec[]): Promise<Jobmeter> {
  return createJobmeter({
    listener: false,
    processMetrics: false,
    otelScopeInfo: false,
    instruments,
  });
}

export function promRegistry(lib: PromLibName): PromRegistry {
  return new (promLib(lib).Registry)();
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
  const views =
    cardinalityLimit === undefined
      ? []
      : [{ instrumentName: '*', aggregationCardinalityLimit: cardinalityLimit }];
  // The exporter is built on its own nested copy of @opentelemetry/sdk-metrics (3.1.0) while the
  // provider is the app's 3.1.1: what npm gives a user who installs both, and it works as is.
  const provider = new MeterProvider({ readers: [exporter], views });
  return {
    provider,
    exporter,
    meter: provider.getMeter('bench'),
    serializer: new PrometheusSerializer(),
  };
}

export interface HostSdk {
  readonly provider: MeterProvider;
  readonly reader: JobmeterReader;
  readonly meter: Meter;
}

/**
 * A host's own SDK `MeterProvider` with jobmeter as its reader (`JobmeterReader`, listener off):
 * the same provider as {@link plainOtel} but for the reader, so the two show what the reader
 * costs per record.
 * @param o.otelScopeInfo the reader's option; off by default (a bench instance, as
 *   {@link benchJobmeter}: nothing the record path sees).
 * @param o.cardinalityLimit as {@link plainOtel}'s.
 */
export function hostSdkWithJobmeterReader(
  o: { otelScopeInfo?: boolean; cardinalityLimit?: number } = {},
): HostSdk {
  const reader = new JobmeterReader({ listener: false, otelScopeInfo: o.otelScopeInfo ?? false });
  const views =
    o.cardinalityLimit === undefined
      ? []
      : [{ instrumentName: '*', aggregationCardinalityLimit: o.cardinalityLimit }];
  const provider = new MeterProvider({ readers: [reader], views });
  return { provider, reader, meter: provider.getMeter('bench') };
}

/** What the exporter's request handler does per scrape, minus the HTTP write. */
export async function otelScrape(o: PlainOtel): Promise<string> {
  const { resourceMetrics, errors } = await o.exporter.collect();
  if (errors.length > 0) throw new Error(`otel collect errors: ${errors.map(String).join('; ')}`);
  return o.serializer.serialize(resourceMetrics);
}

/** A Prometheus client library behind `http.createServer` answering `await register.metrics()`, as its users serve it; on loopback, a free port. */
export async function promClientServer(
  registry: PromRegistry,
): Promise<{ url: string; close: () => Promise<void> }> {
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
