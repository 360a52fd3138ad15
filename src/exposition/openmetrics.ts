/**
 * OpenMetrics 1.0.0 text renderer.
 *
 * Per family: `# TYPE`, then `# UNIT` (only when the unit is non-empty and the OpenMetrics family
 * name ends in `_<unit>`, as the spec requires), then `# HELP` (only when non-empty); that is the
 * order the spec says metadata SHOULD have. Then the samples, series by series, and `# EOF` last.
 *
 * How each family type is written, and why:
 * - counter named `X_total`: family `X`, type `counter`, samples `X_total`.
 * - counter whose name does NOT end in `_total` (legacy names such as `foo_count`): OpenMetrics
 *   forces a `_total` suffix on counter samples, and Prometheus stores the sample name it reads,
 *   so a `counter` family would be stored as `foo_count_total`, not the legacy name. Written as
 *   type `unknown` with samples named exactly `foo_count`, Prometheus stores `foo_count`, the same
 *   series a text 0.0.4 scrape gives. Only the type metadata is lost, which PromQL does not use.
 * - info named `X_info`: family `X`, type `info`, samples `X_info{...} 1` (info values MUST be 1).
 *   An info whose name does not end in `_info` is written as a `gauge` of value 1 for the same
 *   reason as above. Info families never get a `# UNIT` (the spec requires an empty unit).
 * - gauge, unknown: family and samples are `name`.
 * - histogram: family `name`; per series its `_bucket` lines (cumulative, ascending canonical `le`,
 *   `+Inf` equal to `_count`), then `_sum`, then `_count` -- neither when a bucket is negative (the
 *   spec: no sum then, and a count only with a sum; the `+Inf` bucket holds the count).
 * - `_created`: a counter (`X_total`) or histogram series with a start time in the model
 *   (`created`, which the naming stage sets only when the profile asks for start timestamps) is
 *   followed by `X_created{...} <Unix seconds>`; without one, nothing.
 * - exemplars (trace-linked, when the model has them): ` # {trace_id="...",span_id="..."} value
 *   timestamp` after a counter's `_total` sample and after the bucket sample they fall in.
 *
 * Families with no series are omitted entirely, as client_golang does (a family only appears once
 * it has a metric). The spec allows an empty family, but it carries no data, and omitting it keeps
 * both formats' outputs describing the same set of series.
 */
import type { RenderFamily } from './render-model.ts';
import type { Dialect } from './samples.ts';
import { metadataName, renderWhole } from './samples.ts';
import { leLayoutOpenMetrics } from './numbers.ts';
import { escapeLabelValue } from './escape.ts';

/**
 * A family's `# TYPE`, `# UNIT` (when `unit` is not empty) and `# HELP` (when `help` is not empty)
 * lines, in the order OpenMetrics 1.0 and 2.0 say they SHOULD have.
 */
export function metadataLines(
  familyName: string,
  type: string,
  unit: string,
  help: string,
): string {
  const name = metadataName(familyName);
  let h = '# TYPE ' + name + ' ' + type + '\n';
  if (unit !== '') h += '# UNIT ' + name + ' ' + unit + '\n';
  // OpenMetrics escapes a HELP text as a label value: `\`, newline and `"`.
  if (help !== '') h += '# HELP ' + name + ' ' + escapeLabelValue(help) + '\n';
  return h;
}

/** OpenMetrics 1.0 writes a unit only when the family name ends in `_<unit>`, as the spec requires. */
function header(familyName: string, type: string, unit: string, help: string): string {
  return metadataLines(familyName, type, familyName.endsWith('_' + unit) ? unit : '', help);
}

/** The metadata lines of a family with at least one series. */
function familyHeader(f: RenderFamily): string {
  const name = f.name;
  switch (f.type) {
    case 'counter':
      return name.endsWith('_total')
        ? header(name.slice(0, -6), 'counter', f.unit, f.help)
        : header(name, 'unknown', f.unit, f.help);
    case 'info':
      return name.endsWith('_info')
        ? header(name.slice(0, -5), 'info', '', f.help)
        : header(name, 'gauge', '', f.help);
    case 'gauge':
    case 'unknown':
    case 'histogram':
      return header(name, f.type, f.unit, f.help);
  }
}

/** How OpenMetrics writes around the shared sample loops (samples.ts). */
export const OPENMETRICS_DIALECT: Dialect = {
  header: familyHeader,
  layoutOf: leLayoutOpenMetrics,
  end: '# EOF\n',
  openMetrics: true,
};

/**
 * Renders `families` as one OpenMetrics 1.0.0 exposition, ending with `# EOF\n`.
 * @example
 *   const body = renderOpenMetrics(await jm.scrape());
 */
export function renderOpenMetrics(families: readonly RenderFamily[]): string {
  return renderWhole(families, OPENMETRICS_DIALECT);
}
