/**
 * The series store: every series set its writers made, scope by scope in creation order, read at
 * one instant. The naming pass reads a {@link Collection} of it (columns and the store's label
 * strings, no object per series); a reader outside the scrape (a push exporter, a standard reader,
 * the cluster report) gets OpenTelemetry MetricData from {@link producer}, cumulative or delta.
 *
 * Differences from the SDK's synchronous instruments, all at the edges:
 * - cumulative points start at the store's creation, not at the series' first record (both are
 *   valid OTLP start times: nothing was counted before either);
 * - with delta temporality (temporality.ts) a series is exported when it was recorded since the
 *   last export, as the SDK's (sum.ts counts a storage's records once a delta reader reads it); a
 *   histogram's min and max are its window's, as the SDK's (histogram.ts keeps a window per delta
 *   producer).
 */
import {
  AggregationTemporality,
  emptyResource,
  InstrumentType,
  millisToHrTime,
} from '../common/otel-sdk.ts';
import type { HrTime } from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
import type {
  AggregationTemporalitySelector,
  CollectionResult,
  MetricData,
  MetricProducer,
  ScopeMetrics,
} from '@opentelemetry/sdk-metrics';
import { Slice } from '../common/slices.ts';
import { scopeKey } from './attribute-key.ts';
import { ServedTotals } from './carry.ts';
import { pointMillis, SYSTEM_CLOCK, type Clock } from './clock.ts';
import type {
  CollectedOthers,
  CollectedScope,
  CollectedSeries,
  Collection,
  CollectionResource,
} from './collection.ts';
import type { SeriesSet } from './series-set.ts';
import { EMPTY_SNAPSHOT, SnapshotStorage, type Snapshot } from './snapshot.ts';
import { DeltaWindows, instrumentTypeOf, readsDelta } from './temporality.ts';

interface SeriesStoreOptions {
  /** Its point clock stamps the points (clock.ts); nothing here is decided by time. @default SYSTEM_CLOCK */
  readonly clock?: Clock;
}

/** The resource of a collection no producer gave one for. */
const RESOURCE: CollectionResource = { attributes: {} };

interface ScopeSets {
  readonly scope: InstrumentationScope;
  readonly sets: SeriesSet[];
}

export class SeriesStore {
  /** When every series starts (cumulative points' start time). */
  readonly start: HrTime;
  readonly #clock: Clock;
  readonly #scopes: ScopeSets[] = [];
  readonly #settlers: (() => PromiseLike<unknown> | undefined)[] = [];
  /** Snapshot storage a finished collection gave back, for the next one (snapshot.ts). */
  readonly #storage = new SnapshotStorage();
  /**
   * What the profile's zero-filled counters served from this store's collections (and what a
   * scrape merges into them: the ingest's, the cluster's), so they never go down (carry.ts).
   */
  readonly served = new ServedTotals();
  /** Windows opened (delta producers', and those of `addedExtremes`): every set has as many, in this order (series-set.ts `openWindow`). */
  #windows = 0;
  /** Whether a delta producer was made: every set counts records (series-set.ts `countRecords`). */
  #counting = false;

  constructor(options: SeriesStoreOptions = {}) {
    this.#clock = options.clock ?? SYSTEM_CLOCK;
    this.start = millisToHrTime(pointMillis(this.#clock));
  }

  /** Adds `set` to `scope`'s sets (the scope made on first use, after those already held). */
  add(scope: InstrumentationScope, set: SeriesSet): void {
    const key = scopeKey(scope);
    let group = this.#scopes.find((g) => scopeKey(g.scope) === key);
    if (group === undefined) this.#scopes.push((group = { scope, sets: [] }));
    group.sets.push(set);
    for (let k = 0; k < this.#windows; k++) set.openWindow();
    if (this.#counting) set.countRecords();
  }

  /**
   * Registers work a collection should wait for before reading the sets: records made while the
   * SDK's side of the same collection runs (the snapshot source's failure counter, counted while
   * the snapshot callback is awaited) then land in that collection, as they did when these were
   * SDK instruments (the SDK reads its synchronous instruments after its callbacks).
   */
  settleBeforeCollect(pending: () => PromiseLike<unknown> | undefined): void {
    this.#settlers.push(pending);
  }

  /**
   * The store at one instant, with `others` (what producers outside the store gave, collected
   * before: their callbacks may record into the store) after it. Nothing per series is made.
   */
  async collect(others?: CollectedOthers): Promise<Collection> {
    const { groups, snaps, arena } = await this.#instant();
    const start = this.start;
    const series: CollectedScope[] = [];
    for (let s = 0; s < groups.length; s++) {
      const { scope, sets } = groups[s]!;
      const out: CollectedSeries[] = [];
      for (let i = 0; i < sets.length; i++) {
        const c = sets[i]!.collected(snaps[s]![i]!, start);
        if (c !== undefined) out.push(c);
      }
      if (out.length > 0) series.push({ scope, series: out });
    }
    return {
      resource: others?.resource ?? RESOURCE,
      series,
      metrics: others?.scopeMetrics ?? [],
      ingested: [],
      done: this.#storage.lend(arena),
    };
  }

  /**
   * A producer of MetricData for one reader, in the temporality its selector gives each set's
   * instrument type (as the SDK asks a reader: an up-down counter stays cumulative for OTel's delta
   * preference). Cumulative: every series, from the store's start. Delta: what changed since this
   * producer's previous collection (each reader needs a producer of its own; `windows`: its delta
   * state, when its owner seeds it), a histogram's min and max those of its own window; so too a
   * cumulative histogram's with `addedExtremes` (a cluster member's reports: cluster/wire.ts `w`).
   * The points are made from one instant, set by set, in slices (common/slices.ts).
   */
  producer(
    temporality: AggregationTemporalitySelector = () => AggregationTemporality.CUMULATIVE,
    windows = new DeltaWindows(this.start),
    addedExtremes = false,
  ): MetricProducer {
    let window: number | undefined;
    if (readsDelta(temporality) && !this.#counting) {
      this.#counting = true;
      for (const g of this.#scopes) for (const set of g.sets) set.countRecords();
    }
    if (addedExtremes || temporality(InstrumentType.HISTOGRAM) === AggregationTemporality.DELTA) {
      window = this.#windows++;
      for (const g of this.#scopes) for (const set of g.sets) set.openWindow();
    }
    return {
      collect: () =>
        this.#metrics(
          (set, snap, end) => {
            const metric = set.cumulative(snap, this.start, end);
            return metric !== undefined &&
              temporality(instrumentTypeOf(metric)) === AggregationTemporality.DELTA
              ? windows.change(metric, snap)
              : metric;
          },
          (end) => windows.close(end),
          window,
        ),
    };
  }

  /** Waits for the settlers, then copies every set's figures at one instant (`window`: a delta producer's, read and closed). */
  async #instant(window?: number) {
    let waits: PromiseLike<unknown>[] | undefined;
    for (const settler of this.#settlers) {
      const p = settler();
      if (p !== undefined) (waits ??= []).push(p);
    }
    if (waits !== undefined) await Promise.allSettled(waits);
    const end = millisToHrTime(pointMillis(this.#clock));
    const groups = this.#scopes.map((g) => ({ scope: g.scope, sets: g.sets.slice() }));
    let figures = 0;
    for (const g of groups) for (const s of g.sets) figures += s.snapshotLength();
    const arena = this.#storage.arena(figures);
    const snaps = groups.map((g) =>
      g.sets.map((s) => (s.snapshotLength() === 0 ? EMPTY_SNAPSHOT : s.snapshot(arena, window))),
    );
    return { end, groups, snaps, arena };
  }

  async #metrics(
    read: (set: SeriesSet, snap: Snapshot, endTime: HrTime) => MetricData | undefined,
    onInstant?: (endTime: HrTime) => void,
    window?: number,
  ): Promise<CollectionResult> {
    const { end, groups, snaps, arena } = await this.#instant(window);
    onInstant?.(end);
    const scopeMetrics: ScopeMetrics[] = [];
    const slice = new Slice();
    for (let s = 0; s < groups.length; s++) {
      const { scope, sets } = groups[s]!;
      const metrics: MetricData[] = [];
      for (let i = 0; i < sets.length; i++) {
        const m = read(sets[i]!, snaps[s]![i]!, end);
        if (m !== undefined) metrics.push(m);
        if (slice.due()) await slice.next();
      }
      if (metrics.length > 0) scopeMetrics.push({ scope, metrics });
    }
    // The points hold copies of the figures: the storage serves the next collection.
    this.#storage.lend(arena)();
    return { resourceMetrics: { resource: emptyResource(), scopeMetrics }, errors: [] };
  }
}
