/**
 * Each series' own start time, for a writer whose series start when they are first seen (the
 * ingest: a series starts when its first point arrives, and a restored one keeps its saved start),
 * not when the store was made. Two columns, an HrTime's two parts, so a saved start comes back
 * exactly as it was.
 */
import type { HrTime } from '@opentelemetry/api';
import { Column } from './column.ts';

export class SeriesStarts {
  readonly seconds = new Column();
  readonly nanos = new Column();

  /** Adds a series (its start set by the writer next). */
  push(): void {
    this.seconds.push(0);
    this.nanos.push(0);
  }

  set(at: number, start: HrTime): void {
    this.seconds.data[at] = start[0];
    this.nanos.data[at] = start[1];
  }

  at(i: number): HrTime {
    return [this.seconds.data[i]!, this.nanos.data[i]!];
  }

  move(from: number, to: number): void {
    this.seconds.move(from, to);
    this.nanos.move(from, to);
  }

  truncate(n: number): void {
    this.seconds.truncate(n);
    this.nanos.truncate(n);
  }
}
