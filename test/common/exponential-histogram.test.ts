// The exponential-histogram algebra (common/exponential-histogram.ts) every stage uses: a value's
// bucket stays the bucket holding it when downscaled and when two histograms are added, nothing is
// lost, and a sum's sides stay within the bucket limit.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  addExponential,
  bucketBound,
  downscale,
  MIN_SCALE,
  nativeSide,
  otelSide,
  type ExponentialSide,
  type ExponentialSum,
} from '../../src/common/exponential-histogram.ts';

/** The OTel bucket of `v > 0` at `scale` (exact where a float allows: checked against the bounds). */
function indexOf(v: number, scale: number): number {
  let i = Math.floor(Math.log2(v) * 2 ** scale);
  while (bucketBound(scale, i) >= v) i--;
  while (bucketBound(scale, i + 1) < v) i++;
  return i;
}

/** A side holding `values` (magnitudes) at `scale`. */
function sideOf(values: readonly number[], scale: number): ExponentialSide {
  if (values.length === 0) return { offset: 0, counts: [] };
  const at = values.map((v) => indexOf(v, scale));
  const first = Math.min(...at);
  const counts = new Array<number>(Math.max(...at) - first + 1).fill(0);
  for (const i of at) counts[i - first]!++;
  return { offset: first, counts };
}

function histogram(
  positive: readonly number[],
  negative: readonly number[],
  scale: number,
): ExponentialSum {
  return {
    scale,
    zeroCount: 0,
    zeroThreshold: 0,
    positive: sideOf(positive, scale),
    negative: sideOf(negative, scale),
    sum: 0,
    count: positive.length + negative.length,
  };
}

const values = fc.array(fc.double({ min: 1e-6, max: 1e6, noNaN: true }), { maxLength: 30 });
const scale = fc.integer({ min: -4, max: 12 });

test('downscaling puts every value in the bucket that holds it at the coarser scale', () => {
  fc.assert(
    fc.property(values, scale, fc.integer({ min: 0, max: 8 }), (vs, s, shift) => {
      assert.deepEqual(downscale(sideOf(vs, s), shift), sideOf(vs, s - shift));
    }),
  );
});

test('adding two histograms: every value in its bucket at the sum scale, counts added, each side within the limit', () => {
  fc.assert(
    fc.property(
      values,
      values,
      values,
      scale,
      scale,
      fc.integer({ min: 1, max: 160 }),
      (pa, pb, na, sa, sb, max) => {
        const sum = addExponential(histogram(pa, na, sa), histogram(pb, [], sb), max);
        assert.ok(sum.scale <= Math.min(sa, sb) && sum.scale >= MIN_SCALE);
        if (sum.scale > MIN_SCALE)
          for (const side of [sum.positive, sum.negative])
            assert.ok(side.counts.length <= max, `${side.counts.length} > ${max}`);
        assert.deepEqual(sum.positive, sideOf([...pa, ...pb], sum.scale));
        assert.deepEqual(sum.negative, sideOf(na, sum.scale));
        assert.equal(sum.count, pa.length + pb.length + na.length);
        // One scale finer would have needed more buckets than allowed.
        if (sum.scale < Math.min(sa, sb)) {
          const finer = Math.max(
            sideOf([...pa, ...pb], sum.scale + 1).counts.length,
            sideOf(na, sum.scale + 1).counts.length,
          );
          assert.ok(finer > max);
        }
      },
    ),
  );
});

test('a side in Prometheus indexing is one higher and back; an empty side sits at 0 either way', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: -1000, max: 1000 }),
      fc.array(fc.nat(), { minLength: 1, maxLength: 5 }),
      (offset, counts) => {
        const native = nativeSide({ offset, counts });
        assert.equal(native.offset, offset + 1);
        assert.deepEqual(otelSide(native.offset, native.counts), { offset, counts });
      },
    ),
  );
  assert.deepEqual(nativeSide({ offset: 7, counts: [] }), { offset: 0, counts: [] });
  assert.deepEqual(otelSide(7, []), { offset: 0, counts: [] });
});
