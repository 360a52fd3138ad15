/**
 * The hot loops shared by both renderers (internal, not exported from the package).
 *
 * Everything per family (sample-name prefixes) is computed once per call; per series the loops
 * only concatenate pre-rendered strings (V8 builds ropes, no copying) and format numbers. Each
 * loop stops after the first series that takes the output to `limit` characters, so a caller can
 * cut the exposition into chunks at series boundaries; `limit = Infinity` renders everything.
 */
import type { HistogramSeries, NumberSeries } from './types.ts';
import type { LeLayout } from './numbers.ts';
import { formatSampleValue } from './numbers.ts';

/** The output being built; loops read it once and write it back once. */
export interface Sink {
  out: string;
}

/**
 * Writes `name{labels} value` lines for `series[from..]`; returns the index of the first series
 * not written. With `constantOne` every value is written as `1` (info samples).
 */
export function writeNumberSeries(
  sink: Sink,
  name: string,
  series: readonly NumberSeries[],
  from: number,
  limit: number,
  constantOne: boolean,
): number {
  const bare = name + ' ';
  const open = name + '{';
  const n = series.length;
  let out = sink.out;
  let i = from;
  while (i < n) {
    const s = series[i++];
    const labels = s.labels;
    const value = constantOne ? '1' : formatSampleValue(s.value);
    out += labels === '' ? bare + value + '\n' : open + labels + '} ' + value + '\n';
    if (out.length >= limit) break;
  }
  sink.out = out;
  return i;
}

/**
 * Writes the `_bucket` (cumulative, ascending `le`, `+Inf` = `count`), `_sum` and `_count` lines of
 * each series of `series[from..]`, series by series; returns the index of the first series not
 * written. `layoutOf` gives the cached `le` strings of a `bounds` array.
 */
export function writeHistogramSeries(
  sink: Sink,
  name: string,
  series: readonly HistogramSeries[],
  from: number,
  limit: number,
  layoutOf: (bounds: readonly number[]) => LeLayout,
): number {
  const bucketOpen = name + '_bucket{';
  const bucketBare = bucketOpen + 'le="';
  const sumOpen = name + '_sum{';
  const sumBare = name + '_sum ';
  const countOpen = name + '_count{';
  const countBare = name + '_count ';
  const n = series.length;
  let out = sink.out;
  let lastBounds: readonly number[] | null = null;
  let suffixes: readonly string[] = [];
  let order: readonly number[] | null = null;
  let i = from;
  while (i < n) {
    const s = series[i++];
    if (s.bounds !== lastBounds) {
      // Series of one family normally share one bounds array: one cache lookup per family.
      lastBounds = s.bounds;
      const layout = layoutOf(lastBounds);
      suffixes = layout.suffixes;
      order = layout.order;
    }
    const labels = s.labels;
    const head = labels === '' ? bucketBare : bucketOpen + labels + ',le="';
    const counts = s.counts;
    const nb = suffixes.length;
    let cumulative = 0;
    if (order === null) {
      for (let k = 0; k < nb; k++) {
        cumulative += counts[k];
        out += head + suffixes[k] + formatSampleValue(cumulative) + '\n';
      }
    } else {
      for (let k = 0; k < nb; k++) {
        cumulative += counts[order[k]];
        const suffix = suffixes[k];
        if (suffix !== '') out += head + suffix + formatSampleValue(cumulative) + '\n';
      }
    }
    const count = formatSampleValue(s.count);
    const sum = formatSampleValue(s.sum);
    out += head + '+Inf"} ' + count + '\n';
    out +=
      labels === ''
        ? sumBare + sum + '\n' + countBare + count + '\n'
        : sumOpen + labels + '} ' + sum + '\n' + countOpen + labels + '} ' + count + '\n';
    if (out.length >= limit) break;
  }
  sink.out = out;
  return i;
}

/**
 * Piece size used when a whole exposition is rendered into one string. Each piece is flattened
 * before the pieces are joined: a rope of a few hundred flat 64 KiB pieces flattens (when written
 * to a socket or Buffer) much faster than a rope of ~5 nodes per line, which also stays alive
 * through young-generation GCs. Measured: 110k–150k lines render+encode 35–55 ms → ~20 ms.
 */
const WHOLE_PIECE = 65536;

/**
 * Renders with `chunks(WHOLE_PIECE)` and joins the flattened pieces. `charCodeAt` is how the
 * flattening is triggered: V8 flattens a rope before reading a character of it (the same trick as
 * the `flatstr` package, which uses `Number(s)`); on an engine that does not, this is merely a join.
 */
export function renderWhole(chunks: (chunkBytes: number) => Iterable<string>): string {
  let out = '';
  for (const piece of chunks(WHOLE_PIECE)) {
    piece.charCodeAt(0);
    out += piece;
  }
  return out;
}

/** Checks a chunk size option: a positive number (Infinity allowed). */
export function checkChunkBytes(chunkBytes: number): void {
  if (typeof chunkBytes !== 'number' || !(chunkBytes > 0)) {
    throw new RangeError(`chunkBytes must be a positive number, got ${String(chunkBytes)}`);
  }
}
