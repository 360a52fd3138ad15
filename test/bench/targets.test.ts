/**
 * bench/targets.ts: the generated targets table keeps every target's row, replaces only the rows
 * a run measured, says "no" when a threshold is missed, and refuses a verdict for a target it
 * does not know. bench/README.md's section is that table as the last runs left it.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { sectionOf } from '../../bench/readme-sections.ts';
import { TARGETS, targetsTable } from '../../bench/targets.ts';

const rowOf = (table: string, id: string) => table.split('\n').find((l) => l.startsWith(`| \`${id}\` |`));

describe('bench targets table', () => {
  it('lists every target, measured or not, in order', () => {
    const table = targetsTable([{ result: { id: 'heap-host', measured: '722 vs 224 B: 3.22×', met: false }, run: 'abc1234, 2026-11-23 06:13 UTC' }], '');
    const ids = table.split('\n').slice(2).map((l) => /^\| `([^`]+)` \|/.exec(l)?.[1]);
    assert.deepEqual(ids, TARGETS.map((t) => t.id));
    assert.match(rowOf(table, 'heap-host')!, /\| 722 vs 224 B: 3\.22× \| \*\*no\*\* \| abc1234, 2026-11-23 06:13 UTC \|$/);
    assert.match(rowOf(table, 'ingest-points')!, /not measured yet \| — \| `npm run bench -- collector` \|$/);
  });

  it('keeps the rows a run did not measure as the previous table had them', () => {
    const first = targetsTable([{ result: { id: 'scrape-1.1k', measured: '3.1× faster', met: false }, run: 'old' }], '');
    const second = targetsTable([{ result: { id: 'heap-churn', measured: 'flat', met: true }, run: 'new' }], first);
    assert.equal(rowOf(second, 'scrape-1.1k'), rowOf(first, 'scrape-1.1k'));
    assert.match(rowOf(second, 'heap-churn')!, /\| flat \| \*\*yes\*\* \| new \|$/);
  });

  it('without a previous table, shows only what the run measured', () => {
    const table = targetsTable([{ result: { id: 'heap-declared', measured: 'x', met: 'measured' }, run: 'this run' }]);
    assert.equal(table.split('\n').length, 3);
    assert.match(rowOf(table, 'heap-declared')!, /\| x \| measured \| this run \|$/);
  });

  it('refuses a verdict for a target it does not know', () => {
    assert.throws(() => targetsTable([{ result: { id: 'heap-typo', measured: 'x', met: true }, run: 'r' }]), /no target "heap-typo"; targets: heap-host/);
  });

  it('bench/README.md holds the table, every target in it', () => {
    const readme = readFileSync(new URL('../../bench/README.md', import.meta.url), 'utf8');
    const at = sectionOf(readme, 'targets');
    assert.ok(at !== undefined, 'bench/README.md has <!-- bench:targets:start --> … end');
    const section = readme.slice(at.from, at.to);
    for (const t of TARGETS) assert.ok(rowOf(section, t.id) !== undefined, `row ${t.id}`);
    assert.equal(targetsTable([], section).trim(), section.trim(), 'the section is what the generator writes');
  });
});
