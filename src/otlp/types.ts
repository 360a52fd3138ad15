/**
 * An OTLP metrics export request after decoding, the same whichever encoding it came in
 * (protobuf or OTLP/JSON): plain values, nanosecond times as `bigint`, attributes as OpenTelemetry
 * `Attributes`. Only what the ingest path uses is kept; exemplars, flags other than
 * "no recorded value", schema URLs and exponential histograms' min and max are dropped.
 */
import type { Attributes } from '@opentelemetry/api';

export type OtlpEncoding = 'protobuf' | 'json';

/** `AGGREGATION_TEMPORALITY_UNSPECIFIED` is kept so the ingest path can refuse it by name. */
export type OtlpTemporality = 'delta' | 'cumulative' | 'unspecified';

export interface OtlpExportRequest {
  readonly resourceMetrics: readonly OtlpResourceMetrics[];
}

export interface OtlpResourceMetrics {
  /** Resource attributes (`service.name`, …). */
  readonly resource: Attributes;
  readonly scopeMetrics: readonly OtlpScopeMetrics[];
}

export interface OtlpScopeMetrics {
  readonly scope: { readonly name: string; readonly version: string };
  readonly metrics: readonly OtlpMetric[];
}

export interface OtlpMetric {
  readonly name: string;
  readonly description: string;
  readonly unit: string;
  readonly data: OtlpMetricData;
  /** Set when the request carries the metric but its points cannot be kept: all of them are refused with this reason. */
  readonly unreadable?: OtlpUnreadable;
}

/**
 * What a request the Collector's receiver accepts may carry that the ingest cannot keep, found while
 * decoding: the point (or every point of the metric) is refused with it in `partial_success`,
 * never the whole request.
 * - `invalid_utf8`: a string a label value is made of (a point's attribute value, the scope's name
 *   or version) is not UTF-8; the Collector's prometheus exporter drops those series too.
 * - `too_deep`: an attribute value nested deeper than `MAX_ANY_VALUE_DEPTH` levels.
 * - `unknown_temporality`: an AggregationTemporality other than 0, 1 or 2.
 */
export type OtlpUnreadable = 'invalid_utf8' | 'too_deep' | 'unknown_temporality';

export type OtlpMetricData =
  | { readonly type: 'gauge'; readonly points: readonly OtlpNumberPoint[] }
  | {
      readonly type: 'sum';
      readonly monotonic: boolean;
      readonly temporality: OtlpTemporality;
      readonly points: readonly OtlpNumberPoint[];
    }
  | {
      readonly type: 'histogram';
      readonly temporality: OtlpTemporality;
      readonly points: readonly OtlpHistogramPoint[];
    }
  | {
      readonly type: 'exponentialHistogram';
      readonly temporality: OtlpTemporality;
      readonly points: readonly OtlpExponentialHistogramPoint[];
    }
  /** Kept only as a count: the ingest path refuses these points (no Prometheus rendering worth having). */
  | { readonly type: 'summary'; readonly pointCount: number }
  /** A metric without any data field. */
  | { readonly type: 'empty' };

interface OtlpPointBase {
  readonly attributes: Attributes;
  /** 0n when the sender left it out. */
  readonly startTimeUnixNano: bigint;
  readonly timeUnixNano: bigint;
  /** `FLAG_NO_RECORDED_VALUE`: the point marks the series as gone (a staleness marker). */
  readonly noRecordedValue: boolean;
  /** Set when the point cannot be kept (see {@link OtlpUnreadable}). */
  readonly unreadable?: OtlpUnreadable;
}

export interface OtlpNumberPoint extends OtlpPointBase {
  /** `as_double` or `as_int`; undefined when the point carries neither. */
  readonly value: number | undefined;
}

export interface OtlpHistogramPoint extends OtlpPointBase {
  readonly count: number;
  /** Undefined when the sender left it out (it is optional in OTLP). */
  readonly sum: number | undefined;
  /** `explicit_bounds.length + 1` counts, or both empty (a count-only histogram). */
  readonly bucketCounts: readonly number[];
  readonly explicitBounds: readonly number[];
}

/** One side (positive or negative) of an exponential histogram: counts of buckets `offset…`. */
export interface OtlpExponentialBuckets {
  readonly offset: number;
  readonly bucketCounts: readonly number[];
}

export interface OtlpExponentialHistogramPoint extends OtlpPointBase {
  readonly count: number;
  /** Undefined when the sender left it out. */
  readonly sum: number | undefined;
  readonly scale: number;
  readonly zeroCount: number;
  readonly zeroThreshold: number;
  readonly positive: OtlpExponentialBuckets;
  readonly negative: OtlpExponentialBuckets;
}

/**
 * The body of a successful answer. `rejectedDataPoints = 0` with a message is a warning, as the
 * OTLP specification allows.
 */
export interface OtlpPartialSuccess {
  readonly rejectedDataPoints: number;
  readonly errorMessage: string;
}

/** `google.rpc.Code` values the ingest fronts answer with (gRPC's status codes are the same). */
export const RPC_CODE = {
  OK: 0,
  INVALID_ARGUMENT: 3,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  /** What a gRPC server answers for a method or a message encoding it lacks: no ingest answer's row. */
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

/** A body that does not decode: the listener answers 400 with a google.rpc.Status. */
export class OtlpDecodeError extends Error {
  override name = 'OtlpDecodeError';
}
