/**
 * The order the Rust `prometheus` crate writes a scrape in (its `Registry::gather`, then
 * `TextEncoder`): families sorted by name; in a family, series sorted by their label values, label
 * by label in the order the labels are written, fewer labels first. The crate writes each series'
 * label pairs sorted by name (and a histogram's `le` after them), so a profile in this order lists
 * its rules' labels by name (naming/check-rules.ts holds it to that). Strings compare as Rust
 * compares them: by their UTF-8 bytes.
 */

import { addNumber, newBuilder, type FamilyBuilder } from './family-builder.ts';

/** Orders two series' label values (unescaped, in label order) as the crate orders series. */
export function compareLabelValues(a: readonly string[], b: readonly string[]): number {
  if (a.length !== b.length) return a.length - b.length;
  for (let i = 0; i < a.length; i++) {
    const c = compareNames(a[i]!, b[i]!);
    if (c !== 0) return c;
  }
  return 0;
}

/** Orders family names (and label values) as the crate does. */
export function compareNames(a: string, b: string): number {
  return a === b ? 0 : Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** The label values of each series of `b` by its label string: the labels its rule (or the zero fill) named it with. */
function labelValues(b: FamilyBuilder): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const { column, named } of b.feeds)
    for (const [i, labels] of column.strings.entries()) {
      if (!out.has(labels)) out.set(labels, Object.values(named(column.keys[i]!)).map(String));
    }
  return out;
}

/**
 * A `sorted` profile's order: the table's families -- the first `count` builders,
 * seeded in the table's order -- by name, and each one's series by label values. Host instruments
 * after them keep their order. The builders are this pass's own: `order` is sorted in place.
 */
export function sortTableFamilies(order: FamilyBuilder[], count: number): void {
  const table = order.slice(0, count).sort((a, b) => compareNames(a.name, b.name));
  order.splice(0, count, ...table.map(sortedSeries));
}

/** `b` with its series ordered by label values (a number family's added again, in that order, to a builder of its own). */
function sortedSeries(b: FamilyBuilder): FamilyBuilder {
  const byLabels = labelValues(b);
  const compare = (x: string, y: string): number =>
    x === y ? 0 : compareLabelValues(byLabels.get(x)!, byLabels.get(y)!);
  if (b.type === 'histogram') {
    b.series.sort((x, y) => compare(x.labels, y.labels));
    return b;
  }
  const sorted = newBuilder(b, true, b.created !== undefined);
  sorted.ascii = b.ascii;
  sorted.feeds.push(...b.feeds);
  const at = b.labels.map((_, i) => i).sort((x, y) => compare(b.labels[x]!, b.labels[y]!));
  // A counter's start times and exemplars follow its series.
  for (const i of at)
    addNumber(sorted, b.labels[i]!, b.values[i]!, b.created?.[i], b.exemplars?.[i]);
  return sorted;
}
