/**
 * What a rule compiler (native-rules.ts, table-rules.ts) makes for one instrument of one scope,
 * and the naming pass (to-families.ts) keeps and runs at every collection; and the one way a
 * compiled rule emits an instrument's series into its family ({@link emitSeries}).
 */
import type { Attributes } from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
import { DataPointType } from '../common/otel-sdk.ts';
import { namingLevelMerge } from '../domain/merge-rules.ts';
import { LEVEL } from '../series/aggregation.ts';
import type { ReadFigures, RuleSources } from '../series/carry.ts';
import { boundsOf, type CollectedSeries, type DormantSeries } from '../series/collection.ts';
import { scaled, seriesExemplar, seriesStartMillis } from './data-points.ts';
import {
  addHistogram,
  addKeyed,
  addNumber,
  indexOf,
  type Feed,
  type FamilyBuilder,
  type FamilyHead,
} from './family-builder.ts';
import { scopeKey } from '../series/attribute-key.ts';
import type { LabelColumn, SeriesCache } from './series-cache.ts';
import { classicBuckets, nativeOf } from './exponential.ts';

export interface CompiledRule {
  readonly family: FamilyHead;
  /** Whether two points of this one instrument can land on the same label set (then they are summed). */
  readonly merges: boolean;
  /**
   * Whether the family's series carry their sources one by one (a counter's or histogram's that
   * merges series that come and go: a legacy table's, the native one's without scope labels;
   * series/carry.ts `RuleSources`).
   */
  readonly carries: boolean;
  /** The labels a series of attributes `key` is rendered with, as attributes (what the push sends). */
  readonly named: (key: Attributes) => Attributes;
  /** The scope the push sends the family's series under (the native profile's scope labels); none: its own. */
  readonly scope?: InstrumentationScope;
  /** Which figure of a histogram: its buckets (`value`), or its `sum` or `count` as a number. */
  readonly from: 'value' | 'sum' | 'count';
  /** Multiplier of values and sums (seconds → milliseconds: 1000). */
  readonly scale: number;
  /** Series carry their start times. */
  readonly starts: boolean;
  /** A number family that takes a set's label column as it is when it can (addKeyed: native rules). */
  readonly keyed: boolean;
  /** Its label strings' maker and what it rendered last time. */
  readonly cache: SeriesCache;
}

/** A series' figures as it left its store (series/carry.ts `Departure`), as `rule` reads them. */
function readFigures({ from, scale }: CompiledRule): ReadFigures {
  return (f) =>
    typeof f === 'number'
      ? scaled(f, scale)
      : from === 'value'
        ? { ...f, sum: scaled(f.sum, scale) }
        : from === 'sum'
          ? scaled(f.sum, scale)
          : f.count;
}

/**
 * The label string a dormant series of the ingest's (series/collection.ts `DormantSeries`) is served
 * under by `rule`; with `sources` (the rule {@link CompiledRule.carries}), its source is counted
 * there as a gone one (carry.ts `RuleSources.dormant`).
 */
export function dormantSeries(
  rule: CompiledRule,
  series: DormantSeries['series'][number],
  sources: RuleSources | undefined,
): string {
  const labels = rule.cache.labels.render(series.attributes);
  const { figures, bounds } = series;
  if (sources !== undefined && figures !== undefined) {
    const left = { figures, last: figures, ...(bounds !== undefined && { bounds }) };
    const start = rule.starts ? series.start : 0;
    sources.dormant(series.attributes, labels, left, start, readFigures(rule));
  }
  return labels;
}

/**
 * Appends one instrument's series to `out` as `rule` reads them, from its columns (a store's series
 * set, or a producer's points as columns, series/metric-columns.ts), with the label strings its
 * cache holds (series-cache.ts `LabelMemo`): nothing per series is made or kept here but a
 * histogram's series object. `sources`: where each series is carried as a source of its served
 * series (a set whose series expire, when the rule carries). Returns the label column it read.
 */
export function emitSeries(
  rule: CompiledRule,
  series: CollectedSeries,
  out: FamilyBuilder,
  sources: RuleSources | undefined,
): LabelColumn {
  const { from, scale, starts, cache } = rule;
  const type = rule.family.type;
  // Two series on one label set: a level's combine by its instrument's rule, an info's 1 stays 1,
  // any other figure (a counter's, a histogram's sum or count) adds up.
  const merge =
    type === 'gauge'
      ? namingLevelMerge(series.descriptor.name)
      : type === 'info'
        ? LEVEL.max
        : LEVEL.sum;
  const n = series.n;
  const labels = cache.labels.column(series);
  cache.trim(n);
  const kind = series.dataPointType;
  const histogram =
    kind === DataPointType.HISTOGRAM || kind === DataPointType.EXPONENTIAL_HISTOGRAM;
  // Sets that render one label set are one series of the exposition: served under the first's
  // string and merged into it, as the family merges what several instruments feed. Several rules'
  // series (an instrument's of several scopes, served without scope labels) may have one label
  // set in another key order; series of another scope's labels never share one.
  const shared = (f: Feed) =>
    f.scope === undefined || rule.scope === undefined || scopeKey(f.scope) === scopeKey(rule.scope);
  const served =
    rule.keyed && (labels.collides === true || out.sets !== undefined || out.feeds.some(shared))
      ? servedLabels(labels, rule, n, out)
      : undefined;
  if (served !== undefined) out.index ??= indexOf(out);
  if (
    served === undefined &&
    !histogram &&
    rule.keyed &&
    sources === undefined &&
    out.created === undefined &&
    (type !== 'counter' || series.exemplars === undefined)
  ) {
    // The label column as it is (no string read for a renderer that keeps its rendering), and one array of values.
    addKeyed(out, labels, n, series.values, merge);
  } else {
    // Read here only: the strings of every series are made (and kept by the cache) when first read,
    // which the keyed path above must not pay for.
    const strings = served ?? labels.strings;
    // A source is carried by its own attributes: a column's keys tell its label strings' series,
    // and two points of a producer's (metric-columns.ts) that render one string share a key.
    const keys = series.attributes;
    const read = readFigures(rule);
    /** Series i's `value` as its part of the served series (carried when sources are). */
    const part = (i: number, value: number, created: number): number =>
      sources === undefined ? value : sources.report(keys[i]!, strings[i]!, value, created, read);
    for (let i = 0; i < n; i++) {
      const created = starts ? seriesStartMillis(series, i) : 0;
      if (!histogram || from !== 'value') {
        // A number series' value, or a histogram's sum or count as one (an info's value is 1).
        const value = !histogram
          ? scaled(series.values[i]!, scale)
          : from === 'sum'
            ? scaled(series.sums[i]!, scale)
            : series.counts[i]!;
        const exemplar = histogram ? undefined : seriesExemplar(series.exemplars?.[i], type, scale);
        const served = type === 'info' && !histogram ? 1 : part(i, value, created);
        addNumber(out, strings[i]!, served, created, exemplar, merge);
      } else if (kind === DataPointType.EXPONENTIAL_HISTOGRAM && sources === undefined)
        // Base-2 exponential buckets (the instrument's, or a host View's): the family keeps its
        // name and type, its buckets are the exponential ones (native in protobuf when unscaled).
        addHistogram(
          out,
          cache.exponential(
            i,
            strings[i]!,
            series.exponentials![i]!,
            scale,
            starts ? created : undefined,
          ),
        );
      else {
        // Explicit buckets; or a carried source of exponential ones, carried and served by its
        // classic buckets (what a text scrape reads of it): the carry keeps rows of explicit
        // buckets. Their layout follows the range it observed, which its restart (or a delta
        // sender's return after its series expired) narrows: the carry keeps every bound it was
        // counted in.
        const classic =
          kind === DataPointType.EXPONENTIAL_HISTOGRAM
            ? classicBuckets(nativeOf(series.exponentials![i]!), scale)
            : undefined;
        const part = sources?.reportHistogram(
          keys[i]!,
          strings[i]!,
          classic?.bounds ?? boundsOf(series, i),
          classic?.counts ?? series.values,
          classic === undefined ? i * series.stride : 0,
          scaled(series.sums[i]!, scale),
          series.counts[i]!,
          created,
          read,
        );
        addHistogram(
          out,
          cache.histogramAt(
            i,
            series,
            strings[i]!,
            scale,
            starts ? created : undefined,
            part?.acc,
            part?.bounds,
          ),
        );
      }
    }
  }
  if (labels.nonAscii > 0) out.ascii = false;
  return labels;
}

/**
 * Each of the first `n` series' label string as served: the string of the family's first series
 * whose labels are the same set as its own, in any order (the family's `sets`, made from what fed
 * it before).
 */
function servedLabels(
  column: LabelColumn,
  rule: CompiledRule,
  n: number,
  out: FamilyBuilder,
): string[] {
  const sets = (out.sets ??= new Map<string, string>());
  const serve = (of: Pick<Feed, 'named' | 'scope'>, key: Attributes, labels: string): string => {
    const set = labelSet(of, key);
    const s = sets.get(set);
    if (s !== undefined) return s;
    sets.set(set, labels);
    return labels;
  };
  if (sets.size === 0)
    for (const feed of out.feeds)
      feed.column.strings.forEach((s, i) => serve(feed, feed.column.keys[i]!, s));
  const { strings, keys } = column;
  const served = new Array<string>(n);
  for (let i = 0; i < n; i++) served[i] = serve(rule, keys[i]!, strings[i]!);
  return served;
}

/** The label set `key` is served with by a rule (its scope's, names and values in name order). */
function labelSet(of: Pick<Feed, 'named' | 'scope'>, key: Attributes): string {
  const labels = Object.entries(of.named(key)).sort(([a], [b]) => (a < b ? -1 : 1));
  return JSON.stringify([of.scope === undefined ? '' : scopeKey(of.scope), labels]);
}
