/**
 * Delta temporality for a push of the aggregate: each export carries the change since the
 * previous one. Sums and histograms are differenced per series (the aggregate keeps one
 * attributes object per series, so the previous value is found by identity); gauges go as they
 * are. A sum series that went down (an up-down counter) exports its negative change.
 */
import type { Attributes, HrTime } from '@opentelemetry/api';
import { AggregationTemporality, DataPointType, type DataPoint, type Histogram, type MetricData, type ResourceMetrics } from '@opentelemetry/sdk-metrics';

export class DeltaTracker {
  readonly #last = new WeakMap<Attributes, number | Histogram>();
  #since: HrTime | undefined;

  toDelta(rm: ResourceMetrics): ResourceMetrics {
    let end: HrTime | undefined;
    const scopeMetrics = rm.scopeMetrics.map((sm) => ({
      scope: sm.scope,
      metrics: sm.metrics.map((m): MetricData => {
        if (m.dataPointType === DataPointType.GAUGE || m.dataPointType === DataPointType.EXPONENTIAL_HISTOGRAM) return m;
        const startOf = (p: DataPoint<unknown>): HrTime => this.#since ?? p.startTime;
        if (m.dataPointType === DataPointType.SUM) {
          const points = m.dataPoints.map((p) => {
            end = p.endTime;
            const last = this.#last.get(p.attributes);
            this.#last.set(p.attributes, p.value);
            return { ...p, startTime: startOf(p), value: p.value - (typeof last === 'number' ? last : 0) };
          });
          return { ...m, aggregationTemporality: AggregationTemporality.DELTA, dataPoints: points };
        }
        const points = m.dataPoints.map((p) => {
          end = p.endTime;
          const last = this.#last.get(p.attributes) as Histogram | undefined;
          this.#last.set(p.attributes, p.value);
          if (last === undefined) return { ...p, startTime: startOf(p) };
          const counts = p.value.buckets.counts.map((c, i) => c - (last.buckets.counts[i] ?? 0));
          const value: Histogram = { buckets: { boundaries: p.value.buckets.boundaries, counts }, sum: (p.value.sum ?? 0) - (last.sum ?? 0), count: p.value.count - last.count };
          return { ...p, startTime: startOf(p), value };
        });
        return { ...m, aggregationTemporality: AggregationTemporality.DELTA, dataPoints: points };
      }),
    }));
    if (end !== undefined) this.#since = end;
    return { resource: rm.resource, scopeMetrics };
  }
}
