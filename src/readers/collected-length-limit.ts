/**
 * The attribute value length limit on a host's MetricData: what a host's own MeterProvider
 * collected (`JobmeterReader`), and what a host's MetricProducer gives (`metricProducers`). Those
 * were aggregated with their values whole (jobmeter's provider cuts a host's as they are recorded:
 * domain/guarded-meter.ts), so here the limit applies to the data points: each point's attributes
 * are cut through the guard, and points whose sets are then one are added into one point, as one
 * series would have recorded them -- sums added, histograms' buckets added (exponential ones at the
 * coarser scale of the two), a gauge keeping the first series' value (which of them was recorded
 * last cannot be told).
 *
 * A series is counted once, when first seen cut: the SDK keeps one attributes object per series
 * for its life, and so does this (its cut copy, so the series' labels are made once too).
 */
import { AggregationTemporality, DataPointType, millisToHrTime } from '../common/otel-sdk.ts';
import { ValueType, type Attributes } from '@opentelemetry/api';
import type {
  DataPoint,
  MetricData,
  MetricProducer,
  ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { withinLength } from '../domain/bounded-attributes.ts';
import { ATTRIBUTE_VALUES_TRUNCATED } from '../domain/catalog.ts';
import { descriptorOf } from '../domain/storage/sync-storage.ts';
import type { RecordGuard } from '../domain/record-guard.ts';
import { attributeSetKey } from '../series/attribute-key.ts';
import { before, pointMillis, SYSTEM_CLOCK } from '../series/clock.ts';
import {
  EXPONENTIAL_HISTOGRAM,
  HISTOGRAM,
  mergePoints,
  SUM,
  type Aggregator,
} from '../series/aggregation.ts';
import { VERSION } from '../version.ts';

export class CollectedLengthLimit {
  readonly #guard: RecordGuard;
  readonly #limit: number;
  /** A series' attributes, as the SDK holds them -> their cut copy. */
  readonly #cut = new WeakMap<Attributes, Attributes>();

  /** @param guard the account cuts are counted on, with a value length limit. */
  constructor(guard: RecordGuard) {
    this.#guard = guard;
    this.#limit = guard.valueLengthLimit!;
  }

  /** `rm` with every point's attribute values within the limit (`rm` itself when none is past it). */
  apply(rm: ResourceMetrics): ResourceMetrics {
    let changed = false;
    const scopeMetrics = rm.scopeMetrics.map((sm) => {
      const metrics = sm.metrics.map((m) => this.#metric(m));
      if (metrics.every((m, i) => m === sm.metrics[i])) return sm;
      changed = true;
      return { scope: sm.scope, metrics };
    });
    return changed ? { resource: rm.resource, scopeMetrics } : rm;
  }

  /** `producer` with each collection's attribute values within the limit. */
  producer(producer: MetricProducer): MetricProducer {
    return {
      collect: (options) =>
        producer
          .collect(options)
          .then((r) => ({ resourceMetrics: this.apply(r.resourceMetrics), errors: r.errors })),
    };
  }

  #attributes(instrument: string, attributes: Attributes): Attributes {
    const held = this.#cut.get(attributes);
    if (held !== undefined) return held;
    if (withinLength(attributes, this.#limit)) return attributes;
    const cut = this.#guard.cut(instrument, attributes);
    this.#cut.set(attributes, cut);
    return cut;
  }

  #metric(metric: MetricData): MetricData {
    const points = metric.dataPoints as DataPoint<unknown>[];
    let out: DataPoint<unknown>[] | undefined;
    for (let i = 0; i < points.length; i++) {
      const p = points[i]!;
      const attributes = this.#attributes(metric.descriptor.name, p.attributes);
      if (out === undefined && attributes === p.attributes) continue;
      out ??= points.slice(0, i);
      out.push(attributes === p.attributes ? p : { ...p, attributes });
    }
    return out === undefined
      ? metric
      : ({ ...metric, dataPoints: merged(metric.dataPointType, out) } as MetricData);
  }
}

/**
 * The count of `guard`'s cuts for a reader with no meter of its own (`JobmeterReader`): what joins
 * a collection, once anything was cut, as `jobmeter.attribute_values.truncated` under jobmeter's
 * scope, after the rest (so a host's endpoint gains no family of jobmeter's until then).
 */
export function cutCount(guard: RecordGuard): (rm: ResourceMetrics) => ResourceMetrics {
  // Whole milliseconds, on the point clock as the SDK's points beside them.
  const now = () => Math.round(pointMillis(SYSTEM_CLOCK));
  const start = millisToHrTime(now());
  let count = 0;
  guard.countCutsInto(() => {
    count++;
  });
  // As the SDK describes a counter of the spec (valueType aside: the count is an integer).
  const spec = ATTRIBUTE_VALUES_TRUNCATED;
  const descriptor = { ...descriptorOf(spec.name, 'counter', spec), valueType: ValueType.INT };
  return (rm) => {
    if (count === 0) return rm;
    const metric: MetricData = {
      descriptor,
      aggregationTemporality: AggregationTemporality.CUMULATIVE,
      dataPointType: DataPointType.SUM,
      isMonotonic: true,
      dataPoints: [
        { startTime: start, endTime: millisToHrTime(now()), attributes: {}, value: count },
      ],
    };
    return {
      resource: rm.resource,
      scopeMetrics: [
        ...rm.scopeMetrics,
        { scope: { name: 'jobmeter', version: VERSION }, metrics: [metric] },
      ],
    };
  };
}

/** Each kind's aggregation (a gauge's: the first series' value, which was recorded last cannot be told). */
const KIND: Readonly<Partial<Record<DataPointType, Aggregator<unknown, unknown>>>> = {
  [DataPointType.SUM]: SUM,
  [DataPointType.HISTOGRAM]: HISTOGRAM,
  [DataPointType.EXPONENTIAL_HISTOGRAM]: EXPONENTIAL_HISTOGRAM,
};

/**
 * `points` with those of one attribute set added into the first of them: what the series would
 * hold had it recorded both's records (one stream's points share its View's boundaries).
 */
function merged(type: DataPointType, points: DataPoint<unknown>[]): DataPoint<unknown>[] {
  const kind = KIND[type];
  const at = new Map<string, number>();
  const out: DataPoint<unknown>[] = [];
  for (const p of points) {
    const key = attributeSetKey(p.attributes);
    const i = at.get(key);
    if (i === undefined) {
      at.set(key, out.length);
      out.push(p);
    } else if (kind !== undefined) {
      const a = out[i]!;
      const startTime = before(p.startTime, a.startTime) ? p.startTime : a.startTime;
      out[i] = { ...a, startTime, value: mergePoints(kind, a.value, p.value) };
    }
  }
  return out;
}
