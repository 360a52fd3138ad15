// The series layer's rules for values that come from several sources: a cumulative report carried
// over restarts (series/aggregation.ts SUM.since), and what a producer last sent, so that it sends
// only what changed (series/sources.ts). Levels combined over live members, the overflow fold and
// the id gap are held end to end by test/cluster/merge.test.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { SUM } from '../../src/series/aggregation.ts';
import { LastSent } from '../../src/series/sources.ts';

test('a sum carried from cumulative reports adds, per source, the last value of every run between restarts', () => {
  // A source's life: runs between restarts, each a first value and increments (its reports are cumulative).
  const run = fc.record({
    first: fc.nat({ max: 1000 }),
    steps: fc.array(fc.nat({ max: 1000 }), { maxLength: 5 }),
  });
  fc.assert(
    fc.property(
      fc.array(fc.array(run, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 4 }),
      (sources) => {
        const values = new Float64Array(1);
        let expected = 0;
        const streams = sources.map((runs) => {
          const reports: number[] = [];
          for (const { first, steps } of runs) {
            // A restart reports less than the run before ended on (from 0, anything is a new start).
            const before = reports.at(-1) ?? 0;
            let v = before === 0 ? first : first % before;
            reports.push(v);
            for (const d of steps) reports.push((v += d));
            expected += v;
          }
          return reports;
        });
        // The sources' reports interleaved; a source that stops reporting keeps what it added.
        const last = streams.map(() => NaN);
        let previous = 0;
        for (let step = 0, more = true; more; step++) {
          more = false;
          streams.forEach((reports, s) => {
            if (step >= reports.length) return;
            more = true;
            values[0]! += SUM.since(last[s], reports[step]!);
            last[s] = reports[step]!;
            assert.ok(values[0]! >= previous, 'never decreases');
            previous = values[0]!;
          });
        }
        assert.equal(values[0], expected);
      },
    ),
  );
});

test('what a producer last sent: a value or a histogram count and sum goes again only when it changed, or once forgotten', () => {
  const sent = new LastSent();
  assert.equal(sent.number(0, 0), true, 'nothing sent yet: even 0 goes');
  assert.equal(sent.number(0, 0), false);
  assert.equal(sent.number(0, 2), true);
  sent.forget(0);
  assert.equal(sent.number(0, 2), true, 'forgotten: sent again');
  assert.equal(sent.number(40, 1), true, 'an id past the columns grows them');
  assert.equal(sent.number(40, 1), false);
  assert.equal(sent.histogram(1, 3, 5), true);
  assert.equal(sent.histogram(1, 3, 5), false);
  assert.equal(sent.histogram(1, 3, 6), true, 'the same count with another sum changed');
  assert.equal(sent.histogram(1, 4, 6), true);
});
