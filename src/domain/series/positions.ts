/**
 * The series positions an index hands out: each series' attributes by position (stable objects;
 * only a keyed index's series go away, keyed-index.ts), storage added for each new one, and the one overflow series
 * (`otel.metric.overflow`) made the first time it is needed.
 */
import type { Attributes } from '@opentelemetry/api';
import { OVERFLOW_ATTRIBUTES } from '../bounded-attributes.ts';

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
