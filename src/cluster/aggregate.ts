/**
 * The primary's merge of its members' reports: one running aggregate, updated chunk by chunk as
 * reports arrive (never rebuilt from every member at scrape time), written into a series store
 * (series/) that the primary's scrape reads as columns.
 *
 * What must stay true:
 * - Counters and histograms never decrease. Each member's last cumulative value is kept (its
 *   source table, below); a report adds what is new since it, a member that restarted adds its
 *   whole new value, and a member that exits leaves its contribution in the aggregate
 *   (series/carry.ts). A `max` counter keeps the largest value ever reported.
 * - Up-down counters and gauges are combined over live members only, at read time, by the
 *   instrument's {@link MergePolicy} (series/live.ts); a member's leave drops its values.
 * - Output series keep one attributes object each and their order of first appearance, as the
 *   naming stage expects of every producer; past the series cap new attribute sets fold into the
 *   overflow series (series/open-index.ts), so the aggregate's memory stays bounded.
 * - Read by a delta push, the aggregate's first export continues from what the primary's own reader
 *   exported before ({@link ClusterAggregate.handOver}): no increment goes out twice.
 * - A member's series are a source table of the store (series/sources.ts), columns by the ids its
 *   encoder hands out densely from 0 (report-encoder.ts): an id far past the member's known ones
 *   is refused, not allocated for.
 */
import { diag, ValueType } from '@opentelemetry/api';
import type { Resource } from '@opentelemetry/resources';
import type {
  AggregationTemporality,
  MetricDescriptor,
  MetricProducer,
  ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { MAX_SERIES_PER_INSTRUMENT } from '../domain/bounded-attributes.ts';
import type { MergePolicy } from '../domain/merge-rules.ts';
import { ROW_BUCKETS, sameBounds } from '../series/carry.ts';
import type { Collection } from '../series/collection.ts';
import { HistogramSet } from '../series/histogram.ts';
import { LiveSet } from '../series/live.ts';
import { OpenSeriesIndex } from '../series/open-index.ts';
import { SeriesStore } from '../series/series-store.ts';
import { NONE, SourceTable, type SourceSet } from '../series/sources.ts';
import { SumSet } from '../series/sum.ts';
import { DeltaWindows, exportedTotals, metricKey } from '../series/temporality.ts';
import type { MetricDef, Report, WireKind } from './wire.ts';

interface AggMetric {
  readonly kind: WireKind;
  readonly policy: MergePolicy;
  readonly boundaries: readonly number[];
  readonly set: SourceSet;
}

/** One member: its metric ids -> the aggregate's metric (NONE: one that conflicts), and its series (series/sources.ts). */
interface Member {
  readonly metrics: Map<number, number>;
  readonly sources: SourceTable;
}

export interface AggregateOptions {
  readonly resource: Resource;
  readonly policyFor: (instrument: string) => MergePolicy;
  /** Of {@link ClusterAggregate.resourceMetrics}: delta for a delta push (each read the change since the previous). @default CUMULATIVE */
  readonly temporality?: AggregationTemporality;
}

export class ClusterAggregate {
  readonly #resource: Resource;
  readonly #policyFor: (instrument: string) => MergePolicy;
  readonly #store = new SeriesStore();
  readonly #producer: MetricProducer;
  readonly #windows: DeltaWindows;
  /** Metrics by index (the sets a member's source table names), and by scope and name. */
  readonly #list: AggMetric[] = [];
  /** Their sets, by the same index (what a member's source table reads). */
  readonly #sets: SourceSet[] = [];
  readonly #metrics = new Map<string, number>();
  readonly #members = new Map<string, Member>();
  /** A histogram row as it arrives, normalized. */
  #row = new Float64Array(0);
  readonly #warned = new Set<string>();

  constructor(options: AggregateOptions) {
    this.#resource = options.resource;
    this.#policyFor = options.policyFor;
    this.#windows = new DeltaWindows(this.#store.start);
    this.#producer = this.#store.producer(options.temporality, this.#windows);
  }

  /** Merges one report chunk of `member` (any key unique to one jobmeter instance). */
  apply(member: string, report: Report): void {
    let state = this.#members.get(member);
    if (state === undefined) {
      const sources = new SourceTable(this.#sets);
      this.#members.set(member, (state = { metrics: new Map(), sources }));
    }
    const { metrics, sources } = state;
    for (const def of report.m ?? []) metrics.set(def[0], this.#metricFor(def));
    for (const [sid, mid, attributes] of report.s ?? [])
      if (!sources.describe(sid, metrics.get(mid) ?? NONE, attributes))
        this.#warnOnce(
          'series ids',
          'a member described a series with an id far past its others; that series is left out',
        );
    const v = report.v ?? [];
    for (let i = 0; i + 1 < v.length; i += 2) {
      const sid = v[i]!;
      const m = sources.setOf(sid);
      const value = v[i + 1];
      // JSON turns a non-finite number into null: such a value was never recorded.
      if (m !== NONE && typeof value === 'number' && Number.isFinite(value))
        sources.number(sid, value, this.#list[m]!.policy === 'max');
    }
    const h = report.h ?? [];
    for (let i = 0; i + 1 < h.length;) {
      const sid = h[i]!;
      const n = h[i + 1]!;
      const from = i + 2;
      i = from + n;
      const m = sources.setOf(sid);
      const set = m === NONE ? undefined : this.#list[m]!.set;
      if (set instanceof HistogramSet && n === ROW_BUCKETS + set.stride && i <= h.length)
        sources.row(sid, this.#rowOf(h, from, n));
    }
    for (const sid of report.x ?? []) sources.withdraw(sid);
    if (report.bye === true) this.retire(member);
  }

  /** `member` is gone: its up-down counters and gauges leave; its counters and histograms stay. */
  retire(member: string): void {
    this.#members.get(member)?.sources.retire();
    this.#members.delete(member);
  }

  /** The aggregate at one instant, as the naming pass reads it: columns, no object per point. */
  collect(): Promise<Collection> {
    return this.#store.collect({ resource: this.#resource, scopeMetrics: [] });
  }

  /** The aggregate as one OpenTelemetry collection (an OTLP push, a test) of its temporality, built in slices. */
  async resourceMetrics(): Promise<ResourceMetrics> {
    const { resourceMetrics } = await this.#producer.collect();
    return { resource: this.#resource, scopeMetrics: resourceMetrics.scopeMetrics };
  }

  /**
   * The delta push takes over from the reader that exported `own`'s series until now: `exported`
   * is that reader's collection now (not exported as the reader's), `own` the same series'
   * cumulative collection after it, merged already. Their exported totals are where this
   * aggregate's delta windows start; a member's series starts from nothing. Before the first
   * {@link resourceMetrics} only.
   */
  handOver(own: ResourceMetrics, exported: ResourceMetrics): void {
    const { totals, at } = exportedTotals(own, exported);
    if (at !== undefined) this.#windows.resume(at);
    for (const { scope, metric, attributes, total } of totals) {
      const m = this.#metrics.get(metricKey(scope, metric.descriptor.name));
      const set = m === undefined ? undefined : this.#list[m]!.set;
      // A series the aggregate left out (a conflicting kind) has nothing to continue.
      if (set === undefined || set instanceof HistogramSet !== (typeof total !== 'number'))
        continue;
      this.#windows.exported(set.descriptor, set.attributes[set.seriesOf(attributes)]!, total);
    }
  }

  /** The row `h[from, from + n)` as it arrived, normalized (valid until the next). */
  #rowOf(h: ReadonlyArray<number | null>, from: number, n: number): Float64Array {
    if (this.#row.length !== n) this.#row = new Float64Array(n);
    const row = this.#row;
    // JSON's null: an unknown min or max; otherwise a figure never recorded, counted as 0.
    for (let k = 0; k < n; k++) row[k] = h[from + k] ?? (k === 2 || k === 3 ? NaN : 0);
    return row;
  }

  /** The aggregate's metric of `def` (made on first sight), or NONE when it conflicts with it. */
  #metricFor(def: MetricDef): number {
    const [, scopeName, scopeVersion, name, description, unit, kind, valueType, boundaries] = def;
    const key = metricKey({ name: scopeName, version: scopeVersion }, name);
    const known = this.#metrics.get(key);
    if (known !== undefined) {
      const metric = this.#list[known]!;
      if (metric.kind === kind && sameBounds(metric.boundaries, boundaries ?? [])) return known;
      this.#warnOnce(
        name,
        "a member reports it with another kind or other buckets than the first did; that member's points are left out (give every process the same options)",
      );
      return NONE;
    }
    const descriptor = {
      name,
      description,
      unit,
      valueType: valueType === ValueType.INT ? ValueType.INT : ValueType.DOUBLE,
    } as MetricDescriptor;
    const policy = this.#policyFor(name);
    const index = (grow: () => void) => new OpenSeriesIndex(MAX_SERIES_PER_INSTRUMENT, grow);
    const bounds = boundaries ?? [];
    const set =
      kind === 'h'
        ? new HistogramSet(descriptor, index, { bounds, exemplars: false, minMax: true })
        : kind === 'c'
          ? new SumSet(descriptor, index, { monotonic: true, exemplars: false })
          : new LiveSet(descriptor, index, { gauge: kind === 'g', combine: policy });
    this.#list.push({ kind, policy, boundaries: bounds, set });
    this.#sets.push(set);
    this.#metrics.set(key, this.#list.length - 1);
    this.#store.add(
      { name: scopeName, ...(scopeVersion !== '' && { version: scopeVersion }) },
      set,
    );
    return this.#list.length - 1;
  }

  #warnOnce(name: string, why: string): void {
    if (this.#warned.has(name)) return;
    this.#warned.add(name);
    diag.warn(`jobmeter cluster: ${name}: ${why}`);
  }
}
