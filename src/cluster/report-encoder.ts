/**
 * A member's side of the wire: turns its cumulative collections into report chunks that describe
 * each metric and series once and then carry only what changed since the previous report.
 * One encoder per member and per destination (it remembers what it has sent).
 */
import { DataPointType } from '../common/otel-sdk.ts';
import { diag, type Attributes } from '@opentelemetry/api';
import type {
  ExponentialHistogram,
  Histogram,
  MetricData,
  ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import {
  REPORT_CHUNK_POINTS,
  WIRE_TAG,
  type MetricDef,
  type Report,
  type SeriesDef,
  type WireKind,
  type WireNumber,
  wireNumber,
} from './wire.ts';
import { Slice } from '../common/slices.ts';
import { attributeSetKey } from '../series/attribute-key.ts';
import { LastSent } from '../series/sources.ts';
import { metricKey } from '../series/temporality.ts';

interface SentMetric {
  readonly id: number;
  readonly kind: WireKind;
  /** Series by attributes object (producers keep one per series), then by content. */
  readonly byObject: WeakMap<Attributes, number>;
  readonly byKey: Map<string, number>;
  /** Up-down counter and gauge series reported and not withdrawn since. */
  readonly observed: Set<number>;
}

export function wireKind(metric: MetricData): WireKind {
  switch (metric.dataPointType) {
    case DataPointType.SUM:
      return metric.isMonotonic ? 'monotonicSum' : 'sum';
    case DataPointType.GAUGE:
      return 'gauge';
    case DataPointType.HISTOGRAM:
      return 'histogram';
    case DataPointType.EXPONENTIAL_HISTOGRAM:
      return 'exponentialHistogram';
  }
}

/**
 * What the histogram min and max of the collections an encoder reports are: the life's (none
 * given), or with `added` those of the values recorded since the previous collection (the member's
 * first: its life's). `late`: an earlier encoder reported the member's collections before (to
 * another aggregate), so the first report's would be of less than it adds: it sends none.
 */
export interface ExtremesOf {
  readonly added?: boolean;
  readonly late?: boolean;
}

export class ReportEncoder {
  readonly #instance: string;
  readonly #metrics = new Map<string, SentMetric>();
  /** What was last sent of each series (by its id), kept by the store: a report carries what changed. */
  readonly #last = new LastSent();
  readonly #warned = new Set<string>();
  #nextMetric = 0;
  #nextSeries = 0;
  /** Whether the histogram min and max it sends are of what each report adds ({@link ExtremesOf}). */
  readonly #added: boolean;
  /** Whether they are not known for the next report: none is sent. */
  #unknown: boolean;

  constructor(instance: string, extremes: ExtremesOf = {}) {
    this.#instance = instance;
    this.#added = extremes.added === true;
    this.#unknown = extremes.added === true && extremes.late === true;
  }

  /**
   * The report of one collection, in chunks of at most {@link REPORT_CHUNK_POINTS} points, the
   * last one marked `end` (and `bye` when asked). A generator, so the caller sends each chunk as
   * it is made and can give the event loop back between them.
   */
  *chunks(rm: ResourceMetrics, seq: number, bye = false): Generator<Report> {
    let chunk = this.#empty(seq);
    let points = 0;
    const full = (): boolean => points >= REPORT_CHUNK_POINTS;
    for (const sm of rm.scopeMetrics) {
      for (const metric of sm.metrics) {
        const kind = wireKind(metric);
        // Read once: a producer may make the points when they are read.
        const dataPoints: ReadonlyArray<{ attributes: Attributes; value: unknown }> =
          metric.dataPoints;
        // A histogram is described with its first point's buckets.
        if (kind === 'histogram' && dataPoints.length === 0) continue;
        const mkey = metricKey(sm.scope, metric.descriptor.name);
        let sent = this.#metrics.get(mkey);
        if (sent === undefined) {
          sent = {
            id: this.#nextMetric++,
            kind,
            byObject: new WeakMap(),
            byKey: new Map(),
            observed: new Set(),
          };
          this.#metrics.set(mkey, sent);
          const d = metric.descriptor;
          const bounds =
            kind === 'histogram' ? (dataPoints[0]!.value as Histogram).buckets.boundaries : null;
          const def: MetricDef = [
            sent.id,
            sm.scope.name,
            sm.scope.version ?? '',
            d.name,
            d.description,
            d.unit,
            kind,
            d.valueType,
            bounds,
          ];
          (chunk.m ??= []).push(def);
          points++;
        } else if (sent.kind !== kind) {
          this.#warnOnce(
            metric.descriptor.name,
            'its kind changed; it keeps the kind it was first reported with',
          );
          continue;
        }
        const seen = sent.kind === 'sum' || sent.kind === 'gauge' ? new Set<number>() : undefined;
        for (const point of dataPoints) {
          if (full()) {
            yield chunk;
            chunk = this.#empty(seq);
            points = 0;
          }
          const attributes = point.attributes;
          let sid = sent.byObject.get(attributes);
          if (sid === undefined) {
            const key = attributeSetKey(attributes);
            sid = sent.byKey.get(key);
            if (sid === undefined) {
              sid = this.#nextSeries++;
              sent.byKey.set(key, sid);
              const def: SeriesDef = [sid, sent.id, { ...attributes }];
              (chunk.s ??= []).push(def);
              points++;
            }
            sent.byObject.set(attributes, sid);
          }
          seen?.add(sid);
          if (kind === 'histogram') {
            const h = point.value as Histogram;
            if (!this.#last.histogram(sid, h.count, h.sum ?? 0)) continue;
            const row: Array<WireNumber | null> = [
              h.count,
              wireNumber(h.sum ?? 0),
              this.#unknown ? null : finiteOrNull(h.min),
              this.#unknown ? null : finiteOrNull(h.max),
              ...h.buckets.counts,
            ];
            (chunk.h ??= []).push(sid, row.length, ...row);
          } else if (kind === 'exponentialHistogram') {
            const x = point.value as ExponentialHistogram;
            if (!this.#last.histogram(sid, x.count, x.sum ?? 0)) continue;
            const { positive, negative } = x;
            const row = [
              x.count,
              wireNumber(x.sum ?? 0),
              x.scale,
              x.zeroCount,
              positive.offset,
              positive.bucketCounts.length,
              negative.offset,
              ...positive.bucketCounts,
              ...negative.bucketCounts,
            ];
            (chunk.e ??= []).push(sid, row.length, ...row);
          } else {
            const value = point.value as number;
            if (!this.#last.number(sid, value)) continue;
            (chunk.v ??= []).push(sid, wireNumber(value));
            if (seen !== undefined) sent.observed.add(sid);
          }
          points++;
        }
        if (seen !== undefined) {
          for (const sid of sent.observed) {
            if (seen.has(sid)) continue;
            sent.observed.delete(sid);
            this.#last.forget(sid);
            (chunk.x ??= []).push(sid);
            points++;
          }
        }
      }
    }
    this.#unknown = false;
    yield { ...chunk, end: true, ...(bye && { bye: true }) };

    function finiteOrNull(n: number | undefined): number | null {
      return n === undefined || !Number.isFinite(n) ? null : n;
    }
  }

  /** Hands each chunk of {@link chunks} to `to` as it is made, giving the event loop back between slices. */
  async send(rm: ResourceMetrics, seq: number, to: (chunk: Report) => void, bye = false) {
    const slice = new Slice();
    for (const chunk of this.chunks(rm, seq, bye)) {
      to(chunk);
      if (slice.due()) await slice.next();
    }
  }

  #empty(seq: number): { -readonly [K in keyof Report]: Report[K] } {
    return {
      tag: WIRE_TAG,
      t: 'report',
      instance: this.#instance,
      seq,
      end: false,
      ...(this.#added && { w: true }),
    };
  }

  #warnOnce(name: string, why: string): void {
    if (this.#warned.has(name)) return;
    this.#warned.add(name);
    diag.warn(`jobmeter cluster: ${name} is not sent to the primary: ${why}`);
  }
}
