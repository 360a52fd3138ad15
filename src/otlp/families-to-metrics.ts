/**
 * Profile-named OTLP: the naming stage's output (`Family[]`, what the pull endpoint serves) turned
 * back into SDK-shaped `ResourceMetrics`, so the OTLP push can carry a profile's exact series names
 * (`runwisp_runs_total`, `wasmrun_agent_exec_duration_ms_sum`, …) instead of the canonical
 * instrument names.
 *
 * Sent to a Collector whose `prometheus` exporter does not add suffixes
 * (`translation_strategy: UnderscoreEscapingWithoutSuffixes`, see otel-collector.yaml), these
 * come out under the very names, labels and values of jobmeter's own pull endpoint.
 *
 * - Metric names are the family names, as Prometheus stores them (a counter carries its `_total`
 *   when the profile's does); units are left empty, since the names already hold their unit words
 *   and a unit would make a suffix-adding exporter append another.
 * - Counters become monotonic Sums (in the reader's temporality), histograms Histograms (an
 *   exponential one, whose series all carry native buckets, an ExponentialHistogram), gauges,
 *   `info` and `unknown` families Gauges.
 * - Labels become attributes (parsed back from the pre-rendered label strings), except the native
 *   profile's `otel_scope_name`/`otel_scope_version`/`otel_scope_schema_url`, which become the instrumentation scope
 *   again (other series go under `options.scope`). `target_info` is left out: the resource is
 *   exported as the resource.
 * - Every point carries one start time (when the converter was made): the totals are cumulative
 *   from there, as on the pull endpoint.
 */
import { AggregationTemporality, DataPointType, millisToHrTime } from '../common/otel-sdk.ts';
import { ValueType, type Attributes } from '@opentelemetry/api';
import type {
  DataPoint,
  ExponentialHistogram,
  Histogram,
  MetricData,
  ResourceMetrics,
  ScopeMetrics,
} from '@opentelemetry/sdk-metrics';
import type {
  ExpositionExemplar,
  Family,
  HistogramSeries,
  NativeBuckets,
  NumberSeries,
} from '../exposition/types.ts';
import type { Exemplar } from '../domain/exemplars.ts';
import { otelSide } from '../common/exponential-histogram.ts';
import { setAttribute } from '../common/set-attribute.ts';
import { parseLabelPairs } from '../exposition/escape.ts';

export interface FamiliesToMetricsOptions {
  /** The instrumentation scope of every metric. */
  readonly scope: { readonly name: string; readonly version?: string };
  /** Temporality written on counters and histograms. @default CUMULATIVE */
  readonly temporality?: AggregationTemporality;
  /** The clock (Unix milliseconds). @default Date.now */
  readonly now?: () => number;
}

/** Largest number of label strings whose parsed attributes are kept between exports. */
const LABEL_CACHE_LIMIT = 50_000;

export type FamiliesToMetrics = (
  families: readonly Family[],
  resource: ResourceMetrics['resource'],
) => ResourceMetrics;

/** Labels the native profile adds from the scope; in OTLP they go back into the scope. */
const SCOPE_NAME_LABEL = 'otel_scope_name';
const SCOPE_VERSION_LABEL = 'otel_scope_version';
const SCOPE_SCHEMA_URL_LABEL = 'otel_scope_schema_url';

interface ParsedLabels {
  readonly attributes: Attributes;
  /** `''` for the default scope, else the native profile's scope labels. */
  readonly scopeKey: string;
  readonly scope:
    { readonly name: string; readonly version?: string; readonly schemaUrl?: string } | undefined;
}

export function createFamiliesToMetrics(options: FamiliesToMetricsOptions): FamiliesToMetrics {
  const now = options.now ?? Date.now;
  const startTime = millisToHrTime(now());
  const temporality = options.temporality ?? AggregationTemporality.CUMULATIVE;
  const defaultScope = options.scope;
  const labelCache = new Map<string, ParsedLabels>();
  const parsed = (labels: string): ParsedLabels => {
    let p = labelCache.get(labels);
    if (p === undefined) {
      const attributes = parseLabels(labels);
      const name = attributes[SCOPE_NAME_LABEL];
      const version = attributes[SCOPE_VERSION_LABEL];
      const schemaUrl = attributes[SCOPE_SCHEMA_URL_LABEL];
      delete attributes[SCOPE_NAME_LABEL];
      delete attributes[SCOPE_VERSION_LABEL];
      delete attributes[SCOPE_SCHEMA_URL_LABEL];
      p =
        typeof name === 'string'
          ? {
              attributes: Object.freeze(attributes),
              scopeKey: name + '\0' + String(version ?? '') + '\0' + String(schemaUrl ?? ''),
              scope: {
                name,
                ...(typeof version === 'string' && { version }),
                ...(typeof schemaUrl === 'string' && { schemaUrl }),
              },
            }
          : { attributes: Object.freeze(attributes), scopeKey: '', scope: undefined };
      if (labelCache.size >= LABEL_CACHE_LIMIT) labelCache.clear();
      labelCache.set(labels, p);
    }
    return p;
  };

  return (families, resource) => {
    const endTime = millisToHrTime(now());
    const scopes = new Map<string, ScopeMetrics>();
    const scopeFor = (p: ParsedLabels): ScopeMetrics => {
      let sm = scopes.get(p.scopeKey);
      if (sm === undefined) {
        sm = { scope: p.scope ?? defaultScope, metrics: [] };
        scopes.set(p.scopeKey, sm);
      }
      return sm;
    };
    for (const family of families) {
      // The resource is exported as such; a receiver derives its own target_info from it.
      if (family.name === 'target_info') continue;
      // Integer-valued families go as integers (`asInt`), as the originals count.
      const integral =
        family.type !== 'histogram' && family.series.every((s) => Number.isSafeInteger(s.value));
      const descriptor = {
        name: family.name,
        description: family.help,
        unit: '',
        valueType: integral ? ValueType.INT : ValueType.DOUBLE,
      };
      // A histogram family whose every series has native buckets (an exponential one) goes as an
      // ExponentialHistogram; any other as explicit buckets, native series by their classic ones.
      const exponential =
        family.type === 'histogram' &&
        family.series.length > 0 &&
        family.series.every((h) => h.native !== undefined);
      const byScope = new Map<ScopeMetrics, DataPoint<unknown>[]>();
      for (const s of family.series) {
        const p = parsed(s.labels);
        const sm = scopeFor(p);
        let points = byScope.get(sm);
        if (points === undefined) {
          points = [];
          byScope.set(sm, points);
        }
        let value: number | Histogram | ExponentialHistogram;
        let exemplars: Exemplar[] = [];
        if (family.type === 'histogram') {
          const h = s as HistogramSeries;
          if (exponential) value = exponentialOf(h, h.native!);
          else {
            value = {
              buckets: { boundaries: [...h.bounds], counts: [...h.counts] },
              sum: h.sum,
              count: h.count,
            };
            exemplars = otlpExemplars(h.exemplars ?? []);
          }
        } else {
          value = (s as NumberSeries).value;
          exemplars = otlpExemplars([(s as NumberSeries).exemplar]);
        }
        points.push({
          startTime,
          endTime,
          attributes: p.attributes,
          value,
          ...(exemplars.length > 0 && { exemplars }),
        });
      }
      const dataPointType = exponential
        ? DataPointType.EXPONENTIAL_HISTOGRAM
        : family.type === 'histogram'
          ? DataPointType.HISTOGRAM
          : family.type === 'counter'
            ? DataPointType.SUM
            : DataPointType.GAUGE;
      for (const [sm, dataPoints] of byScope) {
        sm.metrics.push({
          descriptor,
          // Gauges are written cumulative whatever `temporality` says.
          aggregationTemporality:
            dataPointType === DataPointType.GAUGE ? AggregationTemporality.CUMULATIVE : temporality,
          dataPointType,
          dataPoints,
          ...(dataPointType === DataPointType.SUM && { isMonotonic: true }),
        } as MetricData);
      }
    }
    return { resource, scopeMetrics: [...scopes.values()] };
  };
}

/** Exemplars back in the points' shape (domain/exemplars.ts), for the push serializer; ids from their labels. */
function otlpExemplars(list: readonly (ExpositionExemplar | undefined)[]): Exemplar[] {
  const out: Exemplar[] = [];
  for (const e of list) {
    if (e === undefined) continue;
    const labels = parseLabels(e.labels);
    const traceId = labels['trace_id'];
    const spanId = labels['span_id'];
    if (typeof traceId === 'string' && typeof spanId === 'string')
      out.push({ value: e.value, timeMillis: Math.round(e.timestamp * 1000), traceId, spanId });
  }
  return out;
}

/**
 * `a="x",b="y \"q\""` → `{ a: 'x', b: 'y "q"' }`: the inverse of the exposition's label rendering
 * (values escape `\\`, `\"` and newline as `\n`).
 */
export function parseLabels(labels: string): Attributes {
  const out: Attributes = {};
  for (const [name, value] of parseLabelPairs(labels)) setAttribute(out, name, value);
  return out;
}

/** A native series back in OTel terms: its schema is the scale, a Prometheus bucket index is the OTel one plus 1. */
function exponentialOf(h: HistogramSeries, n: NativeBuckets): ExponentialHistogram {
  const positive = otelSide(n.positiveOffset, n.positiveCounts);
  const negative = otelSide(n.negativeOffset, n.negativeCounts);
  return {
    count: h.count,
    sum: h.sum,
    scale: n.schema,
    zeroCount: n.zeroCount,
    positive: { offset: positive.offset, bucketCounts: [...positive.counts] },
    negative: { offset: negative.offset, bucketCounts: [...negative.counts] },
  };
}
