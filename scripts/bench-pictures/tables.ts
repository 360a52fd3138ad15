/**
 * Reads the two tables the bench pictures draw from bench/README.md, between the markers
 * bench/run.ts writes (`<!-- bench:<scenario>:start -->` … `:end -->`), so a picture always shows
 * the committed run. A table whose shape is not the one bench/scrape.ts and
 * bench/scrape-changes.ts write is an error naming the section, the row and what was expected:
 * a picture silently drawn from the wrong columns would be worse than none.
 */
import { sectionOf } from '../../bench/readme-sections.ts';

/** A `median (min–max)` cell. */
export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

/** The full-scrape table: one point per size and contender (a jobmeter format is a contender). */
export interface ScalingTable {
  /** Series (label sets) at each size, ascending. */
  readonly sizes: readonly number[];
  /** In the table's order. */
  readonly contenders: readonly string[];
  readonly points: readonly {
    readonly series: number;
    readonly contender: string;
    readonly ms: Spread;
  }[];
  /** The section's footer (`<sub>`): date, commit, versions, machine, load. */
  readonly footer: string;
}

/** The share-of-series-changed table: two contenders per share, and the copy floor. */
export interface ChangesTable {
  /** Percent of the series changed, in the table's order. */
  readonly shares: readonly number[];
  readonly points: readonly {
    readonly share: number;
    readonly contender: string;
    readonly ms: Spread;
  }[];
  readonly floor: { readonly label: string; readonly ms: Spread };
  /** Series in the run, from the note under the table. */
  readonly series: number;
  readonly footer: string;
}

export class BenchTableError extends Error {
  override name = 'BenchTableError';
}

const SCALING_HEADER = ['series (sample lines)', 'contender', 'ms per scrape', 'body'];
const CHANGES_HEADER = ['series changed since the last scrape'];

function section(readme: string, name: string): string {
  const at = sectionOf(readme, name);
  if (at === undefined)
    throw new BenchTableError(
      `bench/README.md: no section between <!-- bench:${name}:start --> and <!-- bench:${name}:end -->`,
    );
  return readme.slice(at.from, at.to);
}

/** The section's first markdown table: header cells and body rows (the `:--` line checked and dropped). */
function firstTable(text: string, name: string): { header: string[]; rows: string[][] } {
  const lines = text.split('\n');
  const first = lines.findIndex((l) => l.startsWith('|'));
  if (first === -1) throw new BenchTableError(`bench/README.md section ${name}: no table`);
  const end = lines.findIndex((l, i) => i > first && !l.startsWith('|'));
  const cells = (l: string) =>
    l
      .slice(1, l.endsWith('|') ? -1 : undefined)
      .split('|')
      .map((c) => c.trim());
  const [header, rule, ...rows] = lines.slice(first, end === -1 ? undefined : end).map(cells);
  if (header === undefined || rule === undefined || !rule.every((c) => /^:?-+:?$/.test(c))) {
    throw new BenchTableError(
      `bench/README.md section ${name}: the table has no header and alignment row`,
    );
  }
  for (const [k, row] of rows.entries()) {
    if (row.length !== header.length)
      throw new BenchTableError(
        `bench/README.md section ${name}, row ${k + 1}: ${row.length} cells, the header has ${header.length}`,
      );
  }
  return { header, rows };
}

function expectHeader(name: string, header: readonly string[], expected: readonly string[]): void {
  const got = header.slice(0, expected.length);
  if (got.join(' | ') !== expected.join(' | ')) {
    throw new BenchTableError(
      `bench/README.md section ${name}: header starts "${got.join(' | ')}", expected "${expected.join(' | ')}"`,
    );
  }
}

const NUMBER = String.raw`\d{1,3}(?:,\d{3})*(?:\.\d+)?`;
const toNumber = (s: string) => Number(s.replaceAll(',', ''));

function spreadOf(cell: string, where: string): Spread {
  const m = new RegExp(`^(${NUMBER}) \\((${NUMBER})–(${NUMBER})\\)$`).exec(cell);
  if (m === null) throw new BenchTableError(`${where}: "${cell}" is not "median (min–max)"`);
  const [median, min, max] = [m[1]!, m[2]!, m[3]!].map(toNumber) as [number, number, number];
  if (!(min <= median && median <= max && min > 0))
    throw new BenchTableError(`${where}: "${cell}" is not min ≤ median ≤ max, all above 0`);
  return { median, min, max };
}

function footerOf(text: string, name: string): string {
  const m = /<sub>(.*?)<\/sub>/s.exec(text);
  if (m === null)
    throw new BenchTableError(
      `bench/README.md section ${name}: no <sub> footer (date, commit, versions)`,
    );
  return m[1]!.replaceAll(/\*\*[^*]*\*\*\s*/g, '').trim();
}

export function readScalingTable(readme: string): ScalingTable {
  const name = 'scrape';
  const text = section(readme, name);
  const { header, rows } = firstTable(text, name);
  expectHeader(name, header, SCALING_HEADER);
  const points = rows.map((row, k) => {
    const where = `bench/README.md section ${name}, row ${k + 1}`;
    const m = new RegExp(`^(${NUMBER}) \\(${NUMBER} lines\\)$`).exec(row[0]!);
    if (m === null)
      throw new BenchTableError(`${where}: "${row[0]}" is not "<series> (<n> lines)"`);
    if (row[1] === '') throw new BenchTableError(`${where}: no contender`);
    return { series: toNumber(m[1]!), contender: row[1]!, ms: spreadOf(row[2]!, where) };
  });
  const sizes = [...new Set(points.map((p) => p.series))].sort((a, b) => a - b);
  const contenders = [...new Set(points.map((p) => p.contender))];
  if (sizes.length < 2)
    throw new BenchTableError(
      `bench/README.md section ${name}: ${sizes.length} size(s); a curve needs at least 2`,
    );
  for (const s of sizes) {
    const at = points.filter((p) => p.series === s).map((p) => p.contender);
    if (at.length !== contenders.length || contenders.some((c) => !at.includes(c))) {
      throw new BenchTableError(
        `bench/README.md section ${name}: at ${s} series the contenders are ${at.join(', ')}; expected each of ${contenders.join(', ')} once`,
      );
    }
  }
  return { sizes, contenders, points, footer: footerOf(text, name) };
}

export function readChangesTable(readme: string): ChangesTable {
  const name = 'scrape-changes';
  const text = section(readme, name);
  const { header, rows } = firstTable(text, name);
  expectHeader(name, header, CHANGES_HEADER);
  // Median columns are those whose header ends in ", ms": one per contender.
  const columns = header.flatMap((h, i) =>
    h.endsWith(', ms') ? [{ i, contender: h.slice(0, -', ms'.length) }] : [],
  );
  if (columns.length < 2)
    throw new BenchTableError(
      `bench/README.md section ${name}: ${columns.length} "<contender>, ms" column(s) in "${header.join(' | ')}"; expected at least 2`,
    );
  const points: { share: number; contender: string; ms: Spread }[] = [];
  const shares: number[] = [];
  let floor: ChangesTable['floor'] | undefined;
  for (const [k, row] of rows.entries()) {
    const where = `bench/README.md section ${name}, row ${k + 1}`;
    const share = /^(\d+(?:\.\d+)?)%$/.exec(row[0]!);
    if (share !== null) {
      shares.push(Number(share[1]));
      for (const c of columns)
        points.push({
          share: Number(share[1]),
          contender: c.contender,
          ms: spreadOf(row[c.i]!, `${where}, column "${header[c.i]}"`),
        });
    } else if (row[0]!.startsWith('floor')) {
      floor = { label: row[0]!, ms: spreadOf(row[1]!, where) };
    } else {
      throw new BenchTableError(
        `${where}: "${row[0]}" is neither a share ("10%") nor the floor row`,
      );
    }
  }
  if (shares.length < 2)
    throw new BenchTableError(
      `bench/README.md section ${name}: ${shares.length} share row(s); a curve needs at least 2`,
    );
  if (floor === undefined)
    throw new BenchTableError(`bench/README.md section ${name}: no "floor: …" row`);
  const series = new RegExp(`(${NUMBER}) series \\(`).exec(text);
  if (series === null)
    throw new BenchTableError(
      `bench/README.md section ${name}: the note under the table does not say "<n> series (…"`,
    );
  return { shares, points, floor, series: toNumber(series[1]!), footer: footerOf(text, name) };
}
