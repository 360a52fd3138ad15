/**
 * A producer's MetricData (the SDK's instruments, a host's producers, the ingest's exponential
 * histograms and derived counts) as the columns of a series set (collection.ts `CollectedSeries`):
 * the one way data points enter the naming pass, so a naming rule reads one shape.
 *
 * What it keeps across collections, per instrument: the bucket bounds last seen, and storage for
 * the figures. Producers keep their points in a stable order (jobmeter's storages and the SDK's
 * cumulative storages append new series at the end and keep one attributes object per series), so
 * position i nearly always holds the attributes object it held at the last collection: what a
 * reader keeps by position is kept by an identity check, no hashing (naming/series-cache.ts
 * `LabelMemo`). The attributes array is a new one at every collection.
 */
import { DataPointType } from '../common/otel-sdk.ts';
import type { Attributes, HrTime } from '@opentelemetry/api';
import type {
  DataPoint,
  ExponentialHistogram,
  Histogram,
  MetricData,
} from '@opentelemetry/sdk-metrics';
import { sameBounds } from './carry.ts';
import type { CollectedSeries, Exemplar } from './collection.ts';
import { bucketOf } from './histogram.ts';

const NO_BOUNDS: readonly number[] = [];
const NONE: Float64Array = new Float64Array(0);
const NO_START: HrTime = [0, 0];

/** The trace-linked exemplars of a point (domain/exemplars.ts), when it has any. */
function pointExemplars(dp: DataPoint<unknown>): readonly Exemplar[] | undefined {
  const e = (dp as { exemplars?: readonly Exemplar[] }).exemplars;
  return e === undefined || e.length === 0 ? undefined : e;
}

/** One instrument's MetricData as columns, collection after collection (see the file comment). */
export class MetricColumns {
  /** The bounds last seen: the same array while they do not change (renderers cache `le` strings by identity). */
  #bounds: readonly number[] = NO_BOUNDS;
  /**
   * The figures' storage, reused from one collection to the next: the rules copy what they keep
   * within the instrument's step (a typed array made per collection costs a backing store each).
   */
  readonly #scratch: Float64Array[] = [NONE, NONE, NONE, NONE, NONE];

  /** Scratch column `k`, `n` long (its contents left as they were). */
  #column(k: number, n: number): Float64Array {
    let buffer = this.#scratch[k]!;
    if (buffer.length < n) buffer = this.#scratch[k] = new Float64Array(n + (n >> 2));
    return buffer.subarray(0, n);
  }

  /**
   * `metric`'s points as a series set's columns, read within the instrument's step of the naming
   * pass: the next call reuses their storage.
   */
  of(metric: MetricData): CollectedSeries {
    const points = metric.dataPoints as readonly DataPoint<unknown>[];
    const n = points.length;
    const attributes = new Array<Attributes>(n);
    const startTime = n > 0 ? points[0]!.startTime : NO_START;
    let startSeconds: Float64Array | undefined;
    let startNanos: Float64Array | undefined;
    for (let i = 0; i < n; i++) {
      const dp = points[i]!;
      attributes[i] = dp.attributes;
      // One start for the set unless a point's differs (the SDK gives each point its own array).
      const t = dp.startTime;
      if (
        t !== startTime &&
        (t[0] !== startTime[0] || t[1] !== startTime[1]) &&
        startSeconds === undefined
      ) {
        startSeconds = this.#column(0, n);
        startNanos = this.#column(1, n);
        for (let k = 0; k < n; k++) {
          startSeconds[k] = points[k]!.startTime[0];
          startNanos[k] = points[k]!.startTime[1];
        }
      }
    }
    const type = metric.dataPointType;
    let stride = 1;
    let bounds = NO_BOUNDS;
    let seriesBounds: (readonly number[])[] | undefined;
    let values = NONE;
    let sums = NONE;
    let counts = NONE;
    let exemplars: (Exemplar | undefined)[] | undefined;
    let exponentials: ExponentialHistogram[] | undefined;
    if (type === DataPointType.HISTOGRAM) {
      const first = n > 0 ? (points[0] as DataPoint<Histogram>).value.buckets.boundaries : [];
      for (let i = 1; i < n && seriesBounds === undefined; i++) {
        const b = (points[i] as DataPoint<Histogram>).value.buckets.boundaries;
        if (!sameBounds(b, first))
          seriesBounds = points.map((dp) => (dp as DataPoint<Histogram>).value.buckets.boundaries);
      }
      if (seriesBounds === undefined) {
        if (!sameBounds(this.#bounds, first)) this.#bounds = first.slice();
        bounds = this.#bounds;
        stride = bounds.length + 1;
      } else {
        bounds = seriesBounds[0]!;
        for (const b of seriesBounds) stride = Math.max(stride, b.length + 1);
      }
      values = this.#column(2, n * stride);
      sums = this.#column(3, n);
      counts = this.#column(4, n);
      for (let i = 0; i < n; i++) {
        const dp = points[i] as DataPoint<Histogram>;
        const h = dp.value;
        const c = h.buckets.counts;
        for (let k = 0; k < c.length; k++) values[i * stride + k] = c[k]!;
        if (c.length < stride) values.fill(0, i * stride + c.length, (i + 1) * stride);
        sums[i] = h.sum ?? 0;
        counts[i] = h.count;
        const e = pointExemplars(dp);
        if (e === undefined) continue;
        // The latest per bucket (the first bound >= its value; the last slot is +Inf), as the
        // store's histograms keep them.
        const b = seriesBounds === undefined ? bounds : seriesBounds[i]!;
        const held = (exemplars ??= new Array<Exemplar | undefined>(n * stride));
        for (const x of e) {
          const k = i * stride + bucketOf(b, x.value);
          const had = held[k];
          if (had === undefined || had.timeMillis / 1000 <= x.timeMillis / 1000) held[k] = x;
        }
      }
    } else if (type === DataPointType.EXPONENTIAL_HISTOGRAM) {
      stride = 0;
      exponentials = new Array<ExponentialHistogram>(n);
      sums = this.#column(3, n);
      counts = this.#column(4, n);
      for (let i = 0; i < n; i++) {
        const h = (points[i] as DataPoint<ExponentialHistogram>).value;
        exponentials[i] = h;
        sums[i] = h.sum ?? 0;
        counts[i] = h.count;
      }
    } else {
      values = this.#column(2, n);
      for (let i = 0; i < n; i++) {
        const dp = points[i] as DataPoint<number>;
        values[i] = dp.value;
        const e = pointExemplars(dp);
        if (e !== undefined)
          (exemplars ??= new Array<Exemplar | undefined>(n))[i] = e[e.length - 1];
      }
    }
    // Written out in series-set.ts collectedOf's order: the rules then see one hidden class.
    const series: CollectedSeries = {
      descriptor: metric.descriptor,
      dataPointType: type,
      aggregationTemporality: metric.aggregationTemporality,
      n,
      attributes,
      startTime,
      compactedFrom: undefined,
      isMonotonic: metric.dataPointType === DataPointType.SUM && metric.isMonotonic,
      stride,
      bounds,
      values,
      sums,
      counts,
      exemplars,
      startSeconds,
      startNanos,
    };
    if (seriesBounds === undefined && exponentials === undefined) return series;
    return {
      ...series,
      ...(seriesBounds !== undefined && { seriesBounds }),
      ...(exponentials !== undefined && { exponentials }),
    };
  }
}
