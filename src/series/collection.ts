/**
 * What one collection gathered, as the naming pass reads it: the store's instruments at one
 * instant, as columns (series-store.ts), then what producers outside the store gave as
 * OpenTelemetry `MetricData` (the SDK's instruments, a host's producers: the boundary in), then the
 * ingest's series sets, as columns too (ingest/collect.ts). The order is the families' order and
 * the order names are claimed in (naming/to-families.ts).
 */
import { DataPointType } from '../common/otel-sdk.ts';
import type { Attributes, HrTime } from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
import type {
  AggregationTemporality,
  DataPoint,
  ExponentialHistogram,
  Histogram,
  MetricData,
  MetricDescriptor,
  ResourceMetrics,
  ScopeMetrics,
} from '@opentelemetry/sdk-metrics';
import type { HistogramAcc } from './aggregation.ts';

/** A trace-linked exemplar (domain/exemplars.ts): the latest record made in a sampled span. */
export interface Exemplar {
  /** The value recorded (a counter's increment, a histogram's observation). */
  readonly value: number;
  /** When it was recorded, Unix ms. */
  readonly timeMillis: number;
  /** 32 lowercase hex digits. */
  readonly traceId: string;
  /** 16 lowercase hex digits. */
  readonly spanId: string;
}

/** One instrument's series at the collection's instant. */
export interface CollectedSeries {
  readonly descriptor: MetricDescriptor;
  /** As the MetricData of the same instrument would say (EXPONENTIAL_HISTOGRAM: see {@link exponentials}). */
  readonly dataPointType: DataPointType;
  readonly isMonotonic: boolean;
  readonly aggregationTemporality: AggregationTemporality;
  /** Series in the collection. */
  readonly n: number;
  /** Each series' attributes, by position (stable objects; positions change only when series are removed). */
  readonly attributes: readonly Attributes[];
  /** A sum's or gauge's values; a histogram's bucket counts, `stride` per series. Views of the collection's storage. */
  readonly values: Float64Array;
  /** Histograms: buckets per series (bounds + the +Inf one), and the bounds. */
  readonly stride: number;
  readonly bounds: readonly number[];
  /**
   * Histograms whose series differ in bucket layout (one view of several sets, ingest/collect.ts):
   * each series' own bounds, its buckets the first `bounds.length + 1` of its `stride`. Read a
   * series' bounds with {@link boundsOf}.
   */
  readonly seriesBounds?: readonly (readonly number[])[];
  /**
   * Exponential histograms (their buckets fit no columns): each series' figures; {@link sums} and
   * {@link counts} hold their sums and counts too.
   */
  readonly exponentials?: readonly ExponentialHistogram[];
  /** Histograms: sum and count per series. */
  readonly sums: Float64Array;
  readonly counts: Float64Array;
  /** The latest exemplar per series (sums) or per bucket (histograms); undefined when the set keeps none. */
  readonly exemplars: readonly (Exemplar | undefined)[] | undefined;
  /** Every series' start time (the store's start), unless the set keeps one per series: */
  readonly startTime: HrTime;
  /** Sets that keep a start per series (series-set.ts `keepStarts`): its two parts, by series. */
  readonly startSeconds?: Float64Array;
  readonly startNanos?: Float64Array;
  /**
   * A set whose series were removed (series-set.ts `compact`): the attributes array before its last
   * compaction, of which {@link attributes} is the series left, in order, and those made since.
   * What a reader keeps by position follows (naming/series-cache.ts `LabelMemo`).
   */
  readonly compactedFrom: readonly Attributes[] | undefined;
}

export interface CollectedScope {
  readonly scope: InstrumentationScope;
  readonly series: readonly CollectedSeries[];
}

/**
 * One scope of what a writer outside the store gave at the collection's instant (the ingest's):
 * its series sets as columns, in their order, and MetricData only where figures are no series of a
 * set (made from others, or a count of its own).
 */
export interface IngestedScope {
  readonly scope: InstrumentationScope;
  readonly series: readonly (CollectedSeries | MetricData)[];
  /** jobmeter's own (the runs derived from the senders' series, the refused points): none leaves. */
  readonly own?: true;
}

/**
 * Series of one instrument of one scope the ingest holds dormant (restored with no sender of them
 * known alive): not served. Each is counted in its label set as a gone source is (carry.ts
 * `RuleSources.dormant`), and a label set one holds is served again when a sender wakes it, so
 * what gone sources counted in it is kept meanwhile (carry.ts `settle`). One that went unwoken is
 * handed to the next pass so too, by the carry (carry.ts `SourceTotals.departedSeries`).
 */
export interface DormantSeries {
  readonly scope: InstrumentationScope;
  readonly metric: Pick<CollectedSeries, 'descriptor' | 'dataPointType' | 'isMonotonic'>;
  readonly series: readonly {
    readonly attributes: Attributes;
    /** Its start, Unix ms. */
    readonly start: number;
    /** What it counted, as carry.ts `Departure` figures are (none: a level, which no rule carries). */
    readonly figures?: number | HistogramAcc;
    readonly bounds?: readonly number[];
  }[];
}

/**
 * The ingest's part of a collection: its scopes, read at `endTime`, and the collection's fields it
 * gives (`held`: the last checkpoint's copy of the store's series, served while writes fail,
 * ingest/state-keeper.ts).
 */
export interface IngestedPart extends Pick<Collection, 'dormant' | 'held' | 'done' | 'passed'> {
  readonly scopes: readonly IngestedScope[];
  readonly endTime: HrTime;
}

/**
 * The resource a collection describes, as the naming pass reads it: its attributes. A Resource of
 * `@opentelemetry/resources` is one; a collection of the store alone needs no such object (the
 * package stays unloaded: common/otel-sdk.ts).
 */
export interface CollectionResource {
  readonly attributes: Attributes;
}

/** What producers outside the store gave: a ResourceMetrics, or the store's resource alone. */
export interface CollectedOthers {
  readonly resource: CollectionResource;
  readonly scopeMetrics: readonly ScopeMetrics[];
}

export interface Collection {
  /** The resource every series describes. */
  readonly resource: CollectionResource;
  /** The store's instruments, scope by scope (read first). */
  readonly series: readonly CollectedScope[];
  /** What producers outside the store gave (read after). */
  readonly metrics: readonly ScopeMetrics[];
  /** What the ingest gave (read last): none of it is in `metrics`. */
  readonly ingested: readonly IngestedScope[];
  /** The ingest's dormant series ({@link DormantSeries}): none served. */
  readonly dormant?: readonly DormantSeries[];
  /**
   * The cluster's aggregate (cluster/aggregate.ts): it carries every process's series across their
   * absences itself, the primary's producers' and ingest's among them, so no source of a naming
   * pass's carry (carry.ts `SourceTotals`) leaves in a pass of it.
   */
  readonly aggregate?: true;
  /**
   * The ingest's part is the last checkpoint's copy of its series ({@link IngestedPart.held}): a
   * source of a naming pass's carry keeps its identity, the live series' (carry.ts `SourceTotals.begin`).
   */
  readonly held?: true;
  /**
   * Says the reader is done: nothing it keeps views the collection's figures (the naming pass
   * copies them into its families). The store then copies the next collection into the same
   * storage, already mapped (series-store.ts). Later calls do nothing; not calling it is fine.
   */
  done(): void;
  /**
   * Says the naming pass is over, before what it named is served: resolves once the ingest's
   * state file holds what the pass decided of the series that left since the last one (ingest/
   * state-keeper.ts), so a restart right after the scrape does not serve less than it did.
   */
  readonly passed?: () => Promise<void>;
}

/** Series `i`'s start time: its own when the set keeps one per series, else the set's. */
export function startOf(
  series: Pick<CollectedSeries, 'startTime' | 'startSeconds' | 'startNanos'>,
  i: number,
): HrTime {
  return series.startSeconds === undefined
    ? series.startTime
    : [series.startSeconds[i]!, series.startNanos![i]!];
}

/** Series `i`'s bounds: its own in a view of several layouts, else the set's. */
export function boundsOf(
  series: Pick<CollectedSeries, 'bounds' | 'seriesBounds'>,
  i: number,
): readonly number[] {
  return series.seriesBounds === undefined ? series.bounds : series.seriesBounds[i]!;
}

/** An entry of an {@link IngestedScope} that is MetricData (else a series set's columns). */
export function isMetricData(entry: CollectedSeries | MetricData): entry is MetricData {
  return 'dataPoints' in entry;
}

/** A collection of producers' MetricData only (a host's own reader's, a test's). */
export function metricsCollection(rm: ResourceMetrics): Collection {
  return { resource: rm.resource, series: [], metrics: rm.scopeMetrics, ingested: [], done() {} };
}

/** `c` with the ingest's `part` read last; done once both are. */
export function withIngested(c: Collection, part: IngestedPart): Collection {
  return {
    resource: c.resource,
    series: c.series,
    metrics: c.metrics,
    ingested: part.scopes,
    ...(part.dormant !== undefined && { dormant: part.dormant }),
    ...(part.held && { held: true }),
    done() {
      c.done();
      part.done();
    },
    ...(part.passed !== undefined && { passed: part.passed }),
  };
}

/**
 * `series` as OpenTelemetry MetricData at `endTime`, the one way out of columns (the push's, a
 * standard reader's, the cluster report's): each series a point with its own start, bounds and
 * exemplars, its figures copied. A histogram's min and max are the set's snapshot's (`minMax`:
 * columns carry none), where it keeps them: the life's, or a delta reader's window's.
 */
export function metricDataOf(
  series: CollectedSeries,
  endTime: HrTime,
  minMax?: { readonly mins?: Float64Array; readonly maxs?: Float64Array },
): MetricData {
  const { n, stride, values, exemplars } = series;
  const histogram = series.dataPointType === DataPointType.HISTOGRAM;
  const dataPoints = new Array<DataPoint<unknown> & { exemplars?: Exemplar[] }>(n);
  for (let i = 0; i < n; i++) {
    let value: number | Histogram | ExponentialHistogram = series.exponentials?.[i] ?? values[i]!;
    if (histogram) {
      const boundaries = boundsOf(series, i);
      const count = series.counts[i]!;
      const counts = Array.from(values.subarray(i * stride, i * stride + boundaries.length + 1));
      value = {
        buckets: { boundaries: boundaries as number[], counts },
        sum: series.sums[i]!,
        count,
      };
      // The life's or a delta reader's window's min and max (temporality.ts). A writer that
      // carries other sources' points (a cluster member's: output-set.ts `widen`) may know no min
      // or max: none is given.
      const { mins, maxs } = minMax ?? {};
      if (mins !== undefined && count > 0) {
        if (Number.isFinite(mins[i]!)) value.min = mins[i]!;
        if (Number.isFinite(maxs![i]!)) value.max = maxs![i]!;
      }
    }
    dataPoints[i] = {
      attributes: series.attributes[i]!,
      startTime: startOf(series, i),
      endTime,
      value,
    };
    const e = histogram ? exemplarsAt(exemplars, i, stride) : exemplars?.[i] && [exemplars[i]!];
    if (e !== undefined) dataPoints[i]!.exemplars = e;
  }
  return {
    descriptor: series.descriptor,
    aggregationTemporality: series.aggregationTemporality,
    dataPointType: series.dataPointType,
    dataPoints,
    ...(series.dataPointType === DataPointType.SUM && { isMonotonic: series.isMonotonic }),
  } as MetricData;
}

/** The exemplars kept for series `i` (one slot per bucket, `stride` per series); undefined when none. */
function exemplarsAt(
  held: readonly (Exemplar | undefined)[] | undefined,
  i: number,
  stride: number,
): Exemplar[] | undefined {
  if (held === undefined) return undefined;
  let out: Exemplar[] | undefined;
  for (let k = i * stride, end = k + stride; k < end; k++)
    if (held[k] !== undefined) (out ??= []).push(held[k]!);
  return out;
}
