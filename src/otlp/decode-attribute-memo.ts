/**
 * Attribute sets remembered by their wire bytes, for the protobuf decoder (decode-protobuf.ts): a
 * fleet's senders export the same series export after export, each written the same way, so the
 * bytes of a point's attribute fields name the set they decode to. A point whose bytes were seen
 * before gets the object decoded then — shared, so never written to — and whoever keys sets (the
 * ingest's `attributesKey`) keeps its key on the entry ({@link AttributeMemo.keyOf}), as the
 * decoding thread keeps how it packs the set ({@link AttributeMemo.derived}), instead of making
 * them again for every point.
 *
 * Bounded: sets of plain values only (strings, booleans, numbers: what decoding them charges is
 * one attribute each), at most {@link MAX_RUN_BYTES} of fields, and two generations of at most
 * {@link GENERATION} sets and {@link GENERATION_BYTES} of their bytes: when the newer is full it
 * becomes the older, the older is dropped, and a set found in the older is moved to the newer. So
 * a set used every export stays while less than a generation of other sets is seen between two
 * of its uses, and the memo holds at most two generations whatever a sender sends, on each thread
 * that decodes (the main one and the decoding worker): an entry holds its bytes twice, as its key
 * and as words to compare, its values no larger than them, and ~550 bytes of objects beside, so
 * a generation of one-attribute sets is ~70 MiB of heap and one of two-attribute sets ~115 MiB
 * (measured), the two generations ~140 and ~230 MiB. That is the
 * price of a fleet's 110k series found export after export (bench/README.md, the ingest rows);
 * it is not counted in the ingest's `maxMemoryBytes`, which bounds the series kept.
 *
 * A sender writes its sets in the same order export after export, so each entry also remembers the
 * entry found after it last time: a point's bytes are compared with that one first, which finds
 * most points without making a string of their bytes or hashing it.
 *
 * What must stay true: an entry's attributes are what decoding its bytes gives (same bytes, same
 * decoder), and no one writes to them; an entry is handed out only while a generation holds it.
 */
import type { Attributes } from '@opentelemetry/api';

/** Attribute fields longer than this (tags, lengths and KeyValues) are decoded every time. */
export const MAX_RUN_BYTES = 512;
/** Sets per generation. */
export const GENERATION = 131_072;
/** Their fields' bytes per generation (a fleet's typical set is 50–100 bytes). */
export const GENERATION_BYTES = 8 * 1024 * 1024;

export interface MemoEntry {
  readonly attributes: Attributes;
  /** Where each field's KeyValue starts, from the first field's tag: where decoding charges its attribute. */
  readonly starts: readonly number[];
  /** The set's identity key, made once by {@link AttributeMemo.keyOf}. */
  key: string | undefined;
  /**
   * A number from 1 naming the entry while a generation holds it, given again once it is dropped:
   * so at most the two generations' sets are numbered at any time (the decoding thread names a
   * point's key to the main thread by it: packed-chunk.ts `KeyWire`).
   */
  id: number;
  /** What a consumer made of the set once ({@link AttributeMemo.derived}). */
  derived: unknown;
  /** Its bytes, one character a byte (its key in the generations' maps). */
  readonly bytes: string;
  /** Its whole 4-byte words, little-endian: what a guess is compared with (see {@link same}). */
  readonly words: Uint32Array;
  /** The generation that holds it last (a number from {@link AttributeMemo}'s count). */
  generation: number;
  /** The entry found after it last time; cleared when its generation is dropped, so a dropped entry holds no other. */
  next: MemoEntry | undefined;
}

interface Generation {
  readonly id: number;
  /** By the bytes, one character a byte. */
  readonly byBytes: Map<string, MemoEntry>;
  readonly byObject: Map<Attributes, MemoEntry>;
  /** The bytes of its sets. */
  bytes: number;
}

const generation = (id: number): Generation => ({
  id,
  byBytes: new Map(),
  byObject: new Map(),
  bytes: 0,
});

export class AttributeMemo {
  readonly #sets: number;
  readonly #bytes: number;
  #newer = generation(1);
  #older = generation(0);
  /** The entry found or remembered last: its `next` is the first guess for the next point. */
  #last: MemoEntry | undefined;
  /** The body being read, as a DataView (made once per body; {@link release} lets go of it). */
  #viewed: Uint8Array | undefined;
  #view: DataView | undefined;
  /** Ids of dropped entries, given again before a new one. */
  readonly #freeIds: number[] = [];
  #nextId = 1;

  /** @param sets, bytes: per generation */
  constructor(sets = GENERATION, bytes = GENERATION_BYTES) {
    this.#sets = sets;
    this.#bytes = bytes;
  }

  /** Sets held, both generations. */
  get size(): number {
    return this.#newer.byBytes.size + this.#older.byBytes.size;
  }

  /**
   * Where the run of fields tagged `tag` (one byte) from `from` (the first one's tag) stops in
   * `buf`, within `limit`; -1 when it is too long or malformed (then decoded as it is, which
   * refuses it). Makes nothing: it runs for every point.
   */
  runEnd(buf: Uint8Array, from: number, limit: number, tag: number): number {
    let at = from;
    const end = Math.min(limit, from + MAX_RUN_BYTES);
    while (at < end && buf[at] === tag) {
      let length = 0;
      let shift = 0;
      let i = at + 1;
      for (;;) {
        if (i >= end || shift > 21) return -1;
        const byte = buf[i++]!;
        length |= (byte & 0x7f) << shift;
        if ((byte & 0x80) === 0) break;
        shift += 7;
      }
      at = i + length;
    }
    return at > end ? -1 : at;
  }

  /** The entry of the bytes `buf[from, stop)`, moved to the newer generation when found in the older. */
  get(buf: Uint8Array, from: number, stop: number): MemoEntry | undefined {
    const last = this.#last;
    const guess = last?.next;
    if (
      guess !== undefined &&
      guess.generation >= this.#older.id &&
      same(buf, this.#viewOf(buf), from, stop, guess)
    ) {
      if (guess.generation !== this.#newer.id) this.#add(guess);
      return (this.#last = guess);
    }
    const bytes = latin1(buf, from, stop);
    let found = this.#newer.byBytes.get(bytes);
    if (found === undefined) {
      found = this.#older.byBytes.get(bytes);
      if (found !== undefined) this.#add(found);
    }
    if (found !== undefined) this.#follows(last, found);
    return found;
  }

  /**
   * Remembers `attributes`, decoded from the fields `starts` (from `from`) that stop at `stop`,
   * when they are plain values; its entry, or undefined.
   */
  remember(
    buf: Uint8Array,
    from: number,
    stop: number,
    starts: readonly number[],
    attributes: Attributes,
  ): MemoEntry | undefined {
    for (const k in attributes) {
      const v = attributes[k];
      if (typeof v === 'object' || k === '__proto__') return undefined;
    }
    const entry: MemoEntry = {
      attributes,
      starts,
      key: undefined,
      id: this.#freeIds.pop() ?? this.#nextId++,
      derived: undefined,
      bytes: latin1(buf, from, stop),
      words: wordsOf(this.#viewOf(buf), from, stop),
      generation: -1,
      next: undefined,
    };
    this.#add(entry);
    this.#follows(this.#last, entry);
    return entry;
  }

  /** Lets go of the body read last (the decoder calls it when a request is decoded). */
  release(): void {
    this.#viewed = this.#view = undefined;
  }

  #viewOf(buf: Uint8Array): DataView {
    if (buf !== this.#viewed || this.#view === undefined) {
      this.#viewed = buf;
      this.#view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    }
    return this.#view;
  }

  /** The entry `attributes` came from, when they came from this memo. */
  entryOf(attributes: Attributes): MemoEntry | undefined {
    return this.#newer.byObject.get(attributes) ?? this.#older.byObject.get(attributes);
  }

  /** The identity key of `attributes` by `make`, made once per remembered set. */
  keyOf(
    attributes: Attributes,
    make: (attributes: Attributes) => string,
    entry = this.entryOf(attributes),
  ): string {
    if (entry === undefined) return make(attributes);
    return (entry.key ??= make(attributes));
  }

  /** What `make` makes of `attributes` with their key, made once per remembered set (one `make` per thread). */
  derived<T>(
    attributes: Attributes,
    key: string,
    make: (attributes: Attributes, key: string) => T,
    entry = this.entryOf(attributes),
  ): T {
    if (entry === undefined) return make(attributes, key);
    return (entry.derived ??= make(attributes, key)) as T;
  }

  /** `entry` was found right after `last` (a dropped `last` is left holding nothing). */
  #follows(last: MemoEntry | undefined, entry: MemoEntry): void {
    if (last !== undefined && last.generation >= this.#older.id) last.next = entry;
    this.#last = entry;
  }

  #add(entry: MemoEntry): void {
    const bytes = entry.bytes;
    if (this.#newer.byBytes.size >= this.#sets || this.#newer.bytes + bytes.length > this.#bytes) {
      // The older generation's own entries are dropped: none of them holds another.
      for (const dropped of this.#older.byBytes.values())
        if (dropped.generation === this.#older.id) {
          dropped.next = undefined;
          this.#freeIds.push(dropped.id);
        }
      this.#older = this.#newer;
      this.#newer = generation(this.#older.id + 1);
    }
    entry.generation = this.#newer.id;
    this.#newer.bytes += bytes.length;
    this.#newer.byBytes.set(bytes, entry);
    this.#newer.byObject.set(entry.attributes, entry);
  }
}

/** Node's Buffer method behind `toString('latin1', from, to)`, without its argument checks (untyped). */
type Latin1Slicing = Buffer & { latin1Slice(from: number, to: number): string };

/** `buf[from, to)` as a string of one character per byte (a map key, never shown). */
function latin1(buf: Uint8Array, from: number, to: number): string {
  return (
    (Buffer.isBuffer(buf)
      ? buf
      : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength)) as Latin1Slicing
  ).latin1Slice(from, to);
}

/** The whole 4-byte words of `buf[from, stop)` (`view` is `buf`'s), little-endian. */
function wordsOf(view: DataView, from: number, stop: number): Uint32Array {
  const words = new Uint32Array((stop - from) >>> 2);
  for (let w = 0; w < words.length; w++) words[w] = view.getUint32(from + 4 * w, true);
  return words;
}

/**
 * Whether `buf[from, stop)` are `entry`'s bytes: compared four at a time, the rest one at a time.
 * Every point of a fleet's export is compared with the entry after the one before (a byte at a
 * time, this was a tenth of the decoding thread's time: bench/collector.ts, its load rows).
 */
function same(buf: Uint8Array, v: DataView, from: number, stop: number, entry: MemoEntry): boolean {
  const bytes = entry.bytes;
  if (stop - from !== bytes.length) return false;
  const words = entry.words;
  for (let w = 0; w < words.length; w++)
    if (v.getUint32(from + 4 * w, true) !== words[w]) return false;
  for (let i = 4 * words.length; i < bytes.length; i++)
    if (buf[from + i] !== bytes.charCodeAt(i)) return false;
  return true;
}

/** This thread's memo (each thread decodes one request at a time). */
export const attributeMemo = new AttributeMemo();
