/**
 * The series set the scrape and heap scenarios build, identically for each contender: a counter
 * over `counters` values of a `host` label, and a 15-bucket histogram over the first
 * `histograms` of those hosts (the reference mix: histograms = counters / 10).
 *
 * Sharding: jobmeter bounds every instrument at 2000 series (`MAX_SERIES_PER_INSTRUMENT`, by
 * design: past it the SDK folds new sets into one overflow series), and the plain OTel SDK's
 * default cardinality limit is 2000 too. So a family holds at most `BENCH_SHARD` hosts (default
 * 1000): 100k counter series are 100 counter instruments `bench.requests.<k>` of 1000 hosts each.
 * All contenders get the same sharding, so they render the same sample lines (and
 * the Prometheus clients, which have no limit, are not given a different shape). `BENCH_SHARD=100000` puts
 * them and otel back to one big family each (otel then gets a view raising its limit),
 * for comparison with figures taken that way; jobmeter would then fold, and fail the line check.
 */
import protobuf from 'protobufjs/light.js';
import type { Meter } from '@opentelemetry/api';
import type { DeclaredCounter, DeclaredHistogram, InstrumentSpec, Jobmeter } from '../src/index.ts';
import { renderPrometheusText } from '../src/index-exposition.ts';
import {
  BUCKETS,
  benchJobmeter,
  hostSdkWithJobmeterReader,
  otelScrape,
  plainOtel,
  promLib,
  promRegistry,
  type Contender,
  type HostSdk,
  type PlainOtel,
  type PromLibName,
  type PromRegistry,
  type ScrapeContender,
} from './contenders.ts';
import { VALUES } from './hot-path.ts';

export const SHARD = Number(process.env.BENCH_SHARD ?? 1000);
if (!(Number.isInteger(SHARD) && SHARD > 0))
  throw new Error(`BENCH_SHARD must be a positive integer, got ${process.env.BENCH_SHARD}`);

export interface Layout {
  /** Counter series (one per host). */
  readonly counters: number;
  /** Histogram series (one per host, the first `histograms` hosts). */
  readonly histograms: number;
}

/** One size of a sized scenario (scrape, collector): the reference mix at `n`, its warm-up and timed runs. */
export interface SizePlan {
  /** Counter series; histograms get a tenth. */
  readonly n: number;
  readonly warmup: number;
  readonly runs: number;
}

/** The reference mix for size `n`: n counter series + n/10 histogram series. */
export function referenceLayout(n: number): Layout {
  return { counters: n, histograms: Math.floor(n / 10) };
}

/** Exposition sample lines of a layout: 1 per counter series, 18 per histogram series (15 `le` + `+Inf`, `_sum`, `_count`). */
export function sampleLines(l: Layout): number {
  return l.counters + l.histograms * (BUCKETS.length + 3);
}

/** Counts the lines of `text` that are samples of the bench's own families. */
export function countBenchSamples(text: string): number {
  let n = 0;
  let at = text.startsWith('bench_') ? 0 : text.indexOf('\nbench_');
  while (at !== -1) {
    n++;
    at = text.indexOf('\nbench_', at + 1);
  }
  return n;
}

/**
 * {@link countBenchSamples} of a protobuf exposition (delimited client_model MetricFamily
 * messages): one sample a counter, buckets + 3 (`+Inf`, sum, count) a classic histogram, as text.
 */
export function countBenchProtobufSamples(body: Uint8Array): number {
  const r = protobuf.Reader.create(body);
  let n = 0;
  while (r.pos < r.len) {
    const end = r.uint32() + r.pos;
    let bench = false;
    let samples = 0;
    while (r.pos < end) {
      const tag = r.uint32();
      if (tag === ((1 << 3) | 2)) bench = r.string().startsWith('bench_');
      else if (tag === ((4 << 3) | 2)) {
        const metricEnd = r.uint32() + r.pos;
        let sample = 1;
        while (r.pos < metricEnd) {
          const t = r.uint32();
          if (t === ((7 << 3) | 2)) {
            const hEnd = r.uint32() + r.pos;
            sample = 3;
            while (r.pos < hEnd) {
              const ht = r.uint32();
              if (ht === ((3 << 3) | 2)) sample++;
              r.skipType(ht & 7);
            }
          } else r.skipType(t & 7);
        }
        samples += sample;
      } else r.skipType(tag & 7);
    }
    if (bench) n += samples;
  }
  return n;
}

/** Host names, built before any baseline is taken (so no contender is charged for them). */
export function hostNames(n: number): string[] {
  return Array.from({ length: n }, (_, i) => 'host-' + i);
}

export type Built =
  | { readonly contender: 'jobmeter'; readonly jm: Jobmeter; touch(i: number): void }
  | { readonly contender: PromLibName; readonly registry: PromRegistry; touch(i: number): void }
  | { readonly contender: 'otel'; readonly otel: PlainOtel; touch(i: number): void };

/** {@link Built}, or the full scrape's host SDK with jobmeter as its reader. */
export type ScrapeBuilt =
  | Built
  | { readonly contender: 'otel-jobmeter-reader'; readonly host: HostSdk; touch(i: number): void };

export interface Empty<B = Built> {
  /** Records the layout's series (host `i` of `hosts` is the i-th counter series). */
  populate(hosts: readonly string[]): B;
}

/**
 * Sets the contender up with its instruments but no series yet (the heap scenario takes its
 * baseline here); `populate` records them.
 */
export async function setUp(contender: Contender, layout: Layout): Promise<Empty>;
export async function setUp(
  contender: ScrapeContender,
  layout: Layout,
): Promise<Empty<ScrapeBuilt>>;
export async function setUp(
  contender: ScrapeContender,
  layout: Layout,
): Promise<Empty<ScrapeBuilt>> {
  const nc = Math.ceil(layout.counters / SHARD);
  const nh = Math.ceil(layout.histograms / SHARD);
  const counterName = (k: number) => `bench.requests.${k}`;
  const histogramName = (k: number) => `bench.latency.${k}`;
  const counterOptions = { unit: '{request}', description: 'Bench requests.' };
  const histogramOptions = { unit: 's', description: 'Bench latency.' };

  /** Records the initial values through `add`/`observe`, and returns `touch` over them. */
  const fill = (
    hosts: readonly string[],
    add: (k: number, host: string, v: number) => void,
    observe: (k: number, host: string, v: number) => void,
  ) => {
    for (let i = 0; i < layout.counters; i++) add((i / SHARD) | 0, hosts[i]!, 1 + (i % 7));
    for (let i = 0; i < layout.histograms; i++) {
      for (let r = 0; r < 3; r++) observe((i / SHARD) | 0, hosts[i]!, VALUES[(i * 3 + r) & 1023]!);
    }
    return (i: number) => {
      const j = i % layout.counters;
      add((j / SHARD) | 0, hosts[j]!, 1);
      if (j < layout.histograms) observe((j / SHARD) | 0, hosts[j]!, VALUES[i & 1023]!);
    };
  };

  // Past the SDK's default limit (only with BENCH_SHARD > 1998), raise it so nothing folds.
  const otelLimit = SHARD + 1 >= 2000 ? SHARD + 2 : undefined;
  /** The layout's instruments on an OTel SDK meter: otel and otel-jobmeter-reader record alike. */
  const otelInstruments = (meter: Meter) => {
    const counters = Array.from({ length: nc }, (_, k) =>
      meter.createCounter(counterName(k), counterOptions),
    );
    const histos = Array.from({ length: nh }, (_, k) =>
      meter.createHistogram(histogramName(k), {
        ...histogramOptions,
        advice: { explicitBucketBoundaries: [...BUCKETS] },
      }),
    );
    return {
      add: (k: number, h: string, v: number) => counters[k]!.add(v, { host: h }),
      observe: (k: number, h: string, v: number) => histos[k]!.record(v, { host: h }),
    };
  };

  switch (contender) {
    case 'jobmeter': {
      const host = [{ key: 'host', cap: SHARD }];
      const specs: InstrumentSpec[] = [];
      for (let k = 0; k < nc; k++)
        specs.push({ name: counterName(k), kind: 'counter', ...counterOptions, attributes: host });
      for (let k = 0; k < nh; k++)
        specs.push({
          name: histogramName(k),
          kind: 'histogram',
          ...histogramOptions,
          buckets: BUCKETS,
          attributes: host,
        });
      const jm = await benchJobmeter(specs);
      const counters: DeclaredCounter[] = Array.from({ length: nc }, (_, k) =>
        jm.counter(counterName(k)),
      );
      const histos: DeclaredHistogram[] = Array.from({ length: nh }, (_, k) =>
        jm.histogram(histogramName(k)),
      );
      return {
        populate: (hosts) => ({
          contender,
          jm,
          touch: fill(
            hosts,
            (k, h, v) => counters[k]!.add(v, { host: h }),
            (k, h, v) => histos[k]!.record(v, { host: h }),
          ),
        }),
      };
    }
    case 'prometheus-io':
    case 'prom-client': {
      const { Counter, Histogram } = promLib(contender);
      const registry = promRegistry(contender);
      const registers = [registry];
      const counters = Array.from(
        { length: nc },
        (_, k) =>
          new Counter({
            name: `bench_requests_${k}_total`,
            help: counterOptions.description,
            labelNames: ['host'],
            registers,
          }),
      );
      const histos = Array.from(
        { length: nh },
        (_, k) =>
          new Histogram({
            name: `bench_latency_${k}_seconds`,
            help: histogramOptions.description,
            labelNames: ['host'],
            buckets: [...BUCKETS],
            registers,
          }),
      );
      return {
        populate: (hosts) => ({
          contender,
          registry,
          touch: fill(
            hosts,
            (k, h, v) => counters[k]!.inc({ host: h }, v),
            (k, h, v) => histos[k]!.observe({ host: h }, v),
          ),
        }),
      };
    }
    case 'otel': {
      const otel = plainOtel(otelLimit);
      const { add, observe } = otelInstruments(otel.meter);
      return {
        populate: (hosts) => ({ contender, otel, touch: fill(hosts, add, observe) }),
      };
    }
    case 'otel-jobmeter-reader': {
      // The reader's own default (a host's `new JobmeterReader(...)` keeps it): `target_info` and
      // `otel_scope_*` labels, as the otel contender's exporter serves them.
      const host = hostSdkWithJobmeterReader({ otelScopeInfo: true, cardinalityLimit: otelLimit });
      const { add, observe } = otelInstruments(host.meter);
      return {
        populate: (hosts) => ({ contender, host, touch: fill(hosts, add, observe) }),
      };
    }
  }
}

/** One plain text scrape, as each contender serves it. */
export async function scrapeText(b: Built): Promise<string> {
  switch (b.contender) {
    case 'jobmeter':
      return renderPrometheusText(await b.jm.scrape());
    case 'prometheus-io':
    case 'prom-client':
      return b.registry.metrics();
    case 'otel':
      return otelScrape(b.otel);
  }
}
