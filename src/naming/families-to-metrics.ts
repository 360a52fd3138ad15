/**
 * Profile-named OTLP: the naming stage's families (what the pull endpoint serves) as SDK-shaped
 * `ResourceMetrics`, so the OTLP push carries a profile's exact series names
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
 * - Counters become cumulative monotonic Sums, histograms cumulative Histograms (an
 *   exponential one, whose series all carry native buckets, an ExponentialHistogram), gauges,
 *   `info` and `unknown` families Gauges.
 * - A series' attributes are its labels as the pass made them, from the attributes it rendered
 *   them from (family-builder.ts `Feed`): no label string is read back. The native profile's
 *   `otel_scope_*` labels are the instrumentation scope again (other series go under
 *   `options.scope`). `target_info` is left out: the resource is exported as the resource.
 * - Every point carries one start time (when the converter was made): the totals are cumulative
 *   from there, as on the pull endpoint.
 */
import { AggregationTemporality, DataPointType, millisToHrTime } from '../common/otel-sdk.ts';
import { ValueType, type Attributes } from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
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
import { exemplarOf } from './data-points.ts';
import { feedsOf } from './family-builder.ts';

export interface FamiliesToMetricsOptions {
  /** The instrumentation scope of every metric. */
  readonly scope: { readonly name: string; readonly version?: string };
  /** The clock (Unix milliseconds). @default Date.now */
  readonly now?: () => number;
}

/** Families of a naming pass (naming/to-families.ts) as one export. */
export type FamiliesToMetrics = (
  families: readonly Family[],
  resource: ResourceMetrics['resource'],
) => ResourceMetrics;

export function createFamiliesToMetrics(options: FamiliesToMetricsOptions): FamiliesToMetrics {
  const now = options.now ?? Date.now;
  const startTime = millisToHrTime(now());
  const defaultScope: InstrumentationScope = options.scope;

  return (families, resource) => {
    const endTime = millisToHrTime(now());
    const scopes = new Map<string, ScopeMetrics>();
    for (const family of families) {
      // The resource is exported as such; a receiver derives its own target_info from it.
      if (family.name === 'target_info') continue;
      const named = namedSeries(family);
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
      let lastScope: InstrumentationScope | undefined | null = null;
      let points: DataPoint<unknown>[] = [];
      for (const s of family.series) {
        const series = named.get(s.labels);
        if (series === undefined)
          throw new Error(`${family.name}{${s.labels}}: a series no naming pass made`);
        if (series.scope !== lastScope) {
          lastScope = series.scope;
          const { name, version, schemaUrl } = series.scope ?? defaultScope;
          const key = name + '\0' + (version ?? '') + '\0' + (schemaUrl ?? '');
          let sm = scopes.get(key);
          // A version or schema URL as the scope labels have them: only when there is one.
          if (sm === undefined) {
            const scope = { name, ...(version && { version }), ...(schemaUrl && { schemaUrl }) };
            scopes.set(key, (sm = { scope, metrics: [] }));
          }
          let list = byScope.get(sm);
          if (list === undefined) byScope.set(sm, (list = []));
          points = list;
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
          attributes: series.attributes,
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
          aggregationTemporality: AggregationTemporality.CUMULATIVE,
          dataPointType,
          dataPoints,
          ...(dataPointType === DataPointType.SUM && { isMonotonic: true }),
        } as MetricData);
      }
    }
    return { resource, scopeMetrics: [...scopes.values()] };
  };
}

/** A family's series by label string, their labels as attributes and their scope, from what fed them in the pass. */
function namedSeries(
  family: Family,
): Map<string, { attributes: Attributes; scope: InstrumentationScope | undefined }> {
  const out = new Map<
    string,
    { attributes: Attributes; scope: InstrumentationScope | undefined }
  >();
  for (const { column, n, named, scope } of feedsOf(family)) {
    const { strings, keys } = column;
    for (let i = 0; i < n; i++)
      if (!out.has(strings[i]!)) out.set(strings[i]!, { attributes: named(keys[i]!), scope });
  }
  return out;
}

/** Exemplars in the points' shape (domain/exemplars.ts), for the push serializer. */
function otlpExemplars(list: readonly (ExpositionExemplar | undefined)[]): Exemplar[] {
  const out: Exemplar[] = [];
  for (const e of list) {
    const x = e === undefined ? undefined : exemplarOf(e);
    if (x !== undefined) out.push(x);
  }
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
