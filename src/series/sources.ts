/**
 * What a producer last sent of each of its sources (a cluster member's series, by the dense id its
 * encoder hands out), so that it sends only what changed; the primary keeps the sources
 * themselves as streams (cluster/aggregate.ts).
 */
/** `column` grown to `size` (at least), its new entries `fill`. */
function grown<T extends Int32Array | Float64Array>(column: T, size: number, fill: number): T {
  if (size <= column.length) return column;
  const larger = new (column.constructor as new (n: number) => T)(
    Math.max(column.length * 2, size),
  );
  larger.set(column);
  larger.fill(fill, column.length);
  return larger;
}

/**
 * What a producer last sent of each of its sources, by its dense id, so that its next report
 * carries only the sources that changed. A number's
 * value; a histogram's count and sum (a row changes only with its count: the sum is compared too
 * for a record of 0). Bounded by the ids the producer hands out.
 */
export class LastSent {
  /** Per id: a number's last value or a histogram's count (`NaN`: nothing sent), and a histogram's sum. */
  #value = new Float64Array(16).fill(NaN);
  #sum = new Float64Array(16);

  /** Whether `value` differs from what was last sent of `id`; if so it is now. */
  number(id: number, value: number): boolean {
    this.#reach(id);
    if (this.#value[id] === value) return false;
    this.#value[id] = value;
    return true;
  }

  /** Whether a histogram's `count` and `sum` differ from what was last sent of `id`; if so they are now. */
  histogram(id: number, count: number, sum: number): boolean {
    this.#reach(id);
    if (this.#value[id] === count && this.#sum[id] === sum) return false;
    this.#value[id] = count;
    this.#sum[id] = sum;
    return true;
  }

  /** Nothing of `id` counts as sent: its next value goes whatever it is. */
  forget(id: number): void {
    if (id < this.#value.length) this.#value[id] = NaN;
  }

  #reach(id: number): void {
    if (id < this.#value.length) return;
    this.#value = grown(this.#value, id + 1, NaN);
    this.#sum = grown(this.#sum, id + 1, 0);
  }
}
