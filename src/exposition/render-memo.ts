/**
 * The last rendering of one text variant (text 0.0.4 or OpenMetrics, one name escaping), kept so
 * the next one redoes only what changed: between two scrapes few series move.
 *
 * Per family (by name) it keeps the bytes of its lines off the V8 heap, each series' line length,
 * and what the series were: their keys (a store set's keyed columns, render-model.ts
 * `KeyedLabels`; else their label strings) and values (a histogram: its series objects, which the
 * naming stage serves again while unchanged). The next rendering copies each run of series with
 * the same key and value (the same histogram series object) from the kept bytes, one copy per run;
 * a kept series with a new value is its kept line up to the value, then the value; a series not
 * kept is rendered from its label string (keyed columns make it only then), gathered into one
 * string per run. So a keyed family needs no label string per series to be kept anywhere. A family
 * where nothing changed is handed out from its kept bytes as they are; one whose changed series
 * kept their place and the length of their lines (a counter from 41 to 42) is rewritten in place,
 * nothing copied.
 *
 * A number family whose label strings all end with one run of labels (a host's scope labels, on
 * every line) keeps its lines cut (see {@link Cut}): without their opener and that shared end,
 * which it keeps once. Kept whole, those would be most of the memo (about 55 of a 109-byte line);
 * the price is that such a family's lines are written out of the cut ones at every rendering, into
 * storage a body references (the last rendering's, held weakly, once no body holds it: {@link
 * Spare}), instead of being handed out as kept.
 *
 * What must stay true:
 * - the bytes are those of render.ts `renderPieces`, encoded (test/exposition/render-memo);
 * - a family's arrays and series objects are not changed once handed to a renderer (render-model.ts);
 * - one rendering at a time: one that finds the memo in use renders plainly;
 * - the pieces are transient (each is read before the next is asked for, as body-store.ts does),
 *   except through {@link RenderMemo.lending}: then the bytes pieces (not the small ones gathered)
 *   stay unchanged until the lease is released, so a body can reference them instead of a copy.
 *   While a lease is out, a rendering writes nothing in place and no buffer a body may reference:
 *   its changed families go to new storage;
 * - a family missing from a completed rendering is forgotten, so memory follows the live families:
 *   up to two buffers per family (the kept bytes and the ones written next), about twice the body,
 *   a cut family one (its kept bytes are never lent: no spare is needed to write while a body
 *   references them);
 *   storage grown while written is kept at the size of its bytes, and a spare that would not fit
 *   the bytes just written is replaced at once (a family that grew once does not step up again at
 *   a later scrape).
 * Families not marked ASCII, and OpenMetrics counters with exemplars or start times (lines the
 * kept values do not describe), are rendered plainly and not kept.
 */
import type { ExpositionFormat, FamilyType } from './types.ts';
import type { NumberColumns, RenderFamily, RenderHistogramSeries } from './render-model.ts';
import { DIALECTS } from './render.ts';
import {
  checkChunkBytes,
  familyPieces,
  histogramOpeners,
  isAscii,
  numberColumns,
  sampleOpeners,
  writeHistogramSeries,
  sampleLine,
  valueLine,
  type Dialect,
  type HistogramOpeners,
  type Openers,
  type Piece,
  type Sink,
} from './samples.ts';

/** What is kept of one family from the last rendering. */
interface Kept {
  /** The rendering that last saw the family. */
  round: number;
  readonly type: FamilyType;
  readonly openers: Openers | HistogramOpeners;
  /** The family's metadata lines as last written, and the help and unit they were written from (name and type are the entry's). */
  header: string;
  help: string;
  unit: string;
  /** The family's bytes: its header, then its series' lines. */
  bytes: Buffer;
  /** The buffer the next rendering writes into (the previous bytes), swapped with `bytes` after. */
  next: Buffer;
  /** A cut family's previous bytes, held weakly (see {@link Spare}): its next writing's storage if still there. */
  spare: Spare<Buffer>;
  length: number;
  /** Where the header ends. */
  headerEnd: number;
  /** Series kept. */
  n: number;
  /**
   * The byte length of series i's lines (where they end: the header's end plus the lengths up to
   * i), in the narrowest array that holds them; `nextLengths` for the next rendering.
   */
  lengths: Lengths;
  nextLengths: Lengths;
  /**
   * Number families: what tells the kept series apart -- their label strings, or the keys of keyed
   * columns (render-model.ts `KeyedLabels`, `maker` their maker) -- and their values.
   */
  keys: readonly unknown[];
  maker: object | undefined;
  values: Values;
  nextValues: Values;
  /** Histogram families: the kept series objects. */
  series: readonly RenderHistogramSeries[];
  /** Renderings left before rewriting in place is tried again, after it failed (lengths changed). */
  retryInPlace: number;
  /** Number families: what every kept line leaves out (see {@link Cut}), or undefined: whole lines. */
  cut: Cut | undefined;
}

/**
 * What every line of a number family repeats, kept once for the family rather than in each kept
 * line: the line's opener (`name{`) and the end of its label string that every series shares (a
 * host's `otel_scope_name` and `otel_scope_version` labels), with the `}` after it. A kept line is
 * then the rest of its labels and ` value\n`; the family's lines are written out of them, in new
 * storage, at each rendering.
 */
interface Cut {
  /** The end every label string of the family has (it starts with a comma). */
  readonly suffix: string;
  /** Each line's opener, and `suffix` with the `}`, as bytes. */
  readonly head: Buffer;
  readonly tail: Buffer;
}

/** One rendering's hold on the bytes it lent; counted once the rendering starts from the memo. */
interface Lease {
  counted: boolean;
  released: boolean;
}

/** A rendering whose bytes pieces a body may reference, and how to say the body is done with them. */
export interface Lending {
  readonly pieces: Generator<Piece | Uint8Array, void, undefined>;
  readonly lent: {
    /** Whether `piece` (one this rendering yielded, asked before the next) stays unchanged until `release`. */
    lent(piece: Uint8Array): boolean;
    /** The body no longer references the lent pieces; called once. */
    release(): void;
  };
}

/**
 * Storage a later rendering may write into, held weakly: a full GC may take it, as it would have
 * taken the garbage it replaces, so the memo holds no more than without it. Why: a cut family's
 * lines are written at every rendering (the body's size, ~12 MiB at 110k series), and storage made
 * anew each time is that much V8 external memory per scrape, which starts a mark-compact every few
 * scrapes when they come back to back (`--trace-gc`: external memory 52 -> 98 MB between them);
 * reused, the next one comes with the heap's own growth (bench/README.md scrape-110k-http).
 */
type Spare<T extends object> = WeakRef<T> | undefined;

/** The least storage made for {@link RenderMemo.#out} (small cut families share it). */
const OUT_BYTES = 64 * 1024;

/** Renderings a family skips rewriting in place after an attempt found a length changed. */
const IN_PLACE_RETRY = 8;

const NO_BYTES = Buffer.alloc(0);
/** Line lengths: a byte each while every series' lines are shorter than 256 bytes (the usual case). */
type Lengths = Uint8Array | Uint16Array | Uint32Array;
const NO_LENGTHS: Lengths = new Uint8Array(0);
/** Kept values: single precision while every value is one exactly (counts mostly are), half the memory. */
type Values = Float32Array | Float64Array;
const NO_VALUES: Values = new Float32Array(0);
const NO_KEYS: readonly unknown[] = [];
/** In the match of a series, `CHANGED - j`: kept series j with a new value (-1 is a series not kept). */
const CHANGED = -2;

export class RenderMemo {
  readonly #dialect: Dialect;
  /** The dialect without its end, for a family rendered plainly among kept ones. */
  readonly #plain: Dialect;
  #kept = new Map<string, Kept>();
  #round = 0;
  #busy = false;
  #closed = false;
  /** Renderings whose lent bytes a body may still reference. */
  #leases = 0;
  /** Whether the rendering under way may write over kept bytes (no lease out when it started). */
  #reuse = true;
  /** Per series of the family at hand: the kept series it equals, or -1. */
  #match = new Int32Array(0);
  /** Where rewritten series would end, checked against the kept ends before rewriting in place. */
  #lineEnds = new Uint32Array(0);
  /** Where the kept series of the family at hand end, from its lengths; where its series end as written. */
  #keptEnds = new Uint32Array(0);
  #ends = new Uint32Array(0);
  readonly #sink: Sink = { out: '' };
  /** Small outputs gathered into one piece. */
  #gather: Buffer = NO_BYTES;
  #gathered = 0;
  /**
   * The lines of cut families as served, written at each rendering (see {@link Cut}) into the last
   * rendering's storage when no body holds it ({@link #spares}), else new; never written over in
   * the rendering once a piece of it is out, and held weakly when it ends (the bodies that
   * reference it hold it until they are done).
   */
  #out: Buffer = NO_BYTES;
  #outUsed = 0;
  /** The storage {@link #out} took in this rendering: the next one's spares. */
  #outs: Buffer[] = [];
  /** The last rendering's {@link #outs}, weakly (see {@link Spare}). */
  #spareOuts: Spare<Buffer[]>;
  /** Spares this rendering may write into: the last one's outs when no lease was out at its start. */
  #spares: Buffer[] = [];

  constructor(format: ExpositionFormat) {
    this.#dialect = DIALECTS[format];
    this.#plain = { ...this.#dialect, end: '' };
  }

  /**
   * The exposition of `families`, as render.ts `renderPieces` would write it, in pieces of about
   * `chunkBytes` (whole lines): bytes, and text pieces for families rendered plainly.
   * @throws RangeError when `chunkBytes` is not a positive number (at the call).
   */
  pieces(
    families: readonly RenderFamily[],
    chunkBytes = 65536,
  ): Generator<Piece | Uint8Array, void, undefined> {
    checkChunkBytes(chunkBytes);
    return this.#render(families, chunkBytes);
  }

  /**
   * {@link pieces}, with its bytes pieces lent: a body may keep them, unchanged, until it calls
   * `lent.release()` (once the last response writing it is done).
   */
  lending(families: readonly RenderFamily[], chunkBytes = 65536): Lending {
    checkChunkBytes(chunkBytes);
    const lease: Lease = { counted: false, released: false };
    return {
      pieces: this.#render(families, chunkBytes, lease),
      lent: {
        lent: (piece) => lease.counted && !lease.released && piece.buffer !== this.#gather.buffer,
        release: () => {
          if (lease.released) return;
          lease.released = true;
          if (lease.counted) this.#leases--;
        },
      },
    };
  }

  /** Renderings whose lent bytes are still referenced. */
  get leases(): number {
    return this.#leases;
  }

  /** Families kept. */
  get size(): number {
    return this.#kept.size;
  }

  /** Bytes held off the V8 heap for the kept families (both buffers of each). */
  get bytes(): number {
    let bytes = 0;
    for (const k of this.#kept.values()) bytes += k.bytes.length + k.next.length;
    return bytes;
  }

  /** Forgets every family and renders plainly from now on; a rendering under way completes as it was. */
  close(): void {
    this.#closed = true;
    this.#kept.clear();
    if (this.#busy) return;
    this.#match = new Int32Array(0);
    this.#lineEnds = new Uint32Array(0);
    this.#keptEnds = new Uint32Array(0);
    this.#ends = new Uint32Array(0);
    this.#gather = NO_BYTES;
    this.#out = NO_BYTES;
    this.#spareOuts = undefined;
  }

  *#render(
    families: readonly RenderFamily[],
    chunk: number,
    lease?: Lease,
  ): Generator<Piece | Uint8Array, void, undefined> {
    // Checked when the rendering starts, not when it is asked for: a generator runs from its first `next()`.
    if (this.#busy || this.#closed) {
      yield* familyPieces(families, chunk, this.#dialect);
      return;
    }
    this.#busy = true;
    this.#reuse = this.#leases === 0;
    this.#spares = (this.#reuse && this.#spareOuts?.deref()) || [];
    this.#spareOuts = undefined;
    if (lease !== undefined && !lease.released) {
      lease.counted = true;
      this.#leases++;
    }
    const round = ++this.#round;
    this.#gathered = 0;
    try {
      for (const f of families) {
        if (f.type === 'histogram') {
          if (f.series.length === 0) continue;
          if (f.ascii === true && isAscii(f.name)) {
            yield* this.#family(f, round, chunk, f.series.length, undefined, f.series);
            continue;
          }
        } else {
          const columns = numberColumns(f);
          // Keyed columns: their label strings are asked for only for series not kept.
          const n = columns.keyed !== undefined ? columns.values.length : columns.labels.length;
          if (n === 0) continue;
          // Extras the kept values do not describe (text 0.0.4 writes neither).
          const extras =
            this.#dialect.openMetrics === true &&
            (columns.exemplars !== undefined || columns.created !== undefined);
          if (f.ascii === true && !extras && isAscii(f.name)) {
            yield* this.#family(f, round, chunk, n, columns, undefined);
            continue;
          }
        }
        for (const piece of familyPieces([f], chunk, this.#plain))
          yield* this.#emitText(piece, chunk);
      }
      if (this.#dialect.end !== '')
        yield* this.#emitText({ text: this.#dialect.end, ascii: true }, chunk);
      if (this.#gathered > 0) yield this.#gather.subarray(0, this.#gathered);
      if (!this.#closed)
        for (const [name, kept] of this.#kept) if (kept.round !== round) this.#kept.delete(name);
    } finally {
      this.#gathered = 0;
      if (this.#outs.length > 0) this.#spareOuts = new WeakRef(this.#outs);
      this.#outs = [];
      this.#spares = [];
      this.#out = NO_BYTES;
      this.#outUsed = 0;
      this.#busy = false;
    }
  }

  /** One family's lines, from what is kept where nothing changed; then kept for the next rendering. */
  *#family(
    f: RenderFamily,
    round: number,
    chunk: number,
    n: number,
    columns: NumberColumns | undefined,
    series: readonly RenderHistogramSeries[] | undefined,
  ): Generator<Piece | Uint8Array, void, undefined> {
    let k = this.#kept.get(f.name);
    if (k === undefined || k.type !== f.type) {
      k = fresh(f, columns === undefined ? histogramOpeners(f.name) : sampleOpeners(f.name));
      if (!this.#closed) this.#kept.set(f.name, k);
    }
    const again = k.round === round;
    k.round = round;
    // Written again only when what it says changed: a string per family and scrape otherwise.
    const header =
      k.header !== '' && f.help === k.help && f.unit === k.unit
        ? k.header
        : this.#dialect.header(f);
    const match = this.#matchOf(n);
    let values = k.nextValues;
    let same = header === k.header && n === k.n;
    const oldN = k.n;
    /** Series not equal to the kept one at their place; whether every other one is at its place. */
    let changed = 0;
    let aligned = true;
    const keyed = columns?.keyed;
    const keys: readonly unknown[] =
      keyed !== undefined ? keyed.keys : columns !== undefined ? columns.labels : NO_KEYS;
    const maker = keyed?.maker;
    if (columns !== undefined) {
      const vs = columns.values;
      // Keys of keyed columns tell series apart only within one array of one maker.
      const kn = k.maker === maker && (maker === undefined || k.keys === keys) ? oldN : 0;
      const oldKeys = k.keys;
      // The same array as last time: its first `kn` keys are the kept ones (a key array handed to a
      // family never changes but by growing), so none is compared (a compare of keys that may be
      // strings or objects is a generic call per series).
      const sameKeys = oldKeys === keys;
      const oldValues = k.values;
      // An info sample is written as 1 whatever its value.
      const anyValue = f.type === 'info';
      // Kept as the next values at once: a family that did not change swaps nothing below, and
      // would otherwise make (and drop) a new array at every rendering.
      if (values.length < n) values = k.nextValues = new Float32Array(sizeFor(n, oldN));
      let narrow = values instanceof Float32Array;
      let index: Map<unknown, number> | undefined;
      for (let i = 0; i < n; i++) {
        const key = keys[i];
        const v = vs[i]!;
        // NaN is kept as NaN in either precision.
        if (narrow && Math.fround(v) !== v && v === v) {
          values = k.nextValues = widened(values, i, values.length);
          narrow = false;
        }
        values[i] = v;
        let j = i < kn && (sameKeys || oldKeys[i] === key) ? i : -1;
        if (j < 0 && kn > 0) j = (index ??= indexOf(oldKeys, kn)).get(key) ?? -1;
        // NaN is not equal to itself, but writes the same line.
        if (
          j >= 0 &&
          !anyValue &&
          oldValues[j] !== v &&
          !(v !== v && oldValues[j] !== oldValues[j])
        )
          j = CHANGED - j;
        match[i] = j;
        if (j !== i) {
          same = false;
          changed++;
          if (j >= 0 || (j < -1 && j !== CHANGED - i)) aligned = false;
        }
      }
    } else {
      const oldSeries = k.series;
      let index: Map<RenderHistogramSeries, number> | undefined;
      for (let i = 0; i < n; i++) {
        const s = series![i]!;
        const o = i < oldN ? oldSeries[i]! : undefined;
        let j = o === s ? i : -1;
        // A new object with the labels of the kept one at its place is that series changed; only
        // series that moved are looked for.
        if (j < 0 && oldN > 0 && o?.labels !== s.labels)
          j = (index ??= indexOf(oldSeries, oldN)).get(s) ?? -1;
        match[i] = j;
        if (j !== i) {
          same = false;
          changed++;
          if (j >= 0) aligned = false;
        }
      }
    }
    /** The label strings of the series new to the memo, each made once (a cut family needs them first). */
    let labelsOf: (string | undefined)[] | undefined;
    if (columns !== undefined && changed > 0 && (oldN === 0 || k.cut !== undefined)) {
      for (let i = 0; i < n; i++)
        if (match[i] === -1)
          (labelsOf ??= new Array<string | undefined>(n))[i] =
            keyed !== undefined ? keyed.at(i) : columns.labels[i]!;
      if (labelsOf !== undefined) {
        const suffix = sharedSuffix(labelsOf, n, oldN === 0 ? undefined : k.cut!.suffix);
        const next = suffix === '' ? undefined : cutOf(k.openers as Openers, suffix);
        // Every series new: the family's cut. Else a new series without the kept suffix: the kept
        // lines rewritten for the suffix they all share now (none: whole lines).
        if (oldN === 0) k.cut = next;
        else if (suffix !== k.cut!.suffix) this.#recut(k, next);
      }
    }
    const cut = k.cut;
    // A family twice in one rendering (names are unique in an exposition) is not written over
    // either; a cut family's kept bytes are never lent (its lines are served from new storage).
    const reuse = (this.#reuse || cut !== undefined) && !again;
    if (same) {
      // Nothing changed: the kept bytes as they are (the newest arrays kept, the older ones let go).
      if (columns !== undefined) k.keys = keys;
      else k.series = series!;
      yield* cut !== undefined ? this.#emitCut(k, cut, chunk) : this.#emitKept(k, chunk);
      return;
    }
    if (
      reuse &&
      aligned &&
      n === oldN &&
      header === k.header &&
      changed <= n / 4 &&
      k.retryInPlace-- <= 0
    ) {
      if (
        columns !== undefined
          ? this.#numbersInPlace(k, f, columns, n, labelsOf)
          : this.#inPlace(k, f, series!, n)
      ) {
        if (columns !== undefined) {
          k.keys = keys;
          k.nextValues = k.values;
          k.values = values;
        } else k.series = series!;
        yield* cut !== undefined ? this.#emitCut(k, cut, chunk) : this.#emitKept(k, chunk);
        return;
      }
      k.retryInPlace = IN_PLACE_RETRY;
    }

    // Written into the other buffer, from the kept one (a cut family: into new storage, served once
    // written, see #emitCut).
    const old = k.bytes;
    const oldEnds = this.#keptEndsOf(k);
    if (this.#ends.length < n) this.#ends = new Uint32Array(grown(n));
    const ends = this.#ends;
    // A body may reference the spare buffer while a lease is out: new storage then.
    const spare = cut !== undefined ? (k.spare?.deref() ?? NO_BYTES) : k.next;
    let buf =
      reuse && fits(spare, k.length + header.length)
        ? spare
        : Buffer.allocUnsafeSlow(slack(k.length + header.length));
    const made = buf;
    let p = 0;
    let shown = 0;
    if (header === k.header) p = old.copy(buf, 0, 0, k.headerEnd);
    else {
      buf = room(buf, p, 3 * header.length);
      p += buf.write(header, p, 'utf8');
    }
    const headerEnd = p;
    const sink = this.#sink;
    const openers = k.openers as Openers;
    const info = f.type === 'info';
    let i = 0;
    while (i < n) {
      const j = match[i]!;
      if (j >= 0) {
        // A run of unchanged series that were consecutive: one copy (up to a piece's size).
        const start = j === 0 ? k.headerEnd : oldEnds[j - 1]!;
        let e = i + 1;
        while (e < n && match[e] === match[e - 1]! + 1 && oldEnds[match[e]!]! - start <= chunk) e++;
        const end = oldEnds[match[e - 1]!]!;
        buf = room(buf, p, end - start);
        old.copy(buf, p, start, end);
        const shift = p - start;
        for (let t = i; t < e; t++) ends[t] = oldEnds[match[t]!]! + shift;
        p += end - start;
        i = e;
      } else if (columns === undefined) {
        // Histogram series, new or changed: rendered, a piece's worth at a time.
        let e = i + 1;
        while (e < n && match[e]! < 0) e++;
        sink.ends = ends;
        while (i < e) {
          sink.out = '';
          sink.endsBase = p;
          i = writeHistogramSeries(
            sink,
            k.openers as HistogramOpeners,
            series!,
            i,
            e,
            chunk,
            this.#dialect,
          );
          const text = sink.out;
          sink.out = '';
          buf = room(buf, p, text.length);
          p += buf.write(text, p, text.length, 'latin1');
          if (p - shown >= chunk) {
            yield* this.#emit(buf.subarray(shown, p), chunk);
            shown = p;
          }
        }
        sink.ends = undefined;
      } else {
        // Number series: a new one rendered from its label string (gathered into one string, written
        // at once); a changed one as its kept line up to the value, then the new value.
        const vs = columns.values;
        let out = '';
        while (i < n && match[i]! < 0) {
          const m = match[i]!;
          if (m === -1) {
            out += keptLine(
              openers,
              cut,
              labelsOf?.[i] ?? (keyed !== undefined ? keyed.at(i) : columns.labels[i]!),
              vs[i]!,
              info,
            );
            ends[i] = p + out.length;
          } else {
            if (out !== '') {
              buf = room(buf, p, out.length);
              p += buf.write(out, p, out.length, 'latin1');
              out = '';
            }
            const was = CHANGED - m;
            const start = was === 0 ? k.headerEnd : oldEnds[was - 1]!;
            const at = valueStart(old, start, oldEnds[was]!);
            const text = valueLine(vs[i]!);
            buf = room(buf, p, at - start + text.length);
            p = copyBytes(old, start, at, buf, p);
            p = writeLatin1(text, buf, p);
            ends[i] = p;
          }
          i++;
          if (p + out.length - shown >= chunk) break;
        }
        if (out !== '') {
          buf = room(buf, p, out.length);
          p += buf.write(out, p, out.length, 'latin1');
        }
      }
      if (cut === undefined && p - shown >= chunk) {
        yield* this.#emit(buf.subarray(shown, p), chunk);
        shown = p;
      }
    }
    if (cut === undefined && p > shown) yield* this.#emit(buf.subarray(shown, p), chunk);
    // Grown while written (a family seen the first time, or grown), storage can be up to twice its
    // bytes: kept at their size instead, since it is held until the next rendering.
    if (buf !== made && buf.length > p) buf = trimmed(buf, p);
    // Complete: the new bytes are kept, the old buffer is the next rendering's. A spare that would
    // not fit these bytes is replaced now, with room (not after a family's first rendering: most
    // families never change); otherwise the next rendering would, a step in memory at a later scrape.
    // A cut family keeps no spare but a weak one: its bytes are a fraction of the body.
    k.spare = cut !== undefined && old !== NO_BYTES ? new WeakRef(old) : undefined;
    k.next =
      cut !== undefined
        ? NO_BYTES
        : oldN === 0 || fits(old, p)
          ? old
          : Buffer.allocUnsafeSlow(slack(p));
    k.bytes = buf;
    k.length = p;
    k.headerEnd = headerEnd;
    k.header = header;
    k.help = f.help;
    k.unit = f.unit;
    this.#keepLengths(k, ends, headerEnd, n);
    k.n = n;
    if (columns !== undefined) {
      k.keys = keys;
      k.maker = maker;
      k.nextValues = k.values;
      k.values = values;
    } else k.series = series!;
    if (cut !== undefined) yield* this.#emitCut(k, cut, chunk);
  }

  /**
   * Rewrites the changed number series (each at its place, see {@link #match}) over their kept
   * bytes when every line keeps its length (a counter from 41 to 42): a changed value after its
   * kept line's head, a new series' whole line. Nothing else moves, so nothing is copied. Writes
   * nothing and returns false otherwise: every line is checked before the first byte is written,
   * so the kept bytes always match the kept values.
   */
  #numbersInPlace(
    k: Kept,
    f: RenderFamily,
    columns: NumberColumns,
    n: number,
    labelsOf: readonly (string | undefined)[] | undefined,
  ): boolean {
    const match = this.#match;
    const kept = this.#keptEndsOf(k);
    const bytes = k.bytes;
    const keyed = columns.keyed;
    const info = f.type === 'info';
    const texts: string[] = [];
    const at: number[] = [];
    for (let i = 0; i < n; i++) {
      const m = match[i]!;
      if (m >= 0) continue;
      const start = i === 0 ? k.headerEnd : kept[i - 1]!;
      const from = m === -1 ? start : valueStart(bytes, start, kept[i]!);
      const text =
        m === -1
          ? keptLine(
              k.openers as Openers,
              k.cut,
              labelsOf?.[i] ?? (keyed !== undefined ? keyed.at(i) : columns.labels[i]!),
              columns.values[i]!,
              info,
            )
          : valueLine(columns.values[i]!);
      if (from + text.length !== kept[i]) return false;
      texts.push(text);
      at.push(from);
    }
    for (let q = 0; q < texts.length; q++) writeLatin1(texts[q]!, bytes, at[q]!);
    return true;
  }

  /** As {@link #numbersInPlace}, the changed series of a histogram family, each rendered whole. */
  #inPlace(k: Kept, f: RenderFamily, series: readonly RenderHistogramSeries[], n: number): boolean {
    const match = this.#match;
    const sink = this.#sink;
    const kept = this.#keptEndsOf(k);
    if (this.#lineEnds.length < n) this.#lineEnds = new Uint32Array(grown(n));
    sink.ends = this.#lineEnds;
    const texts: string[] = [];
    const at: number[] = [];
    try {
      let i = 0;
      while (i < n) {
        if (match[i]! >= 0) {
          i++;
          continue;
        }
        let e = i + 1;
        while (e < n && match[e]! < 0) e++;
        const start = i === 0 ? k.headerEnd : kept[i - 1]!;
        sink.out = '';
        sink.endsBase = start;
        writeHistogramSeries(
          sink,
          k.openers as HistogramOpeners,
          series,
          i,
          e,
          Infinity,
          this.#dialect,
        );
        for (let t = i; t < e; t++) if (this.#lineEnds[t] !== kept[t]) return false;
        texts.push(sink.out);
        at.push(start);
        i = e;
      }
    } finally {
      sink.ends = undefined;
      sink.out = '';
    }
    for (let q = 0; q < texts.length; q++)
      k.bytes.write(texts[q]!, at[q]!, texts[q]!.length, 'latin1');
    return true;
  }

  /** Where each kept series of `k` ends, from its lengths (valid until the next family). */
  #keptEndsOf(k: Kept): Uint32Array {
    if (this.#keptEnds.length < k.n) this.#keptEnds = new Uint32Array(grown(k.n));
    const ends = this.#keptEnds;
    const lengths = k.lengths;
    let e = k.headerEnd;
    for (let i = 0; i < k.n; i++) ends[i] = e += lengths[i]!;
    return ends;
  }

  /** Keeps the lengths of the `n` series written, ending at `ends`, in the narrowest array that holds them. */
  #keepLengths(k: Kept, ends: Uint32Array, headerEnd: number, n: number): void {
    let longest = 0;
    let e = headerEnd;
    for (let i = 0; i < n; i++) {
      if (ends[i]! - e > longest) longest = ends[i]! - e;
      e = ends[i]!;
    }
    let lengths = k.nextLengths;
    const fitting =
      longest < 256
        ? lengths instanceof Uint8Array
        : longest < 65536
          ? lengths instanceof Uint16Array
          : lengths instanceof Uint32Array;
    if (!fitting || lengths.length < n) {
      const size = sizeFor(n, k.n);
      lengths =
        longest < 256
          ? new Uint8Array(size)
          : longest < 65536
            ? new Uint16Array(size)
            : new Uint32Array(size);
    }
    e = headerEnd;
    for (let i = 0; i < n; i++) {
      lengths[i] = ends[i]! - e;
      e = ends[i]!;
    }
    k.nextLengths = k.lengths;
    k.lengths = lengths;
  }

  /**
   * A cut family's lines as served: its header, then each kept line with the cut put back (the
   * opener before it, the shared labels and `}` before its value), written into {@link #out} and
   * handed out in pieces of about `chunk` (whole lines).
   */
  *#emitCut(k: Kept, cut: Cut, chunk: number): Generator<Uint8Array, void, undefined> {
    const { head, tail } = cut;
    const need = k.length + k.n * (head.length + tail.length);
    if (this.#out.length - this.#outUsed < need) {
      const i = this.#spares.findIndex((b) => b.length >= need);
      this.#out =
        i >= 0
          ? this.#spares.splice(i, 1)[0]!
          : Buffer.allocUnsafeSlow(Math.max(slack(need), OUT_BYTES));
      this.#outs.push(this.#out);
      this.#outUsed = 0;
    }
    const out = this.#out;
    const bytes = k.bytes;
    const lengths = k.lengths;
    let p = this.#outUsed;
    let shown = p;
    p += bytes.copy(out, p, 0, k.headerEnd);
    let start = k.headerEnd;
    for (let i = 0; i < k.n; i++) {
      const end = start + lengths[i]!;
      // The value is after the line's last space (a value has none).
      const space = valueStart(bytes, start, end) - 1;
      out.set(head, p);
      p = copyBytes(bytes, start, space, out, p + head.length);
      out.set(tail, p);
      p = copyBytes(bytes, space, end, out, p + tail.length);
      start = end;
      if (p - shown >= chunk) {
        this.#outUsed = p;
        yield* this.#emit(out.subarray(shown, p), chunk);
        shown = p;
      }
    }
    this.#outUsed = p;
    if (p > shown) yield* this.#emit(out.subarray(shown, p), chunk);
  }

  /**
   * Rewrites the kept lines of cut family `k` for `cut`, a cut with a shorter suffix (the family got
   * a series without the whole kept one) or none (whole lines): what the old cut left out and the
   * new one does not is put back into each line. Into new storage: the lengths change.
   */
  #recut(k: Kept, cut: Cut | undefined): void {
    const was = k.cut!;
    const head = cut === undefined ? was.head : NO_BYTES;
    const back = was.tail.subarray(0, was.tail.length - (cut === undefined ? 0 : cut.tail.length));
    const n = k.n;
    const old = k.bytes;
    const oldEnds = this.#keptEndsOf(k);
    const bytes = Buffer.allocUnsafeSlow(k.length + n * (head.length + back.length));
    if (this.#ends.length < n) this.#ends = new Uint32Array(grown(n));
    const ends = this.#ends;
    let p = old.copy(bytes, 0, 0, k.headerEnd);
    let start = k.headerEnd;
    for (let i = 0; i < n; i++) {
      const end = oldEnds[i]!;
      const space = valueStart(old, start, end) - 1;
      bytes.set(head, p);
      p = copyBytes(old, start, space, bytes, p + head.length);
      bytes.set(back, p);
      p = copyBytes(old, space, end, bytes, p + back.length);
      ends[i] = p;
      start = end;
    }
    k.bytes = bytes;
    k.next = NO_BYTES;
    k.length = p;
    k.cut = cut;
    this.#keepLengths(k, ends, k.headerEnd, n);
  }

  /** The kept bytes of a family, cut after series into pieces of about `chunk`. */
  *#emitKept(k: Kept, chunk: number): Generator<Piece | Uint8Array, void, undefined> {
    const lengths = k.lengths;
    let from = 0;
    let to = k.headerEnd;
    let i = 0;
    while (from < k.length) {
      to += lengths[i]!;
      while (i < k.n - 1 && to - from < chunk) to += lengths[++i]!;
      i++;
      yield* this.#emit(k.bytes.subarray(from, to), chunk);
      from = to;
    }
  }

  /**
   * A piece of bytes out: a large one as it is, a small one gathered with the next ones (a piece
   * per small family would make a body of many small writes).
   */
  *#emit(bytes: Uint8Array, chunk: number): Generator<Uint8Array, void, undefined> {
    if (this.#gathered > 0 && this.#gathered + bytes.length > chunk) {
      yield this.#gather.subarray(0, this.#gathered);
      this.#gathered = 0;
    }
    if (bytes.length >= chunk / 4) {
      if (this.#gathered > 0) {
        yield this.#gather.subarray(0, this.#gathered);
        this.#gathered = 0;
      }
      yield bytes;
      return;
    }
    this.#gather = room(this.#gather, this.#gathered, bytes.length);
    this.#gather.set(bytes, this.#gathered);
    this.#gathered += bytes.length;
  }

  /** A text piece out (a family rendered plainly, the end): a small one gathered, as bytes. */
  *#emitText(piece: Piece, chunk: number): Generator<Piece | Uint8Array, void, undefined> {
    const size = piece.ascii ? piece.text.length : Buffer.byteLength(piece.text, 'utf8');
    if (size >= chunk / 4 || this.#gathered + size > chunk) {
      if (this.#gathered > 0) {
        yield this.#gather.subarray(0, this.#gathered);
        this.#gathered = 0;
      }
      if (size >= chunk / 4) {
        yield piece;
        return;
      }
    }
    this.#gather = room(this.#gather, this.#gathered, size);
    this.#gathered += this.#gather.write(
      piece.text,
      this.#gathered,
      size,
      piece.ascii ? 'latin1' : 'utf8',
    );
  }

  #matchOf(n: number): Int32Array {
    if (this.#match.length < n) this.#match = new Int32Array(grown(n));
    return this.#match;
  }
}

function fresh(f: RenderFamily, openers: Openers | HistogramOpeners): Kept {
  return {
    round: 0,
    type: f.type,
    openers,
    header: '',
    help: '',
    unit: '',
    bytes: NO_BYTES,
    next: NO_BYTES,
    spare: undefined,
    length: 0,
    headerEnd: 0,
    n: 0,
    lengths: NO_LENGTHS,
    nextLengths: NO_LENGTHS,
    keys: [],
    maker: undefined,
    values: NO_VALUES,
    nextValues: NO_VALUES,
    series: [],
    retryInPlace: 0,
    cut: undefined,
  };
}

/**
 * A kept line of a number series: its whole line (`cut` undefined), else its label string without
 * the cut's suffix, then ` value\n` (see {@link Cut}).
 */
function keptLine(
  openers: Openers,
  cut: Cut | undefined,
  labels: string,
  value: number,
  info: boolean,
): string {
  if (cut === undefined) return sampleLine(openers, labels, value, info);
  return labels.slice(0, labels.length - cut.suffix.length) + ' ' + valueLine(info ? 1 : value);
}

/**
 * The longest end starting with a comma that `kept` (when given) and every label string of
 * `labels` given share, or '' when none: a family's {@link Cut} suffix.
 */
function sharedSuffix(
  labels: readonly (string | undefined)[],
  n: number,
  kept: string | undefined,
): string {
  let s = kept;
  for (let i = 0; i < n; i++) {
    const l = labels[i];
    if (l === undefined) continue;
    if (s === undefined) s = l;
    else if (!l.endsWith(s)) {
      let a = s.length;
      let b = l.length;
      while (a > 0 && b > 0 && s.charCodeAt(a - 1) === l.charCodeAt(b - 1)) {
        a--;
        b--;
      }
      s = s.slice(a);
      if (s === '') return '';
    }
  }
  const comma = s === undefined ? -1 : s.indexOf(',');
  return comma < 0 ? '' : s!.slice(comma);
}

/** The cut of a family whose label strings all end with `suffix` (see {@link Cut}). */
function cutOf(openers: Openers, suffix: string): Cut {
  return {
    suffix,
    head: Buffer.from(openers.open, 'latin1'),
    tail: Buffer.from(suffix + '}', 'latin1'),
  };
}

/** Position of each of the first `n` keys (the last one wins; equal keys render equal lines). */
function indexOf<T>(keys: readonly T[], n: number): Map<T, number> {
  const index = new Map<T, number>();
  for (let i = 0; i < n; i++) index.set(keys[i]!, i);
  return index;
}

/** A family's arrays for `n` series: their size the first time (most families do not grow), room to grow after. */
function sizeFor(n: number, kept: number): number {
  return kept === 0 ? n : grown(n);
}

/** Double precision storage of `size` with the first `used` values of `values`. */
function widened(values: Values, used: number, size: number): Float64Array {
  const wide = new Float64Array(size);
  for (let i = 0; i < used; i++) wide[i] = values[i]!;
  return wide;
}

/** A capacity for `n` items with room to grow. */
function grown(n: number): number {
  return Math.ceil(n * 1.25) + 16;
}

/**
 * Whether `buf` has room for `bytes` and is not much larger (else new storage with room to grow is
 * made: a family's bytes drift from one scrape to the next, and new storage at every drift would be
 * that much external memory per scrape, which makes V8 start a mark-compact).
 */
function fits(buf: Buffer, bytes: number): boolean {
  return buf.length >= bytes && buf.length <= 2 * bytes + 65536;
}

/** The storage made for `bytes` of a family when the spare does not {@link fits fit}. */
function slack(bytes: number): number {
  return Math.ceil(bytes * 1.125) + 256;
}

/** Where the value of the line `bytes[start..end)` starts: after its last space (a value has none). */
function valueStart(bytes: Buffer, start: number, end: number): number {
  let q = end - 2;
  while (q > start && bytes[q] !== 0x20) q--;
  return q + 1;
}

/** `from[start..end)` copied to `to` at `at` (a line's head: a loop beats a native call this short); where it ends. */
function copyBytes(from: Buffer, start: number, end: number, to: Buffer, at: number): number {
  for (let q = start; q < end; q++) to[at++] = from[q]!;
  return at;
}

/** An ASCII string written to `to` at `at` (a value: a few characters); where it ends. */
function writeLatin1(s: string, to: Buffer, at: number): number {
  for (let q = 0; q < s.length; q++) to[at++] = s.charCodeAt(q);
  return at;
}

/** The first `used` bytes of `buf` in storage of their size. */
function trimmed(buf: Buffer, used: number): Buffer {
  const exact = Buffer.allocUnsafeSlow(used);
  buf.copy(exact, 0, 0, used);
  return exact;
}

/** `buf` with room for `need` more bytes after `used`: larger storage, the used bytes moved, when short. */
function room(buf: Buffer, used: number, need: number): Buffer {
  if (used + need <= buf.length) return buf;
  const larger = Buffer.allocUnsafeSlow(
    Math.max(Math.ceil((used + need) * 1.25), buf.length * 2, 1024),
  );
  buf.copy(larger, 0, 0, used);
  return larger;
}
