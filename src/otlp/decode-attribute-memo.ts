/**
 * Attribute sets remembered by their wire bytes, for the protobuf decoder (decode-protobuf.ts): a
 * fleet's senders export the same series export after export, each written the same way, so the
 * bytes of a point's attribute fields name the set they decode to. A point whose bytes were seen
 * before gets the object decoded then — shared, so never written to — and whoever keys sets (the
 * ingest's `attributesKey`) keeps its key with the set ({@link AttributeMemo.keyOf}), as the
 * decoding thread keeps how it packs the set ({@link AttributeMemo.packedText}), instead of making
 * them again for every point.
 *
 * Bounded: sets of plain values only (strings, booleans, numbers: what decoding them charges is
 * one attribute each), at most {@link MAX_RUN_BYTES} of fields, and two generations of at most
 * {@link GENERATION} sets and {@link GENERATION_BYTES} of their bytes: when the newer is full it
 * becomes the older, the older is dropped, and a set found in the older is moved to the newer. So
 * a set used every export stays while less than a generation of other sets is seen between two
 * of its uses, and the memo holds at most two generations whatever a sender sends, on each thread
 * that decodes (the main one and the decoding worker): a set holds its bytes twice, as its key and
 * as words to compare, its attributes no larger than them, its key, and a few numbers: ~130 bytes
 * of heap a one-attribute set and ~170 a two-attribute one (measured), ~17 and ~21 MiB a
 * generation. That is the
 * price of a fleet's 110k series found export after export (bench/README.md, the ingest rows);
 * it is not counted in the ingest's `maxMemoryBytes`, which bounds the series kept.
 *
 * A sender writes its sets in the same order export after export, so each set also remembers the
 * set found after it last time: a point's bytes are compared with that one first, which finds
 * most points without making a string of their bytes or hashing it.
 *
 * What must stay true: a set's attributes are what decoding its bytes gives (same bytes, same
 * decoder), and no one writes to them; a set's id is handed out only while a generation holds it,
 * and two sets held at once never share one.
 */
import type { Attributes } from '@opentelemetry/api';

/** Attribute fields longer than this (tags, lengths and KeyValues) are decoded every time. */
export const MAX_RUN_BYTES = 512;
/** Sets per generation. */
export const GENERATION = 131_072;
/** Their fields' bytes per generation (a fleet's typical set is 50–100 bytes). */
export const GENERATION_BYTES = 8 * 1024 * 1024;

/** How the decoding thread packs a set (packed-chunk.ts): its text, and its attributes when the text does not give them back exactly. */
export type Packing = (
  attributes: Attributes,
  key: string,
) => { readonly text: string; readonly exact: Attributes | undefined };

/**
 * A generation: the sets it holds by their bytes and by their objects (each to its id), and the
 * probes of those it took ({@link AttributeMemo}'s layout), one after another in the order taken.
 */
interface Generation {
  readonly id: number;
  /** By the bytes, one character a byte. */
  readonly byBytes: Map<string, number>;
  readonly byObject: Map<Attributes, number>;
  /** The bytes of its sets. */
  bytes: number;
  probes: Uint32Array;
  /** Words of {@link probes} written. */
  used: number;
}

const generation = (id: number): Generation => ({
  id,
  byBytes: new Map(),
  byObject: new Map(),
  bytes: 0,
  probes: new Uint32Array(1024),
  used: 0,
});

/**
 * The sets are numbered (ids from 1; 0 is none), and what the decoding thread reads of a set for
 * every point lives in arrays by id and in its generation's probes, not in an object per set: the
 * sets of an export are found in the order they were remembered, so these reads walk memory in
 * order, where objects made between the points of a busy thread's requests lie scattered (one
 * cache miss each; bench/collector.ts, one 110k-series body shared by every sender).
 *
 * A set's probe, in its generation's `probes` from `at[id]`: its byte length, the number of its
 * fields, where each field's KeyValue starts (from the first field's tag: where decoding charges
 * its attribute), then its bytes as little-endian 4-byte words, the last one padded with zeros.
 */
export class AttributeMemo {
  readonly #sets: number;
  readonly #bytes: number;
  #newer = generation(1);
  #older = generation(0);
  /** The set found or remembered last: its `next` is the first guess for the next point. */
  #last = 0;
  /** The body being read, as a DataView (made once per body; {@link release} lets go of it). */
  #viewed: Uint8Array | undefined;
  #view: DataView | undefined;
  /** Ids of dropped sets, given again before a new one. */
  readonly #freeIds: number[] = [];
  #nextId = 1;
  // By id: the generation that holds the set last, where its probe starts there, the set found
  // after it last time (cleared when its generation is dropped), its attributes, its bytes (its key
  // in the generations' maps), its key, and how the packer packs it: its text and, for a few, its
  // exact attributes (keyOf, packedText).
  #generationOf = new Int32Array(1024);
  #at = new Int32Array(1024);
  #next = new Int32Array(1024);
  readonly #attributes: (Attributes | undefined)[] = [];
  readonly #bytesOf: (string | undefined)[] = [];
  readonly #keys: (string | undefined)[] = [];
  readonly #texts: (string | undefined)[] = [];
  readonly #exacts: (Attributes | undefined)[] = [];

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

  /** The id of the bytes `buf[from, stop)`, or 0; moved to the newer generation when found in the older. */
  get(buf: Uint8Array, from: number, stop: number): number {
    const last = this.#last;
    const guess = last === 0 ? 0 : this.#next[last]!;
    if (guess !== 0 && this.#generationOf[guess]! >= this.#older.id) {
      const g = this.#generationOf[guess] === this.#newer.id ? this.#newer : this.#older;
      if (same(buf, this.#viewOf(buf), from, stop, g.probes, this.#at[guess]!)) {
        if (g !== this.#newer) this.#add(guess);
        return (this.#last = guess);
      }
    }
    const bytes = latin1(buf, from, stop);
    let found = this.#newer.byBytes.get(bytes);
    if (found === undefined) {
      found = this.#older.byBytes.get(bytes);
      if (found !== undefined) this.#add(found);
    }
    if (found === undefined) return 0;
    this.#follows(last, found);
    return found;
  }

  /** The attributes of the set `id` (a held one): shared, never written to. */
  attributesOf(id: number): Attributes {
    return this.#attributes[id]!;
  }

  /** How many fields the set `id` has (a held one). */
  fieldsOf(id: number): number {
    return this.#probesOf(id)[this.#at[id]! + 1]!;
  }

  /** Where the set `id`'s field `k` starts, from its first field's tag. */
  fieldStart(id: number, k: number): number {
    return this.#probesOf(id)[this.#at[id]! + 2 + k]!;
  }

  /**
   * Remembers `attributes`, decoded from the fields `starts` (from `from`) that stop at `stop`,
   * when they are plain values; its id, or 0.
   */
  remember(
    buf: Uint8Array,
    from: number,
    stop: number,
    starts: readonly number[],
    attributes: Attributes,
  ): number {
    for (const k in attributes) {
      const v = attributes[k];
      if (typeof v === 'object' || k === '__proto__') return 0;
    }
    const id = this.#freeIds.pop() ?? this.#nextId++;
    if (id >= this.#next.length) this.#grow();
    const bytes = latin1(buf, from, stop);
    this.#attributes[id] = attributes;
    this.#bytesOf[id] = bytes;
    this.#keys[id] = undefined;
    this.#texts[id] = this.#exacts[id] = undefined;
    this.#generationOf[id] = -1;
    this.#next[id] = 0;
    // Taken by the newer generation (which may turn over first), then its probe written there.
    this.#add(id);
    const g = this.#newer;
    const length = stop - from;
    const at = reserve(g, 2 + starts.length + ((length + 3) >>> 2));
    this.#at[id] = at;
    const probes = g.probes;
    probes[at] = length;
    probes[at + 1] = starts.length;
    for (let k = 0; k < starts.length; k++) probes[at + 2 + k] = starts[k]!;
    const view = this.#viewOf(buf);
    const w0 = at + 2 + starts.length;
    const whole = length >>> 2;
    for (let w = 0; w < whole; w++) probes[w0 + w] = view.getUint32(from + 4 * w, true);
    if ((length & 3) !== 0) probes[w0 + whole] = tailWord(buf, from + 4 * whole, stop);
    this.#follows(this.#last, id);
    return id;
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

  #probesOf(id: number): Uint32Array {
    return this.#generationOf[id] === this.#newer.id ? this.#newer.probes : this.#older.probes;
  }

  /** The id of the set `attributes` came from when they came from this memo, else 0. */
  idOf(attributes: Attributes): number {
    return this.#newer.byObject.get(attributes) ?? this.#older.byObject.get(attributes) ?? 0;
  }

  /** The identity key of `attributes` (the set `id`'s, when not 0) by `make`, made once per remembered set. */
  keyOf(
    attributes: Attributes,
    make: (attributes: Attributes) => string,
    id = this.idOf(attributes),
  ): string {
    if (id === 0) return make(attributes);
    return (this.#keys[id] ??= make(attributes));
  }

  /**
   * The text of the set `id` (a held one) as `make` packs its attributes with their key, made once
   * per set (one `make` per thread); {@link exactOf} what else it made. Both are read by id, from
   * arrays: for every point, not an object of the set's.
   */
  packedText(id: number, attributes: Attributes, key: string, make: Packing): string {
    let text = this.#texts[id];
    if (text === undefined) {
      const packed = make(attributes, key);
      this.#exacts[id] = packed.exact;
      this.#texts[id] = text = packed.text;
    }
    return text;
  }

  /** The exact attributes `make` gave the set `id` with its text ({@link packedText}), if any. */
  exactOf(id: number): Attributes | undefined {
    return this.#exacts[id];
  }

  /** The set `id` was found right after `last` (a dropped `last` is left holding nothing). */
  #follows(last: number, id: number): void {
    if (last !== 0 && this.#generationOf[last]! >= this.#older.id) this.#next[last] = id;
    this.#last = id;
  }

  /** Gives the set `id` to the newer generation, its probe copied there when it has one. */
  #add(id: number): void {
    const bytes = this.#bytesOf[id]!;
    const from = this.#generationOf[id]! >= this.#older.id ? this.#probesOf(id) : undefined;
    const at = this.#at[id]!;
    if (this.#newer.byBytes.size >= this.#sets || this.#newer.bytes + bytes.length > this.#bytes) {
      // The older generation's own sets are dropped: none of them holds another.
      const older = this.#older;
      for (const dropped of older.byBytes.values())
        if (this.#generationOf[dropped] === older.id && dropped !== id) {
          this.#next[dropped] = 0;
          this.#generationOf[dropped] = -1;
          this.#attributes[dropped] = this.#bytesOf[dropped] = this.#keys[dropped] = undefined;
          this.#texts[dropped] = this.#exacts[dropped] = undefined;
          this.#freeIds.push(dropped);
        }
      this.#older = this.#newer;
      this.#newer = generation(this.#older.id + 1);
    }
    const g = this.#newer;
    if (from !== undefined) {
      const words = 2 + from[at + 1]! + ((from[at]! + 3) >>> 2);
      const to = reserve(g, words);
      g.probes.set(from.subarray(at, at + words), to);
      this.#at[id] = to;
    }
    this.#generationOf[id] = g.id;
    g.bytes += bytes.length;
    g.byBytes.set(bytes, id);
    g.byObject.set(this.#attributes[id]!, id);
  }

  #grow(): void {
    const size = 2 * this.#next.length;
    this.#generationOf = grown(this.#generationOf, size);
    this.#at = grown(this.#at, size);
    this.#next = grown(this.#next, size);
  }
}

function grown(from: Int32Array, size: number): Int32Array<ArrayBuffer> {
  const to = new Int32Array(size);
  to.set(from);
  return to;
}

/** Room for `words` more words of probes in `g`; where they start. */
function reserve(g: Generation, words: number): number {
  const at = g.used;
  if (at + words > g.probes.length) {
    const probes = new Uint32Array(Math.max(2 * g.probes.length, at + words));
    probes.set(g.probes.subarray(0, at));
    g.probes = probes;
  }
  g.used = at + words;
  return at;
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

/** The bytes `buf[from, stop)` (fewer than four) as a little-endian word, padded with zeros. */
function tailWord(buf: Uint8Array, from: number, stop: number): number {
  let word = 0;
  for (let i = from; i < stop; i++) word |= buf[i]! << (8 * (i - from));
  return word;
}

/**
 * Whether `buf[from, stop)` (`v` is `buf`'s view) are the bytes of the probe at `at` in `probes`:
 * compared four at a time. Every point of a fleet's export is compared with the set after the one
 * before (a byte at a time, this was a tenth of the decoding thread's time: bench/collector.ts,
 * its load rows).
 */
function same(
  buf: Uint8Array,
  v: DataView,
  from: number,
  stop: number,
  probes: Uint32Array,
  at: number,
): boolean {
  const length = probes[at]!;
  if (stop - from !== length) return false;
  let p = at + 2 + probes[at + 1]!;
  const whole = length >>> 2;
  for (let w = 0; w < whole; w++, p++)
    if (v.getUint32(from + 4 * w, true) !== probes[p]) return false;
  return (length & 3) === 0 || tailWord(buf, from + 4 * whole, stop) === probes[p];
}

/** This thread's memo (each thread decodes one request at a time). */
export const attributeMemo = new AttributeMemo();
