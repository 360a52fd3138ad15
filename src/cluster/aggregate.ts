/**
 * The primary's merge of its members' reports: one running aggregate, updated chunk by chunk as
 * reports arrive (never rebuilt from every member at scrape time), written into a series store
 * (series/) that the primary's scrape reads as columns.
 *
 * What must stay true:
 * - Counters and histograms never decrease. Each member's last cumulative value is kept; a report
 *   adds what is new since it, a member that restarted adds its whole new value, and a member that
 *   exits leaves its contribution in the aggregate (series/carry.ts). A `max` counter keeps the
 *   largest value ever reported.
 * - Up-down counters and gauges are combined over live members only, at read time, by the
 *   instrument's {@link MergePolicy} (series/live.ts); a member's leave drops its values.
 * - Output series keep one attributes object each and their order of first appearance, as the
 *   naming stage expects of every producer; past the series cap new attribute sets fold into the
 *   overflow series (series/open-index.ts), so the aggregate's memory stays bounded.
 * - Read by a delta push, the aggregate's first export continues from what the primary's own reader
 *   exported before ({@link ClusterAggregate.handOver}): no increment goes out twice.
 * - A member's state is columns by its series ids, which its encoder hands out densely from 0
 *   (report-encoder.ts): an id far past the member's known ones is refused, not allocated for.
 */
import { diag, ValueType, type Attributes } from '@opentelemetry/api';
import type { Resource } from '@opentelemetry/resources';
import type { AggregationTemporality, MetricDescriptor, MetricProducer, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { MAX_SERIES_PER_INSTRUMENT } from '../domain/bounded-attributes.ts';
import { carryHistogram, carryLargest, carrySum, ROW_BUCKETS } from '../series/carry.ts';
import type { Collection } from '../series/collection.ts';
import { Column } from '../series/column.ts';
import { HistogramSeries } from '../series/histogram.ts';
import { LiveSeries } from '../series/live.ts';
import { OpenSeriesIndex } from '../series/open-index.ts';
import { SeriesStore } from '../series/series-store.ts';
import { SumSeries } from '../series/sum.ts';
import { DeltaWindows, exportedTotals } from '../series/temporality.ts';
import type { MergePolicy } from './merge-policy.ts';
import type { MetricDef, Report, WireKind } from './wire.ts';

/** No metric, no histogram row yet. */
const NONE = -1;
/** How far past a member's known series ids a new one may be (its ids are dense: see the file comment). */
const MAX_ID_GAP = 1 << 16;

interface AggMetric {
  readonly kind: WireKind;
  readonly policy: MergePolicy;
  readonly boundaries: readonly number[];
  readonly set: SumSeries | HistogramSeries | LiveSeries;
}

/** One member's series, by its series id. */
class MemberState {
  /** The member's metric ids → the aggregate's metric; NONE where its metric conflicts with the aggregate's. */
  readonly metrics = new Map<number, number>();
  /** One past the highest series id described. */
  ids = 0;
  /** Per series id: the aggregate's metric (NONE: unknown) and the series' position in it. */
  metric = new Int32Array(16).fill(NONE);
  at = new Int32Array(16);
  /** A counter's last value (`NaN`: none); an up-down counter's or gauge's slot (live.ts); a histogram's row in {@link rows} (NONE: none). */
  last = new Float64Array(16);
  /** Histograms' last rows (`[count, sum, min, max, …buckets]`). */
  readonly rows = new Column();

  /** The aggregate's metric of series `sid`, or NONE. */
  metricOf(sid: unknown): number {
    return Number.isInteger(sid) && (sid as number) >= 0 && (sid as number) < this.ids ? this.metric[sid as number]! : NONE;
  }

  /** Makes room for series id `sid` (ids skipped on the way have no metric). */
  reach(sid: number): void {
    if (sid < this.ids) return;
    if (sid >= this.metric.length) {
      const size = Math.max(this.metric.length * 2, sid + 1);
      const metric = new Int32Array(size).fill(NONE);
      metric.set(this.metric);
      const at = new Int32Array(size);
      at.set(this.at);
      const last = new Float64Array(size);
      last.set(this.last);
      this.metric = metric;
      this.at = at;
      this.last = last;
    }
    this.ids = sid + 1;
  }
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
  /** Metrics by index (what a member's columns hold), and by scope and name. */
  readonly #list: AggMetric[] = [];
  readonly #metrics = new Map<string, number>();
  readonly #members = new Map<string, MemberState>();
  /** A histogram row as it arrives, normalized. */
  #row = new Float64Array(0);
  readonly #warned = new Set<string>();

  constructor(options: AggregateOptions) {
    this.#resource = options.resource;
    this.#policyFor = options.policyFor;
    this.#windows = new DeltaWindows(this.#store.start);
    this.#producer = this.#store.producer(options.temporality, this.#windows);
  }

  /** Members that have reported and not left. */
  get memberCount(): number {
    return this.#members.size;
  }

  /** Merges one report chunk of `member` (any key unique to one jobmeter instance). */
  apply(member: string, report: Report): void {
    let state = this.#members.get(member);
    if (state === undefined) this.#members.set(member, (state = new MemberState()));
    for (const def of report.m ?? []) state.metrics.set(def[0], this.#metricFor(def));
    for (const [sid, mid, attributes] of report.s ?? []) this.#describe(state, sid, state.metrics.get(mid) ?? NONE, attributes);
    const v = report.v ?? [];
    for (let i = 0; i + 1 < v.length; i += 2) {
      const sid = v[i]!;
      const m = state.metricOf(sid);
      const value = v[i + 1];
      // JSON turns a non-finite number into null: such a value was never recorded.
      if (m !== NONE && typeof value === 'number' && Number.isFinite(value)) this.#number(state, this.#list[m]!, sid, value);
    }
    const h = report.h ?? [];
    for (let i = 0; i + 1 < h.length; ) {
      const sid = h[i]!;
      const n = h[i + 1]!;
      const from = i + 2;
      i = from + n;
      const m = state.metricOf(sid);
      const metric = m === NONE ? undefined : this.#list[m]!;
      if (metric?.set instanceof HistogramSeries && n === ROW_BUCKETS + metric.set.stride && i <= h.length) this.#histogram(state, metric.set, sid, h, from, n);
    }
    for (const sid of report.x ?? []) {
      const m = state.metricOf(sid);
      const set = m === NONE ? undefined : this.#list[m]!.set;
      if (set instanceof LiveSeries) set.withdraw(state.last[sid]!);
    }
    if (report.bye === true) this.retire(member);
  }

  /** `member` is gone: its up-down counters and gauges leave; its counters and histograms stay. */
  retire(member: string): void {
    const state = this.#members.get(member);
    if (state === undefined) return;
    for (let sid = 0; sid < state.ids; sid++) this.#forget(state, sid);
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
      const m = this.#metrics.get(`${scope.name}\0${scope.version ?? ''}\0${metric.descriptor.name}`);
      const set = m === undefined ? undefined : this.#list[m]!.set;
      // A series the aggregate left out (a conflicting kind) has nothing to continue.
      if (set === undefined || set instanceof HistogramSeries !== (typeof total !== 'number')) continue;
      this.#windows.exported(set.descriptor, set.attributes[set.seriesOf(attributes)]!, total);
    }
  }

  /** Series `sid` of the member is `attributes` of the aggregate's metric `m` (NONE: one it left out). */
  #describe(state: MemberState, sid: number, m: number, attributes: Attributes): void {
    if (!Number.isInteger(sid) || sid < 0 || sid > state.ids + MAX_ID_GAP) {
      this.#warnOnce('series ids', 'a member described a series with an id far past its others; that series is left out');
      return;
    }
    state.reach(sid);
    // Described again: what the member said of it before no longer holds.
    this.#forget(state, sid);
    state.metric[sid] = m;
    if (m === NONE) return;
    const set = this.#list[m]!.set;
    const at = set.seriesOf(attributes);
    state.at[sid] = at;
    state.last[sid] = set instanceof LiveSeries ? set.source(at) : set instanceof SumSeries ? NaN : NONE;
  }

  /** Drops the member's live value of series `sid`, if it has one. */
  #forget(state: MemberState, sid: number): void {
    const m = state.metric[sid]!;
    if (m === NONE) return;
    const set = this.#list[m]!.set;
    if (set instanceof LiveSeries) set.release(state.last[sid]!);
    state.metric[sid] = NONE;
  }

  #number(state: MemberState, metric: AggMetric, sid: number, value: number): void {
    const { set } = metric;
    const at = state.at[sid]!;
    if (set instanceof LiveSeries) set.set(state.last[sid]!, value);
    else if (set instanceof SumSeries) {
      if (metric.policy === 'max') carryLargest(set.values.data, at, value);
      else carrySum(set.values.data, at, state.last[sid]!, value);
      state.last[sid] = value;
    }
  }

  /** Carries the row `h[from, from + n)` of series `sid` into `set`, and keeps it as the member's last. */
  #histogram(state: MemberState, set: HistogramSeries, sid: number, h: ReadonlyArray<number | null>, from: number, n: number): void {
    if (this.#row.length !== n) this.#row = new Float64Array(n);
    const row = this.#row;
    // JSON's null: an unknown min or max; otherwise a figure never recorded, counted as 0.
    for (let k = 0; k < n; k++) row[k] = h[from + k] ?? (k === 2 || k === 3 ? NaN : 0);
    let at = state.last[sid]!;
    carryHistogram(set, state.at[sid]!, at === NONE ? undefined : state.rows.data.subarray(at, at + n), row);
    if (at === NONE) {
      at = state.rows.length;
      for (let k = 0; k < n; k++) state.rows.push(0);
      state.last[sid] = at;
    }
    state.rows.data.set(row, at);
  }

  /** The aggregate's metric of `def` (made on first sight), or NONE when it conflicts with it. */
  #metricFor(def: MetricDef): number {
    const [, scopeName, scopeVersion, name, description, unit, kind, valueType, boundaries] = def;
    const key = `${scopeName}\0${scopeVersion}\0${name}`;
    const known = this.#metrics.get(key);
    if (known !== undefined) {
      const metric = this.#list[known]!;
      if (metric.kind === kind && sameBounds(metric.boundaries, boundaries ?? [])) return known;
      this.#warnOnce(name, 'a member reports it with another kind or other buckets than the first did; that member\'s points are left out (give every process the same options)');
      return NONE;
    }
    const descriptor = { name, description, unit, valueType: valueType === ValueType.INT ? ValueType.INT : ValueType.DOUBLE } as MetricDescriptor;
    const policy = this.#policyFor(name);
    const index = (grow: () => void) => new OpenSeriesIndex(MAX_SERIES_PER_INSTRUMENT, grow);
    const bounds = boundaries ?? [];
    const set =
      kind === 'h'
        ? new HistogramSeries(descriptor, index, { bounds, exemplars: false, minMax: true })
        : kind === 'c'
          ? new SumSeries(descriptor, index, { monotonic: true, exemplars: false })
          : new LiveSeries(descriptor, index, { gauge: kind === 'g', combine: policy });
    this.#list.push({ kind, policy, boundaries: bounds, set });
    this.#metrics.set(key, this.#list.length - 1);
    this.#store.add({ name: scopeName, ...(scopeVersion !== '' && { version: scopeVersion }) }, set);
    return this.#list.length - 1;
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
