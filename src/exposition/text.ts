/**
 * Prometheus text format 0.0.4 renderer.
 *
 * Per family: `# HELP name help` (only when non-empty; `\` and newline escaped), `# TYPE name t`
 * with t = counter | gauge | histogram | untyped (`info` -> gauge, `unknown` -> untyped), then the
 * samples. Every sample is named `name` as given (counters keep or lack `_total` exactly as the
 * profile chose); info samples are written with value 1. Histograms: per series `_bucket` lines
 * (cumulative, ascending `le`, `+Inf` equal to `_count`), `_sum`, `_count`. No `# EOF`.
 *
 * Families with no series are omitted, as in the OpenMetrics renderer (see there).
 * Unlike prom-client, no blank line separates families, and `le` comes after the series' own
 * labels (as client_golang writes it); Prometheus treats both spellings identically.
 */
import type { RenderFamily } from './render-model.ts';
import type { Dialect } from './samples.ts';
import { metadataName, renderWhole } from './samples.ts';
import { leLayoutText } from './numbers.ts';
import { escapeHelpText } from './escape.ts';

const TEXT_TYPE: Readonly<Record<RenderFamily['type'], string>> = {
  counter: 'counter',
  gauge: 'gauge',
  histogram: 'histogram',
  info: 'gauge',
  unknown: 'untyped',
};

function familyHeader(f: RenderFamily): string {
  const name = metadataName(f.name);
  const typeLine = '# TYPE ' + name + ' ' + TEXT_TYPE[f.type] + '\n';
  return f.help === ''
    ? typeLine
    : '# HELP ' + name + ' ' + escapeHelpText(f.help) + '\n' + typeLine;
}

/** How text 0.0.4 writes around the shared sample loops (samples.ts). */
export const TEXT_DIALECT: Dialect = { header: familyHeader, layoutOf: leLayoutText, end: '' };

/**
 * Renders `families` as one text 0.0.4 exposition (`''` when no family has a series).
 * @example
 *   const body = renderPrometheusText(await jm.scrape());
 */
export function renderPrometheusText(families: readonly RenderFamily[]): string {
  return renderWhole(families, TEXT_DIALECT);
}
