/**
 * jobmeter's run history (`jobmeter.run.history`, a monotonic cumulative sum) as the SDK collects
 * it: one ResourceMetrics with one point per attribute set, for tests that hand a collection to
 * the push's zero fill (naming/zero-fill-push.ts) or a Collector.
 */
import { ValueType, type Attributes, type HrTime } from '@opentelemetry/api';
import type { Resource } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  DataPointType,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';

export function runHistory(
  resource: Resource,
  scope: { readonly name: string; readonly version?: string },
  points: readonly (readonly [Attributes, number])[],
  [startTime, endTime]: readonly [HrTime, HrTime] = [
    [0, 0],
    [1, 0],
  ],
): ResourceMetrics {
  return {
    resource,
    scopeMetrics: [
      {
        scope,
        metrics: [
          {
            descriptor: {
              name: 'jobmeter.run.history',
              description: '',
              unit: '{run}',
              valueType: ValueType.INT,
            },
            aggregationTemporality: AggregationTemporality.CUMULATIVE,
            dataPointType: DataPointType.SUM,
            isMonotonic: true,
            dataPoints: points.map(([attributes, value]) => ({
              startTime,
              endTime,
              attributes,
              value,
            })),
          },
        ],
      },
    ],
  };
}
