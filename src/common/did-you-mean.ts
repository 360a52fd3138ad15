/**
 * "Did you mean": the known key nearest a misspelled one, for every unknown-key error (the config
 * file's, config/error-wording.ts, and the programmatic options', option-keys.ts), so both read
 * the same.
 */

/**
 * The candidate `input` most likely meant: the same key spelled another way (case, `_`, `-`), an
 * alias's target, else one within 1 edit (keys of up to 4 characters) or 2 (longer ones).
 * @param exactOnly only the same key spelled another way, or an alias's target.
 * @param aliases normalized spelling -> candidate (`url` -> `endpoint`).
 */
export function nearestKey(
  input: string,
  candidates: readonly string[],
  exactOnly = false,
  aliases: Readonly<Record<string, string>> = {},
): string | undefined {
  const norm = normalize(input);
  const alias = aliases[norm];
  for (const c of candidates) {
    if (normalize(c) === norm || c === alias) return c;
  }
  if (exactOnly) return undefined;
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  const limit = norm.length <= 4 ? 1 : 2;
  for (const c of candidates) {
    const d = editDistance(norm, normalize(c));
    if (d <= limit && d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

/** Lowercase without `_`, `-`, `.`, `/`: `serviceName`, `service-name` and `service_name` meet. */
function normalize(s: string): string {
  return s.toLowerCase().replace(/[-_./]/g, '');
}

/** Optimal-string-alignment distance: edits plus adjacent transpositions (`prot` -> `port` is 1). */
function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  const rows: number[][] = [Array.from({ length: b.length + 1 }, (_, j) => j)];
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1]![j]! + 1, row[j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      }
      row.push(d);
    }
    rows.push(row);
  }
  return rows[a.length]![b.length]!;
}
