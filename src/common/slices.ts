/**
 * Long loops on the main thread (a collection's build, a naming pass, rendering, writing a body,
 * a cluster report) run in slices: each gives the event loop back (`setImmediate`) once it has
 * held it for the budget, so the host's timers and I/O run between slices instead of waiting for
 * the whole loop.
 */
const { setImmediate: nextTurn } = process.getBuiltinModule('node:timers/promises');
import { holdShape } from './held-shapes.ts';

/** Longest a slice holds the event loop, in ms: every sliced loop's default. */
export const SLICE_MILLIS = 5;

/**
 * The clock of one sliced loop, started when made. A loop checks {@link due} between two steps
 * and, when it is, awaits {@link next}:
 *
 *   const slice = new Slice();
 *   for (const step of steps) { work(step); if (slice.due()) await slice.next(); }
 *
 * A loop whose input was made in the current turn (by the last slice of an earlier stage) awaits
 * `next()` first, so it starts in a turn of its own rather than on top of that slice.
 */
export class Slice {
  readonly budget: number;
  #start = performance.now();

  /** @param budget ms; `Infinity` never yields. @default SLICE_MILLIS */
  constructor(budget = SLICE_MILLIS) {
    this.budget = budget;
  }

  /** Whether this slice has held the event loop for its budget. */
  due(): boolean {
    return performance.now() - this.#start >= this.budget;
  }

  /** Gives the event loop back for one turn; the next slice starts when it resumes. */
  async next(): Promise<void> {
    await nextTurn();
    this.#start = performance.now();
  }
}

// Made per sliced loop and dropped after it: its hidden class is held (held-shapes.ts).
holdShape(new Slice());

/**
 * `items` one by one, in slices: the first in a turn of its own, and a turn given back whenever
 * the slice is due. The clock runs on while the consumer handles an item (a piece written to a
 * socket, gzip), so that work counts against the same slice.
 */
export async function* inSlices<T>(
  items: Iterable<T>,
  budget = SLICE_MILLIS,
): AsyncGenerator<T, void, undefined> {
  const slice = new Slice(budget);
  await slice.next();
  for (const item of items) {
    yield item;
    if (slice.due()) await slice.next();
  }
}
