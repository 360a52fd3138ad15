/**
 * The ingest's policy over what its store holds: the instruments by name, and what bounds their
 * output series and source series (streams), which are the store's (series/streams.ts
 * `StreamStore`: the stream table, the groups, the output sets; the carry rule for what an ended
 * stream leaves its series, series/output-set.ts).
 *
 * - **Caps.** New instruments past `maxInstruments`, new streams past `maxSeries` in all or past
 *   an instrument's own cap are refused; their points are counted as refused, never dropped
 *   silently.
 * - **Memory in bytes.** Every stream, series and instrument is charged its estimated size
 *   (memory-estimate.ts) against `maxMemoryBytes`, and a new one that would pass it is refused,
 *   as the caps refuse.
 * - **Expiry.** A stream not updated for `expiryMillis` (default 5 minutes, the Collector's
 *   `metric_expiration`) is dropped; a series with no stream left disappears with it, and an
 *   instrument with no series left with its exposed names. A point flagged "no recorded value"
 *   ends its stream at once. A series made again later starts where its value counts from
 *   ({@link seriesStart}), and the expired streams are counted (`expiredSeries`). Nothing runs
 *   on a timer: expiry is applied when data arrives and when a collection reads the store,
 *   against the store's monotonic clock (series/clock.ts), so a step of the wall clock expires
 *   nothing. Across a restart a stream's idle time goes on: in the same boot the time since the
 *   checkpoint was written counts, jobmeter's downtime included, so a stream whose sender fell
 *   silent expires as if jobmeter had stayed up (`snapshot`, `restore`).
 *
 * What must stay true: whatever is dropped gives back exactly what it was charged, so the held
 * bytes, the name claims and the maps follow the live series and shrink when they expire.
 */
import { hrTimeMillis, millisToHrTime } from '../common/otel-sdk.ts';
import type { DormantSeries as HeldDormant } from '../series/collection.ts';
import { ValueType, type Attributes, type HrTime } from '@opentelemetry/api';
import { maxAttributeSets } from '../domain/bounded-attributes.ts';
import { mergeRuleOf, SENDER_LEVEL_RULE } from '../domain/merge-rules.ts';
import { pointMillis, resumedTimes, writtenTimes } from '../series/clock.ts';
import type { InstrumentSpec } from '../domain/types.ts';
import { MAX_EXPONENTIAL_BUCKETS } from '../common/exponential-histogram.ts';
import type { OtlpMetric } from '../otlp/types.ts';
import type { Arrival } from './arrival.ts';
import { closedCheck, foldFor, seriesAttributes } from './attribute-fold.ts';
import type {
  InstrumentSnapshot,
  SeriesSnapshot,
  StoreSnapshot,
  StreamSnapshot,
} from './checkpoint.ts';
import type { IngestReport, Refusal } from './ingest-report.ts';
import { cutString } from '../domain/bounded-attributes.ts';
import { attributesKey, MAX_DESCRIPTION_LENGTH } from './input-bounds.ts';
import {
  boundsBytes,
  instrumentBytes,
  scopeBytes,
  seriesBytes,
  streamBytes,
} from './memory-estimate.ts';
import { HISTOGRAM, mergeInto, type HistogramAcc } from '../series/aggregation.ts';
import { NameClaims } from './name-claims.ts';
import { instrumentKey, sameBounds, type Departure, type Figures } from '../series/carry.ts';
import { NO_SLOT, type OutputSet, type Shape } from '../series/output-set.ts';
import { instrumentSeries, seriesInOrder, StreamStore } from '../series/streams.ts';
import { EXPOSED_KIND, POINT_TYPE_OF_SHAPE } from '../domain/types.ts';
import type { Instrument } from './instrument.ts';
import type { StoreSettings } from './store-options.ts';
import { instrumentKind } from './stream-rules.ts';

/** The key of the group of streams `instrument` holds from `at`'s resource and scope. */
export function groupKey(instrument: Instrument, at: Arrival): string {
  return instrument.name + at.origin;
}

export class SeriesRegistry {
  readonly #settings: StoreSettings;
  readonly #claims: NameClaims;
  /** The instruments held, by name: each one's series and streams are in {@link #store}. */
  readonly #instruments = new Map<string, Instrument>();
  /** The streams and their series: the ingest store (a registry) updates their values, this holds the policy over them. */
  protected readonly store = new StreamStore<Instrument>();
  /** Estimated bytes held (memory-estimate.ts). */
  #bytes = 0;
  /**
   * What the series that left and wait in the carry for a naming pass still cost (their charge
   * when they left: series/carry.ts `departedAs`), until a pass settles the departures (`settled`,
   * the carry's count then). Charged to the budget: while writes fail no pass settles one, and
   * senders whose series come and go would otherwise grow the heap without bound.
   */
  #departures = { bytes: 0, settled: 0 };
  #lastSweep = Number.NEGATIVE_INFINITY;
  /** Source series dropped by expiry since the registry was made. */
  #expired = 0;
  /**
   * Source series a sweep put dormant since the registry was made: no longer served, which the state
   * file must hold as it holds an expiry (the copy served while writes fail reads it from there).
   */
  protected slept = 0;
  /** A copy whose expiry another registry decides ({@link idleAs}): its own sweep expires nothing. */
  #followsLive = false;
  /**
   * Dormant series: restored with no source known to be alive (each silent past the expiry as far
   * as the file knows: pushes it acknowledged and could not write are unknown to it), held as the
   * file had them and not served, by {@link dormantKey}. A point of one of its sources wakes the
   * series ({@link streamFor}); none within the expiry after the restore, it goes (counted expired).
   */
  readonly #dormant = new Map<string, DormantSeries>();
  /** The monotonic clock at the restore: dormant sources go the expiry after it. */
  #restoredAt = Number.NEGATIVE_INFINITY;
  /**
   * The `seq` of each series woken from dormant since the last write ({@link written}): made anew
   * in the store, it is still the series the file held (see {@link idleAs}).
   */
  readonly #wokenSeq = new Set<number>();
  /** Dormant series woken since the last sweep: one whose point was refused after all is dormant again ({@link sweep}). */
  #woken: [Instrument, string, string][] = [];

  constructor(settings: StoreSettings) {
    this.#settings = settings;
    this.#claims = new NameClaims(settings.reservedNames);
  }

  /** Estimated bytes held, the figure checked against `maxMemoryBytes`. */
  get memoryBytes(): number {
    return this.#bytes + this.#waiting();
  }

  /** The bytes of the departures that wait for a pass ({@link #departures}), `add` more first. */
  #waiting(add = 0): number {
    const settled = this.#settings.sources?.settledDepartures ?? 0;
    if (settled !== this.#departures.settled) this.#departures = { bytes: 0, settled };
    return (this.#departures.bytes += add);
  }

  /**
   * Source series dropped since the registry was made because no point came for the expiry time:
   * a series that comes back later starts over ({@link seriesStart}).
   */
  get expiredSeries(): number {
    return this.#expired;
  }

  /** A checkpoint of the first `made` series ({@link seriesMade}) was written: series woken before it are in it. */
  written(made: number): void {
    for (const seq of this.#wokenSeq) if (seq < made) this.#wokenSeq.delete(seq);
  }

  /** How many series were made so far: a series made from now on has a `seq` at or past it. */
  seriesMade(): number {
    return this.store.made;
  }

  instruments(): IterableIterator<Instrument> {
    return this.#instruments.values();
  }

  /** The instrument `metric` feeds, created on first sight; undefined (points refused) on a conflict or past a cap. */
  instrumentFor(
    metric: OtlpMetric,
    incoming: Shape,
    points: number,
    report: IngestReport,
  ): Instrument | undefined {
    const existing = this.#instruments.get(metric.name);
    const spec = existing?.spec ?? this.#settings.specs.get(metric.name);
    const kind = instrumentKind(metric.unit, incoming, existing, spec);
    // Refused for its kind, else the instrument held or made (or refused for its cap, name, bytes).
    const held =
      'code' in kind
        ? kind
        : (existing ??
          this.#newInstrument(metric.name, kind.shape, kind.unit, metric.description, spec));
    if (!('code' in held)) return held;
    report.refuse(metric.name, points, held);
    return undefined;
  }

  /** A new instrument, held from now on; the refusal when a cap, a name clash or the budget stops it. */
  #newInstrument(
    name: string,
    shape: Shape,
    unit: string,
    sentDescription: string,
    spec: InstrumentSpec | undefined,
  ): Instrument | Refusal {
    const { maxInstruments, maxSeriesPerInstrument } = this.#settings;
    if (this.#instruments.size >= maxInstruments)
      return { code: 'instrument_cap', text: `over the cap of ${maxInstruments} instruments` };
    // None when names are not checked.
    const names = this.#settings.exposedNames?.(name, unit, EXPOSED_KIND[shape]) ?? [];
    const clash = this.#claims.clash(name, names);
    if (clash !== undefined)
      return {
        code: 'name_clash',
        text: `its exposed name ${clash.name} is taken by ${cutString(clash.owner, 64)}`,
      };
    const description = spec?.description ?? cutString(sentDescription, MAX_DESCRIPTION_LENGTH);
    const bytes = instrumentBytes(name, description, unit);
    if (!this.#take(bytes)) return this.#overBudget();
    this.#claims.claim(names, name);
    const instrument: Instrument = {
      // A level from several senders (a daemon restarted under a new resource, its old process
      // not yet expired) follows the instrument's merge rule, never a sum of the two.
      ...instrumentSeries(
        name,
        shape,
        { name, description, unit, valueType: ValueType.DOUBLE },
        SENDER_LEVEL_RULE[mergeRuleOf(name)],
      ),
      spec,
      fold: foldFor(spec),
      closed: spec === undefined ? undefined : closedCheck(spec, this.#settings.vocabularies),
      // A canonical instrument may hold as many series as its vocabularies allow, up to the domain's
      // ceiling, as on an embedded host (rm's per-host gauges: 5000 hosts).
      streamCap:
        spec === undefined
          ? maxSeriesPerInstrument
          : Math.max(maxSeriesPerInstrument, maxAttributeSets(spec.attributes)),
      bytes,
      names,
      dormant: 0,
    };
    this.#instruments.set(name, instrument);
    return instrument;
  }

  /**
   * The slot of the stream a `point` of `instrument` (its attributes keyed `key`) from `at` feeds,
   * created (with its series) on first sight; {@link NO_SLOT} when refused.
   * `groupKey` is {@link groupKey}`(instrument, at)`, made once for all the points of a metric.
   * `sentStart`: a cumulative point's start time (0 for any other point), where a series it makes
   * starts ({@link seriesStart}). `windowed`: the point is a delta window. `bounds`: an
   * explicit-bucket histogram point's, the layout of a series it makes.
   */
  streamFor(
    instrument: Instrument,
    point: { readonly attributes: Attributes },
    groupKey: string,
    key: string,
    at: Arrival,
    sentStart: bigint,
    windowed: boolean,
    bounds?: readonly number[],
  ): number {
    const found = this.store.streamsOf(groupKey)?.get(key);
    if (found !== undefined) return found;
    const buckets = bucketsOf(instrument.shape, bounds);
    // Read only for a new stream: a packed point (packed-chunk.ts) rebuilds its attributes when read.
    const attributes = point.attributes;
    const report = at.report;
    const refused = (refusal: Refusal): number => {
      report.refuse(instrument.name, 1, refusal);
      return NO_SLOT;
    };
    if (this.store.streams.size >= this.#settings.maxSeries)
      return refused({
        code: 'series_cap',
        text: `over the cap of ${this.#settings.maxSeries} source series in all`,
      });
    if (instrument.streamCount >= instrument.streamCap)
      return refused({
        code: 'series_cap',
        text: `over the cap of ${instrument.streamCap} source series per instrument`,
      });
    if (instrument.closed?.(attributes) !== undefined)
      return refused({
        code: 'vocabulary',
        text: "an attribute value outside the closed set the profile's original documents",
      });
    const bounded = seriesAttributes(instrument, attributes, report);
    const boundedKey = attributesKey(bounded);
    // One string for both keys when they are equal (nothing was folded), as they usually are.
    const seriesKey = boundedKey === key ? key : boundedKey;
    // A dormant series of it wakes: its sources, this one among them or not, go on from the file.
    if (this.#wake(instrument, at.scopeKey, seriesKey)) {
      const woken = this.store.streamsOf(groupKey)?.get(key);
      if (woken !== undefined) return woken;
    }
    const held = this.store.seriesIn(instrument, at.scopeKey, seriesKey);
    const newSeriesBytes =
      held === undefined ? seriesBytes(at.scopeKey, seriesKey, bounded, buckets) : 0;
    const newScope = instrument.scopes.has(at.scopeKey) ? 0 : scopeBytes(at.scopeKey);
    const bytes = streamBytes(groupKey.length + key.length, buckets);
    if (!this.#take(bytes + newSeriesBytes + newScope)) return refused(this.#overBudget());
    const store = this.store;
    if (held !== undefined)
      return store.newStream(instrument, held.out, held.at, groupKey, key, bytes, at.monotonic);
    const spec = instrument.spec?.buckets;
    if (bounds !== undefined && spec !== undefined && !sameBounds(spec, bounds)) {
      report.warn(
        instrument.name,
        `bucket boundaries differ from the catalog's [${spec.join(', ')}]; the sender's are kept`,
      );
    }
    const frozen = Object.freeze(bounded);
    const made = store.newSeries(
      instrument,
      seriesKey,
      at.scopeKey,
      at.scope,
      frozen,
      seriesStart(at.stamp, sentStart),
      newSeriesBytes,
      bounds?.slice(),
    );
    if (windowed) this.#settings.sources?.madeByWindows(frozen);
    return store.newStream(instrument, made.out, made.at, groupKey, key, bytes, at.monotonic);
  }

  /**
   * What the registry holds, as plain data (checkpoint.ts). It shares the held accumulators, which
   * are replaced, never changed in place: encode it before the store takes more points.
   */
  snapshot(): Pick<StoreSnapshot, 'instruments' | 'written' | 'point'> {
    this.store.compact();
    const instruments: InstrumentSnapshot[] = [];
    const { at, times: wall } = writtenTimes(this.#settings.clock);
    const dormant = Map.groupBy(this.#dormant.values(), (d) => d.instrument);
    for (const instrument of this.#instruments.values()) {
      const series = seriesInOrder(instrument).map(([out, at]) =>
        this.#seriesSnapshot(instrument, out, at, wall),
      );
      // A dormant series is written as the file had it, its sources' silence going on.
      for (const { saved, lastPoints } of dormant.get(instrument) ?? [])
        series.push({
          ...saved,
          streams: saved.streams.map((t, i) => ({ ...t, updatedAt: wall(lastPoints[i]!) })),
        });
      const { name, shape, descriptor } = instrument;
      const { description, unit } = descriptor;
      instruments.push({ name, shape, description, unit, series });
    }
    return { instruments, written: at, point: pointMillis(this.#settings.clock) };
  }

  /** The dormant series, by instrument and scope (none after the expiry that follows a restore). */
  dormantSeries(): HeldDormant[] | undefined {
    if (this.#dormant.size === 0) return undefined;
    const held = Map.groupBy(
      this.#dormant.values(),
      (d) => `${d.instrument.name}\0${d.saved.scopeKey}`,
    );
    return [...held.values()].map((of) => ({
      ...dormantHead(of[0]!),
      series: of.map(dormantEntry),
    }));
  }

  /** Series `slot` of `out` (of `instrument`) as a snapshot, its streams' times by `wall` (a dormant one's as of its last point). */
  #seriesSnapshot(
    instrument: Instrument,
    out: OutputSet,
    slot: number,
    wall: (monotonic: number) => number,
  ): SeriesSnapshot {
    const st = this.store.streams;
    const streams: StreamSnapshot[] = [];
    for (let t = out.first(slot); t !== NO_SLOT; t = st.next[t]!) {
      const origin = st.group[t]!.key.slice(instrument.name.length);
      const slept = st.slept[t]!;
      streams.push({
        origin,
        key: st.key[t]!,
        start: st.start[t]!,
        time: st.time[t]!,
        points: st.points[t]!,
        value: st.value[t]!,
        acc: st.acc[t],
        updatedAt: wall(slept === slept ? slept : st.updatedAt[t]!),
        from: st.from[t]!,
        gaps: st.gaps[t]?.slice(),
      });
    }
    const scopeKey = out.scopeKey;
    const gone = out.goneOf(slot);
    return {
      ...(gone !== undefined && {
        gone: {
          base: out.base(slot),
          baseAcc: out.baseAcc[slot],
          parts: [...gone].map(([id, part]) => ({
            ...part,
            source: id.slice(instrument.name.length),
          })),
        },
      }),
      scopeKey,
      scope: instrument.scopes.get(scopeKey)!.scope,
      attributes: out.set.attributes[slot]!,
      startTime: out.set.startOf(slot),
      base: out.carried(slot),
      baseAcc: out.carriedAcc(slot),
      bounds: out.bounds,
      streams,
    };
  }

  /**
   * Holds again the `instruments` {@link snapshot} gave, into an empty registry, through the same caps, name claims
   * and budget as arriving points: what no longer fits (lower caps, another profile's canonical
   * instruments) is left out and counted. Each stream's idle time goes on (clock.ts
   * `resumedTimes`): in the same boot, plus the time since the snapshot was made, jobmeter's
   * downtime included; whatever the wall clock says now. A stream idle for the expiry time by then
   * is dormant (`summary.dormantStreams`): the file cannot know whether its sender pushed after the
   * write (while writes failed, or in the seconds before a SIGKILL), so it is neither served nor
   * forgotten. It counts in its series, which is served only while a source of it is awake; no
   * level of it is served; a point wakes it and it goes on from what the file held (a delta
   * sender's total goes on, a cumulative one's is judged by the reset rule); with no point within
   * the expiry after the restore it goes, counted expired ({@link sweep}). `asWritten`: dormant as
   * at the write, not now (the copy served while writes fail, state-keeper.ts: its expiry is the
   * live store's, {@link idleAs}).
   */
  restore(
    snapshot: Pick<StoreSnapshot, 'instruments' | 'written'>,
    asWritten = false,
  ): RestoreSummary {
    if (this.#instruments.size > 0) throw new Error('restore() needs an empty store');
    const { instruments } = snapshot;
    const { downtime, time: resumed } = resumedTimes(
      this.#settings.clock,
      updateTimes(instruments),
      snapshot.written,
    );
    const now = this.#settings.clock.monotonicMillis();
    this.#restoredAt = asWritten
      ? resumed(snapshot.written?.wall ?? newest(updateTimes(instruments)))
      : now;
    const summary: Mutable<RestoreSummary> = {
      instruments: 0,
      series: 0,
      streams: 0,
      skippedStreams: 0,
      dormantStreams: 0,
      downtimeCounted: downtime,
    };
    for (const saved of instruments) {
      const count = saved.series.reduce((n, s) => n + s.streams.length, 0);
      const instrument = this.#restoreInstrument(saved);
      if (instrument === undefined) {
        summary.skippedStreams += count;
        continue;
      }
      summary.instruments++;
      for (const s of saved.series) {
        const lastPoints = s.streams.map((t) => resumed(t.updatedAt));
        const restored =
          lastPoints.length > 0 && lastPoints.every((t) => this.#asleep(t))
            ? this.#putDormant(instrument, s, lastPoints)
            : this.#restoreSeries(instrument, s, lastPoints);
        summary.streams += restored;
        summary.skippedStreams += s.streams.length - restored;
        if (restored > 0) summary.series++;
        summary.dormantStreams += lastPoints
          .slice(0, restored)
          .filter((t) => this.#asleep(t)).length;
      }
      if (this.#unheld(instrument)) {
        this.#dropInstrument(instrument);
        summary.instruments--;
      }
    }
    return summary;
  }

  /** Whether a stream whose last point was at the monotonic `lastPoint` is dormant at the restore. */
  #asleep(lastPoint: number): boolean {
    return this.#restoredAt - lastPoint >= this.#settings.expiryMillis;
  }

  /** `instrument` holds nothing: no series, no dormant one. */
  #unheld(instrument: Instrument): boolean {
    return instrument.scopes.size === 0 && instrument.dormant === 0;
  }

  /**
   * Holds `saved`, a series of `instrument` none of whose sources is awake (their last points at
   * `lastPoints`), dormant, charged as a restored series is: how many of its streams (all or none).
   */
  #putDormant(instrument: Instrument, saved: SeriesSnapshot, lastPoints: number[]): number {
    const seriesKey = attributesKey(saved.attributes);
    const buckets = bucketsOf(instrument.shape, saved.bounds);
    let bytes = seriesBytes(saved.scopeKey, seriesKey, saved.attributes, buckets);
    for (const t of saved.streams)
      bytes += streamBytes(instrument.name.length + t.origin.length + t.key.length, buckets);
    const id = dormantKey(instrument.name, saved.scopeKey, seriesKey);
    if (this.#dormant.has(id) || !this.#take(bytes)) return 0;
    this.#dormant.set(id, { instrument, saved, lastPoints, bytes });
    instrument.dormant++;
    return saved.streams.length;
  }

  /** Gives back the dormant series `id`'s charge and place; `leaves`: it goes (not woken). */
  #forgetDormant(id: string, d: DormantSeries, leaves = false): void {
    if (leaves) this.#departingDormant(d);
    this.#dormant.delete(id);
    this.#bytes -= d.bytes;
    d.instrument.dormant--;
  }

  /** The dormant series of `instrument` keyed `seriesKey` under `scopeKey`, if there is one, held again (its sources still dormant): whether there was. */
  #wake(instrument: Instrument, scopeKey: string, seriesKey: string): boolean {
    const id = dormantKey(instrument.name, scopeKey, seriesKey);
    const d = this.#dormant.get(id);
    if (d === undefined) return false;
    this.#forgetDormant(id, d);
    this.#restoreSeries(instrument, d.saved, d.lastPoints);
    this.#woken.push([instrument, scopeKey, seriesKey]);
    const found = this.store.seriesIn(instrument, scopeKey, seriesKey);
    if (found !== undefined) this.#wokenSeq.add(found.out.seq(found.at));
    return true;
  }

  /**
   * Series `at` of `out`, all of whose streams are dormant now (its awake ones expired or ended),
   * is held dormant: not served, its sources still resumable until the restore's expiry.
   */
  #putToSleep(out: OutputSet, at: number): void {
    const st = this.store.streams;
    const first = out.first(at);
    const instrument = st.group[first]!.instrument;
    const saved = this.#seriesSnapshot(instrument, out, at, (t) => t);
    const lastPoints = saved.streams.map((t) => t.updatedAt);
    const slots: number[] = [];
    for (let t = first; t !== NO_SLOT; t = st.next[t]!) slots.push(t);
    // Held dormant before its streams go, so its instrument stays; then its charge is its own.
    instrument.dormant++;
    for (const t of slots) this.dropStream(t, false);
    instrument.dormant--;
    if (this.#putDormant(instrument, saved, lastPoints) === 0 && this.#unheld(instrument))
      this.#dropInstrument(instrument);
  }

  /**
   * Tells the carry (`sources`) what the series of stream `s` held, when `s` is its last stream
   * (series/carry.ts `Departure`): the series goes with it, its restarted and ended streams' counts
   * with it, and the carry may hold it as a source that comes back. Told as a dormant series that
   * leaves is ({@link #departingDormant}: its figures, its base and its stream's, are what it
   * served), and by its object too (a rule that reported the series reads it there).
   */
  #departing(s: number): void {
    const sources = this.#settings.sources;
    const st = this.store.streams;
    if (sources === undefined || (!sources.carrying && !sources.mergesScopes)) return;
    // A copy's series (idleAs) goes when live's left, which live tells.
    if (this.#followsLive || st.points[s] === 0) return;
    if (st.prev[s] !== NO_SLOT || st.next[s] !== NO_SLOT) return;
    const out = st.out[s]!;
    const at = st.series[s]!;
    // A histogram's stream that holds no counts leaves none.
    if (out.shape === 'histogram' && st.acc[s] === undefined) return;
    const instrument = st.group[s]!.instrument;
    const saved = this.#seriesSnapshot(instrument, out, at, (t) => t);
    this.#departingDormant({ instrument, saved, lastPoints: [], bytes: out.charge(at) }, true);
  }

  /**
   * Tells the carry that the dormant series `d` left (`served`: a served series, {@link #departing}):
   * its figures as the file held them (the carry adds what it has not counted of them: points the
   * file holds that no pass read before the write, nor since), and its cumulative streams' last
   * reports are its source's (a delta stream's new series counts from its first window). Known by
   * its key: the carry may hold its source from a checkpoint, with no series object. Told with the
   * series as a pass names it, and whether or not a rule carries yet: no pass may have named it
   * (made and expired between two passes, or the file written before one and none run since the
   * start), and the next one counts its source from this, or its total is lost from its label set.
   */
  #departingDormant(d: DormantSeries, served = false): void {
    const sources = this.#settings.sources;
    if (sources === undefined || (!sources.carrying && !sources.mergesScopes)) return;
    const { instrument, saved } = d;
    if (instrument.shape !== 'monotonicSum' && instrument.shape !== 'histogram') return;
    const cumulative = saved.streams.filter((t) => t.from === 0n);
    const entry = dormantEntry(d);
    const left: Departure = {
      ...(entry.figures !== undefined && { figures: entry.figures }),
      last: streamsRow(instrument.shape, cumulative),
      ...(saved.bounds && { bounds: saved.bounds }),
    };
    if (served) sources.departed(saved.attributes, left);
    const key = instrumentKey(saved.scope, instrument.name);
    sources.departedAs(key, saved.attributes, left, { ...dormantHead(d), series: [entry] });
    this.#waiting(d.bytes);
  }

  #restoreInstrument(saved: InstrumentSnapshot): Instrument | undefined {
    if (this.#instruments.has(saved.name)) return undefined;
    const spec = this.#settings.specs.get(saved.name);
    // Checked as a metric of its shape and unit arriving now: the canonical instruments may differ.
    const kind = instrumentKind(saved.unit, saved.shape, undefined, spec);
    if ('code' in kind || kind.shape !== saved.shape) return undefined;
    const made = this.#newInstrument(saved.name, kind.shape, kind.unit, saved.description, spec);
    return 'code' in made ? undefined : made;
  }

  /** Restores the streams of a saved series that fit; returns how many. */
  #restoreSeries(instrument: Instrument, saved: SeriesSnapshot, lastPoints: number[]): number {
    const seriesKey = attributesKey(saved.attributes);
    const buckets = bucketsOf(instrument.shape, saved.bounds);
    const store = this.store;
    const found = store.seriesIn(instrument, saved.scopeKey, seriesKey);
    let out = found?.out;
    let series = found?.at ?? NO_SLOT;
    const st = store.streams;
    let restored = 0;
    for (const [i, t] of saved.streams.entries()) {
      const groupKey = instrument.name + t.origin;
      if (store.streamsOf(groupKey)?.has(t.key) === true) continue;
      if (st.size >= this.#settings.maxSeries || instrument.streamCount >= instrument.streamCap)
        break;
      const newSeriesBytes =
        series === NO_SLOT ? seriesBytes(saved.scopeKey, seriesKey, saved.attributes, buckets) : 0;
      const newScope =
        series === NO_SLOT && !instrument.scopes.has(saved.scopeKey)
          ? scopeBytes(saved.scopeKey)
          : 0;
      const bytes = streamBytes(groupKey.length + t.key.length, buckets);
      if (!this.#take(bytes + newSeriesBytes + newScope)) break;
      if (out === undefined) {
        // A histogram saved before its first point had no layout: the first point gives it one (relayout).
        const bounds = instrument.shape === 'histogram' ? (saved.bounds?.slice() ?? []) : undefined;
        const made = store.newSeries(
          instrument,
          seriesKey,
          saved.scopeKey,
          { ...saved.scope },
          Object.freeze({ ...saved.attributes }),
          [saved.startTime[0], saved.startTime[1]],
          newSeriesBytes,
          bounds,
        );
        out = made.out;
        series = made.at;
        // Its gone sources apart, as they were (a file without them: all in the base).
        const { base, baseAcc } = saved.gone ?? saved;
        out.setBase(series, base);
        out.baseAcc[series] = baseAcc;
        for (const p of saved.gone?.parts ?? [])
          out.retired(series, instrument.name + p.source, p.value, p.acc, p.windows);
      }
      // A dormant stream goes the expiry after the restore unless a point wakes it.
      const lastPoint = lastPoints[i]!;
      const asleep = this.#asleep(lastPoint);
      const s = store.newStream(
        instrument,
        out,
        series,
        groupKey,
        t.key,
        bytes,
        asleep ? this.#restoredAt : lastPoint,
      );
      if (asleep) st.slept[s] = lastPoint;
      st.start[s] = t.start;
      st.time[s] = t.time;
      st.points[s] = t.points;
      st.value[s] = t.value;
      st.from[s] = t.from;
      st.gaps[s] = t.gaps?.slice();
      st.acc[s] = t.acc;
      restored++;
    }
    if (out !== undefined) out.settle(series, st);
    return restored;
  }

  /** Ends the stream keyed `key` in the group `groupKey`, if one is held ("no recorded value"). */
  endStream(groupKey: string, key: string): void {
    const s = this.store.streamsOf(groupKey)?.get(key);
    if (s === undefined) return;
    const out = this.store.streams.out[s]!;
    const at = this.store.streams.series[s]!;
    this.dropStream(s);
    this.#sleepIfDormant(out, at);
  }

  /** Series `at` of `out`, when it is still held and each of its streams is dormant, held dormant ({@link #putToSleep}). */
  #sleepIfDormant(out: OutputSet, at: number): void {
    const st = this.store.streams;
    const first = out.first(at);
    if (first === NO_SLOT) return;
    for (let t = first; t !== NO_SLOT; t = st.next[t]!) if (st.slept[t] !== st.slept[t]) return;
    this.#putToSleep(out, at);
  }

  /**
   * Drops the stream in slot `s` (series/streams.ts `dropStream`), giving back its charges; its
   * instrument with its last series. `leaves`: a series that goes with it leaves (not dormant).
   */
  dropStream(s: number, leaves = true): void {
    if (leaves) this.#departing(s);
    const instrument = this.store.streams.group[s]!.instrument;
    const dropped = this.store.dropStream(s);
    this.#bytes -= dropped.stream + dropped.series;
    // The scope's charge, taken with its first series, goes with its last.
    if (dropped.scope !== undefined) this.#bytes -= scopeBytes(dropped.scope);
    if (this.#unheld(instrument)) this.#dropInstrument(instrument);
  }

  /**
   * Expiry as `live` decides it, series by series, for a copy of what `live` held (state-keeper.ts:
   * the last checkpoint, served while writes fail): a series here stays, every stream of it with
   * its value as copied, while `live` holds that series (instrument, scope, attributes) — any
   * sender of it alive there, one the copy never knew included; a series `live` no longer holds
   * (each of its sources expired there, or ended by its sender) goes, and one `live` holds dormant
   * (after a restart, no sender of it known alive) is held dormant here too, served again when
   * `live` serves it (unless the copy had it dormant as well). From the first call this registry's
   * own sweep expires nothing: what must stay true is that a failing disk freezes a series whose
   * sender is alive and never removes it, and that its expiry follows the senders' silence, never
   * the copy's age. A series `live` made after the copy was written (`madeBefore`: the series
   * `live` had made then) is another series under the same name: the copy's went when every
   * source of it expired, in between, so it goes here too. Call it before each collection of the copy.
   */
  idleAs(live: SeriesRegistry, madeBefore: number): void {
    this.#followsLive = true;
    const st = this.store.streams;
    // Compacted, every position of a set is a series with a stream.
    this.store.compact();
    for (const instrument of [...this.#instruments.values()])
      for (const [out, at] of seriesInOrder(instrument)) {
        const where = live.#holds(instrument.name, out.scopeKey, out.index.keyAt(at), madeBefore);
        // Held dormant there (no sender of it known alive): not served here either, until one is.
        if (where === 'dormant') this.#putToSleep(out, at);
        else if (where === undefined)
          for (let t = out.first(at), next; t !== NO_SLOT; t = next) {
            next = st.next[t]!;
            this.dropStream(t);
          }
      }
    for (const [id, d] of [...this.#dormant]) {
      const { scopeKey, attributes } = d.saved;
      const where = live.#holds(d.instrument.name, scopeKey, attributesKey(attributes), madeBefore);
      if (where === undefined) {
        // Not told to the carry: live tells it when the series leaves there (its sweep), and a
        // series live made again since may report the same source.
        this.#forgetDormant(id, d);
        if (this.#unheld(d.instrument)) this.#dropInstrument(d.instrument);
      } else if (where === 'served' && d.lastPoints.some((t) => !this.#asleep(t)))
        this.#wake(d.instrument, scopeKey, attributesKey(attributes));
    }
  }

  /**
   * Whether the series (instrument name, scope key, attributes key) is held here: served (in the
   * store), dormant, or not (undefined); one made here from the `madeBefore`th series on is not.
   */
  #holds(
    name: string,
    scopeKey: string,
    seriesKey: string,
    madeBefore: number,
  ): 'served' | 'dormant' | undefined {
    const instrument = this.#instruments.get(name);
    if (instrument === undefined) return undefined;
    const found = this.store.seriesIn(instrument, scopeKey, seriesKey);
    if (found !== undefined) {
      const seq = found.out.seq(found.at);
      if (seq < madeBefore || this.#wokenSeq.has(seq)) return 'served';
    }
    // A naming that carries merges the scopes' series of a label set (series/carry.ts): the series
    // it serves is held while any scope holds a series of the instrument and attributes (live
    // serves this one's part in it, dormant or gone, by the carry), this scope's made again since
    // included: the label set stayed served while another held it, and one that went unheld was
    // dropped here then.
    if (this.#settings.sources?.mergesScopes === true)
      for (const other of instrument.scopes.keys())
        if (this.store.seriesIn(instrument, other, seriesKey) !== undefined) return 'served';
    if (found === undefined && this.#dormant.has(dormantKey(name, scopeKey, seriesKey)))
      return 'dormant';
    return undefined;
  }

  /**
   * Drops streams idle for the expiry time at the monotonic `now`, and the dormant ones the expiry
   * after the restore; at most once a second unless `force`. A restored stream its sender has not
   * pushed to since the restore goes dormant instead while the restore is younger than the expiry
   * (the file cannot know that its sender is silent). A series left with dormant streams only is
   * held dormant, not served.
   */
  sweep(now: number, force: boolean): void {
    if (this.#followsLive) return;
    const expiry = this.#settings.expiryMillis;
    if (!force && now - this.#lastSweep < Math.min(1_000, expiry)) return;
    this.#lastSweep = now;
    const st = this.store.streams;
    const left: [OutputSet, number][] = [];
    for (const [instrument, scopeKey, seriesKey] of this.#woken.splice(0)) {
      const found = this.store.seriesIn(instrument, scopeKey, seriesKey);
      if (found !== undefined) left.push([found.out, found.at]);
    }
    const restored = now - this.#restoredAt < expiry;
    for (const s of [...this.store.slots()]) {
      if (now - st.updatedAt[s]! < expiry) continue;
      left.push([st.out[s]!, st.series[s]!]);
      if (restored && st.updatedAt[s]! < this.#restoredAt) {
        // Restored, and silent since as far as the file knows: its sender may have pushed what the
        // file never held. Dormant, as at the restore, until the expiry after it.
        st.slept[s] = st.updatedAt[s]!;
        st.updatedAt[s] = this.#restoredAt;
        st.out[s]!.settle(st.series[s]!, st);
        this.slept++;
        continue;
      }
      this.dropStream(s);
      this.#expired++;
    }
    for (const [out, at] of left) this.#sleepIfDormant(out, at);
    if (this.#dormant.size > 0 && now - this.#restoredAt >= expiry)
      for (const [id, d] of this.#dormant) {
        this.#forgetDormant(id, d, true);
        this.#expired += d.saved.streams.length;
      }
    // An instrument whose every point was refused holds no series: release its name and bytes.
    for (const instrument of this.#instruments.values()) {
      if (this.#unheld(instrument)) this.#dropInstrument(instrument);
    }
  }

  /** Drops `instrument`, which holds nothing (its sets went with its last series, none left to compact). */
  #dropInstrument(instrument: Instrument): void {
    this.#instruments.delete(instrument.name);
    this.#bytes -= instrument.bytes;
    this.#claims.release(instrument.names);
  }

  /**
   * The series of stream `s` takes the layout that keeps its bounds and `bounds` (streams.ts
   * `relayout`), the bounds it adds charged to the memory budget: refused past it, the series as
   * it was.
   */
  protected relayoutCharged(s: number, bounds: readonly number[]): Refusal | undefined {
    const from = this.store.streams.out[s]!.bounds ?? [];
    const bytes = boundsBytes(Math.max(0, HISTOGRAM.keptLayout(from, bounds).length - from.length));
    if (!this.#take(bytes)) return this.#overBudget();
    this.store.relayout(s, bounds, bytes);
    return undefined;
  }

  /** Charges `bytes` when they stay within the memory budget: whether it did. */
  #take(bytes: number): boolean {
    if (this.#bytes + this.#waiting() + bytes > this.#settings.maxMemoryBytes) return false;
    this.#bytes += bytes;
    return true;
  }

  #overBudget(): Refusal {
    return {
      code: 'memory_budget',
      text: `over the memory budget of ${this.#settings.maxMemoryBytes} bytes`,
    };
  }
}

/**
 * When a series made now (`now`, Unix ms, on the point clock its collections stamp: series/clock.ts)
 * by a point whose start time is `sent` (Unix ns; 0: none, or not a cumulative point) starts: where
 * the value it serves counts from. A series is made again when its sender comes back after it
 * expired (or jobmeter restarted without its state), and a scraper that reads start times
 * (Prometheus' created-timestamp ingestion) stores a 0 at a start newer than the series' last
 * sample, so:
 * - a cumulative point's running total counts from its own start: the series starts there, before
 *   whatever a scraper stored of the series that expired, and a total that went on is read as
 *   going on (at the arrival, the sender's old total would be counted twice);
 * - a delta sender's total and a level start when the store first holds them, the arrival: the
 *   total starts over from 0 (a delta window's start may lie before the expiry).
 * A start after the arrival (a sender's clock ahead of jobmeter's point clock) is the arrival too:
 * no start is after a time the series is collected at.
 */
export function seriesStart(now: number, sent: bigint): HrTime {
  if (sent === 0n || sent > BigInt(Math.floor(now)) * 1_000_000n) return millisToHrTime(now);
  return [Number(sent / 1_000_000_000n), Number(sent % 1_000_000_000n)];
}

/** What a restore held again, and the source series it left out (past a cap or the budget, or of an instrument that no longer fits). */
export interface RestoreSummary {
  readonly instruments: number;
  readonly series: number;
  readonly streams: number;
  readonly skippedStreams: number;
  /**
   * Of `streams`, those idle for the expiry time by the restore as far as the file knows (jobmeter's
   * downtime counted): dormant, held and not served until a point wakes them, gone the expiry after.
   */
  readonly dormantStreams: number;
  /** Whether the time since the snapshot was made counted as idle (written in this boot), or each stream went on from its idle time before the newest point (clock.ts `resumedTimes`). */
  readonly downtimeCounted: boolean;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** A dormant series ({@link SeriesRegistry}): as the file had it, each stream's last point on this process's monotonic clock, and its charge. */
interface DormantSeries {
  readonly instrument: Instrument;
  readonly saved: SeriesSnapshot;
  readonly lastPoints: number[];
  readonly bytes: number;
}

type DormantHead = Omit<HeldDormant, 'series'>;

/** The scope and metric a pass names dormant series `d` by (series/collection.ts `DormantSeries`). */
function dormantHead({ instrument, saved }: DormantSeries): DormantHead {
  const metric = {
    descriptor: instrument.descriptor,
    dataPointType: POINT_TYPE_OF_SHAPE[instrument.shape],
    isMonotonic: instrument.shape === 'monotonicSum',
  };
  return { scope: saved.scope, metric };
}

/** Dormant series `d` as a pass reads it: what it serves, its carried figures and each stream's. */
function dormantEntry({ instrument, saved }: DormantSeries): HeldDormant['series'][number] {
  const figures = streamsRow(instrument.shape, saved.streams, {
    value: saved.base,
    acc: saved.baseAcc,
  });
  return {
    attributes: saved.attributes,
    start: hrTimeMillis(saved.startTime),
    ...(figures !== undefined && { figures }),
    ...(saved.bounds !== undefined && { bounds: saved.bounds }),
  };
}

/**
 * Saved streams' figures added up, from `base` (a series' carried figures); none when nothing is
 * added up, and none for a level.
 */
function streamsRow(
  shape: Shape,
  streams: SeriesSnapshot['streams'],
  base?: { readonly value: number; readonly acc: unknown },
): Figures | undefined {
  if (shape === 'monotonicSum')
    return base === undefined && streams.length === 0
      ? undefined
      : streams.reduce((n, t) => n + t.value, base?.value ?? 0);
  if (shape !== 'histogram') return undefined;
  let acc = base?.acc as HistogramAcc | undefined;
  for (const t of streams)
    if (t.acc !== undefined) acc = mergeInto(HISTOGRAM, acc, t.acc as HistogramAcc);
  return acc;
}

/** A dormant series' key: its instrument's name, its scope's key and its attributes' key. */
const dormantKey = (instrument: string, scopeKey: string, seriesKey: string): string =>
  `${instrument}\0${scopeKey}\0${seriesKey}`;

/**
 * The bucket counts a stream and a series of `shape` are charged for, arriving or restored: an
 * exponential one's the widest a sum of its points may get, both sides full.
 */
function bucketsOf(shape: Shape, bounds: readonly number[] | undefined): number {
  if (shape === 'histogram') return bounds === undefined ? 0 : bounds.length + 1;
  return shape === 'exponentialHistogram' ? 2 * MAX_EXPONENTIAL_BUCKETS : 0;
}

/** The largest of `times`. */
function newest(times: Iterable<number>): number {
  let max = Number.NEGATIVE_INFINITY;
  for (const t of times) if (t > max) max = t;
  return max;
}

/** Every stream's update time in `instruments`. */
function* updateTimes(instruments: StoreSnapshot['instruments']): Generator<number> {
  for (const i of instruments)
    for (const s of i.series) for (const t of s.streams) yield t.updatedAt;
}
