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
import { addExponential } from '../otlp/exponential.ts';
import { addHistogram, plus, type Instrument, type Series } from './series-state.ts';

type Points = DataPoint<number>[] | DataPoint<Histogram>[] | DataPoint<ExponentialHistogram>[];

/** The series of `instruments` at `endTime`, one ScopeMetrics per scope. */
export function collectScopes(instruments: Iterable<Instrument>, endTime: HrTime): ScopeMetrics[] {
  const scopes = new Map<string, ScopeMetrics>();
  for (const instrument of instruments) {
    // An instrument's series are nearly always of one scope: a map of scopes only past the first.
    let first: { readonly key: string; readonly points: Points } | undefined;
    let others: Map<string, Points> | undefined;
    for (const series of instrument.series.values()) {
      const key = series.scopeKey;
      let points: Points;
      if (first === undefined) first = { key, points: (points = []) };
      else if (key === first.key) points = first.points;
      else {
        others ??= new Map();
        const had = others.get(key);
        if (had === undefined) others.set(key, (points = []));
        else points = had;
      }
      if (points.length === 0 && !scopes.has(key)) scopes.set(key, { scope: { ...series.scope }, metrics: [] });
      addPoint(instrument, series, endTime, points);
    }
    if (first !== undefined) scopes.get(first.key)!.metrics.push(metricData(instrument, first.points));
    if (others !== undefined) for (const [key, points] of others) scopes.get(key)!.metrics.push(metricData(instrument, points));
  }
  return [...scopes.values()];
}

function addPoint(instrument: Instrument, series: Series, endTime: HrTime, points: Points): void {
  const attributes = series.attributes;
  const startTime = series.startTime;
  if (instrument.shape === 'histogram') {
    (points as DataPoint<Histogram>[]).push({ startTime, endTime, attributes, value: histogramValue(series) });
  } else if (instrument.shape === 'exponentialHistogram') {
    (points as DataPoint<ExponentialHistogram>[]).push({ startTime, endTime, attributes, value: exponentialValue(series) });
  } else {
    (points as DataPoint<number>[]).push({ startTime, endTime, attributes, value: numberValue(series) });
  }
}

function numberValue(series: Series): number {
  let v = series.base;
  for (const s of series.streams) v += s.value;
  return v;
}

function histogramValue(series: Series): Histogram {
  let acc = series.baseHist;
  for (const s of series.streams) if (s.hist !== undefined) acc = plus(acc, s.hist, addHistogram);
  const bounds = series.bounds ?? [];
  return {
    buckets: { boundaries: bounds.slice(), counts: acc?.counts.slice() ?? new Array<number>(bounds.length + 1).fill(0) },
    sum: acc?.sum ?? 0,
    count: acc?.count ?? 0,
  };
}

/** The sum of a series' exponential streams, as the SDK shapes it (its zero threshold is not carried). */
function exponentialValue(series: Series): ExponentialHistogram {
  let acc = series.baseExp;
  for (const s of series.streams) if (s.exp !== undefined) acc = plus(acc, s.exp, addExponential);
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
