/**
 * UTF-8 names for scrapers that did not ask for them: families the naming stage marked `utf8Names`
 * (the native profile under a translation strategy that keeps OTel's names) are served as they
 * are only with `escaping=allow-utf-8`; for any other negotiation (text 0.0.4, protobuf or a 1.0.0
 * format without `allow-utf-8`) their metric and label names are escaped to the classic set by
 * the negotiated scheme, as prometheus/common's `model.EscapeName` does:
 *
 * - `underscores`: every character outside `[a-zA-Z0-9_:]` (a digit in first place too) -> `_`;
 * - `values`: a classic name as it is, any other `U__` + its characters, `_` doubled and the
 *   others outside the set as `_<hex code point>_`.
 *
 * Families without the mark (every legacy profile, and the native profile under the default
 * strategy, whose names are classic already) are passed through untouched. Two families whose
 * names escape to the same one cannot both be served: the later is left out, as the naming
 * stage leaves out a family whose name is taken.
 */
import { diag } from '@opentelemetry/api';
import { escapeLabelValue, parseLabelPairs } from './escape.ts';
import { columnsFamily, numberColumns } from './samples.ts';
import type { RenderFamily } from './render-model.ts';

export type NameEscaping = 'underscores' | 'values';

/** A character a classic name may hold at position `i` (`:` only in metric names). */
const isLegacyRune = (c: string, i: number, label: boolean): boolean =>
  /^[a-zA-Z_]$/.test(c) || (c === ':' && !label) || (i > 0 && c >= '0' && c <= '9');

/**
 * `model.EscapeName` for the two schemes served; `label` for a label name, which may not hold
 * `:` (escaped like any other character).
 */
export function escapeName(name: string, scheme: NameEscaping, label = false): string {
  if (name === '') return name;
  const isLegacy = (c: string, i: number): boolean => isLegacyRune(c, i, label);
  const chars = Array.from(name);
  if (scheme === 'underscores') return chars.map((c, i) => (isLegacy(c, i) ? c : '_')).join('');
  if (chars.every((c, i) => isLegacy(c, i))) return name;
  let out = 'U__';
  chars.forEach((c, i) => {
    if (c === '_') out += '__';
    else if (isLegacy(c, i)) out += c;
    else out += '_' + c.codePointAt(0)!.toString(16) + '_';
  });
  return out;
}

/** A label string with its label names escaped (values stay as they are). */
function escapeLabels(labels: string, scheme: NameEscaping, cache: Map<string, string>): string {
  let out = cache.get(labels);
  if (out === undefined) {
    // An escaped name is classic: written bare.
    out = parseLabelPairs(labels)
      .map(([name, value]) => escapeName(name, scheme, true) + '="' + escapeLabelValue(value) + '"')
      .join(',');
    cache.set(labels, out);
  }
  return out;
}

/** The families as a scraper without `allow-utf-8` gets them (the same array when none is marked). */
export function escapeFamilies(
  families: readonly RenderFamily[],
  scheme: NameEscaping,
): readonly RenderFamily[] {
  if (!families.some((f) => f.utf8Names === true)) return families;
  const cache = new Map<string, string>();
  const taken = new Set(families.filter((f) => f.utf8Names !== true).map((f) => f.name));
  const out: RenderFamily[] = [];
  for (const f of families) {
    if (f.utf8Names !== true) {
      out.push(f);
      continue;
    }
    const name = escapeName(f.name, scheme);
    if (taken.has(name)) {
      diag.warn(
        `jobmeter: ${JSON.stringify(f.name)} is not served to this scraper: escaped, its name ${name} is another family's`,
      );
      continue;
    }
    taken.add(name);
    if (f.type === 'histogram') {
      // The line prefix holds the old names: dropped, the renderers build it.
      out.push({
        ...f,
        name,
        utf8Names: false,
        series: f.series.map(({ prefix: _prefix, ...s }) => ({
          ...s,
          labels: escapeLabels(s.labels, scheme, cache),
        })),
      });
    } else {
      // Not `keyed`: its strings are the names unescaped.
      const { keyed: _keyed, ...columns } = numberColumns(f);
      const labels = columns.labels.map((l) => escapeLabels(l, scheme, cache));
      out.push(
        columnsFamily({
          name,
          type: f.type,
          help: f.help,
          unit: f.unit,
          columns: { ...columns, labels },
          // Escaping a name never adds a non-ASCII character.
          ...(f.ascii !== undefined && { ascii: f.ascii }),
        }),
      );
    }
  }
  return out;
}
