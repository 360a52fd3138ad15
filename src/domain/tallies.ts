/**
 * Local tallies: the domain's synchronous instruments (counters, up-down counters, histograms,
 * gauges) recorded into plain arrays, and read by the SDK's readers through a `MetricProducer`.
 *
 * Why not the SDK's own synchronous instruments: a record through them builds no less than a
 * processed attributes object, a sorted-JSON hash of it and an accumulation lookup, every time
 * (≈ 1 µs, 3× prom-client's `inc(labels)`), and each collection copies every series again. Here a
 * record is a few `Map` lookups and an array add, and the data still reaches every reader in the
 * SDK's own shapes, so the naming stage, both readers and OTLP see it as they saw the SDK's.
 *
 * How a record finds its series. Each instrument keeps nested maps keyed by the *raw* attribute
 * values in the declared attribute order (no key sorting, no JSON, no string building: one
 * `Map#get` per declared attribute, on strings V8 has already hashed), ending in the series'
 * index. The instrument's bounds — allow-list, closed vocabulary or cap folding into `other`,
 * values cut at 256 characters (`MAX_VALUE_LENGTH`), at most {@link MAX_SERIES_PER_INSTRUMENT} series then
 * one overflow series — are the views' own folds (bounded-attributes.ts), applied once, the first
 * time a raw set is seen; raw sets that fold onto one attribute set share its series. Folding is
 * deterministic once a value has been seen (a capped vocabulary only grows, up to its cap), so
 * remembering the result is the same as folding on every record, as the SDK's views do.
 *
 * Memory is bounded whatever the churn: the maps hold the folded sets (one per series, bounded
 * by the caps) plus at most {@link RAW_KEYS_PER_INSTRUMENT} entries for raw sets that differ from
 * their folded set (values folded into `other`, numbers, cut values). Past that, such sets are
 * folded on every record without being remembered (slower, ≈ the SDK's cost, but flat memory).
 * Values that are not primitives (arrays) are never remembered: a map would key them by identity.
 *
 * Differences from the SDK's synchronous instruments, all at the edges:
 * - the series ceiling counts series for the life of the instrument; the SDK counts attribute
 *   sets per collection interval, so over many intervals its cumulative state can exceed it;
 * - cumulative points start at the store's creation, not at the series' first record (both are
 *   valid OTLP start times: nothing was counted before either);
 * - with delta temporality a series is exported when its value changed since the last export
 *   (the SDK exports every set recorded in the interval, even if the records added up to 0).
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { ValueType, type Attributes, type Context, type HrTime } from '@opentelemetry/api';
import { millisToHrTime, type InstrumentationScope } from '@opentelemetry/core';
import { emptyResource } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  DataPointType,
  InstrumentType,
  type CollectionResult,
  type DataPoint,
  type GaugeMetricData,
  type Histogram,
  type HistogramMetricData,
  type MetricData,
  type MetricDescriptor,
  type MetricProducer,
  type SumMetricData,
} from '@opentelemetry/sdk-metrics';
import {
  attributesTemplate,
  createFold,
  MAX_SERIES_PER_INSTRUMENT,
  maxAttributeSets,
  OVERFLOW_ATTRIBUTES,
  toLabelString,
  type Fold,
  BOUNDED,
} from './bounded-attributes.ts';
import { exemplarOf, type Exemplar } from './exemplars.ts';
import { invalidValue, isRecordable, RecordGuard } from './record-guard.ts';
import { OTHER, type InstrumentKind, type InstrumentSpec } from './types.ts';

/** Raw attribute sets remembered per instrument beyond the folded ones (see the file comment). */
export const RAW_KEYS_PER_INSTRUMENT = 1024;

/**
 * A declared counter or up-down counter. A value that is not a finite number (or, for a counter,
 * is negative) is not recorded: a `diag` warning and a count in `jobmeter.records.dropped`.
 */
export interface DeclaredCounter {
  /** `context`: where a trace-linked exemplar comes from (domain/exemplars.ts). @default the active context */
  add(value: number, attributes?: Attributes, context?: Context): void;
  /** The series of `attributes`, resolved once: `add` is then one array write. */
  bind(attributes?: Attributes): BoundCounter;
}
export interface BoundCounter {
  add(value: number): void;
}

/** A declared histogram. Negative values, NaN, infinities and non-numbers are dropped (warned and counted). */
export interface DeclaredHistogram {
  record(value: number, attributes?: Attributes, context?: Context): void;
  bind(attributes?: Attributes): BoundHistogram;
}
export interface BoundHistogram {
  record(value: number): void;
}

/** A declared synchronous gauge: the last value recorded per attribute set (NaN, infinities and non-numbers dropped). */
export interface DeclaredGauge {
  record(value: number, attributes?: Attributes): void;
  bind(attributes?: Attributes): BoundGauge;
}
export interface BoundGauge {
  record(value: number): void;
}

/** The synchronous kinds a tally records; observable kinds stay with the SDK (recorder.ts). */
export const TALLY_KINDS: ReadonlySet<InstrumentKind> = new Set(['counter', 'upDownCounter', 'histogram', 'gauge']);

const INSTRUMENT_TYPE: Readonly<Record<string, InstrumentType>> = {
  counter: InstrumentType.COUNTER,
  upDownCounter: InstrumentType.UP_DOWN_COUNTER,
  histogram: InstrumentType.HISTOGRAM,
  gauge: InstrumentType.GAUGE,
};

const EMPTY: Attributes = Object.freeze({});

/** Nested maps: raw (or folded) value of attribute k → the next level, or at the last level the series index. */
type Node = Map<unknown, Node | number>;

/** What a producer remembers of one tally between two delta exports. */
interface DeltaState {
  values: number[];
  sums: number[];
  counts: number[];
}

/**
 * A tally's figures at one instant: copies of its arrays (a plain copy of packed numbers, ≈ 1 ms
 * for 100 000 series), so that the points can be built over several turns of the event loop and
 * still describe one instant, across instruments too (a run's `started` and `finished`).
 */
interface Snapshot {
  /** Series held at the instant (the first `n` attributes objects). */
  readonly n: number;
  /** Sums and gauges: the values; histograms: the bucket counts, `stride` per series. */
  readonly values: readonly number[];
  /** Histograms only: sums and counts per series. */
  readonly sums: readonly number[];
  readonly counts: readonly number[];
  /** Instruments that keep exemplars: the latest per series (sums) or per bucket (histograms). */
  readonly exemplars?: readonly (Exemplar | undefined)[];
}

const NONE: readonly number[] = [];

/**
 * `metric` with `dataPoints`: made now, or (`onRead`) made anew at every read of the property, by
 * a getter (see {@link ProducerOptions.pointsOnRead}).
 */
function withPoints<M extends MetricData>(metric: Omit<M, 'dataPoints'>, points: () => M['dataPoints'], onRead: boolean): M {
  if (!onRead) return { ...metric, dataPoints: points() } as M;
  return Object.defineProperty(metric, 'dataPoints', { get: points, enumerable: true }) as M;
}

/** The series store of one instrument: attribute sets → series indexes, plus the bounds. */
abstract class Tally {
  readonly [BOUNDED] = true;
  readonly spec: InstrumentSpec;
  readonly descriptor: MetricDescriptor;
  /** Folded attributes of each series, by index. Series never move or go away, so each object is stable. */
  readonly attributes: Attributes[] = [];
  /** The index of the series `attributes` records into (created on first sight). */
  readonly seriesOf: (attributes: Attributes | undefined) => number;
  /** Where bad records and records after shutdown are reported. */
  readonly guard: RecordGuard;

  readonly #keys: readonly string[];
  readonly #folds: readonly Fold[];
  readonly #template: Attributes;
  readonly #root: Node = new Map();
  readonly #limit: number;
  /** The cap of a single capped attribute, enforced on the series map itself (no second set); -1 otherwise. */
  readonly #soleCap: number;
  #admitted = 0;
  #rawEntries = 0;
  #overflow = -1;
  #only = -1;

  constructor(spec: InstrumentSpec, guard: RecordGuard) {
    this.spec = spec;
    this.guard = guard;
    this.descriptor = {
      name: spec.name,
      description: spec.description,
      unit: spec.unit,
      valueType: ValueType.DOUBLE,
      // Not in the MetricDescriptor type, but on every descriptor the SDK produces.
      type: INSTRUMENT_TYPE[spec.kind],
      advice: {},
    } as MetricDescriptor;
    const keys = spec.attributes.map((a) => a.key);
    this.#keys = keys;
    this.#limit = Math.min(maxAttributeSets(spec.attributes), MAX_SERIES_PER_INSTRUMENT);
    const sole = spec.attributes.length === 1 ? spec.attributes[0]! : undefined;
    this.#soleCap = sole?.values === undefined && sole?.cap !== undefined && sole.cap < this.#limit ? sole.cap : -1;
    this.#folds = this.#soleCap >= 0 ? [] : spec.attributes.map(createFold);
    this.#template = attributesTemplate(keys);

    // One lookup function per arity, so the common sizes are straight-line code.
    const root = this.#root;
    const [k0, k1, k2, k3] = keys as [string, string, string, string];
    switch (keys.length) {
      case 0:
        this.seriesOf = () => (this.#only >= 0 ? this.#only : this.#resolve(EMPTY));
        break;
      case 1:
        this.seriesOf = (a = EMPTY) => (root.get(a[k0]) as number | undefined) ?? this.#resolve(a);
        break;
      case 2:
        this.seriesOf = (a = EMPTY) => ((root.get(a[k0]) as Node | undefined)?.get(a[k1]) as number | undefined) ?? this.#resolve(a);
        break;
      case 3:
        this.seriesOf = (a = EMPTY) =>
          (((root.get(a[k0]) as Node | undefined)?.get(a[k1]) as Node | undefined)?.get(a[k2]) as number | undefined) ?? this.#resolve(a);
        break;
      case 4:
        this.seriesOf = (a = EMPTY) =>
          ((((root.get(a[k0]) as Node | undefined)?.get(a[k1]) as Node | undefined)?.get(a[k2]) as Node | undefined)?.get(a[k3]) as
            | number
            | undefined) ?? this.#resolve(a);
        break;
      default:
        this.seriesOf = (a = EMPTY) => {
          let node: Node | number | undefined = root;
          for (let i = 0; i < keys.length && node !== undefined; i++) node = (node as Node).get(a[keys[i]!]);
          return (node as number | undefined) ?? this.#resolve(a);
        };
    }
  }

  /** Series held (the overflow series included). */
  get size(): number {
    return this.attributes.length;
  }

  /** Adds the storage of one more series. */
  protected abstract grow(): void;

  /** Reports a record refused by the fast check (`nonNegative` as given to it). */
  reject(value: unknown, nonNegative: boolean): void {
    this.guard.drop(this.spec.name, invalidValue(value, nonNegative) ?? 'not_a_number', value);
  }

  /** The slow path: folds a set not seen before (or not remembered), finds or creates its series. */
  #resolve(a: Attributes): number {
    const keys = this.#keys;
    const n = keys.length;
    if (n === 0) {
      if (this.#only < 0) this.#only = this.#newSeries({});
      return this.#only;
    }
    const raw: unknown[] = new Array<unknown>(n);
    const folded: (string | undefined)[] = new Array<string | undefined>(n);
    let rememberable = true;
    let same = true;
    for (let i = 0; i < n; i++) {
      const v = a[keys[i]!];
      raw[i] = v;
      if (v === undefined || v === null) {
        folded[i] = undefined;
        if (v === null) same = false;
        continue;
      }
      if (typeof v === 'object') rememberable = false;
      const f = this.#fold(i, toLabelString(v));
      folded[i] = f;
      if (f !== v) same = false;
    }
    let index = this.#find(folded);
    let overflowed = false;
    if (index === undefined) {
      if (this.attributes.length - (this.#overflow < 0 ? 0 : 1) >= this.#limit) {
        index = this.#overflowSeries();
        overflowed = true;
      } else {
        index = this.#newSeries(this.#attributesOf(folded));
        this.#insert(folded, index, false);
      }
    }
    if ((overflowed || !same) && rememberable && this.#rawEntries < RAW_KEYS_PER_INSTRUMENT) this.#insert(raw, index, true);
    return index;
  }

  #fold(i: number, value: string): string {
    if (this.#soleCap < 0) return this.#folds[i]!(value);
    // A single capped attribute: the admitted values are exactly the series' own values.
    const at = this.#root.get(value) as number | undefined;
    if (at !== undefined && this.attributes[at]![this.#keys[0]!] === value) return value;
    if (this.#admitted >= this.#soleCap) return OTHER;
    this.#admitted++;
    return value;
  }

  #find(path: readonly unknown[]): number | undefined {
    let node: Node | number | undefined = this.#root;
    for (let i = 0; i < path.length && node !== undefined; i++) node = (node as Node).get(path[i]);
    return node as number | undefined;
  }

  /** Adds `path` → `index`; entries of raw paths count against the raw budget. */
  #insert(path: readonly unknown[], index: number, raw: boolean): void {
    let node = this.#root;
    const last = path.length - 1;
    for (let i = 0; i < last; i++) {
      let next = node.get(path[i]) as Node | undefined;
      if (next === undefined) {
        next = new Map();
        node.set(path[i], next);
        if (raw) this.#rawEntries++;
      }
      node = next;
    }
    if (!node.has(path[last])) {
      node.set(path[last], index);
      if (raw) this.#rawEntries++;
    }
  }

  #attributesOf(folded: readonly (string | undefined)[]): Attributes {
    const keys = this.#keys;
    const complete = !folded.includes(undefined);
    const out: Attributes = complete ? { ...this.#template } : {};
    for (let i = 0; i < keys.length; i++) if (folded[i] !== undefined) out[keys[i]!] = folded[i];
    return out;
  }

  #newSeries(attributes: Attributes): number {
    this.attributes.push(attributes);
    this.grow();
    return this.attributes.length - 1;
  }

  #overflowSeries(): number {
    if (this.#overflow < 0) this.#overflow = this.#newSeries(OVERFLOW_ATTRIBUTES);
    return this.#overflow;
  }

  /** The figures now. */
  abstract snapshot(): Snapshot;
  /**
   * The cumulative MetricData of a snapshot, or undefined when it holds no series. With `onRead`,
   * its points are made at every read of `dataPoints` instead of now.
   */
  abstract cumulative(snap: Snapshot, startTime: HrTime, endTime: HrTime, temporality: AggregationTemporality, onRead?: boolean): MetricData | undefined;
  /** What changed from `state` (updated in place) to `snap`; undefined when nothing did. */
  abstract delta(snap: Snapshot, state: DeltaState, startTime: HrTime, endTime: HrTime): MetricData | undefined;
}

/** The points of a sum or gauge snapshot. */
function numberPoints(attributes: readonly Attributes[], snap: Snapshot, startTime: HrTime, endTime: HrTime): DataPoint<number>[] {
  const n = snap.n;
  const values = snap.values;
  const points = new Array<DataPoint<number>>(n);
  for (let i = 0; i < n; i++) points[i] = { attributes: attributes[i]!, startTime, endTime, value: values[i]! };
  const exemplars = snap.exemplars;
  if (exemplars !== undefined) {
    for (let i = 0; i < n; i++) {
      const e = exemplars[i];
      if (e !== undefined) (points[i] as DataPoint<number> & { exemplars?: readonly Exemplar[] }).exemplars = [e];
    }
  }
  return points;
}

class SumTally extends Tally implements DeclaredCounter {
  readonly monotonic: boolean;
  readonly values: number[] = [];
  /** The latest exemplar per series; undefined when the spec keeps none. */
  readonly exemplars: (Exemplar | undefined)[] | undefined;

  constructor(spec: InstrumentSpec, guard: RecordGuard) {
    super(spec, guard);
    this.monotonic = spec.kind === 'counter';
    this.exemplars = spec.exemplars === true ? [] : undefined;
  }

  protected grow(): void {
    this.values.push(0);
  }

  add(value: number, attributes?: Attributes, context?: Context): void {
    if (!isRecordable(value, this.monotonic) || this.guard.closed) return this.reject(value, this.monotonic);
    if (this.exemplars === undefined) {
      this.values[this.seriesOf(attributes)]! += value;
      return;
    }
    const at = this.seriesOf(attributes);
    this.values[at]! += value;
    const e = exemplarOf(value, context);
    if (e !== undefined) this.exemplars[at] = e;
  }

  bind(attributes?: Attributes): BoundCounter {
    const at = this.seriesOf(attributes);
    const values = this.values;
    const monotonic = this.monotonic;
    const guard = this.guard;
    const exemplars = this.exemplars;
    return {
      add: (value: number): void => {
        if (!isRecordable(value, monotonic) || guard.closed) return this.reject(value, monotonic);
        values[at]! += value;
        if (exemplars === undefined) return;
        const e = exemplarOf(value, undefined);
        if (e !== undefined) exemplars[at] = e;
      },
    };
  }

  snapshot(): Snapshot {
    const snap = { n: this.values.length, values: this.values.slice(), sums: NONE, counts: NONE };
    return this.exemplars === undefined ? snap : { ...snap, exemplars: this.exemplars.slice() };
  }

  cumulative(snap: Snapshot, startTime: HrTime, endTime: HrTime, temporality: AggregationTemporality, onRead = false): MetricData | undefined {
    if (snap.n === 0) return undefined;
    return withPoints<SumMetricData>(
      { descriptor: this.descriptor, aggregationTemporality: temporality, dataPointType: DataPointType.SUM, isMonotonic: this.monotonic },
      () => numberPoints(this.attributes, snap, startTime, endTime),
      onRead,
    );
  }

  delta(snap: Snapshot, state: DeltaState, startTime: HrTime, endTime: HrTime): MetricData | undefined {
    const points: DataPoint<number>[] = [];
    const prev = state.values;
    for (let i = 0; i < snap.n; i++) {
      const v = snap.values[i]!;
      const p = prev[i] ?? 0;
      if (v === p) continue;
      prev[i] = v;
      const e = snap.exemplars?.[i];
      points.push({ attributes: this.attributes[i]!, startTime, endTime, value: v - p, ...(e !== undefined && { exemplars: [e] }) } as DataPoint<number>);
    }
    if (points.length === 0) return undefined;
    return { descriptor: this.descriptor, aggregationTemporality: AggregationTemporality.DELTA, dataPointType: DataPointType.SUM, dataPoints: points, isMonotonic: this.monotonic };
  }
}

class GaugeTally extends Tally implements DeclaredGauge {
  readonly values: number[] = [];

  protected grow(): void {
    this.values.push(0);
  }

  record(value: number, attributes?: Attributes): void {
    if (!isRecordable(value, false) || this.guard.closed) return this.reject(value, false);
    this.values[this.seriesOf(attributes)] = value;
  }

  bind(attributes?: Attributes): BoundGauge {
    const at = this.seriesOf(attributes);
    const values = this.values;
    const guard = this.guard;
    return {
      record: (value: number): void => {
        if (!isRecordable(value, false) || guard.closed) return this.reject(value, false);
        values[at] = value;
      },
    };
  }

  snapshot(): Snapshot {
    return { n: this.values.length, values: this.values.slice(), sums: NONE, counts: NONE };
  }

  cumulative(snap: Snapshot, startTime: HrTime, endTime: HrTime, temporality: AggregationTemporality, onRead = false): MetricData | undefined {
    if (snap.n === 0) return undefined;
    return withPoints<GaugeMetricData>(
      { descriptor: this.descriptor, aggregationTemporality: temporality, dataPointType: DataPointType.GAUGE },
      () => numberPoints(this.attributes, snap, startTime, endTime),
      onRead,
    );
  }

  /** A gauge is a level, not an amount: every series, with its last value. */
  delta(snap: Snapshot, _state: DeltaState, startTime: HrTime, endTime: HrTime): MetricData | undefined {
    return this.cumulative(snap, startTime, endTime, AggregationTemporality.DELTA);
  }
}

class HistogramTally extends Tally implements DeclaredHistogram {
  readonly bounds: readonly number[];
  /** Buckets per series: the bounds' and the +Inf one. */
  readonly stride: number;
  /** Per-bucket counts, `stride` per series. */
  readonly buckets: number[] = [];
  readonly sums: number[] = [];
  readonly counts: number[] = [];
  /** The latest exemplar per bucket, `stride` per series; undefined when the spec keeps none. */
  readonly exemplars: (Exemplar | undefined)[] | undefined;

  constructor(spec: InstrumentSpec, guard: RecordGuard) {
    super(spec, guard);
    this.bounds = [...(spec.buckets ?? [])];
    this.stride = this.bounds.length + 1;
    this.exemplars = spec.exemplars === true ? [] : undefined;
  }

  protected grow(): void {
    for (let k = 0; k < this.stride; k++) this.buckets.push(0);
    this.sums.push(0);
    this.counts.push(0);
  }

  record(value: number, attributes?: Attributes, context?: Context): void {
    if (!isRecordable(value, true) || this.guard.closed) return this.reject(value, true);
    const bucket = this.observe(this.seriesOf(attributes), value);
    if (this.exemplars === undefined) return;
    const e = exemplarOf(value, context);
    if (e !== undefined) this.exemplars[bucket] = e;
  }

  bind(attributes?: Attributes): BoundHistogram {
    const at = this.seriesOf(attributes);
    const guard = this.guard;
    return {
      record: (value: number): void => {
        if (!isRecordable(value, true) || guard.closed) return this.reject(value, true);
        const bucket = this.observe(at, value);
        if (this.exemplars === undefined) return;
        const e = exemplarOf(value, undefined);
        if (e !== undefined) this.exemplars[bucket] = e;
      },
    };
  }

  /**
   * Counts `value` (a number ≥ 0) into series `at`: the bucket is the first bound ≥ value (le
   * semantics). Returns the bucket's index in {@link buckets}.
   */
  observe(at: number, value: number): number {
    const bounds = this.bounds;
    let lo = 0;
    let hi = bounds.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (bounds[mid]! < value) lo = mid + 1;
      else hi = mid;
    }
    const bucket = at * this.stride + lo;
    this.buckets[bucket]!++;
    this.sums[at]! += value;
    this.counts[at]!++;
    return bucket;
  }

  #point(i: number, startTime: HrTime, endTime: HrTime, counts: number[], sum: number, count: number, held?: readonly (Exemplar | undefined)[]): DataPoint<Histogram> {
    const point: DataPoint<Histogram> & { exemplars?: readonly Exemplar[] } = { attributes: this.attributes[i]!, startTime, endTime, value: { buckets: { boundaries: this.bounds as number[], counts }, sum, count } };
    if (held !== undefined) {
      let exemplars: Exemplar[] | undefined;
      for (let k = i * this.stride, end = k + this.stride; k < end; k++) if (held[k] !== undefined) (exemplars ??= []).push(held[k]!);
      if (exemplars !== undefined) point.exemplars = exemplars;
    }
    return point;
  }

  snapshot(): Snapshot {
    const snap = { n: this.counts.length, values: this.buckets.slice(), sums: this.sums.slice(), counts: this.counts.slice() };
    return this.exemplars === undefined ? snap : { ...snap, exemplars: this.exemplars.slice() };
  }

  cumulative(snap: Snapshot, startTime: HrTime, endTime: HrTime, temporality: AggregationTemporality, onRead = false): MetricData | undefined {
    const n = snap.n;
    if (n === 0) return undefined;
    const stride = this.stride;
    const points = (): DataPoint<Histogram>[] => {
      const out = new Array<DataPoint<Histogram>>(n);
      for (let i = 0; i < n; i++) {
        out[i] = this.#point(i, startTime, endTime, snap.values.slice(i * stride, i * stride + stride), snap.sums[i]!, snap.counts[i]!, snap.exemplars);
      }
      return out;
    };
    return withPoints<HistogramMetricData>({ descriptor: this.descriptor, aggregationTemporality: temporality, dataPointType: DataPointType.HISTOGRAM }, points, onRead);
  }

  delta(snap: Snapshot, state: DeltaState, startTime: HrTime, endTime: HrTime): MetricData | undefined {
    const points: DataPoint<Histogram>[] = [];
    const stride = this.stride;
    for (let i = 0; i < snap.n; i++) {
      const count = snap.counts[i]!;
      const prevCount = state.counts[i] ?? 0;
      if (count === prevCount) continue;
      const counts = new Array<number>(stride);
      for (let k = 0; k < stride; k++) {
        const at = i * stride + k;
        counts[k] = snap.values[at]! - (state.values[at] ?? 0);
        state.values[at] = snap.values[at]!;
      }
      const sum = snap.sums[i]! - (state.sums[i] ?? 0);
      state.sums[i] = snap.sums[i]!;
      state.counts[i] = count;
      points.push(this.#point(i, startTime, endTime, counts, sum, count - prevCount, snap.exemplars));
    }
    if (points.length === 0) return undefined;
    return { descriptor: this.descriptor, aggregationTemporality: AggregationTemporality.DELTA, dataPointType: DataPointType.HISTOGRAM, dataPoints: points };
  }
}

export interface ProducerOptions {
  /**
   * Cumulative only: each MetricData's `dataPoints` is a getter that makes the points from the
   * collection's snapshot at every read (the same points each time, as new objects), instead of
   * the collection making every instrument's points up front. For a consumer that reads each
   * MetricData's points once and is done with them before the next instrument, as the naming pass
   * is. Why: made up front, a 110 000-series scrape's points (~6 MB) live over every turn of the
   * sliced collection and naming pass, so V8's allocation-site feedback pretenures them straight
   * into the old generation: 9 MB more old space per scrape, and a mark-compact (a 12–20 ms pause
   * plus marking steps on the event loop) every ~25 scrapes. Made on read, an instrument's points
   * (at most 10 000) die young, right after it is named. (Keeping one point per series and
   * updating it in place stops the pretenuring too, but holds ~60 B more per series.)
   * @default false
   */
  readonly pointsOnRead?: boolean;
}

export interface TallyStoreOptions {
  /** The instrumentation scope the tallies are reported under (the domain meter's). */
  readonly scope: InstrumentationScope;
  /** Clock, Unix ms. @default Date.now */
  readonly now?: () => number;
  /** Where bad records are reported (and whether the store still records). @default a guard of its own, warning only */
  readonly guard?: RecordGuard;
}

const RESOURCE = emptyResource();

/** Longest a collection's build holds the event loop before giving it back. */
const COLLECT_SLICE_MILLIS = 5;

/**
 * The tallies of every synchronous instrument among `specs` (others are skipped), in spec order,
 * and the producers that read them.
 */
export class TallyStore {
  readonly #tallies: Tally[] = [];
  readonly #byName = new Map<string, Tally>();
  readonly #scope: InstrumentationScope;
  readonly #now: () => number;
  readonly #start: HrTime;
  readonly #settlers: (() => PromiseLike<unknown> | undefined)[] = [];

  constructor(specs: readonly InstrumentSpec[], options: TallyStoreOptions) {
    this.#scope = options.scope;
    this.#now = options.now ?? Date.now;
    this.#start = millisToHrTime(this.#now());
    const guard = options.guard ?? new RecordGuard();
    for (const spec of specs) {
      if (!TALLY_KINDS.has(spec.kind) || this.#byName.has(spec.name)) continue;
      const tally =
        spec.kind === 'histogram' ? new HistogramTally(spec, guard) : spec.kind === 'gauge' ? new GaugeTally(spec, guard) : new SumTally(spec, guard);
      this.#tallies.push(tally);
      this.#byName.set(spec.name, tally);
    }
  }

  has(name: string): boolean {
    return this.#byName.has(name);
  }

  /** The counter or up-down counter `name`. @throws Error when there is none. */
  counter(name: string): DeclaredCounter {
    return this.#get(name, SumTally, 'a counter or upDownCounter');
  }

  /** The histogram `name`. @throws Error when there is none. */
  histogram(name: string): DeclaredHistogram {
    return this.#get(name, HistogramTally, 'a histogram');
  }

  /** The gauge `name`. @throws Error when there is none. */
  gauge(name: string): DeclaredGauge {
    return this.#get(name, GaugeTally, 'a gauge');
  }

  #get<T extends Tally>(name: string, type: abstract new (...args: never[]) => T, what: string): T {
    const t = this.#byName.get(name);
    if (t instanceof type) return t;
    throw new Error(`${JSON.stringify(name)} is not declared as ${what} in options.instruments`);
  }

  /** Series held across all tallies (for tests and diagnostics). */
  get seriesCount(): number {
    let n = 0;
    for (const t of this.#tallies) n += t.size;
    return n;
  }

  /**
   * A producer for one reader. Cumulative: every series, from the store's start. Delta: what
   * changed since this producer's previous collection (each reader needs a producer of its own).
   */
  producer(temporality: AggregationTemporality = AggregationTemporality.CUMULATIVE, options: ProducerOptions = {}): MetricProducer {
    if (temporality === AggregationTemporality.CUMULATIVE) {
      const onRead = options.pointsOnRead === true;
      return { collect: () => this.#collect((t, snap, end) => t.cumulative(snap, this.#start, end, AggregationTemporality.CUMULATIVE, onRead)) };
    }
    const states = new Map<Tally, DeltaState>();
    let last = this.#start;
    let from = last;
    return {
      collect: () =>
        this.#collect(
          (t, snap, end) => {
            let state = states.get(t);
            if (state === undefined) states.set(t, (state = { values: [], sums: [], counts: [] }));
            return t.delta(snap, state, from, end);
          },
          (end) => {
            from = last;
            last = end;
          },
        ),
    };
  }

  /**
   * Registers work a collection should wait for before reading the tallies: records made while
   * the SDK's side of the same collection runs (the snapshot source's failure counter, counted
   * while the snapshot callback is awaited) then land in that collection, as they did when these
   * were SDK instruments (the SDK reads its synchronous instruments after its callbacks).
   */
  settleBeforeCollect(pending: () => PromiseLike<unknown> | undefined): void {
    this.#settlers.push(pending);
  }

  /**
   * One collection: waits for the settlers, snapshots every tally at one instant, then builds the
   * points tally by tally, giving the event loop back between two tallies whenever the build has
   * held it for {@link COLLECT_SLICE_MILLIS} (a 110 000-series store takes ≈ 5–10 ms to build).
   */
  async #collect(
    read: (t: Tally, snap: Snapshot, endTime: HrTime) => MetricData | undefined,
    onInstant?: (endTime: HrTime) => void,
  ): Promise<CollectionResult> {
    let waits: PromiseLike<unknown>[] | undefined;
    for (const settler of this.#settlers) {
      const p = settler();
      if (p !== undefined) (waits ??= []).push(p);
    }
    if (waits !== undefined) await Promise.allSettled(waits);
    const end = millisToHrTime(this.#now());
    onInstant?.(end);
    const snaps = this.#tallies.map((t) => t.snapshot());
    const metrics: MetricData[] = [];
    let sliceStart = performance.now();
    for (let i = 0; i < this.#tallies.length; i++) {
      const m = read(this.#tallies[i]!, snaps[i]!, end);
      if (m !== undefined) metrics.push(m);
      if (performance.now() - sliceStart >= COLLECT_SLICE_MILLIS) {
        await nextTurn();
        sliceStart = performance.now();
      }
    }
    return { resourceMetrics: { resource: RESOURCE, scopeMetrics: metrics.length === 0 ? [] : [{ scope: this.#scope, metrics }] }, errors: [] };
  }
}
