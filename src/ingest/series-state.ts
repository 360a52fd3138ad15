/**
 * The state the ingest store keeps. A source series (a *stream*) is one (resource, scope,
 * instrument, attribute set) as sent; the streams whose attributes bound to the same set under one
 * scope feed one output series, added up — what the SDK does with the measurements of an embedded
 * host. Cumulative re-aggregation needs the per-stream state, so the number of streams is what the
 * caps bound.
 *
 * Streams are slots in typed columns (slot-table.ts), not an object each: a store holds hundreds
 * of thousands of them, and an object, its hidden class slots and its boxed numbers cost several
 * times the figures they hold. A slot is reused once freed. The output series are sets of the
 * series layer (output-series.ts), which keep the order series were made in, the order a
 * collection serves them in.
 */
import type { Attributes } from '@opentelemetry/api';
import type { MetricDescriptor } from '@opentelemetry/sdk-metrics';
import type { InstrumentKind, InstrumentSpec } from '../domain/types.ts';
import type { VocabularyCheck } from '../domain/vocabulary.ts';
import type { ExposedKind } from './name-claims.ts';
import { NO_SLOT, type Acc, type OutputSet, type Shape } from './output-series.ts';
export {
  addHistogram,
  NO_SLOT,
  plus,
  type Acc,
  type HistogramAcc,
  type Shape,
} from './output-series.ts';
import { SlotTable } from './slot-table.ts';

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

/**
 * An instrument's output series under one scope: one set (output-series.ts), or one per bucket
 * layout of an explicit-bucket histogram whose senders differ.
 */
export interface ScopeSeries {
  readonly scope: Scope;
  readonly sets: OutputSet[];
  /** Series held across its sets. */
  live: number;
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
   * Output series by scope key. A scope is charged (memory-estimate.ts `scopeBytes`) with its
   * first series and given back with its last.
   */
  readonly scopes: Map<string, ScopeSeries>;
  /** Output series held across its scopes. */
  seriesCount: number;
  streamCount: number;
  /** Its charge against the memory budget. */
  readonly bytes: number;
  /** The exposed names it holds (name-claims.ts), released with it. */
  readonly names: readonly string[];
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
  /** Its series' set and position in it, and its neighbours in that series' list. */
  out: (OutputSet | undefined)[] = [];
  series = new Int32Array(0);
  prev = new Int32Array(0);
  next = new Int32Array(0);
  start = new BigInt64Array(0);
  /** Time of the last point applied (the latest time seen); 0n before the first. */
  time = new BigInt64Array(0);
  /**
   * Delta streams: where the windows counted begin (the earliest counted window's start; 0n: as
   * far back as anything may be, a stream restored from a state without windows). With `time` and
   * `gaps` it tells a retried window from a late one (stream-rules.ts `placeWindow`).
   */
  from = new BigInt64Array(0);
  /**
   * Delta streams: the spans between `from` and `time` no window was counted in, oldest first, as
   * pairs (after, upTo] — undefined when there are none (the steady state). At most
   * stream-rules.ts `MAX_GAPS` pairs.
   */
  gaps: (bigint[] | undefined)[] = [];
  points = new Float64Array(0);
  value = new Float64Array(0);
  /** The monotonic clock at its last point (series/clock.ts): its expiry counts from it. */
  updatedAt = new Float64Array(0);
  /** Its charge against the memory budget. */
  bytes = new Float64Array(0);
  /**
   * The stream the next point of the same metric went to after this one's, last time: a sender
   * sends its points in the same order export after export, so it is the first guess for where a
   * point goes (checked: any slot, even a freed one, may be here).
   */
  after = new Int32Array(0);

  protected zero(slot: number): void {
    this.series[slot] = this.prev[slot] = this.next[slot] = this.after[slot] = NO_SLOT;
    this.start[slot] = this.time[slot] = this.from[slot] = 0n;
    this.points[slot] = this.value[slot] = this.updatedAt[slot] = this.bytes[slot] = 0;
  }

  protected clear(slot: number): void {
    this.key[slot] = '';
    this.group[slot] = this.acc[slot] = this.out[slot] = this.gaps[slot] = undefined;
  }
}
