/**
 * The series positions an index hands out: each series' attributes by position (stable objects;
 * only a keyed index's series go away, keyed-index.ts), storage added for each new one, and the one overflow series
 * (`otel.metric.overflow`) made the first time it is needed.
 */
import type { Attributes } from '@opentelemetry/api';

/** The attributes of the series that absorbs attribute sets past an instrument's bound (the SDK's spelling). */
export const OVERFLOW_ATTRIBUTES: Attributes = Object.freeze({ 'otel.metric.overflow': true });

/** Attribute sets -> series indexes: what a storage looks its series up in. */
export interface SeriesIndex {
  /** The attributes of each series, by index (stable objects: a series keeps its object while held). */
  readonly attributes: Attributes[];
  /** The index of the series `attributes` records into (created on first sight). */
  readonly seriesOf: (attributes: Attributes | undefined) => number;
  /**
   * Only an index whose series may be removed (keyed-index.ts; this one's and the open index's
   * never go away): the set compacted its series, series `i` now at `moves[i]` (-1: removed), `n`
   * left: `attributes` becomes a new array of the `n` left.
   */
  compacted?(moves: Int32Array, n: number): void;
  /** With {@link compacted}: the series at `at` is removed, its attributes no longer find it. */
  forget?(at: number): void;
}

/** Makes a set's index, which calls `grow` whenever it adds a series (the set's storage for it). */
export type MakeIndex = (grow: () => void) => SeriesIndex;

export const EMPTY: Attributes = Object.freeze({});

export class Positions {
  readonly attributes: Attributes[] = [];
  /** The overflow series' position; -1 until made. */
  overflow = -1;
  readonly #grow: () => void;

  /** @param grow adds the storage of one more series. */
  constructor(grow: () => void) {
    this.#grow = grow;
  }

  /** A new series of `attributes`: its position. */
  add(attributes: Attributes): number {
    this.attributes.push(attributes);
    this.#grow();
    return this.attributes.length - 1;
  }

  /** The overflow series' position (made now if needed). */
  overflowSeries(): number {
    if (this.overflow < 0) this.overflow = this.add(OVERFLOW_ATTRIBUTES);
    return this.overflow;
  }
}
