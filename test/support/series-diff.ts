/**
 * Two text expositions compared series by series — names, types, label sets and values — for the
 * tests that put jobmeter's own pull endpoint beside a real peer's re-exposition of the same data
 * (the Collector's prometheus exporter, Prometheus' OTLP receiver).
 */
import { groupFamilies, parseExposition, seriesKey, type WireFormat } from './exposition-parser.ts';

export interface SeriesTable {
  /** Sample name → its family's `# TYPE` (`unknown` spelled `untyped`, as in text 0.0.4). */
  types: Map<string, string>;
  /** seriesKey(name, labels) → value. */
  values: Map<string, number>;
  /** The families' names, as written in `# TYPE`, with their `# UNIT` ('' when none). */
  families: Map<string, string>;
}

/** `le`/`quantile` values as numbers: OpenMetrics writes `1.0` where text 0.0.4 writes `1`. */
export function canonicalBound(value: string): string {
  const n = value === '+Inf' ? Infinity : value === '-Inf' ? -Infinity : Number(value);
  return Number.isNaN(n) ? value : String(n);
}

/**
 * Reads an exposition in either text format, as Prometheus would store it: a label whose value is
 * empty is no label, and `le`/`quantile` are compared as numbers. `dropLabels` are removed from
 * every series too (labels a peer adds to every series, e.g. `job`/`instance`); `dropFamilies` are
 * left out.
 */
export function seriesTable(
  text: string,
  opts: {
    format?: WireFormat;
    dropLabels?: readonly string[];
    dropFamilies?: readonly string[];
  } = {},
): SeriesTable {
  const problems: string[] = [];
  const format = opts.format ?? 'text';
  const families = groupFamilies(parseExposition(text, format), format, problems);
  if (problems.length > 0) throw new Error(`exposition problems:\n${problems.join('\n')}`);
  const drop = new Set(opts.dropLabels ?? []);
  const dropFamilies = new Set(opts.dropFamilies ?? []);
  const types = new Map<string, string>();
  const values = new Map<string, number>();
  const names = new Map<string, string>();
  for (const f of families) {
    if (dropFamilies.has(f.name)) continue;
    names.set(f.name, f.unit ?? '');
    const type = f.type === undefined || f.type === 'unknown' ? 'untyped' : f.type;
    for (const s of f.samples) {
      if (dropFamilies.has(s.name)) continue;
      types.set(s.name, type);
      const labels = s.labels
        .filter(([k, v]) => v !== '' && !drop.has(k))
        .map(([k, v]) =>
          k === 'le' || k === 'quantile' ? ([k, canonicalBound(v)] as const) : ([k, v] as const),
        );
      values.set(seriesKey(s.name, labels), s.value);
    }
  }
  return { types, values, families: names };
}

export interface SeriesDiff {
  onlyLeft: string[];
  onlyRight: string[];
  /** `key: left != right` */
  values: string[];
  /** `sample name: left type != right type` */
  types: string[];
}

/** Differences between two tables; all four lists empty when they are the same series. */
export function diffSeries(left: SeriesTable, right: SeriesTable): SeriesDiff {
  const onlyLeft = [...left.values.keys()].filter((k) => !right.values.has(k)).sort();
  const onlyRight = [...right.values.keys()].filter((k) => !left.values.has(k)).sort();
  const values: string[] = [];
  for (const [k, v] of left.values) {
    const w = right.values.get(k);
    if (w !== undefined && !Object.is(v, w) && !(Number.isNaN(v) && Number.isNaN(w)))
      values.push(`${k}: ${v} != ${w}`);
  }
  const types: string[] = [];
  for (const [name, t] of left.types) {
    const u = right.types.get(name);
    if (u !== undefined && u !== t) types.push(`${name}: ${t} != ${u}`);
  }
  return { onlyLeft, onlyRight, values: values.sort(), types: types.sort() };
}
