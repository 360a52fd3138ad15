/**
 * Cumulative -> delta, once for every producer that keeps totals (series-store.ts `producer`: the
 * storages' delta push, the cluster aggregate's): each export carries each series' change since the
 * previous export, over the window from that export's instant to this one.
 *
 * What must stay true:
 * - A series is exported when it was recorded since the last export, as the SDK exports every set
 *   recorded in the interval, even if the records added up to 0: a histogram when its count
 *   changed; a sum or gauge whose writer counts its records (a storage's, sum.ts `records`) when
 *   that count did. A sum of sources' totals (the cluster's) is exported when its value changed, a
 *   level of sources (the cluster's gauge) whole every time, as an observable gauge. A sum that went
 *   down (an up-down counter) exports its negative change; a gauge its value.
 * - A histogram's min and max are its window's: a windowed metric's points bring them (a storage's,
 *   series/histogram.ts); a life's (a cluster member's report) only when the window is the series'
 *   whole life (its first export), since then they are the window's too.
 * - The previous totals are found by identity (the producer keeps one descriptor per instrument and
 *   one attributes object per series, as the naming pass expects of every producer), held weakly:
 *   a series that is gone takes its state with it.
 * - Exponential histograms are not differenced: no delta reader reads them (the ingest, which
 *   holds them, serves cumulative points).
 * - A producer that takes over series another reader has exported (the cluster aggregate, from the
 *   primary's own push reader) continues from what that reader exported ({@link exportedTotals}):
 *   no increment is exported twice, and a series the other reader never exported is exported in
 *   full once.
 */
import { AggregationTemporality, DataPointType, InstrumentType } from '../common/otel-sdk.ts';
import type { Attributes, HrTime } from '@opentelemetry/api';
import type {
  AggregationTemporalitySelector,
  DataPoint,
  Histogram,
  MetricData,
  MetricDescriptor,
  ResourceMetrics,
  ScopeMetrics,
} from '@opentelemetry/sdk-metrics';
import { diffPoints, HISTOGRAM, mergePoints, SUM, type Cumulative } from './aggregation.ts';
import { attributeSetKey } from './attribute-key.ts';
import { before } from './clock.ts';
import type { Snapshot } from './snapshot.ts';

export class DeltaWindows {
  readonly #last = new WeakMap<MetricDescriptor, WeakMap<Attributes, Total>>();
  /** Of series whose writer counts records: their count at their last export. */
  readonly #records = new WeakMap<MetricDescriptor, WeakMap<Attributes, number>>();
  /** The current window's start (the previous export's instant) and the latest export's instant. */
  #from: HrTime;
  #end: HrTime;

  /** `start`: when the first window starts (nothing was counted before it). */
  constructor(start: HrTime) {
    this.#from = start;
    this.#end = start;
  }

  /** An export at `end`: its points' window starts at the previous export's instant. */
  close(end: HrTime): void {
    this.#from = this.#end;
    this.#end = end;
  }

  /** Another reader's last export of these series was at `at`: the next window starts there. */
  resume(at: HrTime): void {
    this.#end = at;
  }

  /**
   * Another reader exported this series up to `total` (an {@link exportedTotals} point): its next
   * change is measured from it. Totals of series that fold into one (an overflow series) add up.
   * Before this producer's first export only.
   */
  exported(descriptor: MetricDescriptor, attributes: Attributes, total: Total): void {
    const last = inner(this.#last, descriptor);
    const before = last.get(attributes);
    if (before === undefined) last.set(attributes, total);
    else if (typeof before === typeof total)
      last.set(attributes, mergePoints(kindOf(total), before, total));
  }

  /**
   * The change of `metric` (cumulative) since the previous export; undefined when nothing changed.
   * `snap`: the figures it was read from: `windowed`, its histogram points' min and max are this
   * window's (else the life's); `records`, each point's series' record count (sum.ts `records`).
   */
  change(
    metric: MetricData,
    snap: Pick<Snapshot, 'windowed' | 'records'> = {},
  ): MetricData | undefined {
    const from = this.#from;
    if (metric.dataPointType === DataPointType.EXPONENTIAL_HISTOGRAM) return undefined;
    const { records } = snap;
    const seen = records && inner(this.#records, metric.descriptor);
    const gauge = metric.dataPointType === DataPointType.GAUGE;
    const last = gauge ? undefined : inner(this.#last, metric.descriptor);
    const dataPoints: DataPoint<Total>[] = [];
    const points = metric.dataPoints as DataPoint<Total>[];
    for (let i = 0; i < points.length; i++) {
      const p = points[i]!;
      if (seen !== undefined) {
        // Recorded in the window: its record count moved, whatever the records added up to.
        if (records![i] === (seen.get(p.attributes) ?? 0)) continue;
        seen.set(p.attributes, records![i]!);
      }
      if (last === undefined) {
        dataPoints.push({ ...p, startTime: from });
        continue;
      }
      const before = last.get(p.attributes);
      // Else a sum changed when its value did, a histogram when its count did.
      if (seen === undefined && countOf(p.value) === (before === undefined ? 0 : countOf(before)))
        continue;
      last.set(p.attributes, p.value);
      // A monotonic sum that restarted (an observable counter's source did) changed by its new
      // total, as the SDK's Sum aggregator has it, never by a negative count.
      const restarted =
        metric.dataPointType === DataPointType.SUM &&
        metric.isMonotonic &&
        before !== undefined &&
        SUM.restarted(before as number, p.value as number);
      const value = restarted ? p.value : deltaOf(p.value, before);
      if (snap.windowed === true && before !== undefined)
        withExtremesOf(value as Histogram, p.value as Histogram);
      dataPoints.push({ ...p, startTime: from, value });
    }
    return dataPoints.length === 0
      ? undefined
      : ({
          ...metric,
          aggregationTemporality: AggregationTemporality.DELTA,
          dataPoints,
        } as MetricData);
  }
}

/** `outer`'s map of `descriptor` (made on first use). */
function inner<V>(
  outer: WeakMap<MetricDescriptor, WeakMap<Attributes, V>>,
  descriptor: MetricDescriptor,
): WeakMap<Attributes, V> {
  let map = outer.get(descriptor);
  if (map === undefined) outer.set(descriptor, (map = new WeakMap()));
  return map;
}

/** Whether a reader of `temporality` reads any instrument type in delta (it has windows of its own). */
export function readsDelta(temporality: AggregationTemporalitySelector): boolean {
  return Object.values(InstrumentType).some((t) => temporality(t) === AggregationTemporality.DELTA);
}

/**
 * The instrument type a reader's temporality selector is asked for `metric`: its descriptor's (the
 * SDK and the storages write it there), else what its points say (the cluster aggregate's).
 */
export function instrumentTypeOf(metric: MetricData): InstrumentType {
  const { type } = metric.descriptor as { type?: InstrumentType };
  if (type !== undefined) return type;
  if (metric.dataPointType === DataPointType.SUM)
    return metric.isMonotonic ? InstrumentType.COUNTER : InstrumentType.UP_DOWN_COUNTER;
  return metric.dataPointType === DataPointType.GAUGE
    ? InstrumentType.GAUGE
    : InstrumentType.HISTOGRAM;
}

/** A series' cumulative value as a reader holds it: a sum's, a histogram's point. */
type Total = number | Histogram;

const countOf = (v: Total): number => (typeof v === 'number' ? v : v.count);

/** The aggregation of `v`'s kind. */
const kindOf = (v: Total) => (typeof v === 'number' ? SUM : HISTOGRAM) as Cumulative<Total, Total>;

/**
 * What the cumulative `v` holds beyond `before` (undefined: nothing before it), by its kind's
 * aggregation: a histogram's whole point (min and max too: the window is its life) when first,
 * none of a later window's (they are not a window's).
 */
function deltaOf(v: Total, before: Total | undefined): Total {
  return before === undefined ? v : diffPoints(kindOf(v), before, v);
}

/** `to` given `from`'s min and max, where it has them. */
function withExtremesOf(to: Histogram, from: Histogram): void {
  if (from.min !== undefined) to.min = from.min;
  if (from.max !== undefined) to.max = from.max;
}

/** One series' total that a reader has exported. */
interface ExportedTotal {
  readonly scope: ScopeMetrics['scope'];
  readonly metric: MetricData;
  readonly attributes: Attributes;
  readonly total: Total;
}

/**
 * What a reader has exported of each series up to its previous export: its series' cumulative
 * `totals` (collected after `exported`, the same series' collection by that reader now, delta or
 * cumulative, not yet counted as exported) less `exported`'s deltas; a cumulative point of
 * `exported` is the total itself. `at`: the previous export's instant (a delta point's start).
 *
 * A record made between the two collections is in `totals` and not in `exported`: it counts as
 * exported, so it is missed rather than exported twice.
 */
export function exportedTotals(
  totals: ResourceMetrics,
  exported: ResourceMetrics,
): { totals: ExportedTotal[]; at: HrTime | undefined } {
  const now = new Map<string, { metric: MetricData; points: Map<string, DataPoint<unknown>> }>();
  let at: HrTime | undefined;
  for (const sm of exported.scopeMetrics) {
    for (const m of sm.metrics) {
      const points = new Map<string, DataPoint<unknown>>();
      for (const p of m.dataPoints as DataPoint<unknown>[]) {
        points.set(attributeSetKey(p.attributes), p);
        if (
          m.aggregationTemporality === AggregationTemporality.DELTA &&
          (at === undefined || before(p.startTime, at))
        )
          at = p.startTime;
      }
      now.set(metricKey(sm.scope, m.descriptor.name), { metric: m, points });
    }
  }
  const out: ExportedTotal[] = [];
  for (const sm of totals.scopeMetrics) {
    for (const m of sm.metrics) {
      if (m.dataPointType !== DataPointType.SUM && m.dataPointType !== DataPointType.HISTOGRAM)
        continue;
      const since = now.get(metricKey(sm.scope, m.descriptor.name));
      const cumulative = since?.metric.aggregationTemporality === AggregationTemporality.CUMULATIVE;
      for (const p of m.dataPoints as DataPoint<Total>[]) {
        const q = since?.points.get(attributeSetKey(p.attributes)) as DataPoint<Total> | undefined;
        let total = p.value;
        if (q !== undefined) total = cumulative ? q.value : deltaOf(total, q.value);
        // Nothing exported: the series starts from nothing (its first window is its whole life).
        if (countOf(total) !== 0)
          out.push({ scope: sm.scope, metric: m, attributes: p.attributes, total });
      }
    }
  }
  return { totals: out, at };
}

/** One instrument's identity across collections: its scope's name and version, and its name. */
export function metricKey(scope: { name: string; version?: string }, name: string): string {
  return `${scope.name}\0${scope.version ?? ''}\0${name}`;
}
