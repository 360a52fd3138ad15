// One aggregation per kind (src/series/aggregation.ts): a histogram's merge, diff, restart, what a
// report adds since the last and the SDK's point in and out; a level's merge by its rule.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  EXPONENTIAL_HISTOGRAM,
  HISTOGRAM,
  LEVEL,
  mergeInto,
  mergePoints,
  SUM,
  type LevelRule,
} from '../../src/series/aggregation.ts';

const a = { counts: [1, 2, 3], sum: 10, count: 6 };
const b = { counts: [0, 1, 1], sum: 4, count: 2 };

test('a histogram merge adds counts, sum and count; a diff is its inverse', () => {
  const merged = HISTOGRAM.merge(a, b);
  assert.deepEqual(merged, { counts: [1, 3, 4], sum: 14, count: 8 });
  assert.deepEqual(HISTOGRAM.diff(b, merged), a);
  assert.deepEqual(a, { counts: [1, 2, 3], sum: 10, count: 6 }, 'arguments unchanged');
  assert.equal(mergeInto(HISTOGRAM, undefined, b), b);
});

test('a cumulative report restarted when its count went down', () => {
  assert.equal(HISTOGRAM.restarted(a, b), true);
  assert.equal(HISTOGRAM.restarted(b, a), false);
  assert.equal(HISTOGRAM.restarted(a, a), false);
});

test("what a cumulative report adds since the source's last: all of it when first or restarted", () => {
  assert.equal(HISTOGRAM.since(undefined, a), a);
  assert.deepEqual(HISTOGRAM.since(b, a), { counts: [1, 1, 2], sum: 6, count: 4 });
  assert.equal(HISTOGRAM.since(a, b), b, 'its count went down: a restart, added whole');
});

test("a sum's cumulative report restarts and adds by the same rule: first (NaN) or lower is whole", () => {
  assert.deepEqual(
    [SUM.since(NaN, 5), SUM.since(5, 8), SUM.since(8, 2), SUM.since(undefined, 3)],
    [5, 3, 2, 3],
  );
  assert.deepEqual(
    [SUM.restarted(NaN, 1), SUM.restarted(8, 2), SUM.restarted(2, 2)],
    [false, true, false],
  );
});

test("a level's sources merge by the instrument's rule: added, the largest, the last written", () => {
  const merged = (rule: LevelRule) => [3, 7, 5].reduce(LEVEL[rule]);
  assert.deepEqual((['sum', 'max', 'last'] as const).map(merged), [15, 7, 5]);
});

test("the SDK's points in and out: explicit keeps the bounds, exponential adds at the coarser scale", () => {
  const point = { buckets: { boundaries: [1, 2], counts: [1, 2, 3] }, sum: 10, count: 6, min: 0 };
  const acc = HISTOGRAM.fromPoint(point);
  assert.deepEqual(acc, a);
  assert.deepEqual(HISTOGRAM.toPoint(HISTOGRAM.merge(acc, b), point), {
    buckets: { boundaries: [1, 2], counts: [1, 3, 4] },
    sum: 14,
    count: 8,
  });
  const side = (offset: number, bucketCounts: number[]) => ({ offset, bucketCounts });
  const e = (scale: number, offset: number, counts: number[]) =>
    EXPONENTIAL_HISTOGRAM.fromPoint({
      scale,
      zeroCount: 1,
      sum: 5,
      count: counts.reduce((x, y) => x + y, 1),
      positive: side(offset, counts),
      negative: side(0, []),
    });
  const sum = EXPONENTIAL_HISTOGRAM.merge(e(1, 2, [1, 1]), e(0, 1, [2]));
  assert.deepEqual(EXPONENTIAL_HISTOGRAM.toPoint(sum, undefined as never), {
    scale: 0,
    zeroCount: 2,
    sum: 10,
    count: 6,
    positive: side(1, [4]),
    negative: side(0, []),
  });
});

test("two points of one series merge as one: a histogram's sum, min and max where both have them", () => {
  const point = (counts: number[], extremes: object) => ({
    buckets: { boundaries: [1, 2], counts },
    count: counts.reduce((x, y) => x + y),
    ...extremes,
  });
  assert.deepEqual(
    mergePoints(
      HISTOGRAM,
      point([1, 0, 1], { sum: 4, min: 0.5, max: 3 }),
      point([0, 2, 0], { sum: 3, min: 1.5, max: 1.5 }),
    ),
    point([1, 2, 1], { sum: 7, min: 0.5, max: 3 }),
  );
  assert.deepEqual(
    mergePoints(HISTOGRAM, point([1, 0, 0], { sum: 1 }), point([1, 0, 0], { min: 1, max: 1 })),
    point([2, 0, 0], {}),
    'what one of them lacks the merge has not',
  );
  assert.equal(mergePoints(SUM, 2, 3), 5);
});
