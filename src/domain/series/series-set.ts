/**
 * One instrument's series: its index (attribute sets → positions, with the bounds and the overflow
 * fold: spec-index.ts, open-index.ts), its descriptor, its figures in typed columns (the kinds:
 * sum.ts, gauge.ts, histogram.ts, each with its rules to add, snapshot and diff), and the label
 * strings readers made of its series (checked once, held here once per series for a reader that
 * reads them as an array: {@link labels}).
 *
 * A writer (the tallies, domain/tallies/) records into a set; the store (series-store.ts) reads
 * every set at one instant into a {@link Collection}, or into OpenTelemetry MetricData for a
 * reader outside the scrape.
 */
import type { Attributes, HrTime } from '@opentelemetry/api';
import { AggregationTemporality, InstrumentType, type DataPointType, type MetricData, type MetricDescriptor } from '@opentelemetry/sdk-metrics';
import { holdShape } from '../../common/held-shapes.ts';
import type { CollectedSeries, LabelColumn, LabelRender } from './collection.ts';
import type { Snapshot, SnapshotArena } from './snapshot.ts';
import type { SeriesIndex } from './spec-index.ts';

export const INSTRUMENT_TYPE: Readonly<Record<string, InstrumentType>> = {
  counter: InstrumentType.COUNTER,
  upDownCounter: InstrumentType.UP_DOWN_COUNTER,
  histogram: InstrumentType.HISTOGRAM,
  gauge: InstrumentType.GAUGE,
};

/** What a delta reader remembers of one set between two exports. */
export interface DeltaState {
  values: number[];
  sums: number[];
  counts: number[];
}

/** What a set holds of one reader's label strings (see {@link SeriesSet.labels}). */
class Labels {
  /** Series whose string was made and checked for ASCII. */
  checked = 0;
  nonAscii = 0;
  /** The strings, once the reader asked for them as an array. */
  strings: readonly string[] | undefined;
}

/** A set's label strings at one collection (collection.ts `LabelColumn`). */
class StoreLabels implements LabelColumn {
  readonly keys: readonly Attributes[];
  readonly maker: LabelRender;
  readonly nonAscii: number;
  readonly #held: Labels;
  readonly #n: number;
  /** The strings made to check the series new at this collection, from `#from` on; dropped with this object. */
  readonly #fresh: readonly string[] | undefined;
  readonly #from: number;
  #strings: readonly string[] | undefined;

  constructor(keys: readonly Attributes[], render: LabelRender, held: Labels, n: number, from: number, fresh: readonly string[] | undefined) {
    this.keys = keys;
    this.maker = render;
    this.nonAscii = held.nonAscii;
    this.#held = held;
    this.#n = n;
    this.#from = from;
    this.#fresh = fresh;
  }

  at(i: number): string {
    const kept = this.#held.strings;
    if (kept !== undefined && i < kept.length) return kept[i]!;
    const fresh = this.#fresh;
    if (fresh !== undefined && i >= this.#from) return fresh[i - this.#from]!;
    return this.maker.render(this.keys[i]!);
  }

  get strings(): readonly string[] {
    if (this.#strings !== undefined) return this.#strings;
    const held = this.#held;
    const n = this.#n;
    let kept = held.strings ?? [];
    if (kept.length < n) {
      // A new array of exactly `n` (a handed-out one never changes; `push` would keep spare room).
      const grown = new Array<string>(n);
      for (let i = 0; i < kept.length; i++) grown[i] = kept[i]!;
      for (let i = kept.length; i < n; i++) grown[i] = this.at(i);
      kept = held.strings = grown;
    }
    // A collection older than the strings made since (a reader's earlier instant) reads a prefix.
    return (this.#strings = kept.length === n ? kept : kept.slice(0, n));
  }
}

// Made at every collection and dropped after it: its hidden class is held (common/held-shapes.ts).
holdShape(new StoreLabels([], { render: () => '', isAscii: () => true }, new Labels(), 0, 0, undefined));

export abstract class SeriesSet {
  readonly descriptor: MetricDescriptor;
  /** The attributes of each series, by position (the index's, stable objects). */
  readonly attributes: Attributes[];
  /** The position of the series `attributes` records into (created on first sight). */
  readonly seriesOf: (attributes: Attributes | undefined) => number;
  abstract readonly dataPointType: DataPointType;
  /** Label strings by the reader's render (dropped with it). */
  readonly #labels = new WeakMap<LabelRender, Labels>();

  /** @param index makes the set's index, given how to add storage for a new series. */
  constructor(descriptor: MetricDescriptor, index: (grow: () => void) => SeriesIndex) {
    this.descriptor = descriptor;
    const made = index(() => this.grow());
    this.attributes = made.attributes;
    this.seriesOf = made.seriesOf;
  }

  /** Series held (the overflow series included). */
  get size(): number {
    return this.attributes.length;
  }

  /**
   * The label strings of the first `n` series as `render` makes them. Each series' string is made
   * once when it is first collected, to count those not all ASCII, and dropped after this
   * collection unless the reader reads the column's `strings`: those the set keeps for as long as
   * `render` lives (a series' attributes never change, so its string never does). A reader that
   * keeps its own rendering (the render memo) asks only for the strings of series new to it.
   */
  labels(render: LabelRender, n: number): LabelColumn {
    let held = this.#labels.get(render);
    if (held === undefined) this.#labels.set(render, (held = new Labels()));
    const from = held.checked;
    let fresh: string[] | undefined;
    if (from < n) {
      fresh = new Array<string>(n - from);
      for (let i = from; i < n; i++) {
        const s = render.render(this.attributes[i]!);
        if (!render.isAscii(s)) held.nonAscii++;
        fresh[i - from] = s;
      }
      held.checked = n;
    }
    return new StoreLabels(this.attributes, render, held, n, from, fresh);
  }

  /** Adds the storage of one more series. */
  protected abstract grow(): void;
  /** How many figures {@link snapshot} copies into the arena now. */
  abstract snapshotLength(): number;
  /** The figures now, copied into `arena`. */
  abstract snapshot(arena: SnapshotArena): Snapshot;
  /** The snapshot as the naming pass reads it (undefined when it holds no series). */
  abstract collected(snap: Snapshot, startTime: HrTime): CollectedSeries | undefined;
  /** The cumulative MetricData of a snapshot, or undefined when it holds no series: points made now. */
  abstract cumulative(snap: Snapshot, startTime: HrTime, endTime: HrTime): MetricData | undefined;
  /** What changed from `state` (updated in place) to `snap`; undefined when nothing did. */
  abstract delta(snap: Snapshot, state: DeltaState, startTime: HrTime, endTime: HrTime): MetricData | undefined;

  /** The fields every collected set shares; `columns` gives the kind's figures. */
  protected collectedOf(snap: Snapshot, startTime: HrTime, columns: Pick<CollectedSeries, 'isMonotonic' | 'stride' | 'bounds' | 'values' | 'sums' | 'counts' | 'exemplars'>): CollectedSeries {
    const labels = (render: LabelRender) => this.labels(render, snap.n);
    return { descriptor: this.descriptor, dataPointType: this.dataPointType, aggregationTemporality: AggregationTemporality.CUMULATIVE, n: snap.n, attributes: this.attributes, startTime, labels, ...columns };
  }
}
