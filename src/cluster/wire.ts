/**
 * The messages between a cluster member (a `node:cluster` worker or a worker thread) and the
 * process that serves the aggregate (the primary). Compact by design: a metric and a series are
 * described once per member, then a report carries only the series whose values changed, as flat
 * number arrays, cut into chunks of at most {@link REPORT_CHUNK_POINTS} points so the primary
 * parses and merges a big member a chunk per turn. Values are the member's cumulative ones (not
 * deltas): a report that arrives late, or never, costs freshness, never a count.
 */
import type { Attributes } from '@opentelemetry/api';
import type { Shape } from '../series/output-set.ts';

/** Tells jobmeter's messages from the host's own on a shared channel. */
export const WIRE_TAG = 'jobmeter.cluster.v1';

/** Points per report message; a bigger report is several messages, merged as they arrive. */
export const REPORT_CHUNK_POINTS = 512;

/** How a member's series merge: the store's shape of its metric. */
export type WireKind = Shape;

/** `[metricId, scopeName, scopeVersion, name, description, unit, kind, valueType, boundaries]` */
export type MetricDef = [
  number,
  string,
  string,
  string,
  string,
  string,
  WireKind,
  number,
  number[] | null,
];

/** A figure as it travels: JSON (the node:cluster channel's default serialization) has no infinity, so it goes as text. */
export type WireNumber = number | 'Infinity' | '-Infinity';

/** `n` as it travels ({@link WireNumber}). */
export const wireNumber = (n: number): WireNumber =>
  n === Infinity ? 'Infinity' : n === -Infinity ? '-Infinity' : n;

/** `[seriesId, metricId, attributes]` */
export type SeriesDef = [number, number, Attributes];

/** Member -> primary: this member's jobmeter exists (`instance` tells a re-created one apart). */
export interface Hello {
  readonly tag: typeof WIRE_TAG;
  readonly t: 'hello';
  readonly instance: string;
}

/**
 * Member -> primary: one chunk of a report. `seq` is the collect request it answers (0: sent
 * unasked, at the member's shutdown); `end` marks the report's last chunk; `bye` that the member's
 * jobmeter has shut down (its up-down counters and gauges leave the aggregate, its counters stay).
 */
export interface Report {
  readonly tag: typeof WIRE_TAG;
  readonly t: 'report';
  readonly instance: string;
  readonly seq: number;
  readonly end: boolean;
  readonly bye?: boolean;
  /** Metrics described for the first time. */
  readonly m?: MetricDef[];
  /** Series described for the first time. */
  readonly s?: SeriesDef[];
  /**
   * Number series: `seriesId, value` pairs, flat. A sum past the largest double is the text
   * `Infinity` or `-Infinity` here and as a histogram's sum ({@link WireNumber}).
   */
  readonly v?: WireNumber[];
  /**
   * Histogram series: `seriesId, n, count, sum, min, max, bucketCounts...` (n: the row's length from
   * `count` on), flat; min/max null when unknown, else the series' life's, or with `w` those of the
   * values recorded since the member's previous report to this aggregate.
   */
  readonly h?: Array<WireNumber | null>;
  /**
   * Exponential histogram series: `seriesId, n, count, sum, scale, zeroCount, positiveOffset,
   * positiveLength, negativeOffset, positiveCounts..., negativeCounts...` (n: the row's length from
   * `count` on), flat.
   */
  readonly e?: WireNumber[];
  /** The histogram rows' min and max are of what each adds (its values since the previous report). */
  readonly w?: true;
  /** Up-down counter and gauge series no longer observed by the member. */
  readonly x?: number[];
}

/**
 * Primary -> member: report now (`collect`), your hello was heard (`welcome`), or an aggregate has
 * started and wants a hello (`ready`). `aggregate` names the aggregate (welcome, ready): a member
 * describes everything again only to an aggregate it has not reported to.
 */
export interface ToMember {
  readonly tag: typeof WIRE_TAG;
  readonly t: 'collect' | 'welcome' | 'ready';
  readonly seq?: number;
  readonly aggregate?: string;
}

export type FromMember = Hello | Report;

export function isWire(msg: unknown): msg is FromMember | ToMember {
  return typeof msg === 'object' && msg !== null && (msg as { tag?: unknown }).tag === WIRE_TAG;
}
