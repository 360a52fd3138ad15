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
import type { Family } from './types.ts';
import type { Sink } from './samples.ts';
import { checkChunkBytes, renderWhole, writeHistogramSeries, writeNumberSeries } from './samples.ts';
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
 * Renders `families` as text 0.0.4 in pieces of roughly `chunkBytes` characters (cut at series
 * boundaries, so every piece is whole lines). `chunkBytes = Infinity` yields one string.
 */
export function* prometheusTextChunks(
  families: readonly Family[],
  chunkBytes: number,
): Generator<string, void, undefined> {
  checkChunkBytes(chunkBytes);
  const sink: Sink = { out: '' };
  for (const f of families) {
    const n = f.series.length;
    if (n === 0) continue;
    sink.out += familyHeader(f);
    let i = 0;
    while (i < n) {
      i =
        f.type === 'histogram'
          ? writeHistogramSeries(sink, f.name, f.series, i, chunkBytes, leLayoutText)
          : writeNumberSeries(sink, f.name, f.series, i, chunkBytes, f.type === 'info');
      if (sink.out.length >= chunkBytes) {
        yield sink.out;
        sink.out = '';
      }
    }
  }
  if (sink.out !== '') yield sink.out;
}

/** Renders `families` as one text 0.0.4 exposition (`''` when no family has a series). */
export function renderPrometheusText(families: readonly Family[]): string {
  return renderWhole((chunkBytes) => prometheusTextChunks(families, chunkBytes));
}
