/**
 * The instruments, output series and source series the ingest store holds, and what bounds them.
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
 *   ends its stream at once. Nothing runs on a timer: expiry is applied when data arrives and when
 *   a collection reads the store, against the store's clock.
 *
 * What must stay true: whatever is dropped gives back exactly what it was charged, so the held
 * bytes, the name claims and the maps follow the live series and shrink when they expire.
 */
import { ValueType, type Attributes } from '@opentelemetry/api';
import { millisToHrTime } from '@opentelemetry/core';
import { maxAttributeSets } from '../domain/bounded-attributes.ts';
import type { OtlpMetric } from '../otlp/types.ts';
import { MAX_SERIES_PER_INSTRUMENT } from '../views/build-views.ts';
import type { Arrival } from './arrival.ts';
import { closedCheck, foldFor, seriesAttributes } from './attribute-fold.ts';
import type { IngestReport } from './ingest-report.ts';
import { attributesKey, cut, MAX_DESCRIPTION_LENGTH } from './input-bounds.ts';
import { instrumentBytes, seriesBytes, streamBytes } from './memory-estimate.ts';
import { NameClaims } from './name-claims.ts';
import { EXPOSED_KIND, type Instrument, type Shape, type Stream, type StreamGroup } from './series-state.ts';
import type { StoreSettings } from './store-options.ts';
import { instrumentKind, retire } from './stream-rules.ts';

/** The key of the group of streams `instrument` holds from `at`'s resource and scope. */
export function groupKey(instrument: Instrument, at: Arrival): string {
  return instrument.name + at.origin;
}

export class SeriesRegistry {
  readonly #settings: StoreSettings;
  readonly #claims: NameClaims;
  readonly #instruments = new Map<string, Instrument>();
  /** Streams by instrument and origin, then by attributes (series-state.ts `StreamGroup`). */
  readonly #groups = new Map<string, StreamGroup>();
  #streamCount = 0;
  /** Estimated bytes held (memory-estimate.ts). */
  #bytes = 0;
  #lastSweep = Number.NEGATIVE_INFINITY;

  constructor(settings: StoreSettings) {
    this.#settings = settings;
    this.#claims = new NameClaims(settings.exposedNames, settings.reservedNames);
  }

  /** Source series held. */
  get streamCount(): number {
    return this.#streamCount;
  }

  /** Estimated bytes held, the figure checked against `maxMemoryBytes`. */
  get memoryBytes(): number {
    return this.#bytes;
  }

  instruments(): IterableIterator<Instrument> {
    return this.#instruments.values();
  }

  /** The instrument `metric` feeds, created on first sight; undefined (points refused) on a conflict or past a cap. */
  instrumentFor(metric: OtlpMetric, incoming: Shape, points: number, report: IngestReport): Instrument | undefined {
    const existing = this.#instruments.get(metric.name);
    const spec = existing?.spec ?? this.#settings.specs.get(metric.name);
    const kind = instrumentKind(metric, incoming, existing, spec);
    if ('code' in kind) {
      report.refuse(metric.name, points, kind);
      return undefined;
    }
    if (existing !== undefined) return existing;
    const { shape, unit } = kind;
    const { maxInstruments, maxSeriesPerInstrument } = this.#settings;
    if (this.#instruments.size >= maxInstruments) {
      report.reject(metric.name, points, 'instrument_cap', `over the cap of ${maxInstruments} instruments`);
      return undefined;
    }
    const names = this.#claims.namesOf(metric.name, unit, EXPOSED_KIND[shape]);
    const clash = this.#claims.clash(metric.name, names);
    if (clash !== undefined) {
      report.reject(metric.name, points, 'name_clash', `its exposed name ${clash.name} is taken by ${cut(clash.owner, 64)}`);
      return undefined;
    }
    const description = spec?.description ?? cut(metric.description, MAX_DESCRIPTION_LENGTH);
    const bytes = instrumentBytes(metric.name, description, unit);
    if (!this.#charge(bytes, metric.name, points, report)) return undefined;
    this.#claims.claim(names, metric.name);
    const instrument: Instrument = {
      name: metric.name,
      shape,
      descriptor: { name: metric.name, description, unit, valueType: ValueType.DOUBLE },
      spec,
      fold: foldFor(spec),
      closed: spec === undefined ? undefined : closedCheck(spec, this.#settings.vocabularies),
      // A canonical instrument may hold as many series as its vocabularies allow, up to the views'
      // ceiling, as on an embedded host (rm's per-host gauges: 5000 hosts).
      streamCap: spec === undefined ? maxSeriesPerInstrument : Math.max(maxSeriesPerInstrument, Math.min(maxAttributeSets(spec.attributes), MAX_SERIES_PER_INSTRUMENT)),
      series: new Map(),
      streamCount: 0,
      bytes,
      names,
    };
    this.#instruments.set(metric.name, instrument);
    return instrument;
  }

  /**
   * The streams of the group `groupKey` (see {@link groupKey}), by attributes key; undefined while
   * there are none. A metric's points look their streams up here, the group found once.
   */
  streamsOf(groupKey: string): ReadonlyMap<string, Stream> | undefined {
    return this.#groups.get(groupKey)?.streams;
  }

  /**
   * The stream a `point` of `instrument` (its attributes keyed `key`) from `at` feeds, created
   * (with its series, `buckets` wide) on first sight; undefined when refused. `groupKey` is
   * {@link groupKey}`(instrument, at)`, made once for all the points of a metric.
   */
  streamFor(instrument: Instrument, point: { readonly attributes: Attributes }, groupKey: string, key: string, buckets: number, at: Arrival): Stream | undefined {
    const found = this.#groups.get(groupKey)?.streams.get(key);
    if (found !== undefined) return found;
    // Read only for a new stream: a packed point (packed-chunk.ts) rebuilds its attributes when read.
    const attributes = point.attributes;
    const report = at.report;
    if (this.#streamCount >= this.#settings.maxSeries) {
      report.reject(instrument.name, 1, 'series_cap', `over the cap of ${this.#settings.maxSeries} source series in all`);
      return undefined;
    }
    if (instrument.streamCount >= instrument.streamCap) {
      report.reject(instrument.name, 1, 'series_cap', `over the cap of ${instrument.streamCap} source series per instrument`);
      return undefined;
    }
    if (instrument.closed?.(attributes) !== undefined) {
      report.reject(instrument.name, 1, 'vocabulary', "an attribute value outside the closed set the profile's original documents");
      return undefined;
    }
    const bounded = seriesAttributes(instrument, attributes, report);
    const seriesKey = at.scopeKey + '\0' + attributesKey(bounded);
    let series = instrument.series.get(seriesKey);
    const newSeriesBytes = series === undefined ? seriesBytes(seriesKey, bounded, buckets) : 0;
    const bytes = streamBytes(groupKey.length + key.length, buckets);
    if (!this.#charge(bytes + newSeriesBytes, instrument.name, 1, report)) return undefined;
    if (series === undefined) {
      series = {
        instrument,
        key: seriesKey,
        scopeKey: at.scopeKey,
        scope: at.scope,
        attributes: Object.freeze(bounded),
        startTime: millisToHrTime(at.now),
        base: 0,
        baseHist: undefined,
        baseExp: undefined,
        bounds: undefined,
        streams: new Set(),
        bytes: newSeriesBytes,
      };
      instrument.series.set(seriesKey, series);
    }
    let group = this.#groups.get(groupKey);
    if (group === undefined) this.#groups.set(groupKey, (group = { key: groupKey, streams: new Map() }));
    const stream: Stream = { key, group, series, start: 0n, time: 0n, points: 0, value: 0, hist: undefined, exp: undefined, updatedAt: at.now, bytes };
    series.streams.add(stream);
    instrument.streamCount++;
    group.streams.set(key, stream);
    this.#streamCount++;
    return stream;
  }

  /** Ends the stream keyed `key` in the group `groupKey`, if one is held ("no recorded value"). */
  endStream(groupKey: string, key: string): void {
    const stream = this.#groups.get(groupKey)?.streams.get(key);
    if (stream !== undefined) this.dropStream(stream);
  }

  dropStream(stream: Stream): void {
    const series = stream.series;
    const instrument = series.instrument;
    retire(stream);
    series.streams.delete(stream);
    instrument.streamCount--;
    const group = stream.group;
    group.streams.delete(stream.key);
    if (group.streams.size === 0) this.#groups.delete(group.key);
    this.#streamCount--;
    this.#bytes -= stream.bytes;
    if (series.streams.size === 0) {
      instrument.series.delete(series.key);
      this.#bytes -= series.bytes;
      if (instrument.series.size === 0) this.#dropInstrument(instrument);
    }
  }

  /** Drops streams idle for the expiry time; at most once a second unless `force`. */
  sweep(now: number, force: boolean): void {
    const expiry = this.#settings.expiryMillis;
    if (!force && now - this.#lastSweep < Math.min(1_000, expiry)) return;
    this.#lastSweep = now;
    for (const group of this.#groups.values()) {
      for (const stream of group.streams.values()) {
        if (now - stream.updatedAt >= expiry) this.dropStream(stream);
      }
    }
    // An instrument whose every point was refused holds no series: release its name and bytes.
    for (const instrument of this.#instruments.values()) {
      if (instrument.series.size === 0) this.#dropInstrument(instrument);
    }
  }

  #dropInstrument(instrument: Instrument): void {
    this.#instruments.delete(instrument.name);
    this.#bytes -= instrument.bytes;
    this.#claims.release(instrument.names);
  }

  /** Charges `bytes` when they stay within the memory budget; refuses the points otherwise. */
  #charge(bytes: number, metric: string, points: number, report: IngestReport): boolean {
    const budget = this.#settings.maxMemoryBytes;
    if (this.#bytes + bytes > budget) {
      report.reject(metric, points, 'memory_budget', `over the memory budget of ${budget} bytes`);
      return false;
    }
    this.#bytes += bytes;
    return true;
  }
}
