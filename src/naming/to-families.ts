/**
 * The naming pass: a collection (series/collection.ts: the store's series sets as columns,
 * then producers' OpenTelemetry MetricData, then the ingest's series sets; or a plain
 * ResourceMetrics) -> families as the renderers take them, under one profile. Each instrument's
 * rules are compiled once (native-rules.ts, table-rules.ts) and kept with what they rendered last
 * time (series-cache.ts), so a steady-state scrape only checks identities and copies numbers; the
 * families are built (family-builder.ts), zero-filled (zero-fill.ts) and ordered (series-order.ts)
 * here. Each family keeps what fed it (family-builder.ts `Feed`), from which the profile-named push
 * sends the same series as OTLP (family-builder.ts `namedMetrics`).
 */
import type { Attributes } from '@opentelemetry/api';
import { DataPointType } from '../common/otel-sdk.ts';
import type { InstrumentationScope } from '@opentelemetry/core';
import type { MetricData, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import {
  instrumentKey,
  ServedTotals,
  type SourceTotal,
  type SourceTotals,
} from '../series/carry.ts';
import {
  isMetricData,
  metricsCollection,
  type CollectedSeries,
  type Collection,
  type DormantSeries,
} from '../series/collection.ts';
import { MetricColumns } from '../series/metric-columns.ts';
import { Slice, SLICE_MILLIS } from '../common/slices.ts';
import { warn } from '../common/warn.ts';
import { bucketLinePrefix, type RenderFamily } from '../exposition/render-model.ts';
import { dormantSeries, emitSeries, type CompiledRule } from './compiled-rule.ts';
import {
  addHistogram,
  addNumber,
  indexOf,
  newBuilder,
  seriesCount,
  toFamily,
  type FamilyBuilder,
  type NamedFamily,
} from './family-builder.ts';
import { claim, newClaims } from './name-claims.ts';
import { compileNative, renderTargetInfo, type MetricHead } from './native-rules.ts';
import { DEFAULT_TRANSLATION_STRATEGY, escapesNames } from './prometheus-names.ts';
import { otelProfile } from './profiles/otel.ts';
import { sortTableFamilies } from './series-order.ts';
import { compileTableRule } from './table-rules.ts';
import type { FamilyRule, Profile } from './types.ts';
import { ZeroFill } from './zero-fill.ts';

export interface Namer {
  /** Renders one collection. Families come out in a stable order: first appearance. */
  toFamilies(collection: Collection | ResourceMetrics): NamedFamily[];
  /**
   * The same families, built in slices (common/slices.ts): the event loop is given back before the
   * pass, and between two instruments whenever the pass has held it for `sliceMillis` (one
   * instrument holds at most 10 000 series, so one step stays short). The collection must not change meanwhile (a
   * collection is a snapshot). @default sliceMillis SLICE_MILLIS
   */
  toFamiliesSliced(
    collection: Collection | ResourceMetrics,
    sliceMillis?: number,
  ): Promise<NamedFamily[]>;
  /** Compiled rules held (one per scope x instrument seen in the last two passes): for tests and diagnostics. */
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
  /**
   * What zero-filled counters served so far (series/carry.ts): the store's whose collections
   * this namer serves, so naming keeps no values of its own across passes. @default a new one
   * (a namer serving no store's collections: a host's own reader, tests)
   */
  readonly totals?: ServedTotals;
  /**
   * The sources of the served counters the ingest's series and a host's producers' feed, carried
   * one by one across their expiries and absences (series/carry.ts): the store's whose collections
   * this namer serves. @default none (a namer serving no ingest and no such producer: nothing it
   * reads leaves)
   */
  readonly sources?: SourceTotals;
  /**
   * Counts one instrument a pass leaves out because its family's name is another family's (one
   * served before it has the name, or has it with another type), called for each at every pass that
   * leaves it out, where the warning is said once. @default none
   */
  readonly unserved?: () => void;
}

/** How a legacy profile renders a host instrument it has no rule for. */
const HOST_NATIVE = otelProfile(false);

/** Instruments a namer says it does not serve, at most (each said once). */
const MAX_CLASHES = 1000;

/**
 * The compiled rules' key of the instrument `key` (scope and name) as `metric` describes it: two
 * instruments of one name but another unit or kind (the SDK reports both) are named apart.
 */
const rulesKey = (key: string, metric: MetricHead): string =>
  `${key}\0${metric.descriptor.unit}\0${metric.dataPointType}\0${metric.isMonotonic === true}`;

export function createNamer(profile: Profile, options: NamerOptions = {}): Namer {
  // Compiled rules by instrument (scope, name, unit and kind: rulesKey), with the pass that last
  // used them. An entry not used by the last two passes is dropped (with its label strings), so the
  // cache follows the live instruments rather than every instrument ever seen (ingested ones
  // expire). Two passes, not one: a pull scrape and a profile-named push are both passes.
  // A producer's instrument keeps its points' columns there too (series/metric-columns.ts).
  const compiled = new Map<
    string,
    { rules: readonly CompiledRule[]; pass: number; description: string; points?: MetricColumns }
  >();
  let passes = 0;
  const constLabels: Attributes =
    profile.kind === 'table' && profile.hostnameLabel !== undefined
      ? { [profile.hostnameLabel]: options.hostname ?? '' }
      : {};
  // The families of a legacy table, or the host's own rules on the native profile: emitted in
  // their order (zero-filled where they say so) ahead of anything else.
  const seeded: readonly FamilyRule[] = profile.rules ?? [];
  const ruleMap = Map.groupBy(seeded, (r) => r.instrument);
  const zeroFill =
    seeded.length > 0
      ? new ZeroFill(seeded, constLabels, options.totals ?? new ServedTotals())
      : undefined;
  const sorted = profile.kind === 'table' && profile.order === 'sorted';
  const tableFamilies = new Set(seeded.map((r) => r.name)).size;
  const hostNative = profile.kind === 'table' && options.hostInstruments === 'native';
  const starts = profile.startTimestamps === true;
  const own = options.ownInstruments ?? new Set<string>();
  const sources = options.sources;
  /** Instruments and families said not served: each once, at most MAX_CLASHES (senders' names). */
  const clashes = new Set<string>();
  const notServed = (metric: MetricHead, family: string, why: string): void => {
    options.unserved?.();
    const clash = `${metric.descriptor.name}\0${family}`;
    if (clashes.has(clash) || clashes.size >= MAX_CLASHES) return;
    clashes.add(clash);
    warn(`jobmeter: ${metric.descriptor.name} is not served: its family ${family} ${why}`);
  };
  /** The rules that render one instrument of one scope under this profile. */
  const compile = (metric: MetricHead, scope: InstrumentationScope): readonly CompiledRule[] => {
    const named = ruleMap.get(metric.descriptor.name);
    if (named !== undefined) return named.map((r) => compileTableRule(r, constLabels, starts));
    if (profile.kind === 'native')
      // jobmeter's own names never change (its dashboards and alerts read them): `unitSuffixes`
      // is for the host's instruments, as the exporter it stands in for named them.
      return compileNative(
        profile.unitSuffixes === false && own.has(metric.descriptor.name)
          ? { ...profile, unitSuffixes: true }
          : profile,
        metric,
        scope,
      );
    if (hostNative && !own.has(metric.descriptor.name))
      return compileNative(
        starts ? { ...HOST_NATIVE, startTimestamps: true } : HOST_NATIVE,
        metric,
        scope,
      );
    return [];
  };
  let targetInfo: { attributes: Attributes; family: RenderFamily } | undefined;

  /** One naming pass; yields after each instrument, so a caller can slice it. */
  function* pass(input: Collection | ResourceMetrics): Generator<void, NamedFamily[], undefined> {
    const c = 'scopeMetrics' in input ? metricsCollection(input) : input;
    const builders = new Map<string, FamilyBuilder>();
    const order: FamilyBuilder[] = [];
    let info: RenderFamily | undefined;
    const current = ++passes;
    // A pass of the cluster's aggregate makes no source gone: the aggregate holds what each last
    // reported (the primary's own series) and carries them on; the parts of those gone before it
    // stay kept (settle, below).
    if (c.aggregate !== true) sources?.begin(c.held === true);
    const claims = profile.kind === 'native' ? newClaims() : undefined;
    // Legacy families come out in the table's order (the original's), whatever the SDK's.
    for (const rule of seeded) {
      if (builders.has(rule.name)) continue;
      // The host's own rules on the native profile claim their names like any native family.
      if (claims !== undefined && !claim(claims, { name: rule.name, type: rule.type })) continue;
      const builder = newBuilder(
        { name: rule.name, type: rule.type, help: rule.help, unit: rule.unit ?? '' },
        true,
        starts,
      );
      builders.set(rule.name, builder);
      order.push(builder);
    }
    zeroFill?.seed(builders);
    if (profile.kind === 'native' && profile.scopeInfo) {
      const attributes = c.resource.attributes;
      if (targetInfo?.attributes !== attributes)
        targetInfo = {
          attributes,
          family: renderTargetInfo(
            attributes,
            !escapesNames(profile.translationStrategy ?? DEFAULT_TRANSLATION_STRATEGY),
          ),
        };
      if (targetInfo.family.series.length > 0) {
        info = targetInfo.family;
        claim(claims!, info);
      }
    }
    /**
     * The compiled rules of instrument `key` as `metric` describes it, made on first sight and
     * again when its description changed (an instrument made again with a longer one: its help).
     */
    const compiledFor = (key: string, metric: MetricHead, scope: InstrumentationScope) => {
      const ruleKey = rulesKey(key, metric);
      const description = metric.descriptor.description;
      let entry = compiled.get(ruleKey);
      if (entry === undefined || entry.description !== description)
        compiled.set(
          ruleKey,
          (entry = { rules: compile(metric, scope), pass: current, description }),
        );
      entry.pass = current;
      return entry;
    };
    /**
     * One instrument: a series set of a store, read as columns, or a producer's MetricData, made
     * columns first (series/metric-columns.ts). Each compiled rule emits into the builder of its
     * family. `expires`: the set's series can leave (the ingest's), so a rule that carries takes
     * them as sources; so are a host producer's points, which it may stop reporting (series/
     * carry.ts `SourceTotals.producer`), and no other producer's.
     */
    const emit = (
      input: CollectedSeries | MetricData,
      scope: InstrumentationScope,
      expires: boolean,
    ): void => {
      const key = instrumentKey(scope, input.descriptor.name);
      const entry = compiledFor(key, input, scope);
      const served = ruled(input, entry.rules);
      if (served.length === 0) return;
      const points = isMetricData(input);
      const series = points ? (entry.points ??= new MetricColumns()).of(input) : input;
      const upDown = input.dataPointType === DataPointType.SUM && !input.isMonotonic;
      // The ingest's MetricData is made of its series (derived-runs.ts), no source of its own. Of
      // the producers' points, a host producer's are.
      const leaves =
        sources !== undefined && (expires ? !points : points && sources.isProduced(input));
      for (const [rule, builder] of served) {
        const column = emitSeries(
          rule,
          series,
          builder,
          leaves && rule.carries ? sources.of(key, rule.family.name, !expires) : undefined,
        );
        builder.feeds.push({ column, named: rule.named, scope: rule.scope, upDown });
      }
    };
    /**
     * Counts the ingest's unserved `groups` (dormant series, or forgotten ones: carry.ts
     * `departedSeries`) in the sources of each rule that carries them (none in a pass of the
     * copy); with `held`, their label strings go into it, by family.
     */
    const countUnserved = (
      groups: readonly DormantSeries[],
      held?: Map<string, Set<string>>,
    ): void => {
      for (const { scope, metric, series } of groups) {
        const key = instrumentKey(scope, metric.descriptor.name);
        for (const rule of compiledFor(key, metric, scope).rules) {
          if (!rule.carries) continue;
          const rs = c.held === true ? undefined : sources!.of(key, rule.family.name);
          for (const d of series) {
            const labels = dormantSeries(rule, d, rs);
            if (held === undefined) continue;
            let of = held.get(rule.family.name);
            if (of === undefined) held.set(rule.family.name, (of = new Set()));
            of.add(labels);
          }
        }
      }
    };
    /** An instrument's compiled rules, each with the builder of its family (a rule whose family is not served left out). */
    const ruled = (
      metric: MetricHead,
      rules: readonly CompiledRule[],
    ): Array<[CompiledRule, FamilyBuilder]> => {
      const out: Array<[CompiledRule, FamilyBuilder]> = [];
      for (const rule of rules) {
        let builder = builders.get(rule.family.name);
        if (builder === undefined) {
          // Native names come from whatever a sender or host chose: a family that would take a
          // name another family (or jobmeter's self-metric) already has is dropped, first come
          // first served (target_info, jobmeter's own, then ingested ones).
          if (claims !== undefined && !claim(claims, rule.family)) {
            notServed(
              metric,
              rule.family.name,
              'takes a name another family served before it already has',
            );
            continue;
          }
          builder = newBuilder(rule.family, rule.merges, starts);
          builders.set(rule.family.name, builder);
          order.push(builder);
        } else {
          // A second instrument feeding the same family: a type clash is dropped (it would
          // make the family unparseable), with one warning; otherwise merge from now on.
          if (builder.type !== rule.family.type) {
            notServed(
              metric,
              rule.family.name,
              `would be a ${rule.family.type}, and the ${builder.type} of that name is already served`,
            );
            continue;
          }
          if (builder.index === undefined) builder.index = indexOf(builder);
          // The first description there is, as the exporter-prometheus family's help: an
          // instrument made without one on another meter leaves it to the next.
          if (builder.help === '') builder.help = rule.family.help;
        }
        out.push([rule, builder]);
      }
      return out;
    };
    // The store's series sets first, then the producers' MetricData, then the ingest's sets (the
    // order families come out in, and claim native names in).
    const read = [
      ...c.series,
      ...c.metrics.map((sm) => ({ scope: sm.scope, series: sm.metrics })),
      ...c.ingested.map((group) => ({ ...group, expires: group.own !== true })),
    ];
    // A forgotten series no pass may have named (dormant since a restart, gone unwoken) is counted
    // as a gone source first, so its sender's new series in this pass goes on from its total. Not
    // in a pass of the copy (it reads no departure), nor of the cluster's aggregate (which carries
    // what its members reported itself, the ingest's series included).
    if (sources !== undefined && c.held !== true && c.aggregate !== true)
      countUnserved(sources.departedSeries());
    for (const group of read)
      for (const entry of group.series) {
        emit(entry, group.scope, 'expires' in group && group.expires);
        yield;
      }
    // Gone sources stay in the series still served (by other sources, or zero-filled words), and
    // kept unserved in those dormant series hold. A family fed by one rule alone (a native one's)
    // has no index until a gone source asks.
    let dormant: Map<string, Set<string>> | undefined;
    if (sources !== undefined && c.dormant !== undefined)
      countUnserved(c.dormant, (dormant = new Map()));
    sources?.settle((rs) => {
      const builder = builders.get(rs.family);
      const held = dormant?.get(rs.family);
      rs.settle(
        (labels) => builder !== undefined && (builder.index ??= indexOf(builder)).has(labels),
        (part) => keepPart(builder!, part),
        held === undefined ? undefined : (labels) => held.has(labels),
      );
    });
    zeroFill?.fill(builders);
    if (sorted) sortTableFamilies(order, tableFamilies);
    for (const [key, entry] of compiled) if (entry.pass < current - 1) compiled.delete(key);
    const families: NamedFamily[] = info === undefined ? [] : [info];
    for (const b of order) if (seriesCount(b) > 0) families.push(toFamily(b));
    return families;
  }

  return {
    get compiledCount() {
      return compiled.size;
    },
    toFamilies(c) {
      const it = pass(c);
      for (;;) {
        const step = it.next();
        if (step.done === true) return step.value;
      }
    },
    async toFamiliesSliced(c, sliceMillis = SLICE_MILLIS) {
      const it = pass(c);
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

/** A gone source's part of a served series, added to it (a histogram's as a series of its own layout). */
function keepPart(builder: FamilyBuilder, part: Readonly<SourceTotal>): void {
  const created = builder.created === undefined ? undefined : part.start;
  if (builder.type !== 'histogram') addNumber(builder, part.labels, part.total, created);
  else if (part.acc !== undefined)
    addHistogram(builder, {
      labels: part.labels,
      bounds: part.bounds!,
      ...part.acc,
      prefix: bucketLinePrefix(builder.name, part.labels),
      ...(created !== undefined && { created }),
    });
}
