/**
 * Cumulative → delta, once for every producer that keeps totals (series-store.ts `producer`: the
 * tallies' delta push, the cluster aggregate's): each export carries each series' change since the
 * previous export, over the window from that export's instant to this one.
 *
 * What must stay true:
 * - A series is exported when it changed since the last export (the SDK exports every set recorded
 *   in the interval, even if the records added up to 0). A sum that went down (an up-down counter)
 *   exports its negative change; a gauge is a level, exported whole every time.
 * - A histogram's min and max are its life's: a delta point carries them only when its window is
 *   the series' whole life (its first export), since then they are the window's too.
 * - The previous totals are found by identity (the producer keeps one descriptor per instrument and
 *   one attributes object per series, as the naming pass expects of every producer), held weakly:
 *   a series that is gone takes its state with it.
 * - Exponential histograms are not differenced: no delta reader reads them (the ingest, which
 *   holds them, serves cumulative points).
 */
import type { Attributes, HrTime } from '@opentelemetry/api';
import { AggregationTemporality, DataPointType, type DataPoint, type Histogram, type MetricData, type MetricDescriptor } from '@opentelemetry/sdk-metrics';

export class DeltaWindows {
  readonly #last = new WeakMap<MetricDescriptor, WeakMap<Attributes, number | Histogram>>();

  /** The change of `metric` (cumulative) since the previous call, over the window from `from`; undefined when nothing changed. */
  change(metric: MetricData, from: HrTime): MetricData | undefined {
    if (metric.dataPointType === DataPointType.EXPONENTIAL_HISTOGRAM) return undefined;
    if (metric.dataPointType === DataPointType.GAUGE) {
      if (metric.dataPoints.length === 0) return undefined;
      return { ...metric, aggregationTemporality: AggregationTemporality.DELTA, dataPoints: metric.dataPoints.map((p) => ({ ...p, startTime: from })) };
    }
    let last = this.#last.get(metric.descriptor);
    if (last === undefined) this.#last.set(metric.descriptor, (last = new WeakMap()));
    if (metric.dataPointType === DataPointType.SUM) {
      const dataPoints: DataPoint<number>[] = [];
      for (const p of metric.dataPoints) {
        const before = (last.get(p.attributes) as number | undefined) ?? 0;
        if (p.value === before) continue;
        last.set(p.attributes, p.value);
        dataPoints.push({ ...p, startTime: from, value: p.value - before });
      }
      return dataPoints.length === 0 ? undefined : { ...metric, aggregationTemporality: AggregationTemporality.DELTA, dataPoints };
    }
    const dataPoints: DataPoint<Histogram>[] = [];
    for (const p of metric.dataPoints) {
      const before = last.get(p.attributes) as Histogram | undefined;
      const v = p.value;
      if (v.count === (before?.count ?? 0)) continue;
      last.set(p.attributes, v);
      if (before === undefined) {
        dataPoints.push({ ...p, startTime: from });
        continue;
      }
      const counts = v.buckets.counts.map((c, k) => c - (before.buckets.counts[k] ?? 0));
      const value: Histogram = { buckets: { boundaries: v.buckets.boundaries, counts }, sum: (v.sum ?? 0) - (before.sum ?? 0), count: v.count - before.count };
      dataPoints.push({ ...p, startTime: from, value });
    }
    return dataPoints.length === 0 ? undefined : { ...metric, aggregationTemporality: AggregationTemporality.DELTA, dataPoints };
  }
}
