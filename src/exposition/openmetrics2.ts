/**
 * OpenMetrics 2.0.0 text writer (the spec at 2.0.0-rc.0, as Prometheus 3.16's
 * `model/textparse/openmetrics2parse.go` reads it, behind its `openmetrics2` feature flag).
 * Served only to a scraper that asks for `application/openmetrics-text;version=2.0.0`
 * (negotiate.ts), and loaded by the first scrape that does.
 *
 * What differs from OpenMetrics 1.0 (openmetrics.ts), and why:
 * - Names: the spec's "MetricFamily name MUST be the same as every Metric's Name in the family",
 *   and Prometheus stores the name it reads, so every family is written under the name it is
 *   stored as: a counter `X_total` is `# TYPE X_total counter` with samples `X_total`; a counter
 *   whose name does not end in `_total` stays a counter (2.0 forces no suffix), and has its start
 *   time and exemplars like any other.
 * - Start times inline: the ABNF's `sample = value [SP timestamp] [SP start-timestamp] *exemplar LF`
 *   with `start-timestamp = "st@" timestamp`: ` st@<Unix seconds>` after the value of a counter or
 *   histogram series that has one (`created`), before its exemplars; no `_created` line.
 * - Histograms: one line per series, its value a composite, `{count:N,sum:S,bucket:[le:c,…,+Inf:N]}`
 *   (cumulative counts, ascending `le` spelled as 1.0 spells it); with native buckets
 *   (`HistogramSeries.native`), the native fields come first, then the classic list, as the spec
 *   orders them: `schema:s,zero_threshold:z,zero_count:c[,negative_spans:[o:l,…],
 *   negative_buckets:[…]][,positive_spans:[…],positive_buckets:[…]]` with absolute counts (the
 *   parser: "absoluteToIntDeltas converts … absolute bucket counts (OM2 format)"). Prometheus
 *   stores the native histogram when the job has `scrape_native_histograms: true`, else the
 *   classic buckets, as with protobuf. A histogram with a negative bucket keeps its count and sum
 *   (2.0 requires both; 1.0 writes neither then).
 * - Exemplars: ` # {labels} value timestamp` after a counter's value and, all on the one line, after
 *   a histogram's, in bucket order; Prometheus gives each to the classic bucket its value falls in.
 *   Every exemplar carries its timestamp, which 2.0 requires ("OM2 requires every exemplar to
 *   carry a timestamp", the parser).
 * - Units: `# UNIT` whenever the family has one (2.0 only RECOMMENDS it as a suffix), except
 *   `info`, whose unit MUST be empty.
 * - A counter with a NaN sample is written as `unknown` (2.0: a counter's value "MUST be … non-NaN").
 * - info `X_info`: `# TYPE X_info info`, samples `X_info{…} 1` (the parser refuses an info family
 *   whose name does not end in `_info`: such a family is a gauge of 1, as in 1.0).
 * UTF-8 names, quoted (`{"name","label.x"="v"}`), are written only when the scraper negotiated
 * `escaping=allow-utf-8`; escape-names.ts escapes them for any other, as for 1.0.
 */
import type {
  NumberColumns,
  RenderFamily,
  RenderHistogramFamily,
  RenderHistogramSeries,
} from './render-model.ts';
import type { ExpositionExemplar, NativeBuckets } from './types.ts';
import {
  exemplarText,
  familyPieces,
  lineHead,
  numberColumns,
  sampleOpeners,
  secondsText,
  writeNumberExtras,
  writeNumberLines,
  type Dialect,
  type Openers,
  type Piece,
  type SeriesWriter,
} from './samples.ts';
import { formatSampleValue, leLayoutOpenMetrics2 } from './numbers.ts';
import { metadataLines } from './openmetrics.ts';
import { spansOf } from './native-spans.ts';

function familyHeader(f: RenderFamily): string {
  switch (f.type) {
    case 'info':
      return f.name.endsWith('_info')
        ? metadataLines(f.name, 'info', '', f.help)
        : metadataLines(f.name, 'gauge', '', f.help);
    case 'counter':
      // The parser refuses a whole scrape for one NaN counter sample ("counter sample value must
      // not be NaN"); as `unknown` the family is stored under the same name, values and all.
      return metadataLines(
        f.name,
        hasNaN(numberColumns(f).values) ? 'unknown' : 'counter',
        f.unit,
        f.help,
      );
    default:
      return metadataLines(f.name, f.type, f.unit, f.help);
  }
}

function hasNaN(values: ArrayLike<number>): boolean {
  for (let i = 0; i < values.length; i++) if (values[i] !== values[i]) return true;
  return false;
}

/** ` st@<seconds>` when the series has a start time. */
function startText(ms: number | undefined): string {
  return ms === undefined ? '' : ' st@' + secondsText(ms);
}

/** `,negative_spans:[…],negative_buckets:[…]` (or positive), or `''` when that side has no bucket. */
function nativeSide(side: string, offset: number, counts: readonly number[]): string {
  const spans = spansOf(counts);
  if (spans.length === 0) return '';
  let last = 0;
  const spanText = spans.map(([first, end], i) => {
    const gap = i === 0 ? offset + first : first - last - 1;
    last = end;
    return gap + ':' + (end - first + 1);
  });
  const values: string[] = [];
  for (const [first, end] of spans)
    for (let j = first; j <= end; j++) values.push(formatSampleValue(counts[j]!));
  return `,${side}_spans:[${spanText.join(',')}],${side}_buckets:[${values.join(',')}]`;
}

/** The native fields after `count` and `sum`. */
function nativeText(n: NativeBuckets): string {
  return (
    ',schema:' +
    n.schema +
    ',zero_threshold:' +
    formatSampleValue(n.zeroThreshold) +
    ',zero_count:' +
    formatSampleValue(n.zeroCount) +
    nativeSide('negative', n.negativeOffset, n.negativeCounts) +
    nativeSide('positive', n.positiveOffset, n.positiveCounts)
  );
}

/** One histogram series as its composite line. */
function histogramLine(openers: Openers, s: RenderHistogramSeries): string {
  const { suffixes, order } = leLayoutOpenMetrics2(s.bounds);
  const counts = s.counts;
  const exemplars = s.exemplars;
  let list = '';
  let withExemplars = '';
  let cumulative = 0;
  for (let k = 0; k < suffixes.length; k++) {
    const at = order === null ? k : order[k]!;
    cumulative += counts[at]!;
    if (suffixes[k] !== '') list += suffixes[k] + formatSampleValue(cumulative) + ',';
    const e: ExpositionExemplar | undefined = exemplars?.[at];
    if (e !== undefined) withExemplars += exemplarText(e);
  }
  const inf = exemplars?.[counts.length - 1];
  if (inf !== undefined) withExemplars += exemplarText(inf);
  const count = formatSampleValue(s.count);
  return (
    lineHead(openers, s.labels) +
    '{count:' +
    count +
    ',sum:' +
    formatSampleValue(s.sum) +
    (s.native === undefined ? '' : nativeText(s.native)) +
    ',bucket:[' +
    list +
    '+Inf:' +
    count +
    ']}' +
    startText(s.created) +
    withExemplars +
    '\n'
  );
}

function seriesWriter(f: RenderFamily, columns: NumberColumns | undefined): SeriesWriter {
  const openers = sampleOpeners(f.name);
  if (columns === undefined) {
    const series = (f as RenderHistogramFamily).series;
    return (sink, from, limit) => {
      let out = sink.out;
      let i = from;
      while (i < series.length) {
        out += histogramLine(openers, series[i++]!);
        if (out.length >= limit) break;
      }
      sink.out = out;
      return i;
    };
  }
  const n = columns.labels.length;
  if (f.type === 'counter' && (columns.created !== undefined || columns.exemplars !== undefined))
    return (sink, from, limit) =>
      writeNumberExtras(sink, openers, columns, from, limit, columns.exemplars, 'inline');
  const constantOne = f.type === 'info';
  return (sink, from, limit) =>
    writeNumberLines(sink, openers, columns, from, n, limit, constantOne);
}

/** How OpenMetrics 2.0 writes around the shared family loop (samples.ts). */
export const OPENMETRICS2_DIALECT: Dialect = {
  header: familyHeader,
  layoutOf: leLayoutOpenMetrics2,
  end: '# EOF\n',
  seriesWriter,
};

/**
 * Renders `families` as OpenMetrics 2.0.0 in pieces of roughly `chunkBytes` characters (cut at
 * series boundaries; the last ends with `# EOF\n`), each with whether it is all ASCII.
 */
export function openMetrics2Pieces(
  families: readonly RenderFamily[],
  chunkBytes = 65536,
): Generator<Piece, void, undefined> {
  return familyPieces(families, chunkBytes, OPENMETRICS2_DIALECT);
}
