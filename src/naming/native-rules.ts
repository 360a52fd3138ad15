/**
 * The native naming's rule compiler: an instrument's family named by the OTel compatibility rules
 * (prometheus-names.ts), every attribute a label (attribute-labels.ts); and the `target_info`
 * family of the resource.
 */
import { DataPointType } from '../common/otel-sdk.ts';
import type { Attributes } from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
import type { MetricData } from '@opentelemetry/sdk-metrics';
import { isClassicMetricName } from '../exposition/escape.ts';
import { bucketLinePrefix, type RenderFamily } from '../exposition/render-model.ts';
import { labelAttributes, labelsText } from './attribute-labels.ts';
import type { CompiledRule } from './compiled-rule.ts';
import { DEFAULT_TRANSLATION_STRATEGY, escapesNames, prometheusName } from './prometheus-names.ts';
import { SeriesCache } from './series-cache.ts';
import type { NativeProfile, Profile } from './types.ts';

/** target_info reserves no label name. */
const NO_RESERVED: ReadonlySet<string> = new Set();

/**
 * Whether `profile` serves an instrument's series of every scope under one label set: a table
 * profile's families have no scope labels, nor has the native one without them. Its counters and
 * histograms then carry their sources one by one (series/carry.ts).
 */
export function mergesScopes(profile: Profile): boolean {
  return profile.kind !== 'native' || !profile.scopeInfo;
}

/** The resource's attributes as the `target_info` family (no series when it has none). */
export function renderTargetInfo(attributes: Attributes, utf8: boolean): RenderFamily {
  const labels = labelsText(labelAttributes(attributes, NO_RESERVED, utf8), utf8);
  const series = labels === '' ? [] : [{ labels, value: 1 }];
  const family = {
    name: 'target_info',
    type: 'info' as const,
    help: 'Target metadata',
    unit: '',
    series,
  };
  return utf8 ? { ...family, utf8Names: true } : family;
}

/** What a rule compiler reads of an instrument: a producer's MetricData, or a store's series set (series/collection.ts). */
export type MetricHead = Pick<MetricData, 'descriptor' | 'dataPointType'> & {
  readonly isMonotonic?: boolean;
};

/**
 * How a series' attributes are named as labels, by kind: the label names they may not take
 * (`exported_` is put before them: `quantile`, a histogram's `le`, the scope labels when served).
 * One for every rule of that kind, since a rule is compiled per scope and instrument and a pass
 * keeps them all (held-heap.test.ts counts the bytes a series holds).
 */
const LABEL_NAMING = new Map<string, (attributes: Attributes) => Attributes>();
function labelNaming(
  histogram: boolean,
  scopeLabels: boolean,
  utf8: boolean,
): (attributes: Attributes) => Attributes {
  const key = `${histogram}${scopeLabels}${utf8}`;
  let named = LABEL_NAMING.get(key);
  if (named === undefined) {
    const reserved = new Set(['quantile']);
    if (histogram) reserved.add('le');
    if (scopeLabels)
      reserved.add('otel_scope_name').add('otel_scope_version').add('otel_scope_schema_url');
    named = (attributes) => labelAttributes(attributes, reserved, utf8);
    LABEL_NAMING.set(key, named);
  }
  return named;
}

/** The family type of a data point type other than a sum (whose monotonicity decides); none: not served. */
const FAMILY_TYPE: Partial<Record<DataPointType, 'gauge' | 'histogram'>> = {
  [DataPointType.GAUGE]: 'gauge',
  [DataPointType.HISTOGRAM]: 'histogram',
  [DataPointType.EXPONENTIAL_HISTOGRAM]: 'histogram',
};

/** The rules (none or one) that render `metric` of `scope` under a native profile. */
export function compileNative(
  profile: NativeProfile,
  metric: MetricHead,
  scope: InstrumentationScope,
): CompiledRule[] {
  const type =
    metric.dataPointType === DataPointType.SUM
      ? metric.isMonotonic
        ? 'counter'
        : 'gauge'
      : FAMILY_TYPE[metric.dataPointType];
  if (type === undefined) return [];
  const strategy = profile.translationStrategy ?? DEFAULT_TRANSLATION_STRATEGY;
  const utf8 = !escapesNames(strategy);
  const { name, unit } = prometheusName(
    metric.descriptor.name,
    metric.descriptor.unit,
    type,
    strategy,
    profile.unitSuffixes !== false,
  );
  const scopeLabels = profile.scopeInfo
    ? labelsText(
        {
          otel_scope_name: scope.name,
          ...(scope.version && { otel_scope_version: scope.version }),
          ...(scope.schemaUrl && { otel_scope_schema_url: scope.schemaUrl }),
        },
        false,
      )
    : '';
  const named = labelNaming(type === 'histogram', profile.scopeInfo, utf8);
  const cache = new SeriesCache(
    (attributes) => labelsText(named(attributes), utf8, scopeLabels),
    // A UTF-8 name's lines open differently (exposition/samples.ts sampleOpeners): no prefix kept.
    type === 'histogram' && isClassicMetricName(name)
      ? (labels) => bucketLinePrefix(name, labels)
      : undefined,
    named,
  );
  // Without scope labels the instrument's series of every scope land on one label set and are
  // summed (to-families.ts): a counter's or histogram's sources are carried one by one, as a
  // table's are (table-rules.ts), so the sum does not go back when one scope's series leaves. With
  // them no two scopes merge, and nothing is carried. An exponential histogram is not: the carry
  // holds classic buckets, and its native ones are what a protobuf scrape of it is for.
  const carries =
    mergesScopes(profile) &&
    (type === 'counter' || metric.dataPointType === DataPointType.HISTOGRAM);
  return [
    {
      family: {
        name,
        type,
        help: metric.descriptor.description,
        unit,
        ...(utf8 && { utf8: true }),
      },
      merges: false,
      carries,
      named,
      // The scope labels are the scope again in OTLP.
      ...(profile.scopeInfo && { scope }),
      from: 'value',
      scale: 1,
      starts: profile.startTimestamps === true,
      keyed: true,
      cache,
    },
  ];
}
