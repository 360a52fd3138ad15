/**
 * What a producer last sent of each of its sources (a cluster member's series, by the dense id its
 * encoder hands out), so that it sends only what changed; the primary keeps the sources
 * themselves as streams (cluster/aggregate.ts).
 */
import { Column } from './column.ts';

/**
 * What a producer last sent of each of its sources, by its dense id, so that its next report
 * carries only the sources that changed. A number's
 * value; a histogram's count and sum (a row changes only with its count: the sum is compared too
 * for a record of 0). Bounded by the ids the producer hands out.
 */
export class LastSent {
  /** Per id: a number's last value or a histogram's count (`NaN`: nothing sent), and a histogram's sum. */
  readonly #value = new Column();
  readonly #sum = new Column();

  /** Whether `value` differs from what was last sent of `id`; if so it is now. */
  number(id: number, value: number): boolean {
    this.#reach(id);
    if (this.#value.data[id] === value) return false;
    this.#value.data[id] = value;
    return true;
  }

  /** Whether a histogram's `count` and `sum` differ from what was last sent of `id`; if so they are now. */
  histogram(id: number, count: number, sum: number): boolean {
    this.#reach(id);
    if (this.#value.data[id] === count && this.#sum.data[id] === sum) return false;
    this.#value.data[id] = count;
    this.#sum.data[id] = sum;
    return true;
  }

  /** Nothing of `id` counts as sent: its next value goes whatever it is. */
  forget(id: number): void {
    if (id < this.#value.length) this.#value.data[id] = NaN;
  }

  #reach(id: number): void {
    while (this.#value.length <= id) {
      this.#value.push(NaN);
      this.#sum.push(0);
    }
  }
}
