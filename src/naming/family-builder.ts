/**
 * One family under construction in a naming pass: series appended, or merged into the series with
 * the same label string, and the finished family as the renderers take it (a RenderFamily: the
 * columns and `ascii` mark are made here, where the label strings are known).
 */
import type {
  ExpositionExemplar,
  FamilyType,
  HistogramSeries,
  NumberSeries,
} from '../exposition/types.ts';
import type {
  NumberColumns,
  RenderFamily,
  RenderHistogramSeries,
} from '../exposition/render-model.ts';
import { ValueType, type Attributes, type HrTime } from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
import type {
  DataPoint,
  MetricData,
  ResourceMetrics,
  ScopeMetrics,
} from '@opentelemetry/sdk-metrics';
import { AggregationTemporality, DataPointType } from '../common/otel-sdk.ts';
import { bucketsOf } from '../common/exponential-histogram.ts';
import { replaces, type NamedExemplar } from './data-points.ts';
import type { LabelColumn } from './series-cache.ts';
import { holdShape } from '../common/held-shapes.ts';
import { columnsFamily } from '../exposition/samples.ts';
import { HISTOGRAM, LEVEL } from '../series/aggregation.ts';
import { scopeKey } from '../series/attribute-key.ts';
import { sameBounds } from '../series/carry.ts';
import { addNative, classicBuckets, otelOf } from './exponential.ts';

/** What a family is called and typed, as a compiled rule names it. */
export interface FamilyHead {
  readonly name: string;
  readonly type: FamilyType;
  readonly help: string;
  readonly unit: string;
  /** Names may be UTF-8 (the render model's `utf8Names`). */
  readonly utf8?: boolean;
}

/**
 * Series a pass put into a family: a label column (its strings, and the attributes each was made
 * from), how their maker (a compiled rule, the zero fill) names such
 * attributes as the labels it renders (label name → value, unescaped), and the scope they go under
 * in OTLP (the native profile's `otel_scope_*` labels; none: the push's own). Kept by reference
 * only: the push makes the attributes when it asks (named-metrics.ts), so a pull's pass pays
 * nothing per series for them.
 */
export interface Feed {
  readonly column: Pick<LabelColumn, 'strings' | 'keys'>;
  readonly named: (key: Attributes) => Attributes;
  readonly scope?: InstrumentationScope | undefined;
  /** The instrument is a non-monotonic sum (an up-down counter): pushed as one, not as a gauge. */
  readonly upDown?: boolean;
}

/**
 * One family under construction. Series are appended (a number family's as two columns, see
 * `RenderNumberFamily.columns`); `index` (label string -> position) exists only when merging is needed.
 */
export interface FamilyBuilder extends Omit<FamilyHead, 'utf8' | 'help'> {
  /** The first description of the instruments that feed it ({@link FamilyHead.help}). */
  help: string;
  /**
   * Number families. While `shared`, `labels` is a label column's strings ({@link settle}), never
   * changed: whatever changes a family's series takes it as its own first ({@link ownValues}).
   */
  labels: string[];
  values: number[];
  shared: boolean;
  /**
   * Number families: the series of one store set taken as they are ({@link addKeyed}); `labels` is
   * then empty until {@link settle} reads the column's strings, which only a reader of the
   * family's `labels` (or a second source of series) makes.
   */
  keyed: LabelColumn | undefined;
  /** Counter families of a profile with start timestamps: each series' start, Unix ms. */
  readonly created: number[] | undefined;
  /** Histogram families. */
  readonly series: RenderHistogramSeries[];
  /** Number families: counters' exemplars by series position, once one has any. */
  exemplars: (ExpositionExemplar | undefined)[] | undefined;
  index: Map<string, number> | undefined;
  /**
   * Label set (scope, names and values in name order) → the label string it is served under: made
   * when two attribute sets of its series may render one label set in any key order (one rule's
   * that collide, or several rules' of a family).
   */
  sets: Map<string, string> | undefined;
  /** Every label string added so far is ASCII (the render model's `ascii`). */
  ascii: boolean;
  /** Names may be UTF-8 (the render model's `utf8Names`). */
  readonly utf8: boolean;
  /** What fed its series in this pass. */
  readonly feeds: Feed[];
}

/** An empty family; `merges`: points may share a label set (then an index is kept); `starts`: counters keep start times. */
export function newBuilder(family: FamilyHead, merges: boolean, starts: boolean): FamilyBuilder {
  const created = starts && family.type === 'counter' ? [] : undefined;
  return {
    name: family.name,
    type: family.type,
    help: family.help,
    unit: family.unit,
    labels: [],
    values: [],
    shared: false,
    keyed: undefined,
    created,
    series: [],
    exemplars: undefined,
    index: merges ? new Map() : undefined,
    sets: undefined,
    ascii: true,
    utf8: family.utf8 === true,
    feeds: [],
  };
}

export function seriesCount(b: FamilyBuilder): number {
  return b.type === 'histogram'
    ? b.series.length
    : b.keyed !== undefined
      ? b.values.length
      : b.labels.length;
}

/** The family's label strings read from its keyed column into `labels` (shared), when it has one. */
export function settle(b: FamilyBuilder): void {
  if (b.keyed === undefined) return;
  b.labels = b.keyed.strings as string[];
  b.shared = true;
  b.keyed = undefined;
}

/**
 * A family of a naming pass with what fed it (none: a family made elsewhere, target_info), which the
 * profile-named push sends its series from ({@link namedMetrics}). `feeds` is not enumerable: what
 * fed a family is no part of what it says, so two families of the same series compare equal.
 */
export type NamedFamily = RenderFamily & { readonly feeds?: readonly Feed[] };

/** The finished family. A number family's `series` objects are made only if someone reads them. */
export function toFamily(b: FamilyBuilder): NamedFamily {
  const head = { name: b.name, type: b.type, help: b.help, unit: b.unit };
  const utf8 = b.utf8 && { utf8Names: true };
  let family: RenderFamily;
  if (b.type === 'histogram')
    family = { ...head, series: b.series, ascii: b.ascii, ...utf8 } as RenderFamily;
  else {
    const exemplars = b.exemplars;
    const columns: NumberColumns =
      b.keyed !== undefined
        ? keyedColumns(b.keyed, b.values)
        : {
            labels: b.labels,
            values: b.values,
            ...(b.created !== undefined && { created: b.created }),
            ...(exemplars !== undefined && { exemplars }),
          };
    family = columnsFamily({ ...head, type: b.type, columns, ascii: b.ascii, ...utf8 });
  }
  return Object.defineProperty(family, 'feeds', { value: b.feeds });
}

/**
 * Columns whose label strings are made only when read (the render memo reads `keyed` instead),
 * then kept by the rule's cache. `keyed` is not enumerable: how a rule tells its series apart is no
 * part of what the family says, so two families of the same series compare equal. Its getter is
 * shared, as exposition/samples.ts columnsFamily's (why there).
 */
function keyedColumns(keyed: LabelColumn, values: readonly number[]): NumberColumns {
  const columns = {};
  Object.defineProperty(columns, 'labels', { get: keyedLabels, enumerable: true });
  Object.defineProperty(columns, 'values', { value: values, enumerable: true });
  Object.defineProperty(columns, 'keyed', { value: keyed });
  return columns as NumberColumns;
}

function keyedLabels(this: NumberColumns): readonly string[] {
  return (this.keyed as LabelColumn).strings;
}

// Families and keyed columns are made at every scrape and dropped after it: one of each shape
// toFamily makes is held, so their hidden classes are too (common/held-shapes.ts).
for (const utf8 of [false, true]) {
  for (const type of ['counter', 'histogram'] as const)
    holdShape(toFamily(newBuilder({ name: '', type, help: '', unit: '', utf8 }, false, false)));
  const keyed = newBuilder({ name: '', type: 'counter', help: '', unit: '', utf8 }, false, false);
  keyed.keyed = { strings: [], at: () => '', keys: [], maker: keyed, nonAscii: 0 };
  holdShape(toFamily(keyed));
}

/** Label string -> position of every series so far: made when a family starts merging, and after a reorder. */
export function indexOf(b: FamilyBuilder): Map<string, number> {
  settle(b);
  const index = new Map<string, number>();
  if (b.type === 'histogram')
    for (let i = 0; i < b.series.length; i++) index.set(b.series[i]!.labels, i);
  else for (let i = 0; i < b.labels.length; i++) index.set(b.labels[i]!, i);
  return index;
}

/** How a value joins the one its series has (compiled-rule.ts says which, by the family's type). */
export type NumberMerge = (previous: number, next: number) => number;

/**
 * Adds a series, or merges `value` into the one with these labels (`merge`: added, unless the
 * family's type and instrument say otherwise); `created` counts only for a family that keeps start
 * times (then the earliest wins); a counter's `exemplar`, the latest wins.
 */
export function addNumber(
  out: FamilyBuilder,
  labels: string,
  value: number,
  created = 0,
  exemplar?: ExpositionExemplar,
  merge: NumberMerge = LEVEL.sum,
): void {
  const values = ownValues(out);
  if (out.index !== undefined) {
    const at = out.index.get(labels);
    if (at !== undefined) {
      const was = values[at]!;
      // -0 is a series the zero fill put in and nothing fed yet (zero-fill.ts): it takes `value`.
      values[at] = Object.is(was, -0) ? value : merge(was, value);
      if (out.created !== undefined && created < out.created[at]!) out.created[at] = created;
      if (exemplar !== undefined) setExemplar(out, at, exemplar);
      return;
    }
    out.index.set(labels, out.labels.length);
  }
  if (exemplar !== undefined) setExemplar(out, out.labels.length, exemplar);
  out.labels.push(labels);
  values.push(value);
  out.created?.push(created);
}

/**
 * Adds the first `n` series of a set's columns, `labels` its label column, `values[i]` series i's
 * value (no start times, no exemplars). A family with no series yet that does not merge takes the
 * column itself (no label string read), so a renderer that keeps its own rendering asks only for
 * the strings of series new to it. The values are copied (they may be views of a snapshot's
 * storage, which its collection gives back after the pass).
 */
export function addKeyed(
  out: FamilyBuilder,
  labels: LabelColumn,
  n: number,
  values: ArrayLike<number>,
  merge: NumberMerge,
): void {
  if (
    out.labels.length === 0 &&
    out.keyed === undefined &&
    out.index === undefined &&
    out.created === undefined
  ) {
    out.keyed = labels;
    out.values = copyOf(values, n);
    return;
  }
  const strings = labels.strings;
  for (let i = 0; i < n; i++) addNumber(out, strings[i]!, values[i]!, 0, undefined, merge);
}

/** The first `n` values as a plain array of their own (they may be views of a snapshot's storage). */
function copyOf(values: ArrayLike<number>, n: number): number[] {
  const copy = new Array<number>(n);
  for (let i = 0; i < n; i++) copy[i] = values[i]!;
  return copy;
}

/** The family's values to change, its label array made its own first when shared. */
export function ownValues(b: FamilyBuilder): number[] {
  settle(b);
  if (b.shared) {
    b.labels = b.labels.slice();
    b.shared = false;
  }
  return b.values;
}

/** Series `at`'s exemplar: the latest of what it has and `e` (series merged from several points). */
function setExemplar(out: FamilyBuilder, at: number, e: ExpositionExemplar): void {
  const exemplars = (out.exemplars ??= []);
  if (replaces(exemplars[at], e.timestamp)) exemplars[at] = e;
}

/** The latest of two per-bucket exemplar lists (histogram series merged from several points). */
function latestExemplars(
  a: HistogramSeries['exemplars'],
  b: HistogramSeries['exemplars'],
): HistogramSeries['exemplars'] {
  if (a === undefined) return b;
  if (b === undefined) return a;
  const out = a.slice();
  for (let k = 0; k < b.length; k++)
    if (b[k] !== undefined && replaces(out[k], b[k]!.timestamp)) out[k] = b[k];
  return out;
}

/**
 * Adds a histogram series, or merges it into the one with these labels, in that one's bucket layout
 * (native buckets only when both have them).
 */
export function addHistogram(out: FamilyBuilder, series: RenderHistogramSeries): void {
  if (out.index === undefined) {
    out.series.push(series);
    return;
  }
  const labels = series.labels;
  const at = out.index.get(labels);
  if (at === undefined) {
    out.index.set(labels, out.series.length);
    out.series.push(series);
    return;
  }
  const prev = out.series[at]!;
  if (prev.native !== undefined && series.native !== undefined) {
    const native = addNative(prev.native, series.native);
    const { sum, count } = HISTOGRAM.merge(prev, series);
    const merged = { labels, ...classicBuckets(native), sum, count, native };
    out.series[at] = withExtras(merged, prev, series);
    return;
  }
  // Explicit buckets of another layout are counted in the served series' (the ingest's rule for a
  // sender that changes its layout): count and sum whole, each bucket at or above its own bound.
  // Their exemplars are of buckets the served series does not have, and are left out. An
  // exponential histogram beside an explicit one counts by its classic buckets (what a text scrape
  // reads, and all a scaled or too coarse one has), and the merged series has no native buckets:
  // they could not hold the explicit one's observations.
  const same = sameBounds(prev.bounds, series.bounds);
  const counted = same ? series : HISTOGRAM.rebucket(series, series.bounds, prev.bounds);
  const exemplars = same ? latestExemplars(prev.exemplars, series.exemplars) : prev.exemplars;
  const merged = {
    labels,
    bounds: prev.bounds,
    ...HISTOGRAM.merge(prev, counted),
    ...(exemplars !== undefined && { exemplars }),
  };
  out.series[at] = withExtras(merged, prev, series);
}

/** A merged histogram series with the first one's line prefix and the earlier start time of the two. */
function withExtras(
  merged: HistogramSeries,
  prev: RenderHistogramSeries,
  next: RenderHistogramSeries,
): RenderHistogramSeries {
  const created = Math.min(prev.created ?? Infinity, next.created ?? Infinity);
  return {
    ...merged,
    ...(prev.prefix !== undefined && { prefix: prev.prefix }),
    ...(created !== Infinity && { created }),
  };
}

/**
 * Families of a naming pass (what the pull serves) as one OTLP export, so the push carries a
 * profile's exact series names (`runwisp_runs_total`, `wasmrun_agent_exec_duration_ms_sum`):
 * - names are the family names, units empty (the names hold their unit words, and a unit would
 *   make a suffix-adding exporter append another); integer-valued families go as integers;
 * - counters go as monotonic sums, a family fed by up-down counters as a non-monotonic sum (what an
 *   OTel reader expects of one), histograms as histograms (exponential ones, whose every series has
 *   native buckets, as such), any other family as a gauge; all cumulative from `startTime`;
 * - a series' attributes are its labels as the pass made them, from the attributes it rendered
 *   them from ({@link Feed}), its scope the feed's (the native profile's `otel_scope_*` labels)
 *   or `scope`; its exemplars are the ones it was rendered from (data-points.ts NamedExemplar);
 * - a family no pass fed (target_info) is left out: the resource is exported as the resource.
 */
export function namedMetrics(
  families: readonly NamedFamily[],
  resource: ResourceMetrics['resource'],
  scope: InstrumentationScope,
  startTime: HrTime,
  endTime: HrTime,
): ResourceMetrics {
  const scopes = new Map<string, ScopeMetrics>();
  for (const family of families) {
    if (family.feeds === undefined) continue;
    // A series' first feed names it (merged series share their labels).
    const fed = new Map<string, { feed: Feed; key: Attributes }>();
    for (const feed of family.feeds)
      for (const [i, labels] of feed.column.strings.entries())
        if (!fed.has(labels)) fed.set(labels, { feed, key: feed.column.keys[i]! });
    const histogram = family.type === 'histogram';
    const exponential =
      histogram && family.series.length > 0 && family.series.every((h) => h.native !== undefined);
    const dataPointType = exponential
      ? DataPointType.EXPONENTIAL_HISTOGRAM
      : histogram
        ? DataPointType.HISTOGRAM
        : family.type === 'counter' || family.feeds.some((f) => f.upDown === true)
          ? DataPointType.SUM
          : DataPointType.GAUGE;
    const descriptor = {
      name: family.name,
      description: family.help,
      unit: '',
      valueType:
        !histogram && family.series.every((s) => Number.isSafeInteger(s.value))
          ? ValueType.INT
          : ValueType.DOUBLE,
    };
    const metrics = new Map<ScopeMetrics, MetricData>();
    for (const s of family.series as readonly (NumberSeries | HistogramSeries)[]) {
      const from = fed.get(s.labels);
      if (from === undefined)
        throw new Error(`${family.name}{${s.labels}}: a series no naming pass made`);
      const sm = scopeMetricsOf(scopes, from.feed.scope ?? scope);
      let metric = metrics.get(sm);
      if (metric === undefined) {
        metric = {
          descriptor,
          aggregationTemporality: AggregationTemporality.CUMULATIVE,
          dataPointType,
          dataPoints: [],
          ...(dataPointType === DataPointType.SUM && { isMonotonic: family.type === 'counter' }),
        } as MetricData;
        metrics.set(sm, metric);
        sm.metrics.push(metric);
      }
      const h = s as HistogramSeries;
      const value = !histogram
        ? (s as NumberSeries).value
        : exponential
          ? bucketsOf(otelOf(h.native!, h.sum, h.count))
          : {
              buckets: { boundaries: [...h.bounds], counts: [...h.counts] },
              sum: h.sum,
              count: h.count,
            };
      const rendered = exponential
        ? []
        : histogram
          ? (h.exemplars ?? [])
          : [(s as NumberSeries).exemplar];
      const exemplars = rendered.flatMap((e) => (e as NamedExemplar | undefined)?.otel ?? []);
      (metric.dataPoints as DataPoint<unknown>[]).push({
        startTime,
        endTime,
        attributes: from.feed.named(from.key),
        value,
        ...(exemplars.length > 0 && { exemplars }),
      });
    }
  }
  return { resource, scopeMetrics: [...scopes.values()] };
}

/** The export's metrics of `scope`, made on first use (a version or schema URL only when there is one, as the scope labels have them). */
function scopeMetricsOf(scopes: Map<string, ScopeMetrics>, of: InstrumentationScope): ScopeMetrics {
  const key = scopeKey(of);
  const { name, version, schemaUrl } = of;
  let sm = scopes.get(key);
  if (sm === undefined) {
    const scope = { name, ...(version && { version }), ...(schemaUrl && { schemaUrl }) };
    scopes.set(key, (sm = { scope, metrics: [] }));
  }
  return sm;
}
