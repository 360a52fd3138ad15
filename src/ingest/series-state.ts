/**
 * The state the ingest store keeps. A source series (a *stream*) is one (resource, scope,
 * instrument, attribute set) as sent; the streams whose attributes bound to the same set under one
 * scope feed one output series, added up — what the SDK does with the measurements of an embedded
 * host. Cumulative re-aggregation needs the per-stream state, so the number of streams is what the
 * caps bound.
 *
 * Streams and series are slots in typed columns (slot-table.ts), not an object each: a store
 * holds hundreds of thousands of them, and an object, its hidden class slots and its boxed numbers
 * cost several times the figures they hold. A slot is reused once freed; the maps that find slots
 * keep the order series were made in, which is the order a collection serves them in.
 */
import type { Attributes, HrTime } from '@opentelemetry/api';
import type { MetricDescriptor } from '@opentelemetry/sdk-metrics';
import type { InstrumentKind, InstrumentSpec } from '../domain/types.ts';
import type { VocabularyCheck } from '../domain/vocabulary.ts';
import type { ExponentialSum } from '../otlp/exponential.ts';
import { SlotTable } from './slot-table.ts';
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

/** A histogram's or exponential histogram's counts (the instrument's shape says which). */
export type Acc = HistogramAcc | ExponentialSum;

/** An instrument's output series under one scope, by their bounded attributes' key (slots of its {@link SeriesTable}). */
export interface ScopeSeries {
  readonly scope: Scope;
  readonly slots: Map<string, number>;
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
  /**
   * Output series by scope key, then by bounded attribute key. A scope is charged
   * (memory-estimate.ts `scopeBytes`) with its first series and given back with its last.
   */
  readonly scopes: Map<string, ScopeSeries>;
  readonly series: SeriesTable;
  streamCount: number;
  /** Its charge against the memory budget. */
  readonly bytes: number;
  /** The exposed names it holds (name-claims.ts), released with it. */
  readonly names: readonly string[];
}

/** No slot (an empty list of streams). */
export const NO_SLOT = -1;

/**
 * An instrument's output series. A series' value is its base (what its reset or ended streams
 * counted) plus its live streams', kept in a list in the order they were made (`first`, then the
 * stream table's `next`), so a collection adds them up in that order.
 */
export class SeriesTable extends SlotTable {
  key: string[] = [];
  scopeKey: string[] = [];
  /** Frozen and reused for every collection: the naming stage caches label strings by identity. */
  attributes: Attributes[] = [];
  /** Histograms: the bucket boundaries every stream of the series must share. */
  bounds: (readonly number[] | undefined)[] = [];
  /** Histograms of either kind: what reset or ended streams had counted. */
  baseAcc: (Acc | undefined)[] = [];
  /** Sums and gauges: what reset or ended streams had counted. */
  base = new Float64Array(0);
  /** The start time (an HrTime's two parts). */
  startSeconds = new Float64Array(0);
  startNanos = new Float64Array(0);
  /** When it was made, in the order of the store: a collection serves scopes in the order of their oldest series. */
  seq = new Float64Array(0);
  /** Its charge against the memory budget. */
  bytes = new Float64Array(0);
  first = new Int32Array(0);
  last = new Int32Array(0);
  streams = new Int32Array(0);

  protected zero(slot: number): void {
    this.base[slot] = this.startSeconds[slot] = this.startNanos[slot] = this.seq[slot] = this.bytes[slot] = this.streams[slot] = 0;
    this.first[slot] = this.last[slot] = NO_SLOT;
  }

  protected clear(slot: number): void {
    this.key[slot] = this.scopeKey[slot] = '';
    this.attributes[slot] = EMPTY_ATTRIBUTES;
    this.bounds[slot] = this.baseAcc[slot] = undefined;
  }
}

/**
 * The streams of one instrument sent under one resource and scope, by their attributes' key: a
 * point's stream is found with one short key (its attributes') in the group its metric found once.
 */
export interface StreamGroup {
  /** Its key in the registry: the instrument's name and the arrival's origin. */
  readonly key: string;
  readonly instrument: Instrument;
  /** Stream slots by attributes key (input-bounds.ts `attributesKey`). */
  readonly streams: Map<string, number>;
}

/** Every source series the store holds. */
export class StreamTable extends SlotTable {
  /** Its key in `group.streams`. */
  key: string[] = [];
  group: (StreamGroup | undefined)[] = [];
  /** Histograms of either kind: its counts (replaced, never changed in place). */
  acc: (Acc | undefined)[] = [];
  /** Its series' slot in its instrument's table, and its neighbours in that series' list. */
  series = new Int32Array(0);
  prev = new Int32Array(0);
  next = new Int32Array(0);
  start = new BigInt64Array(0);
  /** Time of the last point applied; 0n before the first. */
  time = new BigInt64Array(0);
  points = new Float64Array(0);
  value = new Float64Array(0);
  updatedAt = new Float64Array(0);
  /** Its charge against the memory budget. */
  bytes = new Float64Array(0);

  protected zero(slot: number): void {
    this.series[slot] = this.prev[slot] = this.next[slot] = NO_SLOT;
    this.start[slot] = this.time[slot] = 0n;
    this.points[slot] = this.value[slot] = this.updatedAt[slot] = this.bytes[slot] = 0;
  }

  protected clear(slot: number): void {
    this.key[slot] = '';
    this.group[slot] = this.acc[slot] = undefined;
  }
}

const EMPTY_ATTRIBUTES: Attributes = Object.freeze({});

/** `b` added to `a`, or `b` when there is no `a` yet. */
export function plus<T>(a: T | undefined, b: T, add: (a: T, b: T) => T): T {
  return a === undefined ? b : add(a, b);
}

export function addHistogram(a: HistogramAcc, b: HistogramAcc): HistogramAcc {
  return { counts: a.counts.map((c, i) => c + (b.counts[i] ?? 0)), sum: a.sum + b.sum, count: a.count + b.count };
}
