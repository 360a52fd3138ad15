/**
 * The primary's merge of its members' reports: one running aggregate, updated chunk by chunk as
 * reports arrive (never rebuilt from every member at scrape time).
 *
 * What must stay true:
 * - Counters and histograms never decrease. Each member's last cumulative value is kept; a report
 *   adds the difference to the aggregate (a smaller value means the member's source restarted:
 *   its whole new value is added). A member that exits leaves its contribution in the aggregate.
 * - Up-down counters and gauges are combined over live members only, at read time, by the
 *   instrument's {@link MergePolicy}; a member's leave drops its values.
 * - Output series keep one attributes object each and their order of first appearance, as the
 *   naming stage expects of every producer.
 */
import { diag, ValueType, type Attributes, type HrTime } from '@opentelemetry/api';
import { millisToHrTime } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  DataPointType,
  type DataPoint,
  type Histogram,
  type MetricData,
  type ResourceMetrics,
  type ScopeMetrics,
} from '@opentelemetry/sdk-metrics';
import { Slice } from '../common/slices.ts';
import type { MergePolicy } from './merge-policy.ts';
import { MAX_SERIES_PER_INSTRUMENT, OVERFLOW_ATTRIBUTES } from '../domain/bounded-attributes.ts';
import { attributeSetKey } from '../domain/series/attribute-key.ts';
import type { MetricDef, Report, WireKind } from './wire.ts';

/** Not an attributes key (those end with a comma): the overflow series' own. */
const OVERFLOW_KEY = 'overflow';

interface AggSeries {
  readonly attributes: Attributes;
  /** Counters (sum policy: the running total; max: the largest value reported). */
  value: number;
  /** Histograms: `[count, sum, min, max, …counts]` summed over members (min/max: the extremes). */
  hist?: number[];
  /** Up-down counters and gauges: the last value of each live member's series folded here. */
  live?: Map<MemberSeries, number>;
}

interface AggMetric {
  readonly key: string;
  readonly def: MetricDef;
  readonly kind: WireKind;
  readonly policy: MergePolicy;
  readonly boundaries: number[];
  readonly series: AggSeries[];
  readonly byKey: Map<string, AggSeries>;
}

interface MemberSeries {
  readonly metric: AggMetric;
  readonly series: AggSeries;
  /** The member's last value: a number, or its histogram row. */
  last: number | Array<number | null> | undefined;
}

interface MemberState {
  /** The member's metric ids; undefined where its metric conflicts with the aggregate's. */
  readonly metrics: Map<number, AggMetric | undefined>;
  readonly series: Map<number, MemberSeries>;
}

export interface AggregateOptions {
  readonly resource: Resource;
  readonly policyFor: (instrument: string) => MergePolicy;
}

export class ClusterAggregate {
  readonly #resource: Resource;
  readonly #policyFor: (instrument: string) => MergePolicy;
  readonly #startTime: HrTime = millisToHrTime(Date.now());
  /** Scope key → its scope and metrics, in order of first appearance. */
  readonly #scopes = new Map<string, { scope: ScopeMetrics['scope']; metrics: AggMetric[] }>();
  readonly #metrics = new Map<string, AggMetric>();
  readonly #members = new Map<string, MemberState>();
  readonly #warned = new Set<string>();

  constructor(options: AggregateOptions) {
    this.#resource = options.resource;
    this.#policyFor = options.policyFor;
  }

  /** Members that have reported and not left. */
  get memberCount(): number {
    return this.#members.size;
  }

  /** Merges one report chunk of `member` (any key unique to one jobmeter instance). */
  apply(member: string, report: Report): void {
    let state = this.#members.get(member);
    if (state === undefined) this.#members.set(member, (state = { metrics: new Map(), series: new Map() }));
    for (const def of report.m ?? []) state.metrics.set(def[0], this.#metricFor(def));
    for (const [sid, mid, attributes] of report.s ?? []) {
      const metric = state.metrics.get(mid);
      if (metric === undefined) continue;
      // Past the cap (members that each kept other values, workers restarted with others), new
      // attribute sets fold into the overflow series: the aggregate's memory stays bounded.
      let key = attributeSetKey(attributes);
      if (!metric.byKey.has(key) && metric.series.length >= MAX_SERIES_PER_INSTRUMENT - 1) key = OVERFLOW_KEY;
      let series = metric.byKey.get(key);
      if (series === undefined) {
        series = { attributes: key === OVERFLOW_KEY ? OVERFLOW_ATTRIBUTES : Object.freeze({ ...attributes }), value: 0 };
        if (metric.kind === 'h') series.hist = [0, 0, Infinity, -Infinity, ...metric.boundaries.map(() => 0), 0];
        if (metric.kind === 'u' || metric.kind === 'g') series.live = new Map();
        metric.byKey.set(key, series);
        metric.series.push(series);
      }
      state.series.set(sid, { metric, series, last: undefined });
    }
    const v = report.v ?? [];
    for (let i = 0; i + 1 < v.length; i += 2) {
      const entry = state.series.get(v[i]!);
      const value = v[i + 1];
      // JSON turns a non-finite number into null: such a value was never recorded.
      if (entry !== undefined && typeof value === 'number' && Number.isFinite(value)) this.#number(entry, value);
    }
    const h = report.h ?? [];
    for (let i = 0; i + 1 < h.length; ) {
      const sid = h[i]!;
      const n = h[i + 1]!;
      const row = h.slice(i + 2, i + 2 + n);
      i += 2 + n;
      const entry = state.series.get(sid);
      if (entry !== undefined && entry.metric.kind === 'h' && row.length === entry.series.hist!.length) this.#histogram(entry, row);
    }
    for (const sid of report.x ?? []) {
      const entry = state.series.get(sid);
      entry?.series.live?.delete(entry);
    }
    if (report.bye === true) this.retire(member);
  }

  /** `member` is gone: its up-down counters and gauges leave; its counters and histograms stay. */
  retire(member: string): void {
    const state = this.#members.get(member);
    if (state === undefined) return;
    for (const entry of state.series.values()) entry.series.live?.delete(entry);
    this.#members.delete(member);
  }

  /** The aggregate as one cumulative collection, built in slices. */
  async resourceMetrics(): Promise<ResourceMetrics> {
    const endTime = millisToHrTime(Date.now());
    const scopeMetrics: ScopeMetrics[] = [];
    const slice = new Slice();
    for (const { scope, metrics } of this.#scopes.values()) {
      const out: MetricData[] = [];
      for (const metric of metrics) {
        const data = this.#metricData(metric, endTime);
        if (data !== undefined) out.push(data);
        if (slice.due()) await slice.next();
      }
      if (out.length > 0) scopeMetrics.push({ scope, metrics: out });
    }
    return { resource: this.#resource, scopeMetrics };
  }

  #metricFor(def: MetricDef): AggMetric | undefined {
    const [, scopeName, scopeVersion, name, description, unit, kind, valueType, boundaries] = def;
    const scopeKey = `${scopeName}\0${scopeVersion}`;
    const key = `${scopeKey}\0${name}`;
    const known = this.#metrics.get(key);
    if (known !== undefined) {
      if (known.kind === kind && sameBounds(known.boundaries, boundaries ?? [])) return known;
      this.#warnOnce(name, 'a member reports it with another kind or other buckets than the first did; that member\'s points are left out (give every process the same options)');
      return undefined;
    }
    const metric: AggMetric = {
      key,
      def: [0, scopeName, scopeVersion, name, description, unit, kind, valueType === ValueType.INT ? ValueType.INT : ValueType.DOUBLE, boundaries],
      kind,
      policy: this.#policyFor(name),
      boundaries: boundaries ?? [],
      series: [],
      byKey: new Map(),
    };
    this.#metrics.set(key, metric);
    let scope = this.#scopes.get(scopeKey);
    if (scope === undefined) {
      scope = { scope: { name: scopeName, ...(scopeVersion !== '' && { version: scopeVersion }) }, metrics: [] };
      this.#scopes.set(scopeKey, scope);
    }
    scope.metrics.push(metric);
    return metric;
  }

  #number(entry: MemberSeries, value: number): void {
    const { metric, series } = entry;
    if (series.live !== undefined) {
      series.live.set(entry, value);
    } else if (metric.kind === 'c') {
      const last = typeof entry.last === 'number' ? entry.last : 0;
      if (metric.policy === 'max') series.value = Math.max(series.value, value);
      // Smaller than last time: the member's source restarted, all of it is new.
      else series.value += value >= last ? value - last : value;
    }
    entry.last = value;
  }

  #histogram(entry: MemberSeries, row: Array<number | null>): void {
    const agg = entry.series.hist!;
    const last = Array.isArray(entry.last) ? entry.last : undefined;
    const restarted = last === undefined || (row[0] as number) < (last[0] as number);
    agg[0]! += (row[0] as number) - (restarted ? 0 : (last[0] as number));
    agg[1]! += (row[1] as number) - (restarted ? 0 : (last[1] as number));
    if (row[2] !== null) agg[2] = Math.min(agg[2]!, row[2]!);
    if (row[3] !== null) agg[3] = Math.max(agg[3]!, row[3]!);
    for (let b = 4; b < row.length; b++) agg[b]! += (row[b] as number) - (restarted ? 0 : (last[b] as number));
    entry.last = row;
  }

  #metricData(metric: AggMetric, endTime: HrTime): MetricData | undefined {
    const [, , , name, description, unit, kind, valueType] = metric.def;
    const descriptor = { name, description, unit, valueType };
    const startTime = this.#startTime;
    const common = { descriptor, aggregationTemporality: AggregationTemporality.CUMULATIVE };
    if (kind === 'h') {
      const points: DataPoint<Histogram>[] = [];
      for (const s of metric.series) {
        const h = s.hist!;
        const value: Histogram = { buckets: { boundaries: metric.boundaries, counts: h.slice(4) }, sum: h[1]!, count: h[0]! };
        if (h[0]! > 0 && Number.isFinite(h[2]!)) value.min = h[2]!;
        if (h[0]! > 0 && Number.isFinite(h[3]!)) value.max = h[3]!;
        points.push({ attributes: s.attributes, startTime, endTime, value });
      }
      return points.length === 0 ? undefined : { ...common, dataPointType: DataPointType.HISTOGRAM, dataPoints: points };
    }
    const points: DataPoint<number>[] = [];
    for (const s of metric.series) {
      let value = s.value;
      if (s.live !== undefined) {
        if (s.live.size === 0) continue;
        value = metric.policy === 'max' ? -Infinity : 0;
        for (const v of s.live.values()) value = metric.policy === 'max' ? Math.max(value, v) : value + v;
      }
      points.push({ attributes: s.attributes, startTime, endTime, value });
    }
    if (points.length === 0) return undefined;
    if (kind === 'g') return { ...common, dataPointType: DataPointType.GAUGE, dataPoints: points };
    return { ...common, dataPointType: DataPointType.SUM, isMonotonic: kind === 'c', dataPoints: points };
  }

  #warnOnce(name: string, why: string): void {
    if (this.#warned.has(name)) return;
    this.#warned.add(name);
    diag.warn(`jobmeter cluster: ${name}: ${why}`);
  }
}

function sameBounds(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
