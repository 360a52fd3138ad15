/**
 * scripts/bench-pictures/tables.ts reads the committed bench/README.md's tables into what the
 * pictures draw, and refuses a table of another shape with a message naming where. No bench run
 * and no drawing here: the pictures are checked by looking at them when they are regenerated.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  BenchTableError,
  readChangesTable,
  readScalingTable,
} from '../../scripts/bench-pictures/tables.ts';

const README = readFileSync(new URL('../../bench/README.md', import.meta.url), 'utf8');

/** The committed README with `from` replaced once inside section `name` (which must hold it). */
function edited(name: string, from: string | RegExp, to: string): string {
  const start = README.indexOf(`<!-- bench:${name}:start -->`);
  const end = README.indexOf(`<!-- bench:${name}:end -->`);
  const inside = README.slice(start, end);
  const changed = inside.replace(from, to);
  assert.notEqual(changed, inside, `section ${name} holds ${String(from)}`);
  return README.slice(0, start) + changed + README.slice(end);
}

test('the scrape table: every contender and format at 110, 1.1k, 11k and 110k series', () => {
  const t = readScalingTable(README);
  assert.deepEqual(t.sizes, [110, 1_100, 11_000, 110_000]);
  for (const c of [
    'jobmeter, text 0.0.4',
    'jobmeter, OpenMetrics',
    'jobmeter, protobuf',
    '@prometheus-io/client',
    'prom-client',
    'otel PrometheusExporter',
  ]) {
    assert.ok(t.contenders.includes(c), `${c} in ${t.contenders.join(', ')}`);
  }
  assert.equal(t.points.length, t.sizes.length * t.contenders.length);
  for (const p of t.points)
    assert.ok(p.ms.min <= p.ms.median && p.ms.median <= p.ms.max, JSON.stringify(p));
  assert.match(t.footer, /UTC, jobmeter [0-9a-f]{7}/);
});

test('the share-changed table: jobmeter and @prometheus-io/client at 0, 1, 10 and 100%, and the copy floor', () => {
  const t = readChangesTable(README);
  assert.deepEqual(t.shares, [0, 1, 10, 100]);
  assert.deepEqual(
    [...new Set(t.points.map((p) => p.contender))],
    ['jobmeter, text 0.0.4', '@prometheus-io/client'],
  );
  assert.equal(t.points.length, 8);
  assert.match(t.floor.label, /^floor: one copy/);
  assert.ok(t.floor.ms.median > 0);
  assert.equal(t.series, 110_000);
});

test('a table of another shape is refused, naming the section and what was expected', () => {
  const cases: Array<[string, () => unknown, RegExp]> = [
    [
      'a renamed column',
      () => readScalingTable(edited('scrape', '| ms per scrape |', '| µs per scrape |')),
      /section scrape: header starts .*expected "series \(sample lines\) \| contender \| ms per scrape/,
    ],
    [
      'a cell that is not median (min–max)',
      () => readScalingTable(edited('scrape', /\| [\d,.]+ \([\d,.]+–[\d,.]+\) \|/, '| fast |')),
      /section scrape, row 1: "fast" is not "median \(min–max\)"/,
    ],
    [
      'a contender missing at one size',
      () =>
        readScalingTable(
          edited('scrape', /\n\| 11,000 \(28,000 lines\) \| prom-client \|[^\n]*/, ''),
        ),
      /section scrape: at 11000 series the contenders are/,
    ],
    [
      'a cell too few',
      () =>
        readScalingTable(
          edited('scrape', /(\n\| [\d,]+ \([\d,]+ lines\) \|[^\n]*)\| [^|\n]+ \|(?=\n)/, '$1|'),
        ),
      /section scrape, row 1: 4 cells, the header has 5/,
    ],
    [
      'no floor row',
      () => readChangesTable(edited('scrape-changes', /\n\| floor:[^\n]*/, '')),
      /section scrape-changes: no "floor: …" row/,
    ],
    [
      'a row that is neither',
      () => readChangesTable(edited('scrape-changes', '| 10% |', '| ten percent |')),
      /section scrape-changes, row 3: "ten percent" is neither a share/,
    ],
    [
      'no markers',
      () => readChangesTable(README.replace('<!-- bench:scrape-changes:end -->', '')),
      /no section between <!-- bench:scrape-changes:start --> and <!-- bench:scrape-changes:end -->/,
    ],
  ];
  for (const [what, read, message] of cases) {
    assert.throws(
      read,
      (err: unknown) => err instanceof BenchTableError && message.test(err.message),
      what,
    );
  }
});
