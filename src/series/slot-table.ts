/**
 * Rows kept as slots of columns (typed arrays and plain arrays, one per field: streams.ts
 * `StreamTable`), not an object each. A freed slot is taken again by the next row made, so the columns follow the
 * most rows held at once, and grow by doubling.
 *
 * What must stay true: a freed slot's fields that point at objects are cleared (`clear`), so a
 * dropped row keeps nothing alive; every typed array a subclass holds as a public field is one of
 * its columns (growing replaces them all), read through `this` at each use.
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
        this.#resize(this.#capacity);
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

  /** Grows every typed column (each typed array among the fields) to `capacity`. */
  #resize(capacity: number): void {
    const fields = this as unknown as Record<string, unknown>;
    for (const name of Object.keys(fields)) {
      const column = fields[name];
      if (!isColumn(column)) continue;
      const larger = new (column.constructor as new (n: number) => TypedColumn)(capacity);
      larger.set(column as never);
      fields[name] = larger;
    }
  }
  /** Drops what `slot`'s plain fields point at. */
  protected abstract clear(slot: number): void;
  /** Zeroes `slot`'s typed fields. */
  protected abstract zero(slot: number): void;
}

type TypedColumn = Float64Array | Int32Array | BigInt64Array;

function isColumn(v: unknown): v is TypedColumn {
  return v instanceof Float64Array || v instanceof Int32Array || v instanceof BigInt64Array;
}
