/**
 * A collected metric as the differential tests compare it with the plain SDK's
 * (test/domain/provider-matches-sdk.test.ts, declared-matches-views.test.ts): its descriptor, kind
 * and points, times aside, attributes and points in a stable order.
 */
import type { Attributes } from '@opentelemetry/api';
import { DataPointType, type MetricData } from '@opentelemetry/sdk-metrics';

export const sortedEntries = (a: Attributes) =>
  Object.fromEntries(Object.entries(a).sort(([x], [y]) => (x < y ? -1 : 1)));

export const byJson = (x: unknown, y: unknown) => {
  const [a, b] = [JSON.stringify(x), JSON.stringify(y)];
  return a < b ? -1 : a > b ? 1 : 0;
};

/**
 * 0 for -0: of a 0 and a -0 recorded, the storages keep the first as min or max (`<`), the SDK the
 * one `Math.min` and `Math.max` pick; the two are one number.
 */
const signless = (x: unknown) => (x === 0 ? 0 : x);

export function comparableMetric(m: MetricData): unknown {
  const d = m.descriptor as MetricData['descriptor'] & { type?: string };
  return {
    name: d.name,
    description: d.description,
    unit: d.unit,
    valueType: d.valueType,
    instrumentType: d.type,
    pointType: m.dataPointType,
    temporality: m.aggregationTemporality,
    monotonic: m.dataPointType === DataPointType.SUM ? m.isMonotonic : undefined,
    points: m.dataPoints
      .map(({ attributes, value }) => ({
        attributes: sortedEntries(attributes),
        // A histogram's min and max left out or undefined are one thing to an exporter.
        value:
          typeof value === 'number'
            ? value
            : Object.fromEntries(
                Object.entries(value)
                  .filter(([, v]) => v !== undefined)
                  .map(([k, v]) => [k, k === 'min' || k === 'max' ? signless(v) : v]),
              ),
      }))
      .sort(byJson),
  };
}
