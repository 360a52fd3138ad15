/**
 * A storage's figures: a growable column of doubles in a Float64Array, off the JS heap. A record
 * adds into it in place, as into a plain array; a collection's snapshot copies it with one `set` of
 * a typed array, a memory copy, where copying a plain array into a typed one converts element by
 * element (that copy is made in one turn of the event loop, for every series at once). Off the
 * heap, the figures are also not what the young-generation collector copies or the heap grows by.
 *
 * `data` is replaced when the column grows: read it through the column at each use, never keep it,
 * and only once the series is found (`values.data[seriesOf(a)] += v` would add into the old storage
 * when `seriesOf` makes a new series).
 */
export class Column {
  data: Float64Array;
  length = 0;

  constructor(capacity = 16) {
    this.data = new Float64Array(capacity);
  }

  /**
   * Appends `value` (new series' slots). The storage grows by a quarter: doubling left up to half
   * of it unused, ~5 B a series of a 10k-series instrument (bench/heap.ts).
   */
  push(value: number): void {
    if (this.length === this.data.length) {
      const larger = new Float64Array(this.data.length + Math.max(16, this.data.length >> 2));
      larger.set(this.data);
      this.data = larger;
    }
    this.data[this.length++] = value;
  }

  /** Copies `width` figures from `from` to `to` (a compaction moving a series down: series-set.ts `compact`). */
  move(from: number, to: number, width = 1): void {
    this.data.copyWithin(to, from, from + width);
  }

  /** Keeps the first `length` figures (the storage stays, for the series added next). */
  truncate(length: number): void {
    this.length = length;
  }

  /** Another column holding the same figures. */
  copy(): Column {
    const to = new Column(this.data.length);
    to.data.set(this.data);
    to.length = this.length;
    return to;
  }

  /** The figures held, as a view (valid until the column grows). */
  view(): Float64Array {
    return this.data.subarray(0, this.length);
  }
}
