/**
 * The OTLP ingest store: holds, as cumulative state, every metric that foreign SDKs push to
 * `jobmeter serve`. A pull scrape reads its series sets as columns after the SDK's own metrics
 * (`collectSeries`: a Collection's `ingested` part, the one naming stage for both); the OTLP push
 * and the cluster report read the same part as OpenTelemetry MetricData, converted once at the
 * edge ({@link ingestProducer}).
 *
 * **One jobmeter is one target.** Resources are merged: the series of every sender are rendered
 * under jobmeter's own resource (`target_info`, the `hostname` label…), and the senders' resource
 * attributes become neither labels nor `target_info`; they only tell source series apart.
 * Instrumentation scopes are kept (the native profile shows them as `otel_scope_name`/`otel_scope_version`).
 *
 * The rest of the decisions (docs/collector.md explains them to users) are in the files that apply
 * them: the store's series/streams.ts (state per source series) and series/output-set.ts (output
 * per bounded series, its base by the carry rule), stream-rules.ts (validity, temporality,
 * resets), attribute-fold.ts (bounded attributes), series-registry.ts (caps, memory budget,
 * expiry), ingest-report.ts (refusals), input-bounds.ts (lengths).
 * Memory is bounded by `maxSeries` streams (plus their bounded series) and by `maxMemoryBytes`,
 * whatever the senders do. `snapshot()`/`restore()` carry the state across a restart
 * (checkpoint.ts; state-keeper.ts decides when): the store stays the one owner of it.
 */
import { emptyResource, millisToHrTime } from '../common/otel-sdk.ts';
import type { Attributes, HrTime } from '@opentelemetry/api';
import type { CollectionResult, MetricProducer, ScopeMetrics } from '@opentelemetry/sdk-metrics';
import type { IngestedPart, IngestedScope } from '../series/collection.ts';
import { pointFloor, pointMillis, type Clock } from '../series/clock.ts';
import { collectSeries, ingestedMetrics } from '../series/output-collect.ts';
import { SnapshotArena, SnapshotStorage } from '../series/snapshot.ts';
import type {
  OtlpExponentialHistogramPoint,
  OtlpExportRequest,
  OtlpHistogramPoint,
  OtlpMetric,
  OtlpNumberPoint,
} from '../otlp/types.ts';
import { VERSION } from '../version.ts';
import { DOMAIN_INSTRUMENTS } from '../domain/catalog.ts';
import {
  conventionRecords,
  replacedBy,
  type Convention,
  type ConventionRecord,
} from '../domain/convention.ts';
import type { SumStorage } from '../domain/storage/sum.ts';
import type { InstrumentSpec } from '../domain/types.ts';
import { arrival, type Arrival } from './arrival.ts';
import { derivedRunMetrics, LastFailure } from './derived-runs.ts';
import {
  IngestReport,
  refusedCounter,
  type IngestResult,
  type Refusal,
  type RefusalReason,
} from './ingest-report.ts';
import { attributesKey } from './input-bounds.ts';
import { packedPoints, pointKey, type PackedChunk, type PointList } from './packed-chunk.ts';
import type { StoreSnapshot } from './checkpoint.ts';
import { groupKey, SeriesRegistry, type RestoreSummary } from './series-registry.ts';
import type { Instrument } from './instrument.ts';
import { NO_SLOT, type Shape } from '../series/output-set.ts';
import type { StreamTable } from '../series/streams.ts';
import { resolveStoreOptions, type IngestStoreOptions } from './store-options.ts';
import { SenderRecord, type RequestSenders } from './senders.ts';
import {
  applyHistogram,
  applyNumber,
  exponentialFault,
  histogramFault,
  invalidHistogram,
  invalidNumber,
  joinBounds,
  metricRefusal,
  MIN_MAX_AGE_MILLIS,
  timeWindow,
  type NumberMode,
} from './stream-rules.ts';

/** What a restore held again and left out (series-registry.ts), and what of the file the ingest refuses. */
export interface StoreRestore extends RestoreSummary {
  /** Its values the ingest refuses, left out: counted and worded as a request's refused points. */
  readonly refused: IngestResult;
}

/** What the listener needs of a store. */
export interface IngestSink {
  /** `peer`: where the request came from, the front's peer address (senders.ts). @default not told */
  ingest(request: OtlpExportRequest, peer?: string): IngestResult;
  /**
   * One request ingested in parts (the listener decodes off the main thread and hands a request
   * over in chunks). Without it the listener decodes on the main thread and calls `ingest`.
   */
  begin?(peer?: string): IngestBatch;
}

/** What a scrape reads of the ingest: the store itself, or its state keeper (state-keeper.ts `series`), which writes first. */
export interface IngestSeries {
  collectSeries(): Promise<IngestedPart>;
}

/** The parts of one request: `add` each (a part as decoded, or packed by the decoding thread), then `result` once. */
export interface IngestBatch {
  add(part: OtlpExportRequest | PackedChunk): void;
  result(): IngestResult;
}

/**
 * Where a metric's points go: its instrument, the key of its group of streams and the group's
 * streams (found once for all its points: the key is long), its arrival.
 */
interface Into {
  readonly instrument: Instrument;
  readonly group: string;
  streams: ReadonlyMap<string, number> | undefined;
  readonly at: Arrival;
  /** Cumulative points (a running total or level, not a delta window, not a gauge): a series they make starts at their own start. */
  readonly cumulative: boolean;
  /** The stream of the metric's point before, or NO_SLOT. */
  last: number;
  /**
   * A convention's instrument fed from a canonical one ({@link derivedPoint}): each point's stream
   * is its canonical stream's key, not its attributes'.
   */
  readonly derived?: boolean;
}

/** A convention instrument's {@link Into} from one canonical metric, and what it makes of a point's attributes. */
interface DerivedInto {
  readonly into: Into;
  readonly attributes: ConventionRecord<InstrumentSpec>['attributes'];
}

/**
 * A canonical point as a convention's instrument takes it: the convention's `attributes`, and the
 * key of the canonical point's own stream (`key`), so two canonical streams whose attributes the
 * convention makes one (runs of one task under two kinds) stay two streams adding up to one series.
 */
function derivedPoint<P extends { readonly attributes: Attributes }>(
  point: P,
  attributes: Attributes,
): P & { readonly key: string } {
  return { ...point, attributes, key: pointKey(point) };
}

/**
 * The convention's instruments each canonical instrument feeds, by the canonical name: the
 * recorder's own derivation (domain/convention.ts `conventionRecords`), so a sender's points and
 * an embedded host's records come out as the same instruments, attributes and words.
 */
function derivations(
  convention: Convention | undefined,
): ReadonlyMap<string, readonly ConventionRecord<InstrumentSpec>[]> {
  const out = new Map<string, readonly ConventionRecord<InstrumentSpec>[]>();
  if (convention === undefined) return out;
  for (const spec of DOMAIN_INSTRUMENTS) {
    const records = conventionRecords(convention, DOMAIN_INSTRUMENTS, spec, (s) => s);
    if (records !== undefined && records.targets.length > 0) out.set(spec.name, records.targets);
  }
  return out;
}

const JOBMETER_SCOPE = { name: 'jobmeter', version: VERSION };

/** The ScopeMetrics an {@link ingestProducer} produced, so a push can tell them from the SDK's own. */
const PRODUCED = new WeakSet<ScopeMetrics>();

/** Whether `scopeMetrics` came out of an {@link ingestProducer} (the push's; a scrape's part is its own, `collectSeries`). */
export function ingestedScope(scopeMetrics: ScopeMetrics): boolean {
  return PRODUCED.has(scopeMetrics);
}

/**
 * `series` (a store, or its state keeper's, which writes first) as a producer of OpenTelemetry
 * MetricData: what the OTLP push and the cluster report read, the scrape's columns converted once.
 */
export function ingestProducer(series: IngestSeries): MetricProducer {
  return {
    collect: async () => {
      const scopeMetrics = ingestedMetrics(await series.collectSeries());
      for (const sm of scopeMetrics) PRODUCED.add(sm);
      return { resourceMetrics: { resource: emptyResource(), scopeMetrics }, errors: [] };
    },
  };
}

/**
 * The store: the points path and the collections, over the registry's streams and policy
 * (series-registry.ts, which it is).
 */
export class IngestStore
  extends SeriesRegistry
  implements MetricProducer, IngestSink, IngestSeries
{
  readonly #clock: Clock;
  /** How far behind jobmeter's clock a point's time may be (`time_too_old` past it): the longer of an hour and the expiry (stream-rules.ts). */
  readonly maxAgeMillis: number;
  /** The points refused, served as `jobmeter.ingest.refused` from `start` (when the store was made): this store's count, or a held copy's live store's ({@link holdFor}). */
  #refused: { readonly counter: SumStorage; readonly start: HrTime };
  readonly #lastFailure = new LastFailure();
  /** Under a convention: the instruments it derives from each canonical one (by its name). */
  readonly #derivations: ReadonlyMap<string, readonly ConventionRecord<InstrumentSpec>[]>;
  /**
   * Under a convention: the canonical instruments it replaces. Held, as sent (the runs are derived
   * from `jobmeter.run.finished`, derived-runs.ts), never served: the convention's are.
   */
  readonly #replaced: ReadonlySet<string>;
  /** The storage of the last {@link collectSeries} given back, for the next. */
  readonly #storage = new SnapshotStorage();
  #changes = 0;
  /** Who pushes: each resource's sender, fed as its points are ingested. */
  readonly senders = new SenderRecord();

  /** @throws {ConfigError} naming the option, for a value that cannot be used. */
  constructor(options: IngestStoreOptions = {}) {
    const settings = resolveStoreOptions(options);
    super(settings);
    this.#clock = settings.clock;
    this.maxAgeMillis = Math.max(MIN_MAX_AGE_MILLIS, settings.expiryMillis);
    this.#refused = { counter: refusedCounter(), start: millisToHrTime(pointMillis(this.#clock)) };
    this.#derivations = derivations(settings.convention);
    this.#replaced = replacedBy(settings.convention);
  }

  /** Source series held now (for tests and diagnostics). */
  get seriesCount(): number {
    return this.store.streams.size;
  }

  /** Data points refused since the store was made, by reason: what `jobmeter.ingest.refused` reports. */
  refusedByReason(): ReadonlyMap<RefusalReason, number> {
    const { attributes, values } = this.#refused.counter;
    return new Map(attributes.map((a, i) => [a['reason'] as RefusalReason, values.data[i]!]));
  }

  /**
   * Counts what may have changed the held state (each part of a request ingested, a restore, a
   * source series expired or put dormant): a checkpoint is due when it moved since the last one. An
   * expiry is written too, so a restart does not hold again, dormant, a source that expired before
   * it (series-registry.ts `restore`); and a source gone dormant, so the copy served while writes
   * fail (state-keeper.ts) holds it dormant as the store did, never serves again what it withdrew.
   */
  get changes(): number {
    return this.#changes + this.expiredSeries + this.slept;
  }

  /**
   * What the store holds, as plain data for a checkpoint (checkpoint.ts): each sender's streams
   * (last value or delta total, start and last times), each series' base and start time, the
   * instruments, the last failure's time. Encode it at once: it shares accumulators the store replaces as points arrive.
   */
  override snapshot(): StoreSnapshot {
    return {
      ...super.snapshot(),
      lastFailureSeconds: this.#lastFailure.seconds,
    };
  }

  /**
   * Holds `snapshot` (from {@link snapshot}, maybe of another process) in this store, which must
   * be empty: it serves the same series and values, and senders' next points go on from them (a
   * cumulative sender's value is no reset, a delta sender's add to its total). What no longer
   * fits this store's caps, budget or canonical instruments is left out and counted. The values
   * of the file the ingest refuses (`snapshot.refused`, left out) are counted as its refused
   * points are, and said in the words a sender's report would use (`refused`). A source series
   * silent past the expiry by now (`asWritten`: by the write) is dormant (series-registry.ts
   * `restore`).
   */
  override restore(snapshot: StoreSnapshot, asWritten = false): StoreRestore {
    const report = new IngestReport(this.#refused.counter);
    for (const r of snapshot.refused ?? []) report.refuse(r.name, r.points, r.refusal);
    const summary = super.restore(snapshot, asWritten);
    // Points go on after the writer's, though this process's wall clock be behind it.
    if (!asWritten && snapshot.point !== undefined)
      this.#clock.holdPointsAfter?.(pointFloor(this.#clock, snapshot.point, snapshot.written));
    this.#lastFailure.seconds = snapshot.lastFailureSeconds;
    this.#changes++;
    return { ...summary, refused: report.result() };
  }

  /**
   * Serves this store, holding the last file written, in `live`'s place while `live`'s checkpoints
   * fail (state-keeper.ts): its series as `live` keeps them ({@link idleAs}), `live`'s refused
   * points as they are now. Refusals are no state of the file: one count, `live`'s, goes on whether
   * a write succeeds or not; what the file holds that the ingest refuses was added to it once, when
   * `live` restored the file, and this copy's reading of it is not served. Call it before each
   * collection of the copy.
   */
  holdFor(live: IngestStore, madeBefore: number): void {
    this.idleAs(live, madeBefore);
    this.#refused = live.#refused;
  }

  ingest(request: OtlpExportRequest, peer?: string): IngestResult {
    const batch = this.begin(peer);
    batch.add(request);
    return batch.result();
  }

  begin(peer?: string): IngestBatch {
    const report = new IngestReport(this.#refused.counter);
    const senders = this.senders.request(peer);
    return {
      add: (part) => this.#ingestInto(part, report, senders),
      result: () => report.result(),
    };
  }

  /** Source series held now, by the key of the resource they were sent under (for {@link senders}). */
  seriesByResource(): Map<string, number> {
    const out = new Map<string, number>();
    const groups = this.store.streams.group;
    let group: (typeof groups)[number];
    let resource = '';
    // Slots come group by group.
    for (const s of this.store.slots()) {
      if (groups[s] !== group) {
        group = groups[s]!;
        // A group's key is its instrument's name, then the arrival's origin, which starts with
        // the resource key (arrival.ts; JSON or a hash: no NUL in it).
        const start = group.instrument.name.length + 1;
        resource = group.key.slice(start, group.key.indexOf('\0', start));
      }
      out.set(resource, (out.get(resource) ?? 0) + 1);
    }
    return out;
  }

  /** The store as a standard reader's producer of MetricData: {@link ingestProducer}'s of it. */
  collect(): Promise<CollectionResult> {
    return ingestProducer(this).collect();
  }

  /**
   * The store as the naming pass reads it (a Collection's `ingested` part): its series sets as
   * columns, copied at one instant into storage the next collection reuses once `done` is called,
   * then the metrics made of them (the runs derived from the sets, the refused points).
   */
  collectSeries(): Promise<IngestedPart> {
    const endTime = this.#instant();
    const collected = collectSeries([...this.instruments()], endTime, (figures) =>
      this.#storage.arena(figures),
    );
    const scopes = this.#served(collected.scopes, endTime);
    const dormant = this.dormantSeries();
    return Promise.resolve({
      scopes,
      endTime,
      ...(dormant !== undefined && { dormant }),
      done: this.#storage.lend(collected.arena),
    });
  }

  /**
   * The collected `scopes` as served: without the canonical instruments a convention replaces (and
   * the scopes that leaves empty), then a scope of jobmeter's own: the runs derived from the sets
   * (MetricData: no series of a set, derived-runs.ts), then the refused points (ingest-report.ts).
   */
  #served(scopes: IngestedScope[], endTime: HrTime): IngestedScope[] {
    const entries = scopes.flatMap((s) => s.series);
    const derived = derivedRunMetrics(entries, this.#lastFailure.seconds, endTime);
    const served =
      this.#replaced.size === 0
        ? scopes
        : scopes.flatMap(({ scope, series }) => {
            const kept = series.filter((m) => !this.#replaced.has(m.descriptor.name));
            return kept.length === 0 ? [] : [{ scope, series: kept }];
          });
    if (derived.length > 0) served.push({ scope: JOBMETER_SCOPE, series: derived, own: true });
    const { counter, start } = this.#refused;
    const arena = new SnapshotArena(new Float64Array(counter.snapshotLength()));
    const refused = counter.collected(counter.snapshot(arena), start);
    if (refused !== undefined) served.push({ scope: JOBMETER_SCOPE, series: [refused], own: true });
    return served;
  }

  /** Expires what is due and compacts the sets a collection reads: its end time. */
  #instant(): HrTime {
    this.sweep(this.#clock.monotonicMillis(), true);
    this.store.compact();
    return millisToHrTime(pointMillis(this.#clock));
  }

  #ingestInto(
    part: OtlpExportRequest | PackedChunk,
    report: IngestReport,
    senders: RequestSenders,
  ): void {
    this.#changes++;
    const wall = this.#clock.wallMillis();
    const monotonic = this.#clock.monotonicMillis();
    this.sweep(monotonic, false);
    const packed = 'keys' in part ? part : undefined;
    // Senders' point times are their wall clocks: judged against jobmeter's. A series made now
    // starts on the point clock its collections stamp, never after their times.
    const window = timeWindow(wall, this.maxAgeMillis);
    const stamp = pointMillis(this.#clock);
    for (const rm of part.resourceMetrics) {
      const resourceKey = attributesKey(rm.resource);
      const accepted = report.accepted;
      const sender = (report.sender = senders.arrive(rm, resourceKey, wall));
      for (const sm of rm.scopeMetrics) {
        const at = arrival(report, stamp, monotonic, window, resourceKey, sm.scope);
        for (const m of sm.metrics) {
          const metric = 'first' in m ? m.metric : m;
          sender.sent(metric.data);
          this.#ingestMetric(metric, at, 'first' in m ? packedPoints(packed!, m) : undefined);
        }
      }
      sender.accept(report.accepted - accepted);
    }
    report.sender = undefined;
  }

  /** `points`: the metric's points when they are not in its data (a packed chunk's). */
  #ingestMetric(
    metric: OtlpMetric,
    at: Arrival,
    points: PointList<OtlpNumberPoint> | PointList<OtlpHistogramPoint> | undefined,
  ): void {
    const data = metric.data;
    if (data.type === 'empty') return;
    const count = data.type === 'summary' ? data.pointCount : (points ?? data.points).length;
    if (count === 0) return;
    const refusal = metricRefusal(metric);
    if (refusal !== undefined) {
      at.report.refuse(metric.name, count, refusal);
      return;
    }
    if (data.type === 'summary') return; // refused above: no Summary is kept
    const incoming: Shape =
      data.type === 'sum' ? (data.monotonic ? 'monotonicSum' : 'sum') : data.type;
    const instrument = this.instrumentFor(metric, incoming, count, at.report);
    if (instrument === undefined) return;
    const into = this.#into(
      instrument,
      at,
      data.type !== 'gauge' && data.temporality === 'cumulative',
    );
    const derived = this.#derivedInto(metric, incoming, count, at, into.cumulative);
    // A packed list hands out one point object moved from point to point: each is done with
    // before the next is read (packed-chunk.ts PointList).
    if (data.type === 'histogram') {
      const delta = data.temporality === 'delta';
      const list = (points ?? data.points) as PointList<OtlpHistogramPoint>;
      if (derived === undefined)
        for (let i = 0; i < count; i++) this.#ingestHistogramPoint(into, list.at(i)!, delta);
      else
        for (let i = 0; i < count; i++)
          this.#derive(into, list.at(i)!, derived, (to, p) =>
            this.#ingestHistogramPoint(to, p, delta),
          );
    } else if (data.type === 'exponentialHistogram') {
      const delta = data.temporality === 'delta';
      for (const point of data.points)
        this.#derive(into, point, derived, (to, p) => this.#ingestExponentialPoint(to, p, delta));
    } else {
      const mode: NumberMode =
        data.type === 'gauge' ? 'level' : data.temporality === 'delta' ? 'delta' : 'cumulative';
      const list = (points ?? data.points) as PointList<OtlpNumberPoint>;
      if (derived === undefined)
        for (let i = 0; i < count; i++) this.#ingestNumberPoint(into, list.at(i)!, mode);
      else
        for (let i = 0; i < count; i++)
          this.#derive(into, list.at(i)!, derived, (to, p) => this.#ingestNumberPoint(to, p, mode));
    }
  }

  /**
   * Under a convention, where a canonical `metric` (held as `into`) feeds the convention's
   * instruments: one {@link Into} for each, its streams apart from the sender's own points of that
   * instrument (its origin names the canonical instrument). The sender's points were taken as the
   * instrument it sent, so what the convention's refuse of them is counted
   * (`jobmeter.ingest.refused`), not told to the sender. Undefined when nothing is derived.
   */
  #derivedInto(
    metric: OtlpMetric,
    incoming: Shape,
    count: number,
    at: Arrival,
    cumulative: boolean,
  ): DerivedInto[] | undefined {
    const targets = this.#derivations.get(metric.name);
    if (targets === undefined) return undefined;
    const derivedAt: Arrival = {
      ...at,
      report: new IngestReport(this.#refused.counter),
      origin: at.origin + metric.name + '\0',
    };
    const out: DerivedInto[] = [];
    for (const { handle: spec, attributes } of targets) {
      const as = { ...metric, name: spec.name, unit: spec.unit, description: spec.description };
      const instrument = this.instrumentFor(as, incoming, count, derivedAt.report);
      if (instrument !== undefined)
        out.push({ into: this.#into(instrument, derivedAt, cumulative, true), attributes });
    }
    return out;
  }

  /** Where points of `instrument` from `at` go, its group's streams found once for them all. */
  #into(instrument: Instrument, at: Arrival, cumulative: boolean, derived?: true): Into {
    const group = groupKey(instrument, at);
    const streams = this.store.streamsOf(group);
    return {
      instrument,
      group,
      streams,
      at,
      cumulative,
      last: NO_SLOT,
      ...(derived && { derived }),
    };
  }

  /**
   * `ingest`s `point` into `into`, then, once it is taken, into each instrument a convention
   * derives from it that takes it (a finished run is an error only when it failed), as the
   * recorder records one canonical record on each (domain/recorder.ts `conventionInstruments`).
   */
  #derive<P extends { readonly attributes: Attributes }>(
    into: Into,
    point: P,
    derived: readonly DerivedInto[] | undefined,
    ingest: (into: Into, point: P) => void,
  ): void {
    const report = into.at.report;
    const taken = report.accepted;
    ingest(into, point);
    if (derived === undefined || report.accepted === taken) return;
    for (const d of derived) {
      const attributes = d.attributes(point.attributes);
      if (attributes !== undefined) ingest(d.into, derivedPoint(point, attributes));
    }
  }

  #ingestNumberPoint(into: Into, point: OtlpNumberPoint, mode: NumberMode): void {
    const { instrument, at } = into;
    const s = this.#streamOf(
      into,
      point,
      invalidNumber(point, instrument.shape === 'monotonicSum', at),
    );
    if (s === NO_SLOT) return;
    const applied = applyNumber(this.store.streams, s, point, mode, at);
    if (typeof applied === 'object') return this.#refuse(into, s, applied);
    if (applied) this.#lastFailure.rose(instrument.name, point);
    at.report.accepted++;
  }

  #ingestHistogramPoint(into: Into, point: OtlpHistogramPoint, delta: boolean): void {
    const at = into.at;
    const s = this.#streamOf(
      into,
      point,
      invalidHistogram(point, histogramFault, at),
      point.explicitBounds,
    );
    if (s === NO_SLOT) return;
    const streams = this.store.streams;
    const joined = joinBounds(streams, s, point, at.report);
    if (joined === 'refused') {
      // A source series created for this point only holds nothing: do not keep it. One that holds
      // points is alive (its sender sends it): it expires by its sender's silence, not by how long
      // another source's layout refuses its points, or the series would go with the other's expiry
      // while it is still sent, and come back from 0 (a counter going back).
      if (streams.points[s] === 0) this.dropStream(s);
      else if (streams.slept[s] !== streams.slept[s]) streams.updatedAt[s] = at.monotonic;
      return;
    }
    // Its counts re-bucketed (joinBounds): a delta sender's total goes on from them, a cumulative
    // one's replaces them or, lower, is a reset.
    if (joined === 'relayout') {
      const over = this.relayoutCharged(s, point.explicitBounds);
      if (over !== undefined) return this.#refuse(into, s, over);
    }
    const refused = applyHistogram(streams, s, point, delta, at);
    if (refused !== undefined) return this.#refuse(into, s, refused);
    at.report.accepted++;
  }

  #ingestExponentialPoint(into: Into, point: OtlpExponentialHistogramPoint, delta: boolean): void {
    const s = this.#streamOf(into, point, invalidHistogram(point, exponentialFault, into.at));
    if (s === NO_SLOT) return;
    const refused = applyHistogram(this.store.streams, s, point, delta, into.at);
    if (refused !== undefined) return this.#refuse(into, s, refused);
    into.at.report.accepted++;
  }

  /**
   * Refuses a point its stream in slot `s` did not take (a delta window it counted). A stream made
   * for it holds nothing (one back from expiry took only its windows: stream-rules.ts
   * `placeWindow`), and is not kept: its series keeps the gone source as it was.
   */
  #refuse(into: Into, s: number, refusal: Refusal): void {
    if (this.store.streams.points[s] === 0) this.dropStream(s);
    into.at.report.refuse(into.instrument.name, 1, refusal);
  }

  /**
   * The slot of the stream a point joins; {@link NO_SLOT} when the point is done
   * with: it ended its stream ("no recorded value"), it is `invalid`, or it was refused.
   */
  #streamOf(
    into: Into,
    point: OtlpNumberPoint | OtlpHistogramPoint | OtlpExponentialHistogramPoint,
    invalid: Refusal | undefined,
    bounds?: readonly number[],
  ): number {
    const { instrument, group, at } = into;
    const key =
      into.derived === true ? (point as unknown as { readonly key: string }).key : pointKey(point);
    if (point.noRecordedValue) {
      this.endStream(group, key);
      at.report.accepted++;
      return NO_SLOT;
    }
    if (invalid !== undefined) {
      at.report.refuse(instrument.name, 1, invalid);
      return NO_SLOT;
    }
    const table = this.store.streams;
    const guess = into.last === NO_SLOT ? NO_SLOT : table.after[into.last]!;
    const found =
      guess !== NO_SLOT && table.key[guess] === key && table.group[guess]?.streams === into.streams
        ? guess
        : into.streams?.get(key);
    if (found !== undefined) return follows(table, into, found);
    const sent = into.cumulative ? point.startTimeUnixNano : 0n;
    const windowed = !into.cumulative && instrument.shape !== 'gauge';
    const s = this.streamFor(instrument, point, group, key, at, sent, windowed, bounds);
    if (s === NO_SLOT) return s;
    // The group may have been made (or made again) for this stream.
    into.streams = this.store.streams.group[s]!.streams;
    return follows(this.store.streams, into, s);
  }
}

/** `s` is where the point after `into.last`'s went: the guess for next time. */
function follows(table: StreamTable, into: Into, s: number): number {
  if (into.last !== NO_SLOT) table.after[into.last] = s;
  into.last = s;
  return s;
}
