/**
 * Builders for decoded OTLP requests (the ingest store's input) and readers of its output, so
 * store tests state points and totals without an encoder in between.
 */
import assert from 'node:assert/strict';
import type { Attributes } from '@opentelemetry/api';
import {
  DataPointType,
  type DataPoint,
  type Histogram,
  type MetricData,
} from '@opentelemetry/sdk-metrics';
import type { IngestStore } from '../../src/ingest/ingest-store.ts';
import { REFUSED_METRIC } from '../../src/domain/catalog.ts';
import { REFUSAL_REASONS } from '../../src/ingest/ingest-report.ts';
import { emptyResource } from '@opentelemetry/resources';
import type { NamedFamily } from '../../src/naming/family-builder.ts';
import type { Namer } from '../../src/naming/to-families.ts';
import { metricsCollection, withIngested } from '../../src/series/collection.ts';
import { packedPoints, type PackedChunk } from '../../src/ingest/packed-chunk.ts';
import type {
  OtlpExponentialHistogramPoint,
  OtlpExportRequest,
  OtlpHistogramPoint,
  OtlpMetric,
  OtlpMetricData,
  OtlpNumberPoint,
} from '../../src/otlp/types.ts';

/**
 * Where the builders' point times count from: the clock's second when the tests loaded, so a
 * point `time` of 110 s is 110 s after it, inside the window of times the store accepts
 * (stream-rules.ts `timeWindow`) whether the store reads a {@link fakeClock} or `Date.now`.
 */
export const EPOCH_SECONDS = Math.floor(Date.now() / 1000);

/**
 * A fake clock for the store (series/clock.ts), the wall one in Unix ms from `start`:
 * `advance` moves both, as time passing does; `step` moves the wall clock alone, as NTP or
 * `date -s` does.
 */
export function fakeClock(start = EPOCH_SECONDS * 1000) {
  let wall = start;
  let monotonic = 0;
  return {
    wallMillis: () => wall,
    monotonicMillis: () => monotonic,
    advance(ms: number) {
      wall += ms;
      monotonic += ms;
    },
    step(ms: number) {
      wall += ms;
    },
  };
}

/** Seconds after {@link EPOCH_SECONDS} → Unix nanoseconds, for point times; 0 stays 0 (unset). */
export const ns = (seconds: number): bigint =>
  seconds === 0 ? 0n : BigInt(Math.round((EPOCH_SECONDS + seconds) * 1e9));

export function numberPoint(
  value: number | undefined,
  attributes: Attributes = {},
  start = 0,
  time = 0,
  noRecordedValue = false,
): OtlpNumberPoint {
  return {
    attributes,
    startTimeUnixNano: ns(start),
    timeUnixNano: ns(time),
    noRecordedValue,
    value,
  };
}

export function histogramPoint(
  bounds: number[],
  counts: number[],
  sum: number,
  attributes: Attributes = {},
  start = 0,
  time = 0,
): OtlpHistogramPoint {
  return {
    attributes,
    startTimeUnixNano: ns(start),
    timeUnixNano: ns(time),
    noRecordedValue: false,
    count: counts.reduce((a, b) => a + b, 0),
    sum,
    bucketCounts: counts,
    explicitBounds: bounds,
  };
}

/** An exponential point of `scale` with positive buckets `offset…` (count: their sum plus `zeroCount`). */
export function exponentialPoint(
  scale: number,
  offset: number,
  counts: number[],
  sum: number,
  attributes: Attributes = {},
  start = 0,
  time = 0,
  zeroCount = 0,
): OtlpExponentialHistogramPoint {
  return {
    attributes,
    startTimeUnixNano: ns(start),
    timeUnixNano: ns(time),
    noRecordedValue: false,
    count: counts.reduce((a, b) => a + b, zeroCount),
    sum,
    scale,
    zeroCount,
    zeroThreshold: 0,
    positive: { offset, bucketCounts: counts },
    negative: { offset: 0, bucketCounts: [] },
  };
}

export const exponential = (
  points: OtlpExponentialHistogramPoint[],
  temporality: 'delta' | 'cumulative' = 'cumulative',
): OtlpMetricData => ({
  type: 'exponentialHistogram',
  temporality,
  points,
});

export function metric(name: string, data: OtlpMetricData, unit = ''): OtlpMetric {
  return { name, description: '', unit, data };
}

export const sum = (
  points: OtlpNumberPoint[],
  temporality: 'delta' | 'cumulative' = 'cumulative',
  monotonic = true,
): OtlpMetricData => ({
  type: 'sum',
  monotonic,
  temporality,
  points,
});
export const gauge = (points: OtlpNumberPoint[]): OtlpMetricData => ({ type: 'gauge', points });
export const histogram = (
  points: OtlpHistogramPoint[],
  temporality: 'delta' | 'cumulative' = 'cumulative',
): OtlpMetricData => ({
  type: 'histogram',
  temporality,
  points,
});

/** One request: one resource, one scope. */
export function request(
  metrics: OtlpMetric[],
  resource: Attributes = { 'service.name': 'daemon' },
  scope = 'daemon',
): OtlpExportRequest {
  return {
    resourceMetrics: [
      { resource, scopeMetrics: [{ scope: { name: scope, version: '' }, metrics }] },
    ],
  };
}

/** The families `namer` makes of the store's series as a scrape reads them (its series sets, the collection's `ingested` part). */
export async function scrapedFamilies(store: IngestStore, namer: Namer): Promise<NamedFamily[]> {
  const collection = withIngested(
    metricsCollection({ resource: emptyResource(), scopeMetrics: [] }),
    await store.collectSeries(),
  );
  const families = namer.toFamilies(collection);
  collection.done();
  return families;
}

/** The store's metrics by name (all scopes). */
export async function collected(store: IngestStore): Promise<Map<string, MetricData[]>> {
  const { resourceMetrics } = await store.collect();
  const out = new Map<string, MetricData[]>();
  for (const sm of resourceMetrics.scopeMetrics) {
    for (const m of sm.metrics) {
      const list = out.get(m.descriptor.name) ?? [];
      list.push(m);
      out.set(m.descriptor.name, list);
    }
  }
  return out;
}

/** The names of what `store` holds of its senders' (beside its own `jobmeter.ingest.refused`, always there). */
export async function heldNames(store: IngestStore): Promise<string[]> {
  return [...(await collected(store)).keys()].filter((n) => n !== REFUSED_METRIC);
}

/**
 * The reasons `store` refused points for, with their counts, as `jobmeter.ingest.refused` serves
 * them; it serves every other reason too, at 0 (asserted here).
 */
export async function refusedCounts(store: IngestStore): Promise<Record<string, number>> {
  const points = ((await collected(store)).get(REFUSED_METRIC) ?? []).flatMap(
    (m) => m.dataPoints as DataPoint<number>[],
  );
  assert.deepEqual(
    points.map((p) => p.attributes['reason']).sort(),
    [...REFUSAL_REASONS].sort(),
    `${REFUSED_METRIC}: every reason served`,
  );
  return Object.fromEntries(
    points.filter((p) => p.value > 0).map((p) => [p.attributes['reason'], p.value]),
  );
}

/** `attributes as JSON → value` of one number metric (first scope holding it). */
export async function values(store: IngestStore, name: string): Promise<Record<string, number>> {
  const m = (await collected(store)).get(name)?.[0];
  if (m === undefined) return {};
  if (
    m.dataPointType === DataPointType.HISTOGRAM ||
    m.dataPointType === DataPointType.EXPONENTIAL_HISTOGRAM
  )
    throw new Error(`${name} is a histogram`);
  return Object.fromEntries(m.dataPoints.map((p) => [JSON.stringify(p.attributes), p.value]));
}

export async function histograms(
  store: IngestStore,
  name: string,
): Promise<Record<string, Histogram>> {
  const m = (await collected(store)).get(name)?.[0];
  if (m === undefined) return {};
  if (m.dataPointType !== DataPointType.HISTOGRAM) throw new Error(`${name} is not a histogram`);
  return Object.fromEntries(m.dataPoints.map((p) => [JSON.stringify(p.attributes), p.value]));
}

/** The chunk `packed` came from, every point copied out of the columns (the store reads them in place, packed-chunk.ts `packedPoints`). */
export function unpackChunk(packed: PackedChunk): OtlpExportRequest {
  return {
    resourceMetrics: packed.resourceMetrics.map((rm) => ({
      resource: rm.resource,
      scopeMetrics: rm.scopeMetrics.map((sm) => ({
        scope: sm.scope,
        metrics: sm.metrics.map((m): OtlpMetric => {
          const list = packedPoints(packed, m);
          if (list === undefined) return m.metric;
          const points = Array.from({ length: list.length }, (_, i) => copyOf(list.at(i)!));
          return { ...m.metric, data: { ...m.metric.data, points } as OtlpMetric['data'] };
        }),
      })),
    })),
  };
}

function copyOf(p: OtlpNumberPoint | OtlpHistogramPoint): OtlpNumberPoint | OtlpHistogramPoint {
  const base = {
    attributes: p.attributes,
    startTimeUnixNano: p.startTimeUnixNano,
    timeUnixNano: p.timeUnixNano,
    noRecordedValue: p.noRecordedValue,
  };
  return 'value' in p
    ? { ...base, value: p.value }
    : {
        ...base,
        count: p.count,
        sum: p.sum,
        explicitBounds: p.explicitBounds,
        bucketCounts: p.bucketCounts,
      };
}
