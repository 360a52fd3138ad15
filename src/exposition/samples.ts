/**
 * The hot loops shared by both renderers (internal, not exported from the package).
 *
 * Everything per family (sample-name prefixes) is computed once per call; per series the loops
 * only concatenate strings (V8 builds ropes, no copying) and format numbers. Walking the rope is
 * most of what flattening or encoding it costs later, so lines are made of as few strings as
 * possible: a value and its newline are one string (small integers from a table), a histogram
 * series' bucket-line head comes ready-made with the series (render-model.ts `prefix`, kept by the
 * naming stage across scrapes). Each loop stops after the first series that takes the output to
 * `limit` characters, so a caller can cut the exposition into chunks at series boundaries;
 * `limit = Infinity` renders everything.
 */
import type {
  NumberColumns,
  RenderFamily,
  RenderHistogramFamily,
  RenderHistogramSeries,
  RenderNumberFamily,
} from './render-model.ts';
import type { ExpositionExemplar, NumberSeries } from './types.ts';
import type { LeLayout } from './numbers.ts';
import { formatSampleValue } from './numbers.ts';
import { escapeLabelValue, isClassicMetricName } from './escape.ts';

/**
 * How a sample line of metric `name` opens, with labels (`open`, then the labels and `} `) and
 * without (`bare`): `name{` / `name ` for a classic name; `{"name",` / `{"name"} ` for a UTF-8 one,
 * the syntax of text 1.0.0 and OpenMetrics with `escaping=allow-utf-8` (only then are such names
 * served: exposition/escape-names.ts escapes them for any other scraper).
 */
export function sampleOpeners(name: string): Openers {
  if (isClassicMetricName(name)) return { open: name + '{', bare: name + ' ' };
  const q = '{"' + escapeLabelValue(name) + '"';
  return { open: q + ',', bare: q + '} ' };
}

/** A metric name in a `# TYPE`/`# HELP`/`# UNIT` line: quoted when not classic. */
export function metadataName(name: string): string {
  return isClassicMetricName(name) ? name : '"' + escapeLabelValue(name) + '"';
}

/** The output being built; loops read it once and write it back once. */
export interface Sink {
  out: string;
  /**
   * When given, where each series written ends: `ends[i] = endsBase + out.length` once series `i`
   * is written (render-memo.ts keeps them; its output is ASCII, so characters are bytes).
   */
  ends?: Uint32Array;
  endsBase?: number;
}

/** How the sample lines of a metric open: with labels, and without (see {@link sampleOpeners}). */
export interface Openers {
  readonly open: string;
  readonly bare: string;
}

/** A piece of an exposition, and whether it is all ASCII (then Latin-1 encodes it byte for byte). */
export interface Piece {
  readonly text: string;
  readonly ascii: boolean;
}

const NON_ASCII = /[^\x00-\x7f]/;

/** Whether `s` is all ASCII (U+0000-U+007F). */
export function isAscii(s: string): boolean {
  return !NON_ASCII.test(s);
}

/** `i + '\n'` and `'} ' + i + '\n'` for the integers below 1024, one string each (counts are often small). */
const SMALL_LINES: readonly string[] = Array.from({ length: 1024 }, (_, i) => i + '\n');
const SMALL_CLOSED_LINES: readonly string[] = Array.from(
  { length: 1024 },
  (_, i) => '} ' + i + '\n',
);
const ONE_LINE = '1\n';

function isSmall(v: number): boolean {
  return v >= 0 && v < 1024 && (v | 0) === v;
}

/**
 * A sample value and its newline. One string (leaf of the rope) instead of two, and for small
 * integers no string built at all: a line is then two or three rope nodes, and walking the rope is
 * most of what flattening or encoding it costs.
 */
export function valueLine(v: number): string {
  return isSmall(v) ? SMALL_LINES[v]! : formatSampleValue(v) + '\n';
}

/** `'} ' + value + '\n'`: the end of a labelled line, as one string. */
function closedValueLine(v: number): string {
  return isSmall(v) ? SMALL_CLOSED_LINES[v]! : '} ' + formatSampleValue(v) + '\n';
}

/** One number series' line: name, labels, value and newline (the value 1 when `constantOne`: an info sample). */
export function sampleLine(
  openers: Openers,
  labels: string,
  value: number,
  constantOne: boolean,
): string {
  return labels === ''
    ? openers.bare + (constantOne ? ONE_LINE : valueLine(value))
    : openers.open + labels + closedValueLine(constantOne ? 1 : value);
}

/** The columns of a number family: its own, or made from its series (hand-made families). */
export function numberColumns(f: RenderNumberFamily): NumberColumns {
  if (f.columns !== undefined) return f.columns;
  const n = f.series.length;
  const labels = new Array<string>(n);
  const values = new Array<number>(n);
  let exemplars: (ExpositionExemplar | undefined)[] | undefined;
  for (let i = 0; i < n; i++) {
    const s = f.series[i]!;
    labels[i] = s.labels;
    values[i] = s.value;
    if (s.exemplar !== undefined)
      (exemplars ??= new Array<ExpositionExemplar | undefined>(n))[i] = s.exemplar;
  }
  return exemplars === undefined ? { labels, values } : { labels, values, exemplars };
}

/** The series of `f`: its columns' when it has them (its `series` is then made only when read). */
export function seriesCount(f: RenderFamily): number {
  return f.type === 'histogram' ? f.series.length : (f.columns?.values.length ?? f.series.length);
}

/**
 * `family` with its `series` made from its columns on first read (the inverse of
 * {@link numberColumns}), by one getter shared by every such family: a getter written in an
 * object literal is a new closure per object, and the literal's hidden class kept the first one
 * (and the first family's columns) for a few collections after its scrape.
 */
export function columnsFamily(
  family: Omit<RenderNumberFamily, 'series'> & { readonly columns: NumberColumns },
): RenderNumberFamily {
  rowSources.set(family, { columns: family.columns, rows: undefined });
  return Object.defineProperty(family, 'series', {
    get: familySeries,
    enumerable: true,
  }) as RenderNumberFamily;
}

const rowSources = new WeakMap<
  object,
  { readonly columns: NumberColumns; rows: NumberSeries[] | undefined }
>();

function familySeries(this: object): NumberSeries[] {
  const source = rowSources.get(this)!;
  const { labels, values, created, exemplars } = source.columns;
  return (source.rows ??= labels.map((l, i) => {
    const exemplar = exemplars?.[i];
    return {
      labels: l,
      value: values[i]!,
      ...(created !== undefined && { created: created[i]! }),
      ...(exemplar !== undefined && { exemplar }),
    };
  }));
}

/** ` # {labels} value timestamp`: an exemplar after its sample's value (OpenMetrics 1.0 and 2.0). */
export function exemplarText(e: ExpositionExemplar): string {
  return (
    ' # {' + e.labels + '} ' + formatSampleValue(e.value) + ' ' + formatSampleValue(e.timestamp)
  );
}

/**
 * Writes `name{labels} value` lines for series `from..to` of `columns` (the value 1 when
 * `constantOne`: info samples), the metric's {@link sampleOpeners} made by the caller (once per
 * family); returns the index of the first series not written. Records each series' end in
 * `sink.ends` when given.
 */
export function writeNumberLines(
  sink: Sink,
  openers: Openers,
  columns: NumberColumns,
  from: number,
  to: number,
  limit: number,
  constantOne: boolean,
): number {
  const labelsOf = columns.labels;
  const values = columns.values;
  const ends = sink.ends;
  const base = sink.endsBase ?? 0;
  let out = sink.out;
  let i = from;
  while (i < to) {
    out += sampleLine(openers, labelsOf[i]!, values[i]!, constantOne);
    if (ends !== undefined) ends[i] = base + out.length;
    i++;
    if (out.length >= limit) break;
  }
  sink.out = out;
  return i;
}

/** `name{labels} ` or `name ` (a quoted name inside the braces when not classic). */
export function lineHead(openers: Openers, labels: string): string {
  return labels === '' ? openers.bare : openers.open + labels + '} ';
}

/**
 * {@link writeNumberLines} with each series' exemplar after its value, and its start time
 * (`columns.created`) as a line of its own after it (OpenMetrics 1.0: `created` the openers of
 * `<family>_created`) or inline as ` st@<seconds>` before the exemplar (OpenMetrics 2.0:
 * `'inline'`). Counters only, kept out of the hot loop.
 */
export function writeNumberExtras(
  sink: Sink,
  openers: Openers,
  columns: NumberColumns,
  from: number,
  limit: number,
  exemplars: readonly (ExpositionExemplar | undefined)[] | undefined,
  created: Openers | 'inline' | undefined,
): number {
  const n = columns.labels.length;
  const starts = created === undefined ? undefined : columns.created;
  let out = sink.out;
  let i = from;
  while (i < n) {
    const labels = columns.labels[i]!;
    const e = exemplars?.[i];
    const start = starts?.[i];
    out +=
      lineHead(openers, labels) +
      formatSampleValue(columns.values[i]!) +
      (start !== undefined && created === 'inline' ? ' st@' + secondsText(start) : '') +
      (e === undefined ? '' : exemplarText(e)) +
      '\n';
    if (start !== undefined && typeof created === 'object')
      out += lineHead(created, labels) + createdLine(start);
    i++;
    if (out.length >= limit) break;
  }
  sink.out = out;
  return i;
}

/** A start time (Unix ms) as an OpenMetrics `_created` value: seconds, and its newline. */
function createdLine(ms: number): string {
  return secondsText(ms) + '\n';
}

/** Unix milliseconds as OpenMetrics seconds: `1732530000.123` (JS writes these without an exponent). */
export function secondsText(ms: number): string {
  return formatSampleValue(ms / 1000);
}

/** How the lines of a histogram family open, made once per family. */
export interface HistogramOpeners {
  readonly bucket: Openers;
  readonly sum: Openers;
  readonly count: Openers;
  readonly created: Openers;
}

/** The {@link sampleOpeners} of a histogram family's `_bucket`, `_sum`, `_count` and `_created` lines. */
export function histogramOpeners(name: string): HistogramOpeners {
  return {
    bucket: sampleOpeners(name + '_bucket'),
    sum: sampleOpeners(name + '_sum'),
    count: sampleOpeners(name + '_count'),
    created: sampleOpeners(name + '_created'),
  };
}

/**
 * Writes the `_bucket` (cumulative, ascending `le`, `+Inf` = `count`), `_sum` and `_count` lines of
 * each series of `series[from..to]`, series by series, as `dialect` writes them; returns the index
 * of the first series not written. Records each series' end in `sink.ends` when given.
 */
export function writeHistogramSeries(
  sink: Sink,
  openers: HistogramOpeners,
  series: readonly RenderHistogramSeries[],
  from: number,
  to: number,
  limit: number,
  dialect: Dialect,
): number {
  const layoutOf = dialect.layoutOf;
  const openMetrics = dialect.openMetrics === true;
  const { open: createdOpen, bare: createdBare } = openers.created;
  const bucketOpen = openers.bucket.open;
  const bucketBare = bucketOpen + 'le="';
  const { open: sumOpen, bare: sumBare } = openers.sum;
  const { open: countOpen, bare: countBare } = openers.count;
  const ends = sink.ends;
  const base = sink.endsBase ?? 0;
  let out = sink.out;
  let lastBounds: readonly number[] | null = null;
  let suffixes: readonly string[] = [];
  let order: readonly number[] | null = null;
  let negative = false;
  let i = from;
  while (i < to) {
    const s = series[i++]!;
    if (s.bounds !== lastBounds) {
      // Series of one family normally share one bounds array: one cache lookup per family.
      lastBounds = s.bounds;
      const layout = layoutOf(lastBounds);
      suffixes = layout.suffixes;
      order = layout.order;
      // A bucket line is negative for a finite bound below 0 (bounds may come unsorted; +/-Inf and NaN write none).
      negative = openMetrics && lastBounds.some((b) => b < 0 && b > -Infinity);
    }
    const labels = s.labels;
    const head = s.prefix ?? (labels === '' ? bucketBare : bucketOpen + labels + ',le="');
    const counts = s.counts;
    const nb = suffixes.length;
    let cumulative = 0;
    // Cumulative counts repeat (empty buckets): the line of the previous bucket is reused.
    let line = SMALL_LINES[0]!;
    let lineOf = 0;
    const exemplars = openMetrics ? s.exemplars : undefined;
    if (exemplars !== undefined) {
      // A bucket line with its exemplar: rare, written plainly.
      for (let k = 0; k < nb; k++) {
        const at = order === null ? k : order[k]!;
        cumulative += counts[at]!;
        const e = exemplars[at];
        if (suffixes[k] !== '')
          out +=
            head +
            suffixes[k] +
            (e === undefined
              ? valueLine(cumulative)
              : formatSampleValue(cumulative) + exemplarText(e) + '\n');
      }
    } else if (order === null) {
      for (let k = 0; k < nb; k++) {
        cumulative += counts[k]!;
        if (cumulative !== lineOf) line = valueLine((lineOf = cumulative));
        out += head + suffixes[k] + line;
      }
    } else {
      for (let k = 0; k < nb; k++) {
        cumulative += counts[order[k]!]!;
        const suffix = suffixes[k];
        if (cumulative !== lineOf) line = valueLine((lineOf = cumulative));
        if (suffix !== '') out += head + suffix + line;
      }
    }
    const countLine = valueLine(s.count);
    const sumLine = valueLine(s.sum);
    const infExemplar = exemplars?.[counts.length - 1];
    out +=
      head +
      '+Inf"} ' +
      (infExemplar === undefined
        ? countLine
        : formatSampleValue(s.count) + exemplarText(infExemplar) + '\n');
    // OpenMetrics: a histogram with a negative bucket has no `_sum` (it would not be a counter), and
    // then no `_count` either (a `_count` needs a `_sum`); its `+Inf` bucket still holds the count.
    if (!negative)
      out +=
        labels === ''
          ? sumBare + sumLine + countBare + countLine
          : sumOpen + labels + '} ' + sumLine + countOpen + labels + '} ' + countLine;
    if (openMetrics && s.created !== undefined)
      out += (labels === '' ? createdBare : createdOpen + labels + '} ') + createdLine(s.created);
    if (ends !== undefined) ends[i - 1] = base + out.length;
    if (out.length >= limit) break;
  }
  sink.out = out;
  return i;
}

/** What the two formats do differently around the shared sample loops. */
export interface Dialect {
  /** A family's metadata lines (`# HELP`, `# TYPE`, ...). */
  header(f: RenderFamily): string;
  /** The cached `le` strings of a `bounds` array. */
  readonly layoutOf: (bounds: readonly number[]) => LeLayout;
  /** What ends the exposition (`# EOF\n` in OpenMetrics); `''` for nothing. */
  readonly end: string;
  /**
   * OpenMetrics 1.0's sample lines: exemplars, series' start times as `_created` samples, and no
   * `_sum` or `_count` for a histogram with a negative bucket (text 0.0.4 has none of these).
   * @default false
   */
  readonly openMetrics?: boolean;
  /**
   * How a family's series are written, made once per family (`columns` for a number family);
   * absent, the loops here: a line per sample, a histogram as `_bucket`, `_sum` and `_count`
   * lines. OpenMetrics 2.0 writes its own (a line per series, histograms as composite values).
   */
  readonly seriesWriter?: (f: RenderFamily, columns: NumberColumns | undefined) => SeriesWriter;
}

/**
 * Writes series `from..` of one family into `sink`, stopping after the first that takes the output
 * to `limit` characters; returns the index of the first series not written.
 */
export type SeriesWriter = (sink: Sink, from: number, limit: number) => number;

/** The loops of this file for one family, as the dialect writes them. */
function sharedSeriesWriter(
  f: RenderFamily,
  columns: NumberColumns | undefined,
  dialect: Dialect,
): SeriesWriter {
  if (columns === undefined) {
    const openers = histogramOpeners(f.name);
    const series = (f as RenderHistogramFamily).series;
    return (sink, from, limit) =>
      writeHistogramSeries(sink, openers, series, from, series.length, limit, dialect);
  }
  // A counter's start time is `<family>_created`; one written as `unknown` (no `_total`) has none.
  // OpenMetrics allows exemplars on counter samples only (a counter without `_total` is written as unknown).
  const counterTotal = f.type === 'counter' && f.name.endsWith('_total');
  const exemplars = dialect.openMetrics === true && counterTotal ? columns.exemplars : undefined;
  const created =
    dialect.openMetrics === true && counterTotal && columns.created !== undefined
      ? sampleOpeners(f.name.slice(0, -6) + '_created')
      : undefined;
  const openers = sampleOpeners(f.name);
  if (exemplars !== undefined || created !== undefined)
    return (sink, from, limit) =>
      writeNumberExtras(sink, openers, columns, from, limit, exemplars, created);
  const n = columns.labels.length;
  const constantOne = f.type === 'info';
  return (sink, from, limit) =>
    writeNumberLines(sink, openers, columns, from, n, limit, constantOne);
}

/**
 * Renders `families` in `dialect` as pieces of roughly `chunkBytes` characters, cut at series
 * boundaries, each with whether it is all ASCII: every family in it marked `ascii` by the naming
 * stage, and its metadata lines checked. Families with no series are left out.
 */
export function* familyPieces(
  families: readonly RenderFamily[],
  chunkBytes: number,
  dialect: Dialect,
): Generator<Piece, void, undefined> {
  checkChunkBytes(chunkBytes);
  const sink: Sink = { out: '' };
  let ascii = true;
  for (const f of families) {
    const columns = f.type === 'histogram' ? undefined : numberColumns(f);
    const n = columns === undefined ? f.series.length : columns.labels.length;
    if (n === 0) continue;
    const header = dialect.header(f);
    const write =
      dialect.seriesWriter !== undefined
        ? dialect.seriesWriter(f, columns)
        : sharedSeriesWriter(f, columns, dialect);
    sink.out += header;
    if (ascii && (f.ascii !== true || !isAscii(header))) ascii = false;
    let i = 0;
    while (i < n) {
      i = write(sink, i, chunkBytes);
      if (sink.out.length >= chunkBytes) {
        yield { text: sink.out, ascii };
        sink.out = '';
        // What the family still has to write goes into the next piece.
        ascii = i >= n || f.ascii === true;
      }
    }
  }
  if (sink.out !== '' || dialect.end !== '') yield { text: sink.out + dialect.end, ascii };
}

/**
 * Piece size used when a whole exposition is rendered into one string. Each piece is flattened
 * before the pieces are joined: a rope of a few hundred flat 64 KiB pieces flattens (when written
 * to a socket or Buffer) much faster than a rope of several nodes per line, which also stays
 * alive through young-generation GCs.
 */
const WHOLE_PIECE = 65536;

/**
 * Renders `families` in `dialect` as one string: pieces of `WHOLE_PIECE`, flattened, then joined.
 * `charCodeAt` is how the flattening is triggered: V8 flattens a rope before reading a character of
 * it (the same trick as the `flatstr` package, which uses `Number(s)`); on an engine that does
 * not, this is merely a join.
 */
export function renderWhole(families: readonly RenderFamily[], dialect: Dialect): string {
  let out = '';
  for (const { text } of familyPieces(families, WHOLE_PIECE, dialect)) {
    text.charCodeAt(0);
    out += text;
  }
  return out;
}

/** Checks a chunk size option: a positive number (Infinity allowed). */
export function checkChunkBytes(chunkBytes: number): void {
  if (typeof chunkBytes !== 'number' || !(chunkBytes > 0)) {
    throw new RangeError(`chunkBytes must be a positive number, got ${String(chunkBytes)}`);
  }
}
