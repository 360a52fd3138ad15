/**
 * How a metric joins an instrument and a point joins its stream.
 *
 * - **Validity.** A metric needs a name of bounded length, a unit of bounded length, a name that
 *   is not jobmeter's self-metric, a temporality, and not the Summary type (no Prometheus
 *   rendering worth having). Its type and unit must agree with the canonical instrument, or with
 *   what the store already holds under that name. A point needs a value (finite and not negative
 *   on a monotonic sum); a histogram point must be consistent, with a finite sum, and share its
 *   series' bucket bounds.
 * - **Time window.** A point's time must lie within {@link TimeWindow} of jobmeter's clock, and
 *   not before its own start time. Applied, a point stamped far ahead would hold its stream's time
 *   there, and every real point after it would be skipped as out of order until the series
 *   expired; one stamped far back with a new start time would be taken for a restart. Both are
 *   refused, so the stream goes on with the sender's real points.
 * - **Temporality.** Delta points are accumulated; cumulative points replace the stream's value.
 *   A cumulative monotonic stream (a histogram: its count) restarts by the store's rule
 *   (series/carry.ts `restarted`: only a decrease, never a new start time alone): what it had
 *   counted is kept in the series' base (series/output-set.ts `reported`) and the new value adds
 *   from there, so the series never jumps backwards because of one sender. Up-down sums and gauges are levels: a stream
 *   contributes its latest value. A cumulative point or a level before the
 *   stream's last time is superseded (out of order) and skipped; one at that time replaces it (a
 *   retried export changes nothing; of two in one request the later stays, as the Collector's
 *   `prometheus` exporter keeps it).
 * - **Delta windows.** A delta point counts its window (start, time]. A window after the stream's
 *   last time is added. A late one (ending at or before it) is added when it lies wholly in a span
 *   no counted window covers — an export queued through an outage and delivered after a newer one,
 *   which the OTel SDKs do — and refused otherwise: wholly within counted windows it is a retried
 *   export (`delta_repeat`), partly within them it would count some increments twice
 *   (`delta_overlap`). Each stream keeps the uncounted spans since its first window
 *   ({@link MAX_GAPS} at most: past that the oldest is taken as counted, so a window in it is
 *   refused, never counted twice). A stream that expired while its series stayed keeps its windows
 *   with what it counted (series/output-set.ts `CountedWindows`): back, its windows are judged by
 *   them as a live stream's.
 */
import { sameBounds } from '../series/carry.ts';
import { HISTOGRAM, mergeInto, type HistogramAcc } from '../series/aggregation.ts';
import type { Shape } from '../series/output-set.ts';
import type { StreamTable } from '../series/streams.ts';
import { REFUSED_METRIC } from '../domain/catalog.ts';
import type { InstrumentSpec } from '../domain/types.ts';
import {
  MAX_EXPONENTIAL_BUCKETS,
  MAX_SCALE,
  MIN_NATIVE_SCHEMA,
  sumOf,
} from '../common/exponential-histogram.ts';
import { MAX_ANY_VALUE_DEPTH } from '../otlp/decode-protobuf.ts';
import type {
  OtlpExponentialHistogramPoint,
  OtlpHistogramPoint,
  OtlpMetric,
  OtlpNumberPoint,
  OtlpUnreadable,
} from '../otlp/types.ts';
import type { Arrival, TimeWindow } from './arrival.ts';
import type { IngestReport, Refusal } from './ingest-report.ts';
import { MAX_NAME_LENGTH, MAX_UNIT_LENGTH } from './input-bounds.ts';
import { SHAPE_OF_KIND } from '../domain/types.ts';
import type { Instrument } from './instrument.ts';

/** How number points combine: added up, replacing a running total (resets kept), or replacing a level. */
export type NumberMode = 'delta' | 'cumulative' | 'level';

const SHAPE_WORDS: Readonly<Record<Shape, string>> = {
  monotonicSum: 'a monotonic Sum (counter)',
  sum: 'a non-monotonic Sum (up-down counter)',
  gauge: 'a Gauge',
  histogram: 'a Histogram',
  exponentialHistogram: 'an ExponentialHistogram',
};

/** Why none of `metric`'s points can be kept, whatever they hold; undefined when they may be. */
export function metricRefusal(metric: OtlpMetric): Refusal | undefined {
  const data = metric.data;
  if (metric.unreadable !== undefined) return UNREADABLE[metric.unreadable];
  if (data.type === 'summary')
    return {
      code: 'unsupported_type',
      text: 'Summary is not supported (use an explicit-bucket or exponential Histogram)',
    };
  if (metric.name === '') return { code: 'no_name', text: 'a metric needs a name' };
  if (metric.name.length > MAX_NAME_LENGTH)
    return { code: 'too_long', text: `a metric name longer than ${MAX_NAME_LENGTH} characters` };
  if (metric.unit.length > MAX_UNIT_LENGTH)
    return { code: 'too_long', text: `a unit longer than ${MAX_UNIT_LENGTH} characters` };
  if (metric.name === REFUSED_METRIC)
    return { code: 'reserved_name', text: 'the name of a jobmeter self-metric' };
  if (data.type !== 'gauge' && data.type !== 'empty' && data.temporality === 'unspecified')
    return { code: 'unsupported_type', text: 'AggregationTemporality is unspecified' };
  return undefined;
}

/**
 * The shape and unit of the instrument a metric of shape `incoming` and unit `sentUnit` feeds —
 * the held instrument's, else the canonical one's, else as sent — or why its points cannot feed it.
 */
export function instrumentKind(
  sentUnit: string,
  incoming: Shape,
  existing: Instrument | undefined,
  spec: InstrumentSpec | undefined,
): { readonly shape: Shape; readonly unit: string } | Refusal {
  // A canonical histogram takes the sender's kind of buckets (as a host View may choose either).
  const specShape =
    spec === undefined
      ? undefined
      : SHAPE_OF_KIND[spec.kind] === 'histogram' && incoming === 'exponentialHistogram'
        ? incoming
        : SHAPE_OF_KIND[spec.kind];
  const shape = existing?.shape ?? specShape ?? incoming;
  // A canonical level (up-down counter or gauge) accepts either, since both render the same;
  // everything else must match.
  const level = (s: Shape): boolean => s === 'sum' || s === 'gauge';
  if (shape !== incoming && !(spec !== undefined && level(shape) && level(incoming))) {
    return {
      code: 'type_conflict',
      text: `type conflict: received ${SHAPE_WORDS[incoming]}, but it is ${SHAPE_WORDS[shape]}`,
    };
  }
  const unit = existing?.descriptor.unit ?? spec?.unit ?? sentUnit;
  // A canonical instrument may come without a unit (it is the catalog's); anything else must agree.
  if (sentUnit !== unit && !(spec !== undefined && sentUnit === '')) {
    return {
      code: 'unit_conflict',
      text: `unit conflict: received "${sentUnit}", expected "${unit}"`,
    };
  }
  return { shape, unit };
}

/**
 * How far a point's time may be ahead of jobmeter's clock: clocks of one site drift by seconds,
 * and a sender's batching adds little; past this the sender's clock is wrong.
 */
export const MAX_AHEAD_MILLIS = 10 * 60_000;

/**
 * How far a point's time may be behind jobmeter's clock, at least (the store uses the longer of
 * this and its expiry): Prometheus refuses samples older than its head block's hour too. A
 * sender's retries and queues deliver within it; older points are a wrong clock.
 */
export const MIN_MAX_AGE_MILLIS = 60 * 60_000;

const AHEAD: Refusal = {
  code: 'time_ahead',
  text: `a point time more than ${MAX_AHEAD_MILLIS / 60_000} minutes ahead of jobmeter's clock`,
};
const BEFORE_START: Refusal = {
  code: 'time_before_start',
  text: 'a point time before its start time',
};

/**
 * The window around the wall clock's `now` (Unix ms) for points no older than `maxAgeMillis`: point
 * times are the senders' wall clocks, so they are held against jobmeter's.
 */
export function timeWindow(now: number, maxAgeMillis: number): TimeWindow {
  const ms = 1_000_000n;
  return {
    now: BigInt(Math.round(now)) * ms,
    earliest: BigInt(Math.floor(now - maxAgeMillis)) * ms,
    latest: BigInt(Math.ceil(now + MAX_AHEAD_MILLIS)) * ms,
    tooOld: {
      code: 'time_too_old',
      text: `a point time more than ${durationWords(maxAgeMillis)} behind jobmeter's clock`,
    },
  };
}

/**
 * Why a point's times are refused at `window`, with how far the time refused is from jobmeter's
 * clock (ingest/clock-refusals.ts tells a wrong clock by it). A time of 0 (unset) passes, as does
 * any start time in the past: a counter's start may be years ago.
 */
function invalidTime(
  point: { readonly timeUnixNano: bigint; readonly startTimeUnixNano: bigint },
  window: TimeWindow,
): Refusal | undefined {
  const time = point.timeUnixNano;
  const start = point.startTimeUnixNano;
  if (time > window.latest || start > window.latest)
    return offTime(AHEAD, time > window.latest ? time : start, window);
  if (time === 0n) return undefined;
  if (time < window.earliest) return offTime(window.tooOld, time, window);
  if (time < start) return BEFORE_START;
  return undefined;
}

function offTime(refusal: Refusal, time: bigint, window: TimeWindow): Refusal {
  return { ...refusal, offsetMillis: Number((time - window.now) / 1_000_000n) };
}

function durationWords(millis: number): string {
  const minutes = millis / 60_000;
  if (minutes % 60 === 0) return `${minutes / 60} hour${minutes === 60 ? '' : 's'}`;
  return Number.isInteger(minutes) ? `${minutes} minutes` : `${millis} ms`;
}

/**
 * What the decoder found a point or metric to carry that cannot be kept (types.ts `OtlpUnreadable`):
 * the Collector's receiver accepts these requests, so they are refused per point, never whole.
 */
const UNREADABLE: Readonly<Record<OtlpUnreadable, Refusal>> = {
  invalid_utf8: {
    code: 'invalid_point',
    text: "a label value (an attribute value, the scope's name or version) that is not valid UTF-8",
  },
  too_deep: {
    code: 'invalid_point',
    text: `an attribute value nested deeper than ${MAX_ANY_VALUE_DEPTH} levels`,
  },
  unknown_temporality: {
    code: 'unsupported_type',
    text: 'an unknown AggregationTemporality (1 delta and 2 cumulative are known)',
  },
};

/** What makes a number point unusable on arrival `at`. */
export function invalidNumber(
  point: OtlpNumberPoint,
  monotonic: boolean,
  at: Arrival,
): Refusal | undefined {
  if (point.unreadable !== undefined) return UNREADABLE[point.unreadable];
  const v = point.value;
  if (v === undefined)
    return {
      code: 'invalid_point',
      text: 'a data point without a value (neither asDouble nor asInt)',
    };
  return (monotonic ? counterRefusal(v) : undefined) ?? invalidTime(point, at.window);
}

/**
 * A monotonic Sum's value `v` (or a count) refused as the ingest refuses it, or undefined: the one
 * refusal of such a value, on arrival and on restore (checkpoint.ts).
 */
export function counterRefusal(v: number): Refusal | undefined {
  if (!(v >= 0))
    return { code: 'invalid_point', text: 'a negative or NaN value on a monotonic Sum' };
  // Served, +Inf would stay the counter's value for good: nothing added to it or reset from it counts.
  if (v === Infinity)
    return { code: 'invalid_point', text: 'an infinite value on a monotonic Sum' };
  return undefined;
}

/**
 * A histogram point of either kind refused for what `fault` finds in its figures
 * ({@link histogramFault}, {@link exponentialFault}), or undefined: the one refusal of such figures,
 * on arrival and on restore (checkpoint.ts).
 */
export function histogramRefusal<P>(
  point: P,
  fault: (point: P) => string | undefined,
): Refusal | undefined {
  const text = fault(point);
  return text === undefined ? undefined : { code: 'invalid_histogram', text };
}

/** Whether `v` cannot be a count of observations (negative, NaN or infinite). */
function badCount(v: number): boolean {
  return !(v >= 0) || v === Infinity;
}

/**
 * What makes a histogram point of either kind unusable on arrival `at`: what `fault` finds in its
 * figures ({@link histogramFault}, {@link exponentialFault}), then its time.
 */
export function invalidHistogram<P extends OtlpHistogramPoint | OtlpExponentialHistogramPoint>(
  point: P,
  fault: (point: P) => string | undefined,
  at: Arrival,
): Refusal | undefined {
  if (point.unreadable !== undefined) return UNREADABLE[point.unreadable];
  return histogramRefusal(point, fault) ?? invalidTime(point, at.window);
}

/** What makes an explicit-bucket point's figures unservable: checked on arrival and on restore (checkpoint.ts). */
export function histogramFault(
  point: Pick<OtlpHistogramPoint, 'explicitBounds' | 'bucketCounts' | 'sum' | 'count'>,
): string | undefined {
  const bounds = point.explicitBounds;
  const counts = point.bucketCounts;
  if (!(counts.length === 0 && bounds.length === 0) && counts.length !== bounds.length + 1) {
    return 'an invalid Histogram point (bucketCounts must have explicitBounds.length + 1 entries)';
  }
  for (let i = 0; i < bounds.length; i++) {
    if (!Number.isFinite(bounds[i]!) || (i > 0 && !(bounds[i]! > bounds[i - 1]!))) {
      return 'an invalid Histogram point (explicitBounds must be finite and strictly increasing)';
    }
  }
  // No buckets: the count alone (a histogram of its _count and _sum).
  return countsFault('Histogram', 'bucketCounts', point, counts.length > 0 ? [counts] : [], 0);
}

/**
 * What makes a histogram point's sum and counts unservable, of either kind (`kind` in the words):
 * its `buckets` (each side's) with `zero` must add up to its count, when it has any.
 */
function countsFault(
  kind: string,
  buckets: string,
  point: { readonly sum?: number | undefined; readonly count: number },
  sides: readonly (readonly number[])[],
  zero: number,
): string | undefined {
  const invalid = `an invalid ${kind} point`;
  const sum = point.sum;
  if (sum !== undefined && Number.isNaN(sum)) return `${invalid} (sum is NaN)`;
  // Served as is, these break the exposition: a bucket above +Inf (= count), a negative _sum
  // (OpenMetrics forbids it beside buckets, and a sender with negative observations must omit it).
  if (sum !== undefined && sum < 0) return `${invalid} (negative sum)`;
  // An infinite _sum would stay in the series for good, as on a counter.
  if (sum === Infinity) return `${invalid} (infinite sum)`;
  // Counts that add up may still not be counts: a bucket of -1 beside one of +1 is served as a
  // bucket going down (`le="1"} -1`), and an infinite one equals an infinite count.
  const badCounts = `${invalid} (a negative, NaN or infinite count)`;
  if (badCount(point.count) || badCount(zero)) return badCounts;
  if (sides.length === 0) return undefined;
  let total = zero;
  for (const side of sides)
    for (const c of side) {
      if (badCount(c)) return badCounts;
      total += c;
    }
  if (total !== point.count)
    return `${invalid} (${buckets} add up to ${total}, count is ${point.count})`;
  return undefined;
}

/**
 * What makes an exponential point's figures unservable: a scale outside the data model's (or too
 * coarse for a Prometheus native histogram), a side wider than {@link MAX_EXPONENTIAL_BUCKETS},
 * a count that is negative, NaN or infinite, counts that do not add up, a NaN, negative or infinite
 * sum (as for explicit buckets). Checked on
 * arrival and on restore (checkpoint.ts).
 */
export function exponentialFault(
  point: Pick<
    OtlpExponentialHistogramPoint,
    'scale' | 'zeroThreshold' | 'zeroCount' | 'sum' | 'count'
  > & {
    readonly positive: { readonly bucketCounts: readonly number[] };
    readonly negative: { readonly bucketCounts: readonly number[] };
  },
): string | undefined {
  if (!Number.isInteger(point.scale) || point.scale < MIN_NATIVE_SCHEMA || point.scale > MAX_SCALE)
    return `an invalid ExponentialHistogram point (scale ${point.scale}: ${MIN_NATIVE_SCHEMA} to ${MAX_SCALE} are served)`;
  for (const side of [point.positive, point.negative]) {
    if (side.bucketCounts.length > MAX_EXPONENTIAL_BUCKETS)
      return `an invalid ExponentialHistogram point (more than ${MAX_EXPONENTIAL_BUCKETS} buckets a side)`;
  }
  if (!(point.zeroThreshold >= 0) || !Number.isFinite(point.zeroThreshold))
    return 'an invalid ExponentialHistogram point (zeroThreshold must be finite and not negative)';
  const sides = [point.positive.bucketCounts, point.negative.bucketCounts];
  return countsFault('ExponentialHistogram', 'buckets', point, sides, point.zeroCount);
}

/**
 * Applies a number point to the stream in slot `s` of `streams` on arrival `at`, unless it is stale.
 * Returns whether the stream's value went up, or why a delta point is refused.
 */
export function applyNumber(
  streams: StreamTable,
  s: number,
  point: OtlpNumberPoint,
  mode: NumberMode,
  at: Arrival,
): boolean | Refusal {
  if (mode === 'delta') {
    const refused = placeWindow(streams, s, point, at.window.earliest);
    if (refused !== undefined) return refused;
  } else if (isStale(streams, s, point, mode === 'cumulative')) return false;
  const v = point.value!;
  // A source back after it expired goes on from the last report its series kept of it.
  const held = streams.points[s]! > 0 || streams.resume(s);
  const before = streams.value[s]!;
  const out = streams.out[s]!;
  if (mode === 'delta') streams.value[s] = before + v;
  else {
    // A counter's sender that started over: what it had counted stays, it counts on from there.
    if (out.shape === 'monotonicSum' && mode === 'cumulative' && !endWindows(streams, s, held))
      out.reported(streams.series[s]!, held ? before : NaN, v);
    streams.value[s] = v;
  }
  applied(streams, s, point, at.monotonic, mode !== 'delta');
  out.settle(streams.series[s]!, streams);
  return streams.value[s] > before;
}

/**
 * Checks a histogram point's bucket bounds against its series'. `refused` when they differ while
 * other streams share the series; `relayout` when the stream is the series' only one: its sender
 * changed its layout and the series is held in one with every bound of both, its counts
 * re-bucketed into it (series/streams.ts `relayout`).
 */
export function joinBounds(
  streams: StreamTable,
  s: number,
  point: OtlpHistogramPoint,
  report: IngestReport,
): 'joined' | 'refused' | 'relayout' {
  const out = streams.out[s]!;
  const series = streams.series[s]!;
  const bounds = out.bounds ?? [];
  if (sameBounds(bounds, point.explicitBounds)) return 'joined';
  if (out.first(series) !== out.last(series)) {
    report.refuse(streams.group[s]!.instrument.name, 1, {
      code: 'bounds_conflict',
      text: `bucket boundaries [${point.explicitBounds.join(', ')}] differ from the series' [${bounds.join(', ')}]`,
    });
    return 'refused';
  }
  return 'relayout';
}

/**
 * Applies a histogram point of either kind (explicit bounds joined) to the stream in slot `s` on
 * arrival `at`, unless it is stale; returns why a delta point is refused.
 */
export function applyHistogram(
  streams: StreamTable,
  s: number,
  point: OtlpHistogramPoint | OtlpExponentialHistogramPoint,
  delta: boolean,
  at: Arrival,
): Refusal | undefined {
  if (delta) {
    const refused = placeWindow(streams, s, point, at.window.earliest);
    if (refused !== undefined) return refused;
  } else if (isStale(streams, s, point, true)) return undefined;
  const out = streams.out[s]!;
  const series = streams.series[s]!;
  // A source back after it expired goes on from the last counts its series kept of it.
  const resumed = streams.points[s]! > 0 || streams.resume(s);
  // An instrument's shape is the kind of every point it takes (instrumentKind).
  const p = point as OtlpExponentialHistogramPoint;
  const incoming =
    out.shape === 'histogram'
      ? histogramCounts(point as OtlpHistogramPoint)
      : sumOf(p, p.zeroThreshold);
  // Explicit buckets in a layout the series holds more bounds than (its sender left some out:
  // series/streams.ts `relayout`) count into the series' layout.
  const bounds = (point as OtlpHistogramPoint).explicitBounds;
  const kept =
    out.shape === 'histogram' && !sameBounds(out.bounds ?? [], bounds) ? out.bounds : undefined;
  if (delta) {
    const window =
      kept === undefined ? incoming : HISTOGRAM.rebucket(incoming as HistogramAcc, bounds, kept);
    streams.acc[s] = mergeInto(out.aggregator!, streams.acc[s], window);
  } else {
    // A cumulative sender that started over (its count went down): what it had counted stays.
    const ended = endWindows(streams, s, resumed);
    const held = !ended && resumed ? streams.acc[s] : undefined;
    const report =
      kept === undefined
        ? incoming
        : HISTOGRAM.reportIn(
            held as HistogramAcc | undefined,
            kept,
            incoming as HistogramAcc,
            bounds,
          );
    if (!ended) out.reportedCounts(series, held, report);
    streams.acc[s] = report;
  }
  applied(streams, s, point, at.monotonic, !delta);
  out.settle(series, streams);
  return undefined;
}

/**
 * A cumulative point on the stream in slot `s` that has counted (`held`) delta windows (`from` set,
 * placeWindow, or taken back with its last report after an expiry: streams.ts `resume`): its
 * sender changed temporality. What the windows counted stays in the series'
 * base, a counter's total and a histogram's count, sum and buckets alike, and the total counts
 * whole from here: it is no continuation of their sum, whatever it reads. Returns whether it was
 * so; if not, the carry rule judges the point as any cumulative one.
 */
function endWindows(streams: StreamTable, s: number, held: boolean): boolean {
  if (!held || streams.from[s] === 0n) return false;
  streams.out[s]!.fold(streams.series[s]!, { value: streams.value[s]!, acc: streams.acc[s] });
  streams.from[s] = 0n;
  streams.gaps[s] = undefined;
  return true;
}

/** A point's counts as a stream holds them (copied: the request's arrays are not kept). */
function histogramCounts(point: OtlpHistogramPoint): HistogramAcc {
  return {
    counts: point.bucketCounts.length === 0 ? [point.count] : point.bucketCounts.slice(),
    sum: point.sum ?? 0,
    count: point.count,
  };
}

/** A point before the last one applied (out of order). */
function isStale(
  streams: StreamTable,
  s: number,
  point: { timeUnixNano: bigint; startTimeUnixNano: bigint },
  cumulative: boolean,
): boolean {
  if (
    streams.points[s] === 0 ||
    point.timeUnixNano === 0n ||
    point.timeUnixNano >= streams.time[s]!
  )
    return false;
  // A cumulative point with a new start time is a new life of its sender, whose clock may read
  // earlier: it is not out of order, and the carry rule (series/carry.ts) judges its value.
  return !(cumulative && newStart(streams, s, point));
}

/**
 * Whether `point` names a start time other than its stream's. Only a point's place in time is
 * judged by it: whether the stream restarted is the carry rule's (series/carry.ts `restarted`),
 * for which a new start time alone is none.
 */
function newStart(streams: StreamTable, s: number, point: { startTimeUnixNano: bigint }): boolean {
  return point.startTimeUnixNano !== 0n && point.startTimeUnixNano !== streams.start[s];
}

/**
 * Records a point applied. A delta stream's time and start are its newest window's: a late window
 * moves neither (placeWindow keeps where it lies).
 */
function applied(
  streams: StreamTable,
  s: number,
  point: { timeUnixNano: bigint; startTimeUnixNano: bigint },
  monotonic: number,
  cumulative: boolean,
): void {
  const newer = point.timeUnixNano > streams.time[s]!;
  if (newer || (cumulative && newStart(streams, s, point))) streams.time[s] = point.timeUnixNano;
  if (newer || cumulative || streams.points[s] === 0) streams.start[s] = point.startTimeUnixNano;
  streams.points[s] = streams.points[s]! + 1;
  streams.updatedAt[s] = monotonic;
  // A dormant stream (restored past expiry) is awake again: its sender is alive.
  streams.slept[s] = Number.NaN;
}

/**
 * Most uncounted spans a delta stream keeps ({@link placeWindow}): 16 bigints, a few hundred bytes
 * (not charged to the memory budget), held only while a span may still be filled — one ending
 * before the oldest time a point may have (the arrival's window) is dropped.
 */
export const MAX_GAPS = 8;

const REPEAT: Refusal = {
  code: 'delta_repeat',
  text: 'a delta window already counted (a retried export), or older than the windows the series keeps',
};
const OVERLAP: Refusal = {
  code: 'delta_overlap',
  text: 'a delta window that overlaps windows already counted',
};

/** Where a delta point's window starts: its start time, or just before its time when it has none before it. */
function windowStart(point: {
  readonly timeUnixNano: bigint;
  readonly startTimeUnixNano: bigint;
}): bigint {
  const time = point.timeUnixNano;
  return point.startTimeUnixNano !== 0n && point.startTimeUnixNano < time
    ? point.startTimeUnixNano
    : time - 1n;
}

/**
 * Where a delta point's window (start, time] lies against the windows stream `s` has counted:
 * undefined when it is new (recorded as counted), else why it must not be added. A point without
 * a time is added, as ever (nothing places it); one without a start, or with a start not before
 * its time, counts the nanosecond ending at its time, so its retry is still recognised. Spans
 * ending before `earliest` are dropped: a window that fits in one is older still, and refused
 * before it gets here (invalidTime).
 */
export function placeWindow(
  streams: StreamTable,
  s: number,
  point: { readonly timeUnixNano: bigint; readonly startTimeUnixNano: bigint },
  earliest: bigint,
): Refusal | undefined {
  // A source back after it expired is judged by the windows it counted, as a live stream is.
  const fresh = streams.points[s] === 0 && !streams.windowsBack(s);
  const old = streams.gaps[s];
  if (old !== undefined && old[1]! < earliest) {
    let n = 0;
    while (n < old.length && old[n + 1]! < earliest) n += 2;
    old.splice(0, n);
    if (old.length === 0) streams.gaps[s] = undefined;
  }
  const time = point.timeUnixNano;
  // `from` set marks the stream's points delta (endWindows): a stream whose points were
  // cumulative has it from its first window, as a new stream has.
  if (time === 0n) {
    if (streams.from[s] === 0n) streams.from[s] = 1n;
    return undefined;
  }
  const start = windowStart(point);
  const last = streams.time[s]!;
  if (fresh || last === 0n) {
    streams.from[s] = start;
    return undefined;
  }
  if (time > last) {
    // A window that starts after the last one leaves a span a late window may fill. One that
    // starts before it (two senders on one stream) is added as before: refusing it would lose it.
    if (start > last) addGap(streams, s, streams.gaps[s]?.length ?? 0, last, start);
    if (streams.from[s] === 0n) streams.from[s] = start;
    return undefined;
  }
  const from = streams.from[s]!;
  if (time <= from) {
    if (time < from) addGap(streams, s, 0, time, from);
    streams.from[s] = start;
    return undefined;
  }
  const gaps = streams.gaps[s];
  if (gaps !== undefined) {
    for (let i = 0; i < gaps.length; i += 2) {
      const after = gaps[i]!;
      const upTo = gaps[i + 1]!;
      if (after <= start && time <= upTo) {
        // Counted now: what is left of the span on either side stays open.
        const rest: bigint[] = [];
        if (after < start) rest.push(after, start);
        if (time < upTo) rest.push(time, upTo);
        gaps.splice(i, 2, ...rest);
        if (gaps.length === 0) streams.gaps[s] = undefined;
        return undefined;
      }
      if (start < upTo && after < time) return OVERLAP;
    }
  }
  return start < from ? OVERLAP : REPEAT;
}

/** Inserts the uncounted span (after, upTo] at pair index `at / 2`, forgetting the oldest past {@link MAX_GAPS}. */
function addGap(streams: StreamTable, s: number, at: number, after: bigint, upTo: bigint): void {
  const gaps = (streams.gaps[s] ??= []);
  gaps.splice(at, 0, after, upTo);
  if (gaps.length > 2 * MAX_GAPS) gaps.splice(0, 2);
}
