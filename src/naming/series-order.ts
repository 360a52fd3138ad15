/**
 * The order the Rust `prometheus` crate writes a scrape in (its `Registry::gather`, then
 * `TextEncoder`): families sorted by name; in a family, series sorted by their label values, label
 * by label in the order the labels are written, fewer labels first. The crate writes each series'
 * label pairs sorted by name (and a histogram's `le` after them), so a profile in this order lists
 * its rules' labels by name (naming/check-rules.ts holds it to that). Strings compare as Rust
 * compares them: by their UTF-8 bytes.
 */

import { parseLabelPairs } from '../exposition/escape.ts';
import { indexOf, ownValues, type FamilyBuilder } from './family-builder.ts';

/** The label values of a rendered label string (`a="x",b="y\"z"` -> x, y"z), unescaped, as UTF-8. */
function valuesOf(labels: string): Buffer[] {
  return parseLabelPairs(labels).map(([, value]) => Buffer.from(value, 'utf8'));
}

/** Orders label strings as the crate orders series. */
export function compareByLabelValues(a: string, b: string): number {
  if (a === b) return 0;
  const va = valuesOf(a);
  const vb = valuesOf(b);
  if (va.length !== vb.length) return va.length - vb.length;
  for (let i = 0; i < va.length; i++) {
    const c = Buffer.compare(va[i]!, vb[i]!);
    if (c !== 0) return c;
  }
  return 0;
}

/** Orders family names as the crate does. */
export function compareNames(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * A `sorted` profile's order: the table's families -- the first `count` builders,
 * seeded in the table's order -- by name, and each one's series by label values. Host instruments
 * after them keep their order. The builders are this pass's own, so they are sorted in place.
 */
export function sortTableFamilies(order: FamilyBuilder[], count: number): void {
  const table = order.slice(0, count).sort((a, b) => compareNames(a.name, b.name));
  order.splice(0, count, ...table);
  for (const b of table) {
    if (b.type === 'histogram') {
      b.series.sort((x, y) => compareByLabelValues(x.labels, y.labels));
      continue;
    }
    const at = b.labels
      .map((_, i) => i)
      .sort((x, y) => compareByLabelValues(b.labels[x]!, b.labels[y]!));
    const labels = at.map((i) => b.labels[i]!);
    const values = at.map((i) => b.values[i]!);
    ownValues(b).splice(0, values.length, ...values);
    b.labels.splice(0, labels.length, ...labels);
    if (b.created !== undefined) {
      const created = at.map((i) => b.created![i]!);
      b.created.splice(0, created.length, ...created);
    }
    // A counter's exemplars follow its series.
    if (b.exemplars !== undefined) {
      const had = b.exemplars;
      b.exemplars = at.map((i) => had[i]);
    }
    if (b.index !== undefined) b.index = indexOf(b);
  }
}
