/**
 * Rows kept as slots of columns (typed arrays and plain arrays, one per field: series-state.ts),
 * not an object each. A freed slot is taken again by the next row made, so the columns follow the
 * most rows held at once, and grow by doubling.
 *
 * What must stay true: a freed slot's fields that point at objects are cleared (`clear`), so a
 * dropped row keeps nothing alive; a subclass reads its typed columns through `this` at each use,
 * since growing replaces them.
 */
export abstract class SlotTable {
  #capacity = 0;
  #used = 0;
  #free: number[] = [];
  #live = 0;

  /** Rows held. */
  get size(): number {
    return this.#live;
  }

  /** A slot for a new row (its typed fields zeroed, its other fields to be set by the caller). */
  take(): number {
    this.#live++;
    let slot = this.#free.pop();
    if (slot === undefined) {
      if (this.#used === this.#capacity) {
        this.#capacity = Math.max(16, this.#capacity * 2);
        this.resize(this.#capacity);
      }
      slot = this.#used++;
    }
    this.zero(slot);
    return slot;
  }

  /** Gives `slot` back. */
  release(slot: number): void {
    this.#live--;
    this.clear(slot);
    this.#free.push(slot);
  }

  /** Grows every typed column to `capacity`. */
  protected abstract resize(capacity: number): void;
  /** Drops what `slot`'s plain fields point at. */
  protected abstract clear(slot: number): void;
  /** Zeroes `slot`'s typed fields. */
  protected abstract zero(slot: number): void;
}
