/**
 * The state the ingest store keeps. A source series (a *stream*) is one (resource, scope,
 * instrument, attribute set) as sent; the streams whose attributes bound to the same set under one
 * scope feed one output series, added up — what the SDK does with the measurements of an embedded
 * host. Cumulative re-aggregation needs the per-stream state, so the number of streams is what the
 * caps bound.
 */
import type { Attributes, HrTime } from '@opentelemetry/api';
import type { MetricDescriptor } from '@opentelemetry/sdk-metrics';
import type { InstrumentKind, InstrumentSpec } from '../domain/types.ts';
import type { VocabularyCheck } from '../domain/vocabulary.ts';
import type { ExponentialSum } from '../otlp/exponential.ts';
import type { ExposedKind } from './name-claims.ts';

/** The five output shapes: what the naming stage sees. */
export type Shape = 'monotonicSum' | 'sum' | 'gauge' | 'histogram' | 'exponentialHistogram';

export const SHAPE_OF_KIND: Readonly<Record<InstrumentKind, Shape>> = {
  counter: 'monotonicSum',
  observableCounter: 'monotonicSum',
  upDownCounter: 'sum',
  observableUpDownCounter: 'sum',
  gauge: 'gauge',
  observableGauge: 'gauge',
  histogram: 'histogram',
};

export const EXPOSED_KIND: Readonly<Record<Shape, ExposedKind>> = {
  monotonicSum: 'counter',
  sum: 'gauge',
  gauge: 'gauge',
  histogram: 'histogram',
  exponentialHistogram: 'histogram',
};

export interface Scope {
  readonly name: string;
  readonly version: string;
}

export interface HistogramAcc {
  counts: number[];
  sum: number;
  count: number;
}

export interface Instrument {
  readonly name: string;
  readonly shape: Shape;
  readonly descriptor: MetricDescriptor;
  readonly spec: InstrumentSpec | undefined;
  readonly fold: (attributes: Attributes) => Attributes;
  /** Canonical instruments: the value of a point's attributes outside a closed set that drops. */
  readonly closed: VocabularyCheck | undefined;
  /** Source series it may hold. */
  readonly streamCap: number;
  /** Output series by scope key + bounded attribute key. */
  readonly series: Map<string, Series>;
  /** Output series held under each scope key: a scope is charged (memory-estimate.ts `scopeBytes`) with its first and given back with its last. */
  readonly scopes: Map<string, number>;
  streamCount: number;
  /** Its charge against the memory budget. */
  readonly bytes: number;
  /** The exposed names it holds (name-claims.ts), released with it. */
  readonly names: readonly string[];
}

export interface Series {
  readonly instrument: Instrument;
  /** Its key in `instrument.series`. */
  readonly key: string;
  readonly scopeKey: string;
  readonly scope: Scope;
  /** Frozen and reused for every collection: the naming stage caches label strings by identity. */
  readonly attributes: Attributes;
  readonly startTime: HrTime;
  /** Monotonic sums: what reset or expired streams had counted. */
  base: number;
  baseHist: HistogramAcc | undefined;
  /** Exponential histograms: what reset or expired streams had counted. */
  baseExp: ExponentialSum | undefined;
  /** Histograms: the bucket boundaries every stream of the series must share. */
  bounds: readonly number[] | undefined;
  readonly streams: Set<Stream>;
  /** Its charge against the memory budget. */
  readonly bytes: number;
}

/**
 * The streams of one instrument sent under one resource and scope, by their attributes' key: a
 * point's stream is found with one short key (its attributes') in the group its metric found once.
 */
export interface StreamGroup {
  /** Its key in the registry: the instrument's name and the arrival's origin. */
  readonly key: string;
  readonly streams: Map<string, Stream>;
}

export interface Stream {
  /** Its key in `group.streams`: its attributes' key (input-bounds.ts `attributesKey`). */
  readonly key: string;
  readonly group: StreamGroup;
  readonly series: Series;
  start: bigint;
  /** Time of the last point applied; 0n before the first. */
  time: bigint;
  points: number;
  value: number;
  hist: HistogramAcc | undefined;
  exp: ExponentialSum | undefined;
  updatedAt: number;
  /** Its charge against the memory budget. */
  readonly bytes: number;
}

/** `b` added to `a`, or `b` when there is no `a` yet. */
export function plus<T>(a: T | undefined, b: T, add: (a: T, b: T) => T): T {
  return a === undefined ? b : add(a, b);
}

export function addHistogram(a: HistogramAcc, b: HistogramAcc): HistogramAcc {
  return { counts: a.counts.map((c, i) => c + (b.counts[i] ?? 0)), sum: a.sum + b.sum, count: a.count + b.count };
}
