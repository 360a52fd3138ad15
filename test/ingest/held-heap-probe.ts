/**
 * Child process of held-heap.test.ts, run as `node --expose-gc --single-threaded held-heap-probe.ts SHAPE COUNT`:
 * ingests COUNT source series of one shape into an ingest store (native names checked, as `serve`
 * does), reads them once through the native naming stage (whose label strings and compiled rules
 * the estimate pays for too), then prints one JSON line: how much the heap grew to hold them
 * (`grown`, after full GCs) and what the store estimated (`estimate`, its `memoryBytes`).
 *
 * Attribute values are flat strings from `JSON.parse`, as the decoders hand them over, not ropes a
 * test built with `+`. The requests are dropped once ingested, as a listener drops them. The same
 * shape and count are held once before, and dropped, so optimised code and V8's own caches are not
 * counted as the series' (a smaller warm-up leaves code compiled later in the figure).
 */
import { MAX_MEMORY_BYTES } from '../../src/common/option-rules.ts';
import { IngestStore } from '../../src/ingest/ingest-store.ts';
import { nativeClaimedNames } from '../../src/naming/prometheus-names.ts';
import { otelProfile } from '../../src/naming/profiles/otel.ts';
import { createNamer, type Namer } from '../../src/naming/to-families.ts';
import type {
  OtlpExportRequest,
  OtlpHistogramPoint,
  OtlpMetric,
  OtlpNumberPoint,
} from '../../src/otlp/types.ts';
import {
  exponential,
  exponentialPoint,
  fakeClock,
  gauge,
  histogram,
  histogramPoint,
  metric,
  numberPoint,
  request,
  sum,
} from './helpers.ts';

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run under node --expose-gc');

/** A flat string of `length` characters (at least its prefix), unique for `i`; `fill` pads it. */
function flat(i: number, length: number, fill = 'x'): string {
  const head = `v${i}-`;
  return JSON.parse(
    JSON.stringify(head + fill.repeat(Math.max(0, length - head.length))),
  ) as string;
}

const BOUNDS = [
  0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 25, 50, 75, 100, 250,
  500,
];
const PER_REQUEST = 500;

/** Requests of one gauge's (or histogram's) points, {@link PER_REQUEST} a request: point `j` from `point(j)`. */
function* batched<P>(
  count: number,
  point: (j: number) => P,
  wrap: (points: P[]) => OtlpMetric,
): Generator<OtlpExportRequest> {
  for (let i = 0; i < count; i += PER_REQUEST) {
    const points: P[] = [];
    for (let j = i; j < Math.min(count, i + PER_REQUEST); j++) points.push(point(j));
    yield request([wrap(points)]);
  }
}

const gaugeOf = (name: string) => (points: OtlpNumberPoint[]) => metric(name, gauge(points));
const histogramOf = (name: string) => (points: OtlpHistogramPoint[]) =>
  metric(name, histogram(points), 's');

/** The requests of a shape: `count` source series in all. */
export const SHAPES: Readonly<Record<string, (count: number) => Generator<OtlpExportRequest>>> = {
  /** One gauge, many series with one short attribute. */
  small: (count) =>
    batched(count, (j) => numberPoint(j, { id: flat(j, 8) }, 1, 2), gaugeOf('small.gauge')),
  /** Counters of one series each, without attributes: what an instrument costs. */
  *bare(count) {
    for (let i = 0; i < count; i += PER_REQUEST) {
      const metrics: OtlpMetric[] = [];
      for (let j = i; j < Math.min(count, i + PER_REQUEST); j++)
        metrics.push(metric(`bare.${j}`, sum([numberPoint(1, {}, 1, 2)])));
      yield request(metrics);
    }
  },
  /** Counters of five series each, with 200-character names and descriptions. */
  *named(count) {
    for (let i = 0; i < count; i += PER_REQUEST) {
      const metrics: OtlpMetric[] = [];
      for (let j = i; j < Math.min(count, i + PER_REQUEST); j += 5) {
        const points = [0, 1, 2, 3, 4].map((k) => numberPoint(k + 1, { k: String(k) }, 1, 2));
        metrics.push({
          ...metric(flat(j, 200).replace('-', '.'), sum(points), '{op}'),
          description: flat(j, 200),
        });
      }
      yield request(metrics);
    }
  },
  /** Three attributes of 150 characters: long keys, kept as they are (under the hash length). */
  long: (count) =>
    batched(
      count,
      (j) => numberPoint(1, { a: flat(j, 150), b: flat(j + 1, 150), c: flat(j + 2, 150) }, 1, 2),
      gaugeOf('long.gauge'),
    ),
  /** Four attributes at the cut (256 characters): keys hashed. */
  cut: (count) =>
    batched(
      count,
      (j) =>
        numberPoint(
          1,
          { a: flat(j, 256), b: flat(j, 256), c: flat(j, 256), d: flat(j, 256) },
          1,
          2,
        ),
      gaugeOf('cut.gauge'),
    ),
  /** One value of 64 KiB per series, cut to 256 characters ending in `…`: two bytes a character, and nothing of the rest kept. */
  huge: (count) =>
    batched(count, (j) => numberPoint(1, { a: flat(j, 65_536) }, 1, 2), gaugeOf('huge.gauge')),
  /** Three attributes of 100 characters outside Latin-1: V8 keeps them at two bytes a character. */
  unicode: (count) =>
    batched(
      count,
      (j) =>
        numberPoint(
          1,
          { a: flat(j, 100, '€'), b: flat(j + 1, 100, '€'), c: flat(j + 2, 100, '€') },
          1,
          2,
        ),
      gaugeOf('unicode.gauge'),
    ),
  /** Cumulative histograms of 20 bounds. */
  histograms: (count) =>
    batched(
      count,
      (j) =>
        histogramPoint(
          BOUNDS,
          BOUNDS.map((_, b) => (b + j) % 7).concat([1]),
          12.5,
          { route: flat(j, 12) },
          1,
          2,
        ),
      histogramOf('rpc.duration'),
    ),
  /** Cumulative histograms of one bound: what a histogram series costs besides its buckets. */
  narrow: (count) =>
    batched(
      count,
      (j) => histogramPoint([1], [j % 3, 1], 2.5, { route: flat(j, 12) }, 1, 2),
      histogramOf('rpc.narrow'),
    ),
  /** Delta exponential histograms of 100 buckets. */
  exponential: (count) =>
    batched(
      count,
      (j) =>
        exponentialPoint(
          3,
          j % 50,
          Array.from({ length: 100 }, (_, b) => 1 + ((b + j) % 5)),
          300,
          { route: flat(j, 12) },
          1,
          2,
        ),
      (points) => metric('rpc.size', exponential(points, 'delta'), 'By'),
    ),
  /** Many senders (resources of three 100-character attributes) feeding the same five counter series. */
  *senders(count) {
    for (let i = 0; i < count; i += 5) {
      const resource = {
        'service.name': 'daemon',
        'service.instance.id': flat(i, 100),
        'host.name': flat(i + 1, 100),
        'process.command_line': flat(i + 2, 100),
      };
      yield request(
        [
          metric(
            'sender.jobs',
            sum([0, 1, 2, 3, 4].map((k) => numberPoint(k + 1, { k: String(k) }, 1, 2))),
            '{job}',
          ),
        ],
        resource,
      );
    }
  },
  /** Many senders feeding the same five histogram series: each source series keeps its own counts. */
  *histogramSenders(count) {
    for (let i = 0; i < count; i += 5) {
      const points = [0, 1, 2, 3, 4].map((k) =>
        histogramPoint(
          BOUNDS,
          BOUNDS.map((_, b) => (b + i) % 3).concat([1]),
          3.5,
          { k: String(k) },
          1,
          2,
        ),
      );
      yield request([metric('rpc.duration', histogram(points), 's')], {
        'service.name': 'daemon',
        'service.instance.id': flat(i, 36),
      });
    }
  },
  /** One series per scope, each of a 256-character name outside Latin-1 and a 64-character version. */
  *scopes(count) {
    for (let i = 0; i < count; i += PER_REQUEST) {
      const scopeMetrics = [];
      for (let j = i; j < Math.min(count, i + PER_REQUEST); j++) {
        scopeMetrics.push({
          scope: { name: flat(j, 256, '€'), version: flat(j, 64, '€') },
          metrics: [metric('scoped.jobs', sum([numberPoint(1, {}, 1, 2)]))],
        });
      }
      yield { resourceMetrics: [{ resource: { 'service.name': 'daemon' }, scopeMetrics }] };
    }
  },
  /** One short attribute under a scope of a 200-character name: every label string holds it. */
  *scoped(count) {
    const scope = { name: flat(0, 200), version: flat(1, 50) };
    for (const req of SHAPES['small']!(count)) {
      yield {
        resourceMetrics: req.resourceMetrics.map((rm) => ({
          ...rm,
          scopeMetrics: rm.scopeMetrics.map((sm) => ({ ...sm, scope })),
        })),
      };
    }
  },
};

function heapUsed(): number {
  for (let i = 0; i < 3; i++) gc!();
  return process.memoryUsage().heapUsed;
}

async function hold(shape: string, count: number): Promise<{ store: IngestStore; namer: Namer }> {
  const clock = fakeClock();
  const store = new IngestStore({
    clock,
    exposedNames: nativeClaimedNames,
    maxSeries: 1e7,
    maxSeriesPerInstrument: 1e7,
    maxInstruments: 1e6,
    maxMemoryBytes: MAX_MEMORY_BYTES,
  });
  const namer = createNamer(otelProfile(true));
  namer.toFamilies((await store.collect()).resourceMetrics);
  if (count === 0) return { store, namer };
  for (const req of SHAPES[shape]!(count)) {
    const result = store.ingest(req);
    if (result.rejectedDataPoints !== 0) throw new Error(`${shape}: ${result.errorMessage}`);
  }
  namer.toFamilies((await store.collect()).resourceMetrics);
  return { store, namer };
}

const [shape, countText] = process.argv.slice(2);
if (shape === undefined || SHAPES[shape] === undefined)
  throw new Error(`shape: one of ${Object.keys(SHAPES).join(', ')}`);
const count = Number(countText);
await hold(shape, count);
const empty = await hold(shape, 0);
const before = heapUsed();
const held = await hold(shape, count);
const grown = heapUsed() - before;
// Both stay reachable until measured.
if (empty.store.seriesCount !== 0 || held.store.seriesCount !== count)
  throw new Error(`${shape}: ${held.store.seriesCount} source series held, ${count} sent`);
process.stdout.write(
  JSON.stringify({ shape, count, grown, estimate: held.store.memoryBytes }) + '\n',
);
