/**
 * The naming stage: collected OpenTelemetry data (ResourceMetrics) → Prometheus families, under
 * one profile. Rules are compiled once per instrument and cached, and each compiled rule caches
 * the label string (and a histogram's line prefix) of every series it renders (see {@link SeriesCache}), so a
 * steady-state scrape only checks identities and copies numbers.
 */
import { diag, type Attributes, type AttributeValue, type HrTime } from '@opentelemetry/api';
import { DataPointType, type DataPoint, type ExponentialHistogram, type Histogram, type MetricData, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { Slice, SLICE_MILLIS } from '../common/slices.ts';
import { escapeLabelValue, isClassicMetricName, labelNameText } from '../exposition/escape.ts';
import { isAscii } from '../exposition/samples.ts';
import { bucketLinePrefix, type RenderFamily, type RenderHistogramSeries, type RenderNumberFamily } from '../exposition/render-model.ts';
import type { ExpositionExemplar, FamilyType, NativeBuckets, NumberSeries } from '../exposition/types.ts';
import type { Exemplar } from '../domain/exemplars.ts';
import { addNative, classicBuckets, classicOfExponential, nativeBuckets } from './exponential.ts';
import { claimedNames, DEFAULT_TRANSLATION_STRATEGY, escapesNames, prometheusName, sanitizeLabelName } from './prometheus-names.ts';
import { compareByLabelValues, compareNames } from './series-order.ts';
import type { FamilyRule, NativeProfile, Profile } from './types.ts';

/** The attribute the SDK puts on the series that absorbs attribute sets past the cardinality limit. */
const OVERFLOW_ATTRIBUTE = 'otel.metric.overflow';

/**
 * One family under construction. Series are appended (a number family's as two columns, see
 * `RenderNumberFamily.columns`); `index` (label string → position) exists only when merging is needed.
 */
interface FamilyBuilder {
  readonly name: string;
  readonly type: FamilyType;
  readonly help: string;
  readonly unit: string;
  /** Number families. */
  readonly labels: string[];
  readonly values: number[];
  /** Counter families of a profile with start timestamps: each series' start, Unix ms. */
  readonly created: number[] | undefined;
  /** Histogram families. */
  readonly series: RenderHistogramSeries[];
  /** Number families: counters' exemplars by series position, once one has any. */
  exemplars: (ExpositionExemplar | undefined)[] | undefined;
  index: Map<string, number> | undefined;
  /** Every label string added so far is ASCII (the exposition model's `ascii`). */
  ascii: boolean;
  /** Names may be UTF-8 (the exposition model's `utf8Names`). */
  readonly utf8: boolean;
}

function newBuilder(family: CompiledRule['family'], merges: boolean, starts: boolean): FamilyBuilder {
  const created = starts && family.type === 'counter' ? [] : undefined;
  return { name: family.name, type: family.type, help: family.help, unit: family.unit, labels: [], values: [], created, series: [], exemplars: undefined, index: merges ? new Map() : undefined, ascii: true, utf8: family.utf8 === true };
}

function seriesCount(b: FamilyBuilder): number {
  return b.type === 'histogram' ? b.series.length : b.labels.length;
}

/** The finished family. A number family's `series` objects are made only if someone reads them. */
function toFamily(b: FamilyBuilder): RenderFamily {
  if (b.type === 'histogram') return { name: b.name, type: 'histogram', help: b.help, unit: b.unit, series: b.series, ascii: b.ascii, ...(b.utf8 && { utf8Names: true }) };
  const exemplars = b.exemplars;
  const columns = { labels: b.labels, values: b.values, ...(b.created !== undefined && { created: b.created }), ...(exemplars !== undefined && { exemplars }) };
  let rows: NumberSeries[] | undefined;
  const family: RenderNumberFamily = {
    name: b.name,
    type: b.type,
    help: b.help,
    unit: b.unit,
    columns,
    ascii: b.ascii,
    ...(b.utf8 && { utf8Names: true }),
    get series(): NumberSeries[] {
      const created = b.created;
      return (rows ??= columns.labels.map((labels, i) => {
        const exemplar = exemplars?.[i];
        return { labels, value: columns.values[i]!, ...(created !== undefined && { created: created[i]! }), ...(exemplar !== undefined && { exemplar }) };
      }));
    },
  };
  return family;
}

/** A rule compiled for one instrument of one scope: appends the instrument's points to a family. */
interface CompiledRule {
  readonly family: { readonly name: string; readonly type: FamilyType; readonly help: string; readonly unit: string; readonly utf8?: boolean };
  /** Whether two points of this one instrument can land on the same label set (then they are summed). */
  readonly merges: boolean;
  emit(metric: MetricData, out: FamilyBuilder): void;
}

export interface Namer {
  /** Renders one collection. Families come out in a stable order: first appearance. */
  toFamilies(resourceMetrics: ResourceMetrics): RenderFamily[];
  /**
   * The same families, built in slices (common/slices.ts): the event loop is given back before the
   * pass, and between two instruments whenever the pass has held it for `sliceMillis` (one
   * instrument holds at most 10 000 series, ≈ 1 ms). The collection must not change meanwhile (a
   * collection is a snapshot). @default sliceMillis SLICE_MILLIS
   */
  toFamiliesSliced(resourceMetrics: ResourceMetrics, sliceMillis?: number): Promise<RenderFamily[]>;
  /** Compiled rules held (one per scope × instrument seen in the last two passes): for tests and diagnostics. */
  readonly compiledCount: number;
}

export interface NamerOptions {
  /** Value of the profile's `hostnameLabel`, when it has one. */
  readonly hostname?: string;
  /**
   * Legacy profiles: what to do with an instrument the table has no rule for and that is not one
   * of `ownInstruments`. `native`: rendered after the table's families under the native naming
   * (without `otel_scope_*` labels, which no original has); `drop`: left out. @default 'drop'
   */
  readonly hostInstruments?: 'native' | 'drop';
  /** jobmeter's own instruments: a legacy profile renders them only through its rules. @default none */
  readonly ownInstruments?: ReadonlySet<string>;
}

/** How a legacy profile renders a host instrument it has no rule for. */
const HOST_NATIVE: NativeProfile = { kind: 'native', name: 'otel', format: 'negotiate', scopeInfo: false };

export function createNamer(profile: Profile, options: NamerOptions = {}): Namer {
  // Compiled rules by scope + instrument, with the pass that last used them. An entry not used by
  // the last two passes is dropped (with its label strings), so the cache follows the live
  // instruments rather than every scope and instrument name ever seen (ingested ones expire).
  // Two passes, not one: a pull scrape and a profile-named push are both passes.
  const compiled = new Map<string, { rules: readonly CompiledRule[]; pass: number }>();
  let passes = 0;
  /** Zero-filled counter series' last values (zeroFill); bounded by the rules' vocabularies. */
  const held = new Map<string, Held>();
  const constLabels =
    profile.kind === 'table' && profile.hostnameLabel !== undefined
      ? profile.hostnameLabel + '="' + escapeLabelValue(options.hostname ?? '') + '"'
      : '';
  // The families of a legacy table, or the host's own rules on the native profile: emitted in
  // their order (zero-filled where they say so) ahead of anything else.
  const seeded: readonly FamilyRule[] = profile.rules ?? [];
  const ruleMap = groupRules(seeded);
  const sorted = profile.kind === 'table' && profile.order === 'sorted';
  const tableFamilies = new Set(seeded.map((r) => r.name)).size;
  const hostNative = profile.kind === 'table' && options.hostInstruments === 'native';
  const starts = profile.startTimestamps === true;
  /** When a zero-filled series with no source yet started: when this namer did. */
  const born = Date.now();
  const own = options.ownInstruments ?? new Set<string>();
  const clashes = new Set<string>();
  /** The rules that render one instrument of one scope under this profile. */
  const compile = (metric: MetricData, scopeName: string, scopeVersion: string | undefined): readonly CompiledRule[] => {
    const named = ruleMap.get(metric.descriptor.name);
    if (named !== undefined) return named.map((r) => compileTableRule(r, constLabels, starts));
    if (profile.kind === 'native') return compileNative(profile, metric, scopeName, scopeVersion);
    if (hostNative && !own.has(metric.descriptor.name)) return compileNative(starts ? { ...HOST_NATIVE, startTimestamps: true } : HOST_NATIVE, metric, scopeName, scopeVersion);
    return [];
  };
  let targetInfo: { attributes: Attributes; family: RenderFamily } | undefined;

  /** One naming pass; yields after each instrument, so a caller can slice it. */
  function* pass(rm: ResourceMetrics): Generator<void, RenderFamily[], undefined> {
    const builders = new Map<string, FamilyBuilder>();
    const order: FamilyBuilder[] = [];
    let info: RenderFamily | undefined;
    const current = ++passes;
    const claims = profile.kind === 'native' ? new Map<string, string>(SELF_METRIC_CLAIMS) : undefined;
    {
      // Legacy families come out in the table's order (the original's), whatever the SDK's.
      for (const rule of seeded) {
        if (builders.has(rule.name)) continue;
        // The host's own rules on the native profile claim their names like any native family.
        if (claims !== undefined && !claim(claims, { name: rule.name, type: rule.type })) continue;
        const builder = newBuilder({ name: rule.name, type: rule.type, help: rule.help, unit: rule.unit ?? '' }, true, starts);
        builders.set(rule.name, builder);
        order.push(builder);
      }
    }
    if (profile.kind === 'native' && profile.scopeInfo) {
      const attributes = rm.resource.attributes;
      if (targetInfo?.attributes !== attributes) targetInfo = { attributes, family: renderTargetInfo(attributes, !escapesNames(profile.translationStrategy ?? DEFAULT_TRANSLATION_STRATEGY)) };
      if (targetInfo.family.series.length > 0) {
        info = targetInfo.family;
        claim(claims!, info);
      }
    }
    for (const scopeMetrics of rm.scopeMetrics) {
      const scope = scopeMetrics.scope;
      for (const metric of scopeMetrics.metrics) {
        const key = scope.name + '\0' + (scope.version ?? '') + '\0' + metric.descriptor.name;
        let entry = compiled.get(key);
        if (entry === undefined) {
          entry = { rules: compile(metric, scope.name, scope.version), pass: current };
          compiled.set(key, entry);
        }
        entry.pass = current;
        const rules = entry.rules;
        for (const rule of rules) {
          let builder = builders.get(rule.family.name);
          if (builder === undefined) {
            // Native names come from whatever a sender or host chose: a family that would take a
            // name another family (or jobmeter's self-metric) already has is dropped, first come
            // first served (target_info, jobmeter's own, then ingested ones).
            if (claims !== undefined && !claim(claims, rule.family)) continue;
            builder = newBuilder(rule.family, rule.merges, starts);
            builders.set(rule.family.name, builder);
            order.push(builder);
          } else {
            // A second instrument feeding the same family: a type clash is dropped (it would
            // make the family unparseable), with one warning; otherwise merge from now on.
            if (builder.type !== rule.family.type) {
              const clash = `${metric.descriptor.name}\0${rule.family.name}`;
              if (!clashes.has(clash)) {
                clashes.add(clash);
                diag.warn(`jobmeter: ${metric.descriptor.name} is not served: its family ${rule.family.name} would be a ${rule.family.type}, and the ${builder.type} of that name is already served`);
              }
              continue;
            }
            if (builder.index === undefined) builder.index = indexOf(builder);
          }
          rule.emit(metric, builder);
        }
        yield;
      }
    }
    if (seeded.length > 0) zeroFill(seeded, builders, constLabels, held, born);
    if (sorted) sortTableFamilies(order, tableFamilies);
    for (const [key, entry] of compiled) if (entry.pass < current - 1) compiled.delete(key);
    const families: RenderFamily[] = info === undefined ? [] : [info];
    for (const b of order) if (seriesCount(b) > 0) families.push(toFamily(b));
    return families;
  }

  return {
    get compiledCount() {
      return compiled.size;
    },
    toFamilies(rm) {
      const it = pass(rm);
      for (;;) {
        const step = it.next();
        if (step.done === true) return step.value;
      }
    },
    async toFamiliesSliced(rm, sliceMillis = SLICE_MILLIS) {
      const it = pass(rm);
      const slice = new Slice(sliceMillis);
      // The collection that produced `rm` ran in this same turn: start the first slice in a turn of
      // its own rather than on top of it.
      await slice.next();
      for (;;) {
        const step = it.next();
        if (step.done === true) return step.value;
        if (slice.due()) await slice.next();
      }
    },
  };
}

/**
 * Names the scrape handler's self-metric takes (http/scrape-handler.ts appends it after the
 * families where it is served; naming is upstream of http, so the name is spelled here too and a
 * test keeps the two equal): no native family may take them.
 */
export const SCRAPE_ERRORS_FAMILY = 'jobmeter_scrape_errors_total';
const SELF_METRIC_CLAIMS: ReadonlyArray<readonly [string, string]> = claimedNames(SCRAPE_ERRORS_FAMILY, 'counter').map((n) => [n, 'self-metric']);

/**
 * Takes every name `family` claims, unless one is another family's — another name, or the same
 * name with another type (then nothing is taken). Owners are `name type`.
 */
function claim(claims: Map<string, string>, family: { readonly name: string; readonly type: FamilyType }): boolean {
  const names = claimedNames(family.name, family.type);
  const self = family.name + ' ' + family.type;
  for (const n of names) {
    const owner = claims.get(n);
    if (owner !== undefined && owner !== self) return false;
  }
  for (const n of names) claims.set(n, self);
  return true;
}

function groupRules(rules: readonly FamilyRule[]): Map<string, FamilyRule[]> {
  const byInstrument = new Map<string, FamilyRule[]>();
  for (const rule of rules) {
    const list = byInstrument.get(rule.instrument);
    if (list === undefined) byInstrument.set(rule.instrument, [rule]);
    else list.push(rule);
  }
  return byInstrument;
}

function indexOf(b: FamilyBuilder): Map<string, number> {
  const index = new Map<string, number>();
  if (b.type === 'histogram') for (let i = 0; i < b.series.length; i++) index.set(b.series[i]!.labels, i);
  else for (let i = 0; i < b.labels.length; i++) index.set(b.labels[i]!, i);
  return index;
}

/**
 * Adds a series, or adds `value` to the one with these labels; `created` counts only for a family
 * that keeps start times (then the earliest wins); a counter's `exemplar`, the latest wins.
 */
function addNumber(out: FamilyBuilder, labels: string, value: number, created = 0, exemplar?: ExpositionExemplar): void {
  if (out.index !== undefined) {
    const at = out.index.get(labels);
    if (at !== undefined) {
      out.values[at]! += value;
      if (out.created !== undefined && created < out.created[at]!) out.created[at] = created;
      if (exemplar !== undefined) setExemplar(out, at, exemplar);
      return;
    }
    out.index.set(labels, out.labels.length);
  }
  if (exemplar !== undefined) setExemplar(out, out.labels.length, exemplar);
  out.labels.push(labels);
  out.values.push(value);
  out.created?.push(created);
}

let lastStart: HrTime | undefined;
let lastStartMillis = 0;
/** A point's start time in Unix ms (producers share one HrTime across points: converted once). */
function startMillis(t: HrTime): number {
  if (t !== lastStart) {
    lastStart = t;
    lastStartMillis = t[0] * 1000 + t[1] / 1e6;
  }
  return lastStartMillis;
}

/** Series `at`'s exemplar: the latest of what it has and `e` (series merged from several points). */
function setExemplar(out: FamilyBuilder, at: number, e: ExpositionExemplar): void {
  const exemplars = (out.exemplars ??= []);
  const had = exemplars[at];
  if (had === undefined || had.timestamp <= e.timestamp) exemplars[at] = e;
}

/** The latest of two per-bucket exemplar lists (histogram series merged from several points). */
function latestExemplars(a: RenderHistogramSeries['exemplars'], b: RenderHistogramSeries['exemplars']): RenderHistogramSeries['exemplars'] {
  if (a === undefined) return b;
  if (b === undefined) return a;
  const out = a.slice();
  for (let k = 0; k < b.length; k++) if (b[k] !== undefined && (out[k] === undefined || out[k]!.timestamp <= b[k]!.timestamp)) out[k] = b[k];
  return out;
}

/** The trace-linked exemplars of a point (domain/exemplars.ts), when it has any. */
function pointExemplars(dp: DataPoint<unknown>): readonly Exemplar[] | undefined {
  const e = (dp as { exemplars?: readonly Exemplar[] }).exemplars;
  return e === undefined || e.length === 0 ? undefined : e;
}

/** An exemplar as the renderers write it; `scale` as the series' values are scaled. */
function expositionExemplar(e: Exemplar, scale: number): ExpositionExemplar {
  return { labels: 'trace_id="' + e.traceId + '",span_id="' + e.spanId + '"', value: scaled(e.value, scale), timestamp: e.timeMillis / 1000 };
}

/** A counter point's latest exemplar, rendered; undefined without one (or for other types). */
function counterExemplar(dp: DataPoint<unknown>, type: FamilyType, scale: number): ExpositionExemplar | undefined {
  if (type !== 'counter') return undefined;
  const e = pointExemplars(dp);
  return e === undefined ? undefined : expositionExemplar(e[e.length - 1]!, scale);
}

/** A histogram point's exemplars by bucket (the first bound ≥ value; the last slot is +Inf). */
function bucketExemplars(e: readonly Exemplar[], bounds: readonly number[], scale: number): (ExpositionExemplar | undefined)[] {
  const out = new Array<ExpositionExemplar | undefined>(bounds.length + 1);
  for (const x of e) {
    let k = 0;
    while (k < bounds.length && bounds[k]! < x.value) k++;
    if (out[k] === undefined || out[k]!.timestamp <= x.timeMillis / 1000) out[k] = expositionExemplar(x, scale);
  }
  return out;
}

function addHistogram(out: FamilyBuilder, series: RenderHistogramSeries): void {
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
    const classic = classicBuckets(native);
    const merged = { labels, bounds: classic.bounds, counts: classic.counts, sum: prev.sum + series.sum, count: prev.count + series.count, native };
    out.series[at] = withExtras(merged, prev, series);
    return;
  }
  // Different bucket layouts cannot be summed (an exponential histogram beside an explicit one, or
  // two scaled exponential ones).
  if (prev.bounds.length !== series.bounds.length || prev.bounds.some((b, i) => b !== series.bounds[i])) return;
  const counts = prev.counts.map((c, i) => c + (series.counts[i] ?? 0));
  const exemplars = latestExemplars(prev.exemplars, series.exemplars);
  const merged = { labels, bounds: prev.bounds, counts, sum: prev.sum + series.sum, count: prev.count + series.count, ...(exemplars !== undefined && { exemplars }) };
  out.series[at] = withExtras(merged, prev, series);
}

/** A merged histogram series with the first one's line prefix and the earlier start time of the two. */
function withExtras(merged: RenderHistogramSeries, prev: RenderHistogramSeries, next: RenderHistogramSeries): RenderHistogramSeries {
  const created = prev.created === undefined ? next.created : next.created === undefined ? prev.created : Math.min(prev.created, next.created);
  return { ...merged, ...(prev.prefix !== undefined && { prefix: prev.prefix }), ...(created !== undefined && { created }) };
}

/** Whether two native histograms have the same classic `le` set (so the same bounds array serves both). */
function sameLayout(a: NativeBuckets, b: NativeBuckets): boolean {
  return (
    a.schema === b.schema &&
    a.zeroThreshold === b.zeroThreshold &&
    a.positiveOffset === b.positiveOffset &&
    a.positiveCounts.length === b.positiveCounts.length &&
    a.negativeOffset === b.negativeOffset &&
    a.negativeCounts.length === b.negativeCounts.length &&
    (a.zeroCount > 0 || a.negativeCounts.length > 0) === (b.zeroCount > 0 || b.negativeCounts.length > 0)
  );
}

function sameCounts(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * What one compiled rule keeps of its series from one collection to the next, by the position of
 * their data point in its MetricData: the attributes object seen there and the label string
 * rendered from it (a histogram's series object too).
 *
 * Producers keep their points in a stable order (the domain tallies and the SDK's cumulative
 * storages append new series at the end, and keep one attributes object per series), so position
 * i of a collection nearly always holds the same attributes object as position i of the last
 * one: an identity check, no hashing (a WeakMap costs a hash lookup per point and ≈ 40 B per
 * entry). Then the label string (and a histogram's line prefix) is not rendered again.
 *
 * Number series keep no object: the label string goes into the family's columns with the value
 * (`RenderNumberFamily.columns`), so what is held per series is the label string and two array slots.
 * A histogram's series object is kept, and served again while its figures have not changed:
 * series objects are never changed once made, so families handed out earlier stay as they were,
 * and unchanged ones are old-generation objects the young-generation GC does not copy while a
 * scrape is rendered.
 *
 * A point whose attributes object differs (an observable instrument makes new ones at every
 * collection) is rendered again. The arrays are cut to the last collection's size, so they hold
 * no more than the producer does. Strings are built with `join`, flat: a rope would keep its
 * pieces and be walked again at every scrape.
 */
class SeriesCache {
  readonly attributes: Attributes[] = [];
  readonly labels: string[] = [];
  /** Histogram rules: the series object made at each position. */
  readonly histograms: RenderHistogramSeries[] = [];
  /** Exponential histogram rules: the native buckets last seen at each position. */
  readonly natives: Array<NativeBuckets | undefined> = [];
  /** Positions whose label string is not all ASCII (usually none). */
  nonAscii = 0;
  readonly #render: (attributes: Attributes) => string;
  /** Histogram rules: the bucket line prefix of a label string. */
  readonly #prefix: ((labels: string) => string) | undefined;

  constructor(render: (attributes: Attributes) => string, prefix?: (labels: string) => string) {
    this.#render = render;
    this.#prefix = prefix;
  }

  /** The label string of the series at position `i`, rendered again only when its attributes object changed. */
  labelsAt(i: number, attributes: Attributes): string {
    if (this.attributes[i] === attributes) return this.labels[i]!;
    const old = this.labels[i];
    if (old !== undefined && !isAscii(old)) this.nonAscii--;
    const labels = this.#render(attributes);
    if (!isAscii(labels)) this.nonAscii++;
    this.attributes[i] = attributes;
    this.labels[i] = labels;
    return labels;
  }

  /** The histogram series at position `i`: the last one when nothing changed. */
  histogram(i: number, attributes: Attributes, bounds: readonly number[], h: Histogram, scale: number, created: number | undefined, exemplars?: readonly Exemplar[]): RenderHistogramSeries {
    const prev = this.histograms[i];
    const same = prev !== undefined && this.attributes[i] === attributes;
    const labels = this.labelsAt(i, attributes);
    const sum = (h.sum ?? 0) * scale;
    const counts = h.buckets.counts;
    let prefix: string | undefined;
    // Exemplars change only with a record, which changes the counts too.
    if (same) {
      if (prev.count === h.count && prev.sum === sum && prev.bounds === bounds && prev.created === created && sameCounts(prev.counts, counts)) return prev;
      prefix = prev.prefix;
    } else {
      prefix = this.#prefix?.(labels);
    }
    let series: RenderHistogramSeries =
      prefix === undefined && created === undefined
        ? { labels, bounds, counts, sum, count: h.count }
        : { labels, bounds, counts, sum, count: h.count, ...(prefix !== undefined && { prefix }), ...(created !== undefined && { created }) };
    if (exemplars !== undefined) series = { ...series, exemplars: bucketExemplars(exemplars, bounds, scale) };
    return (this.histograms[i] = series);
  }

  /**
   * The histogram series at position `i` of an exponential histogram: classic buckets derived from
   * it (bounds times `scale`), and its native buckets when `native` (a scaled one has none: scale
   * factors other than powers of two have no native form). The last series when nothing changed,
   * its bounds array when the bucket layout did not (renderers cache `le` strings by identity).
   */
  exponential(i: number, attributes: Attributes, h: ExponentialHistogram, scale: number, native: boolean, created: number | undefined): RenderHistogramSeries {
    const prev = this.histograms[i];
    const same = prev !== undefined && this.attributes[i] === attributes;
    const labels = this.labelsAt(i, attributes);
    const sum = (h.sum ?? 0) * scale;
    const buckets = nativeBuckets(h);
    const last = this.natives[i];
    this.natives[i] = buckets;
    const classic = buckets === undefined || scale !== 1 ? classicOfExponential(h, scale) : classicBuckets(buckets);
    let prefix: string | undefined;
    let bounds: readonly number[] = classic.bounds;
    if (same) {
      if (buckets !== undefined && last !== undefined && sameLayout(last, buckets)) {
        bounds = prev.bounds;
        if (prev.count === h.count && prev.sum === sum && prev.created === created && sameCounts(prev.counts, classic.counts)) return prev;
      }
      prefix = prev.prefix;
    } else {
      prefix = this.#prefix?.(labels);
    }
    const series: RenderHistogramSeries = { labels, bounds, counts: classic.counts, sum, count: h.count };
    const withNative = native && scale === 1 && buckets !== undefined;
    return (this.histograms[i] =
      prefix === undefined && !withNative && created === undefined
        ? series
        : { ...series, ...(prefix !== undefined && { prefix }), ...(withNative && { native: buckets }), ...(created !== undefined && { created }) });
  }

  /** Drops positions past `n` (the collection had fewer points). */
  trim(n: number): void {
    if (this.attributes.length > n) {
      for (let i = n; i < this.labels.length; i++) if (!isAscii(this.labels[i]!)) this.nonAscii--;
      this.attributes.length = n;
      this.labels.length = n;
      if (this.histograms.length > n) this.histograms.length = n;
      if (this.natives.length > n) this.natives.length = n;
    }
  }
}

/** Reuses one bounds array per rule while the boundaries do not change, so renderers can cache `le` strings by identity. */
function boundsInterner(): (b: readonly number[]) => readonly number[] {
  let cached: readonly number[] = [];
  return (b) => {
    if (b.length === cached.length && b.every((v, i) => v === cached[i])) return cached;
    cached = b.slice();
    return cached;
  };
}

// ---------------------------------------------------------------------------------------------
// Native profile: names from the OTel compatibility rules, every attribute a label.

const labelNameCache = new Map<string, string>();
function labelName(key: string): string {
  let name = labelNameCache.get(key);
  if (name === undefined) {
    name = sanitizeLabelName(key);
    if (labelNameCache.size < 10_000) labelNameCache.set(key, name);
  }
  return name;
}

/**
 * The label pairs of an attribute set, as the OTel compatibility spec renders them: keys
 * sanitised; a key that sanitises to nothing dropped; a name in `reserved` (what the exposition
 * itself writes on this family: `le` on a histogram, the scope labels, `quantile`) prefixed with
 * `exported_`, as Prometheus renames a target's labels that clash with its own; keys that end up
 * with the same name merged into one label, their values joined with `;` in the lexicographic
 * order of the original keys. So no attribute set can give a duplicate or invalid label name.
 */
function renderAttributes(attributes: Attributes, suffix: string, reserved: ReadonlySet<string>, utf8 = false): string {
  // The usual case, in one pass as fast as plain rendering: no two keys with one name.
  const parts: string[] = [];
  const names: string[] = [];
  for (const key in attributes) {
    const v = attributes[key];
    if (v === undefined || v === null) continue;
    const name = exposedLabelName(key, reserved, utf8);
    if (name === '') continue;
    if (names.length > 0) {
      if (names.includes(name)) return renderMerged(attributes, suffix, reserved, utf8);
      parts.push(',');
    }
    names.push(name);
    parts.push(name, '="', escapeLabelValue(labelValue(v)), '"');
  }
  if (suffix !== '') {
    if (parts.length > 0) parts.push(',');
    parts.push(suffix);
  }
  return parts.join('');
}

/** {@link renderAttributes} when keys collide: one label per name, values joined with `;` in key order. */
function renderMerged(attributes: Attributes, suffix: string, reserved: ReadonlySet<string>, utf8: boolean): string {
  const byName = new Map<string, Array<[string, string]>>();
  for (const key in attributes) {
    const v = attributes[key];
    if (v === undefined || v === null) continue;
    const name = exposedLabelName(key, reserved, utf8);
    if (name === '') continue;
    const list = byName.get(name);
    if (list === undefined) byName.set(name, [[key, labelValue(v)]]);
    else list.push([key, labelValue(v)]);
  }
  const parts: string[] = [];
  for (const [name, list] of byName) {
    list.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    if (parts.length > 0) parts.push(',');
    parts.push(name, '="', escapeLabelValue(list.map(([, value]) => value).join(';')), '"');
  }
  if (suffix !== '') {
    if (parts.length > 0) parts.push(',');
    parts.push(suffix);
  }
  return parts.join('');
}

/** The label name of an attribute key: sanitised, `exported_` before a reserved name, `''` to drop it. */
/**
 * With `utf8` (a translation strategy that keeps OTel's names) the key itself, quoted in the label
 * string when it is not a classic name (exposition/escape.ts `labelNameText`).
 */
function exposedLabelName(key: string, reserved: ReadonlySet<string>, utf8: boolean): string {
  const name = utf8 ? key : labelName(key);
  const exposed = reserved.has(name) ? 'exported_' + name : name;
  return utf8 && exposed !== '' ? labelNameText(exposed) : exposed;
}

function labelValue(v: AttributeValue): string {
  return typeof v === 'string' ? v : Array.isArray(v) ? JSON.stringify(v) : String(v);
}

/** target_info reserves no label name. */
const NO_RESERVED: ReadonlySet<string> = new Set();

function renderTargetInfo(attributes: Attributes, utf8: boolean): RenderFamily {
  const labels = renderAttributes(attributes, '', NO_RESERVED, utf8);
  const series = labels === '' ? [] : [{ labels, value: 1 }];
  return utf8 ? { name: 'target_info', type: 'info', help: 'Target metadata', unit: '', series, utf8Names: true } : { name: 'target_info', type: 'info', help: 'Target metadata', unit: '', series };
}

function compileNative(profile: NativeProfile, metric: MetricData, scopeName: string, scopeVersion: string | undefined): CompiledRule[] {
  let type: 'counter' | 'gauge' | 'histogram';
  switch (metric.dataPointType) {
    case DataPointType.SUM:
      type = metric.isMonotonic ? 'counter' : 'gauge';
      break;
    case DataPointType.GAUGE:
      type = 'gauge';
      break;
    case DataPointType.HISTOGRAM:
    case DataPointType.EXPONENTIAL_HISTOGRAM:
      type = 'histogram';
      break;
    default:
      return [];
  }
  const strategy = profile.translationStrategy ?? DEFAULT_TRANSLATION_STRATEGY;
  const utf8 = !escapesNames(strategy);
  const { name, unit } = prometheusName(metric.descriptor.name, metric.descriptor.unit, type, strategy);
  let scopeLabels = '';
  if (profile.scopeInfo) {
    scopeLabels = 'otel_scope_name="' + escapeLabelValue(scopeName) + '"';
    if (scopeVersion) scopeLabels += ',otel_scope_version="' + escapeLabelValue(scopeVersion) + '"';
  }
  const reserved = new Set(['quantile']);
  if (type === 'histogram') reserved.add('le');
  if (profile.scopeInfo) reserved.add('otel_scope_name').add('otel_scope_version');
  const cache = new SeriesCache(
    (attributes) => renderAttributes(attributes, scopeLabels, reserved, utf8),
    // A UTF-8 name's lines open differently (exposition/samples.ts sampleOpeners): no prefix kept.
    type === 'histogram' && isClassicMetricName(name) ? (labels) => bucketLinePrefix(name, labels) : undefined,
  );
  const intern = boundsInterner();
  const starts = profile.startTimestamps === true;
  return [
    {
      family: { name, type, help: metric.descriptor.description, unit, ...(utf8 && { utf8: true }) },
      merges: false,
      emit(m, out) {
        const points = m.dataPoints;
        if (m.dataPointType === DataPointType.HISTOGRAM) {
          for (let i = 0; i < points.length; i++) {
            const dp = points[i] as DataPoint<Histogram>;
            addHistogram(out, cache.histogram(i, dp.attributes, intern(dp.value.buckets.boundaries), dp.value, 1, starts ? startMillis(dp.startTime) : undefined, pointExemplars(dp)));
          }
        } else if (m.dataPointType === DataPointType.EXPONENTIAL_HISTOGRAM) {
          for (let i = 0; i < points.length; i++) {
            const dp = points[i] as DataPoint<ExponentialHistogram>;
            addHistogram(out, cache.exponential(i, dp.attributes, dp.value, 1, true, starts ? startMillis(dp.startTime) : undefined));
          }
        } else {
          for (let i = 0; i < points.length; i++) {
            const dp = points[i] as DataPoint<number>;
            addNumber(out, cache.labelsAt(i, dp.attributes), dp.value, out.created === undefined ? 0 : startMillis(dp.startTime), counterExemplar(dp, type, 1));
          }
        }
        cache.trim(points.length);
        if (cache.nonAscii > 0) out.ascii = false;
      },
    },
  ];
}

// ---------------------------------------------------------------------------------------------
// Table profiles: every family named, labelled and worded as the original does.

/**
 * Scaling a float sum of seconds to milliseconds leaves binary noise (4199.999999999999); the
 * originals sum whole units, so round off what lies below a nanosecond's worth of precision.
 */
function scaled(value: number, scale: number): number {
  return scale === 1 ? value : Math.round(value * scale * 1e6) / 1e6;
}

function compileTableRule(rule: FamilyRule, constLabels: string, starts: boolean): CompiledRule {
  const pairs = rule.labels ?? [];
  const attrKeys = pairs.map(([attr]) => attr);
  const valueMaps = attrKeys.map((k) => rule.values?.[k]);
  const scale = rule.scale ?? 1;
  const from = rule.from ?? 'value';
  const labelNames = pairs.map(([, label]) => label);
  const render = (attributes: Attributes): string => {
    const parts: string[] = [];
    // The SDK's overflow series carries no real attributes: every label reads `other`.
    const overflow = attributes[OVERFLOW_ATTRIBUTE] === true;
    for (let i = 0; i < attrKeys.length; i++) {
      const raw = overflow ? 'other' : attributes[attrKeys[i]!];
      if (raw === undefined || raw === null) continue;
      const word = String(raw);
      const mapped = valueMaps[i]?.[word] ?? word;
      if (parts.length > 0) parts.push(',');
      parts.push(labelNames[i]!, '="', escapeLabelValue(mapped), '"');
    }
    if (constLabels !== '') {
      if (parts.length > 0) parts.push(',');
      parts.push(constLabels);
    }
    return parts.join('');
  };
  const histogramShaped = rule.type === 'histogram' && from === 'value';
  const cache = new SeriesCache(render, histogramShaped ? (labels) => bucketLinePrefix(rule.name, labels) : undefined);
  // Dropped attributes or many-to-one value words can make two points share a label set.
  const merges = true;
  const intern = boundsInterner();
  return {
    family: { name: rule.name, type: rule.type, help: rule.help, unit: rule.unit ?? '' },
    merges,
    emit(m, out) {
      const points = m.dataPoints;
      if (m.dataPointType === DataPointType.HISTOGRAM) {
        for (let i = 0; i < points.length; i++) {
          const dp = points[i] as DataPoint<Histogram>;
          const created = starts ? startMillis(dp.startTime) : 0;
          if (from === 'sum') addNumber(out, cache.labelsAt(i, dp.attributes), scaled(dp.value.sum ?? 0, scale), created);
          else if (from === 'count') addNumber(out, cache.labelsAt(i, dp.attributes), dp.value.count, created);
          else addHistogram(out, cache.histogram(i, dp.attributes, intern(dp.value.buckets.boundaries), dp.value, scale, starts ? created : undefined, pointExemplars(dp)));
        }
      } else if (m.dataPointType === DataPointType.EXPONENTIAL_HISTOGRAM) {
        // A host View gave the instrument base-2 exponential buckets: the family keeps its name
        // and type, its buckets are the exponential ones (native in protobuf when unscaled).
        for (let i = 0; i < points.length; i++) {
          const dp = points[i] as DataPoint<ExponentialHistogram>;
          const created = starts ? startMillis(dp.startTime) : 0;
          if (from === 'sum') addNumber(out, cache.labelsAt(i, dp.attributes), scaled(dp.value.sum ?? 0, scale), created);
          else if (from === 'count') addNumber(out, cache.labelsAt(i, dp.attributes), dp.value.count, created);
          else addHistogram(out, cache.exponential(i, dp.attributes, dp.value, scale, true, starts ? created : undefined));
        }
      } else {
        for (let i = 0; i < points.length; i++) {
          const dp = points[i] as DataPoint<number>;
          addNumber(out, cache.labelsAt(i, dp.attributes), rule.type === 'info' ? 1 : scaled(dp.value, scale), out.created === undefined ? 0 : startMillis(dp.startTime), counterExemplar(dp, rule.type, scale));
        }
      }
      cache.trim(points.length);
      if (cache.nonAscii > 0) out.ascii = false;
    },
  };
}

/**
 * A `sorted` profile's order (series-order.ts): the table's families — the first `count` builders,
 * seeded in the table's order — by name, and each one's series by label values. Host instruments
 * after them keep their order. The builders are this pass's own, so they are sorted in place.
 */
function sortTableFamilies(order: FamilyBuilder[], count: number): void {
  const table = order.slice(0, count).sort((a, b) => compareNames(a.name, b.name));
  order.splice(0, count, ...table);
  for (const b of table) {
    if (b.type === 'histogram') {
      b.series.sort((x, y) => compareByLabelValues(x.labels, y.labels));
      continue;
    }
    const at = b.labels.map((_, i) => i).sort((x, y) => compareByLabelValues(b.labels[x]!, b.labels[y]!));
    const labels = at.map((i) => b.labels[i]!);
    const values = at.map((i) => b.values[i]!);
    b.labels.splice(0, labels.length, ...labels);
    b.values.splice(0, values.length, ...values);
    if (b.created !== undefined) {
      const created = at.map((i) => b.created![i]!);
      b.created.splice(0, created.length, ...created);
    }
    if (b.index !== undefined) b.index = indexOf(b);
  }
}

/**
 * Zero-filled families are emitted even when nothing was recorded yet: that is their point. Their
 * vocabulary comes first, in order, so the output reads like the original's.
 */
/** A zero-filled counter series' last served value, and what its source's values are added to. */
interface Held {
  last: number;
  offset: number;
}

/**
 * Zero-fills the families whose rules say so. A zero-filled counter series is served on every
 * scrape, so Prometheus reads it as one series, which must never go down: when its source goes
 * away (an ingested sender's series expires) it keeps the last value it was served rather than 0,
 * and when a source comes back from lower down, its values count on from there (`held`, per
 * family and label string). Gauges fill with 0, a level.
 */
function zeroFill(rules: readonly FamilyRule[], builders: Map<string, FamilyBuilder>, constLabels: string, held: Map<string, Held>, born: number): void {
  for (const rule of rules) {
    const builder = builders.get(rule.name)!;
    // Zero-filling is for counters and gauges: a histogram has no single value to zero.
    if (builder.type === 'histogram') continue;
    const counter = builder.type === 'counter';
    /** The value to serve for series `l`, whose source has `current` (undefined: none now). */
    const served = (l: string, current: number | undefined): number => {
      if (!counter) return current ?? 0;
      const key = rule.name + '\0' + l;
      let h = held.get(key);
      if (h === undefined) held.set(key, (h = { last: 0, offset: 0 }));
      if (current === undefined) h.offset = h.last;
      else if (h.offset + current < h.last) h.offset = h.last;
      h.last = current === undefined ? h.last : h.offset + current;
      return h.last;
    };
    // A zero-filled counter counts on from what it last served, across its sources: it started
    // when this namer did.
    if (rule.emitZero && builder.labels.length === 0) addNumber(builder, constLabels, served(constLabels, undefined), born);
    else if (rule.emitZero && counter && builder.labels.length === 1 && builder.labels[0] === constLabels) {
      builder.values[0] = served(constLabels, builder.values[0]!);
      if (builder.created !== undefined) builder.created[0] = born;
    }
    if (builder.ascii && !isAscii(constLabels)) builder.ascii = false;
    if (rule.zeroFill === undefined) continue;
    for (const [label, words] of Object.entries(rule.zeroFill)) {
      const labels: string[] = [];
      const values: number[] = [];
      const created: number[] = [];
      const taken = new Set<number>();
      for (const word of words) {
        let l = label + '="' + escapeLabelValue(word) + '"';
        if (constLabels !== '') l += ',' + constLabels;
        if (builder.ascii && !isAscii(l)) builder.ascii = false;
        const at = builder.index!.get(l);
        labels.push(l);
        created.push(born);
        if (at === undefined) values.push(served(l, undefined));
        else {
          values.push(served(l, builder.values[at]!));
          taken.add(at);
        }
      }
      for (let i = 0; i < builder.labels.length; i++) {
        if (taken.has(i)) continue;
        labels.push(builder.labels[i]!);
        values.push(builder.values[i]!);
        created.push(builder.created?.[i] ?? born);
      }
      builder.labels.length = 0;
      builder.values.length = 0;
      if (builder.created !== undefined) builder.created.length = 0;
      for (let i = 0; i < labels.length; i++) {
        builder.labels.push(labels[i]!);
        builder.values.push(values[i]!);
        builder.created?.push(created[i]!);
      }
      builder.index = indexOf(builder);
    }
  }
}
