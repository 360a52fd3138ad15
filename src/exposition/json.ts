/**
 * `?format=json`: the same families as JSON, for ad-hoc inspection and custom dashboards.
 *
 * - `flat` (wasmrun's documented shape): `{ "<name without prefix>": number | { "<label value>": number } }`
 *   for families with no label or one label; anything else falls back to the generic series list.
 * - `generic` (every other profile): `{ "families": [{ name, type, help, unit, series: [...] }] }`
 *   where a series is `{ labels: {…}, value }` or, for histograms,
 *   `{ labels, buckets: [[le, cumulative count], …, ["+Inf", count]], sum, count }`.
 */
import { parseLabelPairs } from './escape.ts';
import type { Family, HistogramSeries, NumberSeries } from './types.ts';

export type JsonShape = 'flat' | 'generic';

/**
 * A rendered label string (`a="x",b="y\\"z"`, a UTF-8 name quoted: `"a.b"="x"`) as an object of
 * its names and values, unescaped.
 */
const parseLabels = (labels: string) => Object.fromEntries(parseLabelPairs(labels));

function genericSeries(family: Family): unknown[] {
  if (family.type === 'histogram') {
    return family.series.map((s: HistogramSeries) => {
      let running = 0;
      const buckets: Array<[number | string, number]> = s.bounds.map((b, i) => [
        b,
        (running += s.counts[i] ?? 0),
      ]);
      buckets.push(['+Inf', s.count]);
      return { labels: parseLabels(s.labels), buckets, sum: s.sum, count: s.count };
    });
  }
  return family.series.map((s: NumberSeries) => ({
    labels: parseLabels(s.labels),
    value: s.value,
  }));
}

function flatValue(family: Family): unknown {
  if (family.type !== 'histogram') {
    const series = family.series;
    if (series.length === 1 && series[0]!.labels === '') return series[0]!.value;
    const parsed = series.map((s) => [parseLabels(s.labels), s.value] as const);
    const names = new Set(parsed.flatMap(([l]) => Object.keys(l)));
    if (names.size === 1 && parsed.every(([l]) => Object.keys(l).length === 1)) {
      const [name] = names;
      return Object.fromEntries(parsed.map(([l, v]) => [l[name!], v]));
    }
  }
  return genericSeries(family);
}

export function renderJson(
  families: readonly Family[],
  shape: JsonShape,
  prefix = '',
  extra?: Record<string, unknown>,
): string {
  if (shape === 'flat') {
    const out: Record<string, unknown> = {};
    for (const f of families)
      out[f.name.startsWith(prefix) ? f.name.slice(prefix.length) : f.name] = flatValue(f);
    return JSON.stringify({ ...out, ...extra }, null, 2) + '\n';
  }
  const doc = {
    families: families.map((f) => ({
      name: f.name,
      type: f.type,
      help: f.help,
      unit: f.unit,
      series: genericSeries(f),
    })),
    ...extra,
  };
  return JSON.stringify(doc, null, 2) + '\n';
}
