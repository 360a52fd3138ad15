/**
 * A decoded chunk as the decoding thread posts it (decode-worker.ts) and the main thread takes it
 * back (decoder-pool.ts): the number points of gauges and sums travel as columns in typed arrays,
 * moved with the message, instead of as one object (with its attributes object and two bigints)
 * per point. Deserialising a message is the receiving thread's work, and a structured clone of
 * small objects leaves several times their size of young garbage on the main thread, whose
 * scavenges then hold the event loop; rebuilding the points from columns allocates only the
 * points themselves. Points without attributes share one empty object, which a message carries
 * once. Histograms, rarer in bulk, travel as they are.
 */
import type { Attributes } from '@opentelemetry/api';
import type { OtlpExportRequest, OtlpMetric, OtlpMetricData, OtlpNumberPoint } from '../otlp/types.ts';

type NumberData = Extract<OtlpMetricData, { readonly type: 'gauge' | 'sum' }>;

/** A gauge's or sum's points, as columns. */
export interface PackedNumberPoints {
  readonly values: Float64Array<ArrayBuffer>;
  /** `timeUnixNano` and `startTimeUnixNano`: OTLP's fixed64, so unsigned. */
  readonly times: BigUint64Array<ArrayBuffer>;
  readonly starts: BigUint64Array<ArrayBuffer>;
  /** {@link HAS_VALUE} and {@link NO_RECORDED_VALUE}. */
  readonly flags: Uint8Array<ArrayBuffer>;
  readonly attributes: readonly Attributes[];
}

interface PackedData {
  readonly type: 'packed';
  /** The data without its points. */
  readonly data: Omit<NumberData, 'points'>;
  readonly points: PackedNumberPoints;
}

type WireMetric = Omit<OtlpMetric, 'data'> & { readonly data: OtlpMetricData | PackedData };

/** A chunk on its way between the threads. */
export interface WireRequest {
  readonly resourceMetrics: ReadonlyArray<{
    readonly resource: Attributes;
    readonly scopeMetrics: ReadonlyArray<{ readonly scope: OtlpExportRequest['resourceMetrics'][number]['scopeMetrics'][number]['scope']; readonly metrics: readonly WireMetric[] }>;
  }>;
}

const HAS_VALUE = 1;
const NO_RECORDED_VALUE = 2;
const NO_ATTRIBUTES: Attributes = Object.freeze({});

/** `request` with its number points in columns, and the buffers to move with the message. */
export function packRequest(request: OtlpExportRequest): { wire: WireRequest; transfer: ArrayBuffer[] } {
  const transfer: ArrayBuffer[] = [];
  const wire: WireRequest = {
    resourceMetrics: request.resourceMetrics.map((rm) => ({
      resource: rm.resource,
      scopeMetrics: rm.scopeMetrics.map((sm) => ({ scope: sm.scope, metrics: sm.metrics.map((m) => packMetric(m, transfer)) })),
    })),
  };
  return { wire, transfer };
}

function packMetric(metric: OtlpMetric, transfer: ArrayBuffer[]): WireMetric {
  const data = metric.data;
  if (data.type !== 'gauge' && data.type !== 'sum') return metric;
  const { points: list, ...rest } = data;
  const n = list.length;
  const points: PackedNumberPoints = {
    values: new Float64Array(n),
    times: new BigUint64Array(n),
    starts: new BigUint64Array(n),
    flags: new Uint8Array(n),
    attributes: new Array<Attributes>(n),
  };
  const attributes = points.attributes as Attributes[];
  for (let i = 0; i < n; i++) {
    const p = list[i]!;
    if (p.value !== undefined) {
      points.values[i] = p.value;
      points.flags[i] = HAS_VALUE;
    }
    if (p.noRecordedValue) points.flags[i]! |= NO_RECORDED_VALUE;
    points.times[i] = p.timeUnixNano;
    points.starts[i] = p.startTimeUnixNano;
    attributes[i] = isEmpty(p.attributes) ? NO_ATTRIBUTES : p.attributes;
  }
  transfer.push(points.values.buffer, points.times.buffer, points.starts.buffer, points.flags.buffer);
  return { ...metric, data: { type: 'packed', data: rest, points } };
}

/** The request {@link packRequest} was given, rebuilt. */
export function unpackRequest(wire: WireRequest): OtlpExportRequest {
  return {
    resourceMetrics: wire.resourceMetrics.map((rm) => ({
      resource: rm.resource,
      scopeMetrics: rm.scopeMetrics.map((sm) => ({ scope: sm.scope, metrics: sm.metrics.map(unpackMetric) })),
    })),
  };
}

function unpackMetric(metric: WireMetric): OtlpMetric {
  const data = metric.data;
  if (data.type !== 'packed') return metric as OtlpMetric;
  const { values, times, starts, flags, attributes } = data.points;
  // Reading a bigint out of the array makes a new one: a time equal to the point before's (an
  // SDK stamps a whole collection with one time and one start) reuses that point's.
  const times32 = new Uint32Array(times.buffer);
  const starts32 = new Uint32Array(starts.buffer);
  const points = new Array<OtlpNumberPoint>(values.length);
  let time = 0n;
  let start = 0n;
  for (let i = 0; i < points.length; i++) {
    if (i === 0 || !sameAsBefore(times32, i)) time = times[i]!;
    if (i === 0 || !sameAsBefore(starts32, i)) start = starts[i]!;
    const f = flags[i]!;
    // The property order of the decoder's points (otlp/normalize.ts), so both share one shape.
    points[i] = {
      attributes: attributes[i]!,
      startTimeUnixNano: start,
      timeUnixNano: time,
      noRecordedValue: (f & NO_RECORDED_VALUE) !== 0,
      value: (f & HAS_VALUE) !== 0 ? values[i]! : undefined,
    };
  }
  return { ...metric, data: { ...data.data, points } as NumberData };
}

/** Whether 64-bit entry `i` of `words` (two 32-bit words each) equals entry `i - 1`. */
function sameAsBefore(words: Uint32Array, i: number): boolean {
  return words[2 * i] === words[2 * i - 2] && words[2 * i + 1] === words[2 * i - 1];
}

function isEmpty(attributes: Attributes): boolean {
  for (const _ in attributes) return false;
  return true;
}
