/**
 * The ingest store's collection: every output series as one cumulative data point, in the SDK's
 * own shapes (SUM / GAUGE / HISTOGRAM / EXPONENTIAL_HISTOGRAM `MetricData`), grouped by scope, so
 * the one naming stage applies to the ingested series and the SDK's alike. A series' value is its
 * base (what its ended or reset streams counted) plus its live streams' values.
 */
import type { HrTime } from '@opentelemetry/api';
import {
  AggregationTemporality,
  DataPointType,
  type DataPoint,
  type ExponentialHistogram,
  type Histogram,
  type MetricData,
  type ScopeMetrics,
} from '@opentelemetry/sdk-metrics';
import { addExponential, type ExponentialSum } from '../otlp/exponential.ts';
import { addHistogram, NO_SLOT, plus, type HistogramAcc, type Instrument, type ScopeSeries, type SeriesTable, type StreamTable } from './series-state.ts';

type Points = DataPoint<number>[] | DataPoint<Histogram>[] | DataPoint<ExponentialHistogram>[];

/** The series of `instruments` (their streams in `streams`) at `endTime`, one ScopeMetrics per scope. */
export function collectScopes(instruments: Iterable<Instrument>, streams: StreamTable, endTime: HrTime): ScopeMetrics[] {
  const scopes = new Map<string, ScopeMetrics>();
  const starts = new StartTimes();
  for (const instrument of instruments) {
    // Scope by scope in the order of their oldest series, as one map of every series would go.
    for (const [key, held] of scopesOf(instrument)) {
      const points: Points = [];
      for (const slot of held.slots.values()) addPoint(instrument, streams, slot, starts, endTime, points);
      if (points.length === 0) continue;
      let sm = scopes.get(key);
      if (sm === undefined) scopes.set(key, (sm = { scope: { ...held.scope }, metrics: [] }));
      sm.metrics.push(metricData(instrument, points));
    }
  }
  return [...scopes.values()];
}

/** `instrument`'s scopes (by key) in the order of their oldest series. */
function scopesOf(instrument: Instrument): Iterable<[string, ScopeSeries]> {
  const scopes = instrument.scopes;
  if (scopes.size <= 1) return scopes;
  const seq = instrument.series.seq;
  const oldest = (s: ScopeSeries): number => seq[s.slots.values().next().value!]!;
  return [...scopes].sort((a, b) => oldest(a[1]) - oldest(b[1]));
}

/**
 * The start times of one collection's points: series made by one request share theirs, and
 * neighbours in a collection are usually of one request, so a point reuses the last one made.
 */
class StartTimes {
  #last: HrTime = [Number.NaN, Number.NaN];

  of(table: SeriesTable, slot: number): HrTime {
    const seconds = table.startSeconds[slot]!;
    const nanos = table.startNanos[slot]!;
    if (seconds !== this.#last[0] || nanos !== this.#last[1]) this.#last = [seconds, nanos];
    return this.#last;
  }
}

function addPoint(instrument: Instrument, streams: StreamTable, slot: number, starts: StartTimes, endTime: HrTime, points: Points): void {
  const table = instrument.series;
  const attributes = table.attributes[slot]!;
  const startTime = starts.of(table, slot);
  if (instrument.shape === 'histogram') {
    (points as DataPoint<Histogram>[]).push({ startTime, endTime, attributes, value: histogramValue(table, streams, slot) });
  } else if (instrument.shape === 'exponentialHistogram') {
    (points as DataPoint<ExponentialHistogram>[]).push({ startTime, endTime, attributes, value: exponentialValue(table, streams, slot) });
  } else {
    (points as DataPoint<number>[]).push({ startTime, endTime, attributes, value: numberValue(table, streams, slot) });
  }
}

/** A series' base plus its streams' values, added in the order the streams were made. */
function numberValue(table: SeriesTable, streams: StreamTable, slot: number): number {
  let v = table.base[slot]!;
  for (let s = table.first[slot]!; s !== NO_SLOT; s = streams.next[s]!) v += streams.value[s]!;
  return v;
}

function histogramValue(table: SeriesTable, streams: StreamTable, slot: number): Histogram {
  let acc = table.baseAcc[slot] as HistogramAcc | undefined;
  for (let s = table.first[slot]!; s !== NO_SLOT; s = streams.next[s]!) {
    const h = streams.acc[s] as HistogramAcc | undefined;
    if (h !== undefined) acc = plus(acc, h, addHistogram);
  }
  const bounds = table.bounds[slot] ?? [];
  return {
    buckets: { boundaries: bounds.slice(), counts: acc?.counts.slice() ?? new Array<number>(bounds.length + 1).fill(0) },
    sum: acc?.sum ?? 0,
    count: acc?.count ?? 0,
  };
}

/** The sum of a series' exponential streams, as the SDK shapes it (its zero threshold is not carried). */
function exponentialValue(table: SeriesTable, streams: StreamTable, slot: number): ExponentialHistogram {
  let acc = table.baseAcc[slot] as ExponentialSum | undefined;
  for (let s = table.first[slot]!; s !== NO_SLOT; s = streams.next[s]!) {
    const e = streams.acc[s] as ExponentialSum | undefined;
    if (e !== undefined) acc = plus(acc, e, addExponential);
  }
  if (acc === undefined) return { count: 0, sum: 0, scale: 0, zeroCount: 0, positive: { offset: 0, bucketCounts: [] }, negative: { offset: 0, bucketCounts: [] } };
  return {
    count: acc.count,
    sum: acc.sum,
    scale: acc.scale,
    zeroCount: acc.zeroCount,
    positive: { offset: acc.positive.offset, bucketCounts: acc.positive.counts.slice() },
    negative: { offset: acc.negative.offset, bucketCounts: acc.negative.counts.slice() },
  };
}

function metricData(instrument: Instrument, points: Points): MetricData {
  const descriptor = instrument.descriptor;
  const aggregationTemporality = AggregationTemporality.CUMULATIVE;
  switch (instrument.shape) {
    case 'exponentialHistogram':
      return { descriptor, aggregationTemporality, dataPointType: DataPointType.EXPONENTIAL_HISTOGRAM, dataPoints: points as DataPoint<ExponentialHistogram>[] };
    case 'histogram':
      return { descriptor, aggregationTemporality, dataPointType: DataPointType.HISTOGRAM, dataPoints: points as DataPoint<Histogram>[] };
    case 'gauge':
      return { descriptor, aggregationTemporality, dataPointType: DataPointType.GAUGE, dataPoints: points as DataPoint<number>[] };
    default:
      return {
        descriptor,
        aggregationTemporality,
        dataPointType: DataPointType.SUM,
        dataPoints: points as DataPoint<number>[],
        isMonotonic: instrument.shape === 'monotonicSum',
      };
  }
}
