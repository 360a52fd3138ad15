/**
 * Each series' own start time, for a writer whose series start when they are first seen (the
 * ingest: a series starts when its first point arrives, and a restored one keeps its saved start),
 * not when the store was made. An HrTime's two parts, so a saved start comes back exactly as it
 * was; in plain arrays (of unboxed doubles), not typed columns: such a writer holds many sets of a
 * series or two (a scope each), where a typed array and its buffer cost more than the figures.
 */
import type { HrTime } from '@opentelemetry/api';

export class SeriesStarts {
  readonly seconds: number[] = [];
  readonly nanos: number[] = [];

  /** Adds a series (its start set by the writer next). */
  push(): void {
    this.seconds.push(0);
    this.nanos.push(0);
  }

  set(at: number, start: HrTime): void {
    this.seconds[at] = start[0];
    this.nanos[at] = start[1];
  }

  at(i: number): HrTime {
    return [this.seconds[i]!, this.nanos[i]!];
  }

  move(from: number, to: number): void {
    this.seconds[to] = this.seconds[from]!;
    this.nanos[to] = this.nanos[from]!;
  }

  truncate(n: number): void {
    this.seconds.length = n;
    this.nanos.length = n;
  }
}
