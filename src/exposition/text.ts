/**
 * Prometheus text format 0.0.4 renderer.
 *
 * Per family: `# HELP name help` (only when non-empty; `\` and newline escaped), `# TYPE name t`
 * with t = counter | gauge | histogram | untyped (`info` → gauge, `unknown` → untyped), then the
 * samples. Every sample is named `name` as given (counters keep or lack `_total` exactly as the
 * profile chose); info samples are written with value 1. Histograms: per series `_bucket` lines
 * (cumulative, ascending `le`, `+Inf` equal to `_count`), `_sum`, `_count`. No `# EOF`.
 *
 * Families with no series are omitted, as in the OpenMetrics renderer (see there).
 * Unlike prom-client, no blank line separates families, and `le` comes after the series' own
 * labels (as client_golang writes it); Prometheus treats both spellings identically.
 */
import type { Family, HistogramFamily } from './types.ts';
import type { Piece, Sink } from './samples.ts';
import { checkChunkBytes, isAscii, numberColumns, renderWhole, writeHistogramSeries, writeNumberSeries } from './samples.ts';
import { leLayoutText } from './numbers.ts';
import { escapeHelpText } from './escape.ts';

const TEXT_TYPE: Readonly<Record<Family['type'], string>> = {
  counter: 'counter',
  gauge: 'gauge',
  histogram: 'histogram',
  info: 'gauge',
  unknown: 'untyped',
};

function familyHeader(f: Family): string {
  const typeLine = '# TYPE ' + f.name + ' ' + TEXT_TYPE[f.type] + '\n';
  return f.help === '' ? typeLine : '# HELP ' + f.name + ' ' + escapeHelpText(f.help) + '\n' + typeLine;
}

/**
 * As {@link prometheusTextChunks}, each piece with whether it is all ASCII: every family in it
 * marked `ascii` by the naming stage, and its metadata lines checked.
 */
export function* prometheusTextPieces(families: readonly Family[], chunkBytes: number): Generator<Piece, void, undefined> {
  checkChunkBytes(chunkBytes);
  const sink: Sink = { out: '' };
  let ascii = true;
  for (const f of families) {
    const columns = f.type === 'histogram' ? undefined : numberColumns(f);
    const n = columns === undefined ? f.series.length : columns.labels.length;
    if (n === 0) continue;
    const header = familyHeader(f);
    sink.out += header;
    if (ascii && (f.ascii !== true || !isAscii(header))) ascii = false;
    let i = 0;
    while (i < n) {
      i =
        columns === undefined
          ? writeHistogramSeries(sink, f.name, (f as HistogramFamily).series, i, chunkBytes, leLayoutText)
          : writeNumberSeries(sink, f.name, columns, i, chunkBytes, f.type === 'info');
      if (sink.out.length >= chunkBytes) {
        yield { text: sink.out, ascii };
        sink.out = '';
        // What the family still has to write goes into the next piece.
        ascii = i >= n || f.ascii === true;
      }
    }
  }
  if (sink.out !== '') yield { text: sink.out, ascii };
}

/**
 * Renders `families` as text 0.0.4 in pieces of roughly `chunkBytes` characters (cut at series
 * boundaries, so every piece is whole lines). `chunkBytes = Infinity` yields one string.
 */
export function* prometheusTextChunks(
  families: readonly Family[],
  chunkBytes: number,
): Generator<string, void, undefined> {
  checkChunkBytes(chunkBytes);
  for (const piece of prometheusTextPieces(families, chunkBytes)) yield piece.text;
}

/** Renders `families` as one text 0.0.4 exposition (`''` when no family has a series). */
export function renderPrometheusText(families: readonly Family[]): string {
  return renderWhole((chunkBytes) => prometheusTextChunks(families, chunkBytes));
}
