// One aggregation per histogram kind (src/series/aggregation.ts): merge, diff, restart and the SDK's
// point in and out, as every stage that adds histograms uses them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EXPONENTIAL_HISTOGRAM, HISTOGRAM, mergeInto } from '../../src/series/aggregation.ts';

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
