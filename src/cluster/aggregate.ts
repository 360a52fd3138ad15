/**
 * The primary's merge of its members' reports: one running aggregate, updated chunk by chunk as
 * reports arrive (never rebuilt from every member at scrape time), written into a series store
 * (series/) that the primary's scrape reads as columns.
 *
 * What must stay true:
 * - Each member's series is a stream of the store the ingest keeps its senders' in
 *   (series/streams.ts), a source of one output series (series/output-set.ts); its last report is
 *   the stream's.
 * - Counters and histograms never decrease: a report adds what is new since the stream's last, a
 *   member that restarted adds its whole new value, and a member that exits leaves its
 *   contribution in the series, which outlives its streams (series/carry.ts). A `max` counter
 *   keeps the largest value ever reported.
 * - Up-down counters and gauges are combined over live members only by the instrument's
 *   {@link MergePolicy}; a series no live member reports is absent from what is read (its position
 *   kept), and a member's leave drops its values.
 * - Output series keep one attributes object each and their order of first appearance, as the
 *   naming stage expects of every producer; past the series cap new attribute sets fold into the
 *   overflow series (series/open-index.ts), so the aggregate's memory stays bounded.
 * - Read by a delta push, the aggregate's first export continues from what the primary's own reader
 *   exported before ({@link ClusterAggregate.handOver}): no increment goes out twice. A delta
 *   histogram point's min and max are those of the records it counts, or none where a report did
 *   not tell them (wire.ts `w`), never older ones.
 * - A member's series are streams by the ids its encoder hands out densely from 0
 *   (report-encoder.ts): an id far past the member's known ones is refused, not allocated for.
 */
import { diag, ValueType, type Attributes } from '@opentelemetry/api';
import type { ExponentialSum } from '../common/exponential-histogram.ts';
import { AggregationTemporality, InstrumentType } from '../common/otel-sdk.ts';
import type { Resource } from '@opentelemetry/resources';
import type {
  AggregationTemporalitySelector,
  MetricDescriptor,
  MetricProducer,
  ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { MAX_SERIES_PER_INSTRUMENT } from '../domain/bounded-attributes.ts';
import type { MergePolicy } from '../domain/merge-rules.ts';
import { HISTOGRAM, type HistogramAcc } from '../series/aggregation.ts';
import { attributeSetKey } from '../series/attribute-key.ts';
import { ROW_BUCKETS, sameBounds } from '../series/carry.ts';
import type { Collection } from '../series/collection.ts';
import { ExponentialSet } from '../series/exponential.ts';
import { HistogramSet } from '../series/histogram.ts';
import { NO_SLOT, type Acc, type OutputSet } from '../series/output-set.ts';
import { OVERFLOW_ATTRIBUTES } from '../series/positions.ts';
import { SeriesStore } from '../series/series-store.ts';
import { instrumentSeries, StreamStore, type InstrumentSeries } from '../series/streams.ts';
import { DeltaWindows, exportedTotals, metricKey } from '../series/temporality.ts';
import type { MetricDef, Report, WireNumber } from './wire.ts';

/** How far past a member's known series ids a new one may be. */
const MAX_ID_GAP = 1 << 16;

const OVERFLOW_KEY = attributeSetKey(OVERFLOW_ATTRIBUTES);

/** One metric of the aggregate: its series in the store, under its one scope. */
interface AggMetric extends InstrumentSeries {
  readonly boundaries: readonly number[];
  readonly scopeKey: string;
  readonly scope: { name: string; version: string };
  /** Series made, the overflow series not included. */
  admitted: number;
}

/** One member: its metric ids -> the aggregate's metric (undefined: one that conflicts), and its series ids -> stream slots. */
interface Member {
  readonly key: string;
  readonly metrics: Map<number, AggMetric | undefined>;
  readonly streams: number[];
}

export interface AggregateOptions {
  readonly resource: Resource;
  readonly policyFor: (instrument: string) => MergePolicy;
  /** Of {@link ClusterAggregate.resourceMetrics}, by instrument type: the push reader's (a delta read is the change since the previous). @default CUMULATIVE for every type */
  readonly temporality?: AggregationTemporalitySelector;
}

export class ClusterAggregate {
  readonly #resource: Resource;
  readonly #policyFor: (instrument: string) => MergePolicy;
  readonly #temporality: AggregationTemporalitySelector | undefined;
  readonly #store = new SeriesStore();
  readonly #producer: MetricProducer;
  readonly #windows: DeltaWindows;
  /** The members' series: one stream each, the output sets they feed. */
  readonly #streams = new StreamStore<AggMetric>();
  /** Metrics by scope and name. */
  readonly #metrics = new Map<string, AggMetric>();
  readonly #members = new Map<string, Member>();
  readonly #warned = new Set<string>();

  constructor(options: AggregateOptions) {
    this.#resource = options.resource;
    this.#policyFor = options.policyFor;
    this.#temporality = options.temporality;
    this.#windows = new DeltaWindows(this.#store.start);
    this.#producer = this.#store.producer(options.temporality, this.#windows);
  }

  /** Merges one report chunk of `member` (any key unique to one jobmeter instance). */
  apply(member: string, report: Report): void {
    let state = this.#members.get(member);
    if (state === undefined)
      this.#members.set(member, (state = { key: member, metrics: new Map(), streams: [] }));
    for (const def of report.m ?? []) state.metrics.set(def[0], this.#metricFor(def));
    for (const [sid, mid, attributes] of report.s ?? [])
      if (!this.#describe(state, sid, state.metrics.get(mid), attributes))
        this.#warnOnce(
          'series ids',
          'a member described a series with an id far past its others; that series is left out',
        );
    const st = this.#streams.streams;
    const v = report.v ?? [];
    for (let i = 0; i + 1 < v.length; i += 2) {
      const s = slotOf(state, v[i]);
      const value = numberOf(v[i + 1]);
      // JSON turns NaN into null: such a value was never recorded.
      if (s === NO_SLOT || value !== value) continue;
      const out = st.out[s]!;
      if (out.set instanceof HistogramSet) continue;
      const at = st.series[s]!;
      out.reported(at, st.points[s]! > 0 ? st.value[s]! : NaN, value);
      this.#took(s);
      st.value[s] = value;
      out.settle(at, st);
    }
    const h = report.h ?? [];
    for (const [sid, from, to] of rows(h)) {
      const s = slotOf(state, sid);
      const out = s === NO_SLOT ? undefined : st.out[s]!;
      const set = out?.set;
      if (!(set instanceof HistogramSet) || to - from !== ROW_BUCKETS + set.stride) continue;
      const at = st.series[s]!;
      // JSON's null: an unknown min or max; otherwise a figure never recorded, counted as 0.
      const acc: HistogramAcc = {
        counts: h.slice(from + ROW_BUCKETS, to).map((c) => numberOf(c ?? 0)),
        sum: numberOf(h[from + 1] ?? 0),
        count: numberOf(h[from] ?? 0),
      };
      const held = st.acc[s] as HistogramAcc | undefined;
      this.#counted(s, acc);
      // Its min and max are of what it adds when the member says so, or when all of it is new (a
      // first report, a restart); else they may be older than a delta window.
      const whole = held === undefined || HISTOGRAM.restarted(held, acc);
      out!.widen(at, numberOf(h[from + 2]), numberOf(h[from + 3]), whole || report.w === true);
    }
    const e = report.e ?? [];
    for (const [sid, from, to] of rows(e)) {
      const s = slotOf(state, sid);
      if (s !== NO_SLOT && st.out[s]!.set instanceof ExponentialSet && to - from >= 7)
        this.#counted(s, exponentialOf(e.slice(from, to)));
    }
    for (const sid of report.x ?? []) {
      const s = slotOf(state, sid);
      // A level's source sleeps until it reports again; a counter's keeps what it reported.
      const shape = s === NO_SLOT ? undefined : st.out[s]!.shape;
      if (shape !== 'sum' && shape !== 'gauge') continue;
      if (st.slept[s] !== st.slept[s]) st.slept[s] = 0;
      st.out[s]!.settle(st.series[s]!, st);
    }
    if (report.bye === true) this.retire(member);
  }

  /** `member` is gone: its up-down counters and gauges leave; its counters and histograms stay. */
  retire(member: string): void {
    const state = this.#members.get(member);
    if (state === undefined) return;
    for (const s of state.streams) if (s !== NO_SLOT) this.#streams.dropStream(s, true);
    this.#members.delete(member);
  }

  /** The aggregate at one instant, as the naming pass reads it: columns, no object per point. */
  collect(): Promise<Collection> {
    return this.#store
      .collect({ resource: this.#resource, scopeMetrics: [] })
      .then((c) => ({ ...c, aggregate: true }));
  }

  /** The aggregate as one OpenTelemetry collection (an OTLP push, a test) of its temporality, built in slices. */
  async resourceMetrics(): Promise<ResourceMetrics> {
    const { resourceMetrics } = await this.#producer.collect();
    // The store's delta windows difference no exponential histogram (series/temporality.ts).
    if (this.#temporality?.(InstrumentType.HISTOGRAM) === AggregationTemporality.DELTA)
      for (const m of this.#metrics.values())
        if (m.shape === 'exponentialHistogram')
          this.#warnOnce(
            m.name,
            "a delta push leaves the cluster's exponential histograms out (the scrape and a cumulative push have them)",
          );
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
      // A series the aggregate left out (a conflicting kind) has nothing to continue.
      if (m === undefined || (m.shape === 'histogram') !== (typeof total !== 'number')) continue;
      const { out, at: series } = this.#seriesOf(m, attributes);
      this.#windows.exported(out.set.descriptor, out.set.attributes[series]!, total);
      // Its first window here starts at that reader's last export: its report's min and max may be older.
      if (out.set instanceof HistogramSet) out.set.unknownInWindows(series);
    }
  }

  /**
   * Series id `sid` of `member` is series `attributes` of `metric` (undefined: one the aggregate
   * leaves out): its stream, a new one (a series described again starts over; what its stream
   * reported stays in the series it fed). False, and nothing kept, when `sid` is no dense id.
   */
  #describe(
    member: Member,
    sid: unknown,
    metric: AggMetric | undefined,
    attributes: Attributes,
  ): boolean {
    const streams = member.streams;
    if (!isId(sid, streams.length + MAX_ID_GAP + 1)) return false;
    while (streams.length <= sid) streams.push(NO_SLOT);
    if (streams[sid] !== NO_SLOT) this.#streams.dropStream(streams[sid]!, true);
    streams[sid] = NO_SLOT;
    if (metric === undefined) return true;
    const { out, at } = this.#seriesOf(metric, attributes);
    const group = `${member.key}\0${metric.scopeKey}`;
    streams[sid] = this.#streams.newStream(metric, out, at, group, String(sid), 0, 0);
    // Not reported yet: no level of it until it is.
    this.#streams.streams.slept[streams[sid]] = 0;
    return true;
  }

  /** `metric`'s series of `attributes` (made on first sight; past the cap, the overflow series). */
  #seriesOf(metric: AggMetric, attributes: Attributes): { out: OutputSet; at: number } {
    let key = attributeSetKey(attributes);
    const found = this.#streams.seriesIn(metric, metric.scopeKey, key);
    if (found !== undefined) return found;
    if (metric.admitted >= MAX_SERIES_PER_INSTRUMENT - 1) {
      key = OVERFLOW_KEY;
      attributes = OVERFLOW_ATTRIBUTES;
      const overflow = this.#streams.seriesIn(metric, metric.scopeKey, key);
      if (overflow !== undefined) return overflow;
    } else metric.admitted++;
    const held = metric.scopes.get(metric.scopeKey)?.sets.length ?? 0;
    const made = this.#streams.newSeries(
      metric,
      key,
      metric.scopeKey,
      metric.scope,
      attributes,
      this.#store.start,
      0,
      metric.shape === 'histogram' ? metric.boundaries : undefined,
    );
    // The store reads each set the metric's series are in (one: a metric has one bucket layout).
    if (metric.scopes.get(metric.scopeKey)!.sets.length > held)
      this.#store.add(
        {
          name: metric.scope.name,
          ...(metric.scope.version !== '' && { version: metric.scope.version }),
        },
        made.out.set,
      );
    return made;
  }

  /** Stream `s` reported the counts `acc` (a histogram's of either kind): its series adds them. */
  #counted(s: number, acc: Acc): void {
    const st = this.#streams.streams;
    const out = st.out[s]!;
    const at = st.series[s]!;
    out.reportedCounts(at, st.acc[s], acc);
    this.#took(s);
    st.acc[s] = acc;
    out.settle(at, st);
  }

  /** Stream `s` took a report: counted, and awake. */
  #took(s: number): void {
    const st = this.#streams.streams;
    st.points[s]!++;
    st.slept[s] = NaN;
  }

  /** The aggregate's metric of `def` (made on first sight), or undefined when it conflicts with it. */
  #metricFor(def: MetricDef): AggMetric | undefined {
    const [, scopeName, scopeVersion, name, description, unit, kind, valueType, boundaries] = def;
    const scopeKey = metricKey({ name: scopeName, version: scopeVersion }, name);
    const known = this.#metrics.get(scopeKey);
    if (known !== undefined) {
      if (known.shape === kind && sameBounds(known.boundaries, boundaries ?? [])) return known;
      this.#warnOnce(
        name,
        "a member reports it with another kind or other buckets than the first did; that member's points are left out (give every process the same options)",
      );
      return undefined;
    }
    const descriptor = {
      name,
      description,
      unit,
      valueType: valueType === ValueType.INT ? ValueType.INT : ValueType.DOUBLE,
    } as MetricDescriptor;
    const policy = this.#policyFor(name);
    const metric: AggMetric = {
      ...instrumentSeries(name, kind, descriptor, policy, {
        minMax: true,
        idleAbsent: true,
        largest: policy === 'max',
        foldGone: true,
      }),
      boundaries: boundaries ?? [],
      scopeKey,
      scope: { name: scopeName, version: scopeVersion },
      admitted: 0,
    };
    this.#metrics.set(scopeKey, metric);
    return metric;
  }

  #warnOnce(name: string, why: string): void {
    if (this.#warned.has(name)) return;
    this.#warned.add(name);
    diag.warn(`jobmeter cluster: ${name}: ${why}`);
  }
}

/** The stream of `member`'s series id `sid`, or NO_SLOT (not described, left out, or not an id). */
function slotOf(member: Member, sid: unknown): number {
  return isId(sid, member.streams.length) ? member.streams[sid]! : NO_SLOT;
}

/** A figure of a report (wire.ts `WireNumber`), NaN when it is none. */
const numberOf = (x: unknown): number =>
  typeof x === 'number' ? x : typeof x === 'string' ? Number(x) : NaN;

/** The rows of a report's flat array of rows (wire.ts `h`, `e`): each one's series id and where its figures are. */
function* rows<T>(flat: readonly T[]): Generator<[sid: T, from: number, to: number]> {
  for (let i = 0; i + 1 < flat.length;) {
    const from = i + 2;
    i = from + (flat[i + 1] as number);
    if (i <= flat.length) yield [flat[from - 2]!, from, i];
  }
}

/** An exponential histogram row of a report (wire.ts `e`), from its count on. */
function exponentialOf(row: readonly WireNumber[]): ExponentialSum {
  const [count, sum, scale, zeroCount, positiveOffset, positiveLength, negativeOffset] =
    row.map(numberOf);
  const counts = row.slice(7).map(numberOf);
  return {
    scale: scale!,
    zeroCount: zeroCount!,
    zeroThreshold: 0,
    positive: { offset: positiveOffset!, counts: counts.slice(0, positiveLength) },
    negative: { offset: negativeOffset!, counts: counts.slice(positiveLength) },
    sum: sum!,
    count: count!,
  };
}

/** Whether `sid` is a series id (an integer from 0) below `limit`. */
const isId = (sid: unknown, limit: number): sid is number =>
  Number.isInteger(sid) && (sid as number) >= 0 && (sid as number) < limit;
