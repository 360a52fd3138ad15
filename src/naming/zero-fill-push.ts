/**
 * A legacy table's zero fills in jobmeter's canonical OTLP push (`naming: 'canonical'` under a
 * legacy profile): the series the pull endpoint writes as 0 before anything was recorded
 * (zero-fill.ts) go out as 0-valued points of the canonical instruments, each with the attribute
 * value the profile writes as its word, so a Collector running `jobmeter collector-config` serves
 * them as the pull endpoint does. The table's `zeroFill` and `emitZero` are the only source.
 *
 * What must stay true:
 * - The points exist in this push only: never recorded into an instrument, so they count against
 *   no attribute cap and no reader, profile or ingest sees them.
 * - A point is left out while a recorded point lands in the same profile series (the same word
 *   after the catalog's `other` fold and the rule's words, inside the closed sets the Collector
 *   filters on): the recorded series replaces it. A counter's or
 *   histogram's zero, once replaced, is never sent again (a 0 after a count reads as a reset); nor
 *   a synchronous instrument's exported as delta: a window without its records says nothing of its
 *   level (the SDK exports no point), where a 0 would replace it.
 * - Each instrument in the temporality the push's exporter gives its type (its selector): a sum or
 *   histogram exported as delta gets no zero (a 0 delta every interval); gauges and up-down sums
 *   keep theirs.
 */
import { AggregationTemporality, DataPointType, millisToHrTime } from '../common/otel-sdk.ts';
import { ValueType, type Attributes } from '@opentelemetry/api';
import type {
  AggregationTemporalitySelector,
  DataPoint,
  ExponentialHistogram,
  Histogram,
  MetricData,
  ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import {
  INSTRUMENT_TYPE_OF,
  isObserved,
  OTHER,
  POINT_TYPE_OF_SHAPE,
  SHAPE_OF_KIND,
  type InstrumentKind,
  type InstrumentSpec,
} from '../domain/types.ts';
import { dropOutsideCheck, vocabularyCheck } from '../domain/vocabulary.ts';
import type { Shape } from '../series/output-set.ts';
import type { FamilyRule, TableProfile } from './types.ts';
import { zeroSeries } from './zero-fill.ts';
import { compileTableRule } from './table-rules.ts';
import { EMPTY_EXPONENTIAL } from '../series/exponential.ts';
import { bucketsOf } from '../common/exponential-histogram.ts';
import { pointMillis, SYSTEM_CLOCK } from '../series/clock.ts';

/** One zero-filled profile series, as a canonical point. */
interface ZeroPoint {
  readonly instrument: string;
  /** `{}` for a label-less family (`emitZero`), else the one attribute whose value is the word. */
  readonly attributes: Attributes;
  /** Whether a recorded point's attributes land in this series under the profile. */
  readonly coveredBy: (attributes: Attributes) => boolean;
}

export interface PushZeroFillOptions {
  /** The instruments' specs (the catalog, process, declared; with the profile's buckets). */
  readonly specs: readonly InstrumentSpec[];
  /** Where an instrument nothing recorded goes. */
  readonly scope: { readonly name: string; readonly version?: string };
  /** The push's temporality, per instrument type (its exporter's selector). @default cumulative */
  readonly temporality?: AggregationTemporalitySelector;
}

/** The instrument kind a shape is recorded by when no spec says (a host rule's instrument). */
const KIND_OF_SHAPE: Readonly<Record<Shape, InstrumentKind>> = {
  monotonicSum: 'counter',
  sum: 'upDownCounter',
  gauge: 'gauge',
  histogram: 'histogram',
  exponentialHistogram: 'histogram',
};

/** A counter's or histogram's points count (a sum that only goes up, in the push's temporality preference). */
const counts = (shape: Shape): boolean => shape === 'monotonicSum' || shape === 'histogram';

const NONE: Attributes = Object.freeze({});

/**
 * The table's zero series (zero-fill.ts) as canonical points, one per instrument and attribute
 * value. A word's value is the first of the word and the rule's mapped values that the rule names
 * that word, after the closed set's `other` fold (the record bounds'); a word no value is written
 * as has none (a host's rule may fill one). A point the Collector keeps covers a zero when it is
 * named the zero's word (a label-less zero: any such point of its instrument).
 */
function canonicalZeros(
  profile: TableProfile,
  specs: ReadonlyMap<string, InstrumentSpec>,
): ZeroPoint[] {
  const out = new Map<string, ZeroPoint>();
  const vocabulary = vocabularyCheck(profile.vocabularies);
  for (const { rule, label } of zeroSeries(profile.rules)) {
    const { instrument } = rule;
    const spec = specs.get(instrument);
    // Whether the Collector's `filter/vocabulary` keeps a point: the profile's vocabularies and the
    // spec's `outside: 'drop'` sets, checked as a record is (domain/vocabulary.ts). A point it
    // drops replaces no zero: a host's producer may send one jobmeter's own bounds would refuse.
    const checks = [vocabulary, dropOutsideCheck(spec?.attributes ?? [])];
    const survives = (a: Attributes) => checks.every((check) => check?.(a) === undefined);
    if (label === undefined) {
      out.set(instrument, { instrument, attributes: NONE, coveredBy: survives });
      continue;
    }
    const key = rule.labels?.find(([, l]) => l === label.name)?.[0];
    // check-rules refuses a zeroFill on anything but the family's one label.
    if (key === undefined) continue;
    const set = spec?.attributes.find((a) => a.key === key);
    const { named } = compileTableRule(rule, {}, false);
    // The closed set's fold, the record bounds': a value outside it is `other`, or dropped.
    const fold = (v: string) =>
      set?.values?.includes(v) !== false ? v : set.outside === 'drop' ? undefined : OTHER;
    const gives = (value: unknown): boolean =>
      value !== undefined && named({ [key]: fold(String(value)) })[label.name] === label.word;
    const value = [label.word, ...Object.keys(rule.values?.[key] ?? {})].find(gives);
    if (value === undefined) continue;
    out.set(`${instrument}\0${key}\0${value}`, {
      instrument,
      attributes: Object.freeze({ [key]: value }),
      coveredBy: (attributes) => survives(attributes) && gives(attributes[key]),
    });
  }
  return [...out.values()];
}

/** What the sender's SDK makes of `instrument`: its spec's shape, or as its rule reads it (a host's rule). */
function shapeOf(
  instrument: string,
  specs: ReadonlyMap<string, InstrumentSpec>,
  rules: readonly FamilyRule[],
): Shape {
  const kind = specs.get(instrument)?.kind;
  if (kind !== undefined) return SHAPE_OF_KIND[kind];
  const rule = rules.find((r) => r.instrument === instrument)!;
  if (rule.from === 'sum' || rule.from === 'count') return 'histogram';
  return rule.type === 'counter' ? 'monotonicSum' : 'gauge';
}

/** A zero of `metric`'s type (a histogram's over its first point's bounds, an exponential one's at its scale). */
function zeroOf(metric: MetricData, bounds: readonly number[]): unknown {
  const first = metric.dataPoints[0]?.value as (Histogram & ExponentialHistogram) | undefined;
  if (metric.dataPointType === DataPointType.HISTOGRAM) {
    const boundaries = [...(first?.buckets.boundaries ?? bounds)];
    const counts = new Array<number>(boundaries.length + 1).fill(0);
    return { buckets: { boundaries, counts }, sum: 0, count: 0 };
  }
  if (metric.dataPointType === DataPointType.EXPONENTIAL_HISTOGRAM)
    return bucketsOf({ ...EMPTY_EXPONENTIAL, scale: first?.scale ?? 0 });
  return 0;
}

/**
 * The push transform adding `profile`'s zero points to each canonical collection (see the file
 * comment); the identity when the table fills nothing.
 */
export function createPushZeroFill(
  profile: TableProfile,
  options: PushZeroFillOptions,
): (rm: ResourceMetrics) => ResourceMetrics {
  const specs = new Map(options.specs.map((s) => [s.name, s]));
  const series = canonicalZeros(profile, specs);
  if (series.length === 0) return (rm) => rm;
  // The point clock (series/clock.ts), as every point of the canonical push: never back in time.
  const now = () => pointMillis(SYSTEM_CLOCK);
  const startTime = millisToHrTime(now());
  const selector = options.temporality ?? (() => AggregationTemporality.CUMULATIVE);
  const { scope } = options;
  const instruments = [...new Set(series.map((s) => s.instrument))];
  const shapes = new Map(instruments.map((i) => [i, shapeOf(i, specs, profile.rules)]));
  // A host rule's instrument, of no spec, is taken as the synchronous kind of its shape.
  const kindOf = (i: string): InstrumentKind => specs.get(i)?.kind ?? KIND_OF_SHAPE[shapes.get(i)!];
  const temporality = (i: string) => selector(INSTRUMENT_TYPE_OF[kindOf(i)]);
  // The zero-filled series a recorded series replaced for good (see the file comment): a count's,
  // and a synchronous instrument's exported as delta. Bounded by the profile's zeros.
  const holds = (i: string): boolean =>
    counts(shapes.get(i)!) ||
    (temporality(i) === AggregationTemporality.DELTA && !isObserved(kindOf(i)));
  const replaced = new Set<ZeroPoint>();

  /** A metric for an instrument nothing recorded, shaped as the sender's SDK would export it. */
  const emptyMetric = (instrument: string): MetricData => {
    const shape = shapes.get(instrument)!;
    const spec = specs.get(instrument);
    const dataPointType = POINT_TYPE_OF_SHAPE[shape];
    return {
      descriptor: {
        name: instrument,
        description: spec?.description ?? '',
        unit: spec?.unit ?? '',
        valueType: shape === 'histogram' ? ValueType.DOUBLE : ValueType.INT,
      },
      // As the exporter's selector has it: sums that go up and down cumulative whatever the preference.
      aggregationTemporality: temporality(instrument),
      dataPointType,
      dataPoints: [],
      ...(dataPointType === DataPointType.SUM && { isMonotonic: shape === 'monotonicSum' }),
    } as MetricData;
  };

  return (rm) => {
    // Each instrument's metric in this collection (the first of its name), in a copy of the
    // scopes' lists a metric with zeros takes its place in.
    const scopeMetrics = rm.scopeMetrics.map((sm) => ({ ...sm, metrics: [...sm.metrics] }));
    const found = new Map<string, { recorded: MetricData; list: MetricData[]; at: number }>();
    for (const { metrics } of scopeMetrics)
      metrics.forEach((m, at) => {
        const name = m.descriptor.name;
        if (shapes.has(name) && !found.has(name))
          found.set(name, { recorded: m, list: metrics, at });
      });
    const endTime = millisToHrTime(now());
    const created: MetricData[] = [];
    let added = false;
    for (const s of series) {
      if (replaced.has(s)) continue;
      let place = found.get(s.instrument);
      const points = (place?.recorded.dataPoints ?? []) as readonly DataPoint<unknown>[];
      if (points.some((p) => s.coveredBy(p.attributes))) {
        if (holds(s.instrument)) replaced.add(s);
        continue;
      }
      const metric = place === undefined ? emptyMetric(s.instrument) : place.list[place.at]!;
      // Under delta a count's zero would be a 0 delta every interval.
      if (
        metric.aggregationTemporality === AggregationTemporality.DELTA &&
        metric.dataPointType !== DataPointType.GAUGE
      )
        continue;
      if (place === undefined) {
        found.set(s.instrument, (place = { recorded: metric, list: created, at: created.length }));
        created.push(metric);
      }
      added = true;
      const value = zeroOf(metric, specs.get(s.instrument)?.buckets ?? []);
      const zero = { startTime, endTime, attributes: s.attributes, value };
      place.list[place.at] = { ...metric, dataPoints: [...metric.dataPoints, zero] } as MetricData;
    }
    if (!added) return rm;
    if (created.length > 0) {
      const own = scopeMetrics.find(
        (sm) => sm.scope.name === scope.name && sm.scope.version === scope.version,
      );
      if (own !== undefined) own.metrics.push(...created);
      else scopeMetrics.push({ scope, metrics: created });
    }
    return { resource: rm.resource, scopeMetrics };
  };
}
