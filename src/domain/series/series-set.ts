/**
 * One instrument's series: its index (attribute sets → positions, with the bounds and the overflow
 * fold: spec-index.ts, open-index.ts), its descriptor, its figures in typed columns (the kinds:
 * sum.ts, gauge.ts, histogram.ts, each with its rules to add, snapshot and diff), and the label
 * strings readers made of its series (held here, once per series and reader: {@link labels}).
 *
 * A writer (the tallies, domain/tallies/) records into a set; the store (series-store.ts) reads
 * every set at one instant into a {@link Collection}, or into OpenTelemetry MetricData for a
 * reader outside the scrape.
 */
import type { Attributes, HrTime } from '@opentelemetry/api';
import { AggregationTemporality, InstrumentType, type DataPointType, type MetricData, type MetricDescriptor } from '@opentelemetry/sdk-metrics';
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

/** A reader's label strings for one set (see {@link SeriesSet.labels}). */
class Labels {
  strings: string[] = [];
  nonAscii = 0;
}

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
   * The label strings of the first `n` series as `render` makes them. Each is made once, the
   * first time a reader asks for its series, and kept here for as long as `render` lives: a
   * series' attributes never change, so its string never does, and the naming pass keeps no copy.
   */
  labels(render: LabelRender, n: number): LabelColumn {
    let held = this.#labels.get(render);
    if (held === undefined) this.#labels.set(render, (held = new Labels()));
    let strings = held.strings;
    if (strings.length < n) {
      // A new array of exactly `n` (a handed-out one never changes; `push` would keep spare room).
      const grown = new Array<string>(n);
      for (let i = 0; i < strings.length; i++) grown[i] = strings[i]!;
      for (let i = strings.length; i < n; i++) {
        const s = render.render(this.attributes[i]!);
        if (!render.isAscii(s)) held.nonAscii++;
        grown[i] = s;
      }
      strings = held.strings = grown;
    }
    // A collection older than the strings made since (a reader's earlier instant) reads a prefix.
    return { strings: strings.length === n ? strings : strings.slice(0, n), nonAscii: held.nonAscii };
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
