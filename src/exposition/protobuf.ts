/**
 * The Prometheus protobuf exposition: `application/vnd.google.protobuf;
 * proto=io.prometheus.client.MetricFamily; encoding=delimited` — client_model's `MetricFamily`
 * messages (io/prometheus/client/metrics.proto), each prefixed by its varint length, as
 * client_golang's expfmt writes them. Prometheus 3 asks for it first when it scrapes native
 * histograms.
 *
 * The same families as the text renderers, type for type: a counter is a COUNTER whatever its name
 * (protobuf carries no suffix rules, so the stored name is the family's, as in text 0.0.4); `info`
 * is a GAUGE, as text 0.0.4 writes it; `unknown` is UNTYPED. A histogram's buckets are cumulative
 * and omit `+Inf`, which Prometheus takes from `sample_count` (as client_golang writes them). A
 * series with native buckets (`HistogramSeries.native`) carries them too, beside its classic
 * buckets, as client_golang writes a histogram that has both: a Prometheus that scrapes native
 * histograms stores the native one, any other the classic buckets. A counter or histogram series
 * with a start time (`created`) carries it as `created_timestamp`.
 *
 * The fields written are a subset of metrics.proto (proto2: every field written is present, a 0
 * or COUNTER included, as client_golang writes them; repeated scalars unpacked, as proto2 has
 * them), encoded by hand into reused buffers: label strings are parsed straight into bytes, no
 * object is made per series. The tests decode the output with the official file.
 */
import { parseLabelPairs } from './escape.ts';
import { spansOf } from './native-spans.ts';
import { isAscii, numberColumns } from './samples.ts';
import type { NumberColumns, RenderFamily } from './render-model.ts';
import type { ExpositionExemplar, HistogramSeries, NativeBuckets } from './types.ts';

/** Series encoded between two chances for the caller to give the event loop back. */
export const SERIES_PER_PIECE = 1000;

const TYPE = { counter: 0, gauge: 1, info: 1, unknown: 3, histogram: 4 } as const;
/** The Metric field holding a number family's value message: gauge 2, counter 3, untyped 5. */
const VALUE_FIELD = { counter: 3, gauge: 2, info: 2, unknown: 5 } as const;

/** Wire types. */
const VARINT = 0;
const I64 = 1;
const LEN = 2;
const tag = (field: number, wire: number): number => (field << 3) | wire;

const CHUNK = 1 << 16;
/** Free buffers a writer keeps between families. */
const MAX_SPARE = 32;
const F64 = new Float64Array(1);
/** F64's bytes, little-endian as protobuf wants them (every platform Node 24 runs on is). */
const F64_BYTES = new Uint8Array(F64.buffer);

/**
 * Bytes in the making: the pieces taken so far and the buffer being written, whose written part
 * becomes a piece at {@link take} and whose rest serves the next piece; each family starts again
 * in the buffers of the one before ({@link recycle}). A message is written in
 * place with one byte left for its length, moved up when the length needs more (a message of 128
 * bytes or more), so nothing is measured twice.
 */
class Out {
  done: Buffer[] = [];
  size = 0;
  buf: Buffer = Buffer.alloc(0);
  pos = 0;
  /** The buffers written since the last {@link recycle}, and those free to write again. */
  owned: Buffer[] = [];
  spare: Buffer[] = [];

  /** Room for `n` more bytes in the current buffer. */
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    this.flush();
    let next = this.spare.pop();
    if (next === undefined || next.length < n) next = Buffer.allocUnsafeSlow(Math.max(CHUNK, n));
    this.owned.push(next);
    this.buf = next;
  }

  /**
   * Every piece handed out so far has been consumed, so the buffers behind them are written again
   * from the start.
   */
  recycle(): void {
    this.flush();
    this.done = [];
    this.size = 0;
    const spare = this.spare;
    for (const b of this.owned) spare.push(b);
    this.owned = [];
    // A family larger than the rest leaves more buffers than a scrape needs again: keep a few.
    if (spare.length > MAX_SPARE) spare.length = MAX_SPARE;
    this.buf = spare.pop() ?? Buffer.allocUnsafeSlow(CHUNK);
    this.owned.push(this.buf);
    this.pos = 0;
  }

  flush(): void {
    if (this.pos > 0) {
      this.done.push(this.buf.subarray(0, this.pos));
      this.size += this.pos;
      this.buf = this.buf.subarray(this.pos);
      this.pos = 0;
    }
  }

  /** The pieces written since the last take, and their size. */
  take(): { pieces: Buffer[]; size: number } {
    this.flush();
    const taken = { pieces: this.done, size: this.size };
    this.done = [];
    this.size = 0;
    return taken;
  }

  varint(v: number): void {
    const buf = this.buf;
    let pos = this.pos;
    while (v >= 128) {
      buf[pos++] = (v % 128) | 128;
      v = Math.floor(v / 128);
    }
    buf[pos++] = v;
    this.pos = pos;
  }

  /** A sint32/sint64 (zigzag). */
  svarint(v: number): void {
    this.varint(v >= 0 ? 2 * v : -2 * v - 1);
  }

  double(field: number, v: number): void {
    const buf = this.buf;
    let pos = this.pos;
    buf[pos++] = tag(field, I64);
    // Buffer#writeDoubleLE checks its arguments on every call; the bounds are ensured already.
    F64[0] = v;
    for (let k = 0; k < 8; k++) buf[pos++] = F64_BYTES[k]!;
    this.pos = pos;
  }

  /** Opens a length-delimited field; {@link end} closes it. Returns where its length byte is. */
  begin(field: number): number {
    this.buf[this.pos] = tag(field, LEN);
    this.pos += 2;
    return this.pos - 1;
  }

  end(at: number): void {
    const len = this.pos - at - 1;
    if (len < 128) {
      this.buf[at] = len;
      return;
    }
    const extra = varintSize(len) - 1;
    this.buf.copyWithin(at + 1 + extra, at + 1, this.pos);
    this.pos = at;
    this.varint(len);
    this.pos += len;
  }

  /** A string field (UTF-8); the caller has ensured room for it. */
  string(field: number, s: string): void {
    const n = Buffer.byteLength(s);
    this.buf[this.pos++] = tag(field, LEN);
    this.varint(n);
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }
}

function varintSize(v: number): number {
  let n = 1;
  while (v >= 128) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

/**
 * The `label` fields of a Metric from a label string (`a="x",b="y"`, escaped as the exposition
 * model says). ASCII strings without escapes, nearly all of them, are copied char by char; others
 * go through {@link parseLabelPairs}.
 */
function writeLabels(out: Out, labels: string, ascii: boolean): void {
  const n = labels.length;
  if (n === 0) return;
  if (!ascii) {
    for (const [name, value] of parseLabelPairs(labels)) {
      const at = out.begin(1);
      out.string(1, name);
      out.string(2, value);
      out.end(at);
    }
    return;
  }
  // One pass, char by char (no indexOf or substring: runtime calls cost more than these short
  // strings), the lengths filled in behind. Anything unusual goes the general way instead.
  const buf = out.buf;
  const start = out.pos;
  let pos = start;
  let i = 0;
  while (i < n) {
    const pairAt = pos;
    pos += 4;
    let c = labels.charCodeAt(i);
    if (c === 34 /* " */) {
      // A quoted (UTF-8) label name.
      out.pos = start;
      return writeLabels(out, labels, false);
    }
    while (c !== 61 /* = */ && i < n) {
      buf[pos++] = c;
      c = labels.charCodeAt(++i);
    }
    const nameLen = pos - pairAt - 4;
    i += 2; // past `="`
    buf[pos] = tag(2, LEN);
    const valueAt = pos + 1;
    pos += 2;
    c = labels.charCodeAt(i);
    while (c !== 34 /* " */ && c !== 92 /* \ */ && i < n) {
      buf[pos++] = c;
      c = labels.charCodeAt(++i);
    }
    const valueLen = pos - valueAt - 1;
    if (c !== 34 || nameLen + valueLen > 123) {
      // An escape, a long pair (its lengths would take more than a byte), or malformed (a bug
      // upstream, which the general path reports).
      out.pos = start;
      return writeLabels(out, labels, false);
    }
    buf[pairAt] = tag(1, LEN);
    buf[pairAt + 1] = 4 + nameLen + valueLen;
    buf[pairAt + 2] = tag(1, LEN);
    buf[pairAt + 3] = nameLen;
    buf[valueAt] = valueLen;
    i += 2; // past `",`
  }
  out.pos = pos;
}

/**
 * Most bytes the label fields of a label string can take: UTF-8 is at most 3 bytes a UTF-16 unit,
 * and a pair (at least 4 characters, `a=""`) adds at most 3 tags and 3 lengths of 3 bytes.
 */
function labelsBound(labels: string): number {
  return 6 * labels.length + 32;
}

/** Most bytes an exemplar message takes. */
function exemplarBound(e: ExpositionExemplar): number {
  return labelsBound(e.labels) + 48;
}

/** An `Exemplar` (labels, value, timestamp) as field `field` of the message being written. */
function writeExemplar(out: Out, field: number, e: ExpositionExemplar): void {
  const at = out.begin(field);
  writeLabels(out, e.labels, isAscii(e.labels));
  out.double(2, e.value);
  // Exemplar times are whole milliseconds (Date.now()).
  writeTimestamp(out, 3, Math.round(e.timestamp * 1000));
  out.end(at);
}

/**
 * A counter, gauge or untyped metric. Counters only: `exemplar` goes in as the Counter's
 * `exemplar`, `created` (Unix ms) as its `created_timestamp`.
 */
function writeNumberMetric(
  out: Out,
  field: number,
  labels: string,
  ascii: boolean,
  value: number,
  exemplar?: ExpositionExemplar,
  created?: number,
): void {
  out.ensure(labelsBound(labels) + 64 + (exemplar === undefined ? 0 : exemplarBound(exemplar)));
  const at = out.begin(4);
  writeLabels(out, labels, ascii);
  const v = out.begin(field);
  out.double(1, value);
  if (exemplar !== undefined) writeExemplar(out, 2, exemplar);
  if (created !== undefined) writeTimestamp(out, 3, created);
  out.end(v);
  out.end(at);
}

/** A `google.protobuf.Timestamp` field (seconds, nanos) from Unix milliseconds. */
function writeTimestamp(out: Out, field: number, ms: number): void {
  const seconds = Math.floor(ms / 1000);
  const nanos = Math.min(999_999_999, Math.round((ms - seconds * 1000) * 1e6));
  const at = out.begin(field);
  out.buf[out.pos++] = tag(1, VARINT);
  out.varint(seconds);
  out.buf[out.pos++] = tag(2, VARINT);
  out.varint(nanos);
  out.end(at);
}

function writeHistogramMetric(out: Out, s: HistogramSeries, ascii: boolean): void {
  const native = s.native;
  const nativeBuckets =
    native === undefined ? 0 : native.positiveCounts.length + native.negativeCounts.length;
  const exemplars = s.exemplars;
  let exemplarBytes = 0;
  if (exemplars !== undefined)
    for (const e of exemplars) if (e !== undefined) exemplarBytes += exemplarBound(e) + 32;
  // Fixed fields (count, sum, created, schema, zero bucket, a no-op span) and their lengths fit in 160.
  out.ensure(
    labelsBound(s.labels) + 160 + 32 * s.bounds.length + 32 * nativeBuckets + exemplarBytes,
  );
  const at = out.begin(4);
  writeLabels(out, s.labels, ascii);
  const h = out.begin(7);
  out.buf[out.pos++] = tag(1, VARINT);
  out.varint(s.count);
  out.double(2, s.sum);
  let cumulative = 0;
  const bounds = s.bounds;
  const counts = s.counts;
  for (let b = 0; b < bounds.length; b++) {
    cumulative += counts[b]!;
    const bucket = out.begin(3);
    out.buf[out.pos++] = tag(1, VARINT);
    out.varint(cumulative);
    out.double(2, bounds[b]!);
    const e = exemplars?.[b];
    if (e !== undefined) writeExemplar(out, 3, e);
    out.end(bucket);
  }
  // The +Inf bucket is implied by sample_count, unless it has an exemplar to carry (as client_golang writes it).
  const inf = exemplars?.[bounds.length];
  if (inf !== undefined) {
    const bucket = out.begin(3);
    out.buf[out.pos++] = tag(1, VARINT);
    out.varint(s.count);
    out.double(2, Infinity);
    writeExemplar(out, 3, inf);
    out.end(bucket);
  }
  if (s.created !== undefined) writeTimestamp(out, 15, s.created);
  if (native !== undefined) writeNative(out, native);
  out.end(h);
  out.end(at);
}

/** Histogram fields 5–13: schema, zero bucket, spans and delta-encoded counts. */
function writeNative(out: Out, n: NativeBuckets): void {
  out.buf[out.pos++] = tag(5, VARINT);
  out.svarint(n.schema);
  out.double(6, n.zeroThreshold);
  out.buf[out.pos++] = tag(7, VARINT);
  out.varint(n.zeroCount);
  const spans =
    writeBuckets(out, 9, 10, n.negativeOffset, n.negativeCounts) +
    writeBuckets(out, 12, 13, n.positiveOffset, n.positiveCounts);
  // A native histogram with no bucket yet is told from a classic one by a no-op span.
  if (spans === 0) {
    const span = out.begin(12);
    out.buf[out.pos++] = tag(1, VARINT);
    out.buf[out.pos++] = 0;
    out.buf[out.pos++] = tag(2, VARINT);
    out.buf[out.pos++] = 0;
    out.end(span);
  }
}

/** One side's `*_span` fields (an offset is the gap after the previous span) and `*_delta` fields (each count less the one before); returns how many spans. */
function writeBuckets(
  out: Out,
  spanField: number,
  deltaField: number,
  offset: number,
  counts: readonly number[],
): number {
  const spans = spansOf(counts);
  let last = 0;
  spans.forEach(([first, end], i) => {
    const span = out.begin(spanField);
    out.buf[out.pos++] = tag(1, VARINT);
    out.svarint(i === 0 ? offset + first : first - last - 1);
    out.buf[out.pos++] = tag(2, VARINT);
    out.varint(end - first + 1);
    out.end(span);
    last = end;
  });
  let prev = 0;
  for (const [first, end] of spans) {
    for (let j = first; j <= end; j++) {
      out.buf[out.pos++] = tag(deltaField, VARINT);
      out.svarint(counts[j]! - prev);
      prev = counts[j]!;
    }
  }
  return spans.length;
}

/**
 * Writers outlive an exposition: a renderer that finished gives its writer back for the next one
 * (which writes again in its buffers). Fresh writers
 * per scrape made V8 drop the encoder's optimised code at each GC ("embedded weak objects
 * cleared"), so most scrapes ran unoptimised. A writer never given back (an abandoned scrape) is
 * merely collected.
 */
const idle: Out[] = [];
const MAX_IDLE = 4;

/**
 * One family as a length-delimited `MetricFamily`, in pieces: its series are encoded
 * {@link SERIES_PER_PIECE} at a time, with an empty Buffer after each batch as a point where the
 * caller may yield; the length prefix and the family's own fields come once the size is known.
 * Protobuf takes fields in any order, so `metric` after `unit` is as valid as before it.
 */
function* pieces(family: RenderFamily, out: Out): Generator<Buffer, void, undefined> {
  const columns: NumberColumns | undefined =
    family.type === 'histogram' ? undefined : numberColumns(family);
  const n = columns === undefined ? family.series.length : columns.labels.length;
  const asciiFamily = family.ascii === true;
  for (let from = 0; from < n; from += SERIES_PER_PIECE) {
    const to = Math.min(n, from + SERIES_PER_PIECE);
    if (family.type === 'histogram') {
      const series = family.series;
      for (let i = from; i < to; i++) {
        const s = series[i]!;
        writeHistogramMetric(out, s, asciiFamily || isAscii(s.labels));
      }
    } else {
      const field = VALUE_FIELD[family.type];
      const labels = columns!.labels;
      const values = columns!.values;
      const exemplars = family.type === 'counter' ? columns!.exemplars : undefined;
      const created = family.type === 'counter' ? columns!.created : undefined;
      // An info sample is always 1, as the text renderers write it.
      const info = family.type === 'info';
      for (let i = from; i < to; i++) {
        const l = labels[i]!;
        writeNumberMetric(
          out,
          field,
          l,
          asciiFamily || isAscii(l),
          info ? 1 : values[i]!,
          exemplars?.[i],
          created?.[i],
        );
      }
    }
    yield EMPTY;
  }
  const body = out.take();
  out.ensure(3 * (family.name.length + family.help.length + family.unit.length) + 64);
  out.string(1, family.name);
  out.string(2, family.help);
  out.buf[out.pos++] = tag(3, VARINT);
  out.varint(TYPE[family.type]);
  if (family.unit !== '') out.string(5, family.unit);
  const head = out.take();
  out.ensure(10);
  out.varint(head.size + body.size);
  yield* out.take().pieces;
  yield* head.pieces;
  yield* body.pieces;
}

const EMPTY = Buffer.alloc(0);

/**
 * The exposition: each family's pieces (empty ones mark where a caller may yield). Families with no
 * series are left out, as in text. The pieces are transient: the caller copies each before asking
 * for the next (as a response body's storage does), for they are written in buffers reused from
 * one family to the next and from one exposition to the next.
 */
export function* protobufBuffers(
  families: readonly RenderFamily[],
): Generator<Buffer, void, undefined> {
  const out = idle.pop() ?? new Out();
  try {
    for (const family of families) {
      if (
        (family.type === 'histogram'
          ? family.series.length
          : numberColumns(family).labels.length) === 0
      )
        continue;
      out.recycle();
      yield* pieces(family, out);
    }
  } finally {
    out.take();
    if (idle.length < MAX_IDLE) idle.push(out);
  }
}
