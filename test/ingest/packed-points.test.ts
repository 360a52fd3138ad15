/**
 * The decoding thread's chunks travel with their number points in columns (packed-points.ts): what
 * the main thread rebuilds after the structured clone — values, missing values, the no-recorded-
 * value flag, times up to 2^64 − 1, attributes — is the request the thread decoded, whatever the
 * metric type; the columns are moved, not copied.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { packRequest, unpackRequest } from '../../src/ingest/packed-points.ts';
import type { OtlpExportRequest, OtlpNumberPoint } from '../../src/otlp/types.ts';

const point = (value: number | undefined, time: bigint, start = 0n, attributes = {}, noRecordedValue = false): OtlpNumberPoint => ({
  attributes,
  startTimeUnixNano: start,
  timeUnixNano: time,
  noRecordedValue,
  value,
});

const request: OtlpExportRequest = {
  resourceMetrics: [
    {
      resource: { 'service.name': 's' },
      scopeMetrics: [
        {
          scope: { name: 'scope', version: '1' },
          metrics: [
            {
              name: 'g',
              description: 'a gauge',
              unit: '1',
              data: {
                type: 'gauge',
                points: [
                  point(1.5, 10n, 0n, { a: 'x' }),
                  point(-0, 10n),
                  point(NaN, 2n ** 64n - 1n, 2n ** 63n),
                  point(undefined, 11n, 5n, { a: 'x', b: [1, 2] }),
                  point(undefined, 12n, 5n, {}, true),
                ],
              },
            },
            { name: 's', description: '', unit: 'By', data: { type: 'sum', monotonic: true, temporality: 'delta', points: [point(3, 7n, 6n, { k: true })] } },
            { name: 'e', description: '', unit: '', data: { type: 'sum', monotonic: false, temporality: 'cumulative', points: [] } },
            {
              name: 'h',
              description: '',
              unit: 's',
              data: { type: 'histogram', temporality: 'cumulative', points: [{ attributes: {}, startTimeUnixNano: 1n, timeUnixNano: 2n, noRecordedValue: false, count: 2, sum: 3, bucketCounts: [1, 1], explicitBounds: [1] }] },
            },
            { name: 'q', description: '', unit: '', data: { type: 'summary', pointCount: 4 } },
            { name: 'z', description: '', unit: '', data: { type: 'empty' } },
          ],
        },
      ],
    },
  ],
};

test('a chunk packed, cloned with its columns moved, and unpacked is the request it was', () => {
  const { wire, transfer } = packRequest(request);
  assert.equal(transfer.length, 12, 'four columns for each of the three number metrics');
  const arrived = structuredClone(wire, { transfer });
  assert.ok(transfer.every((b) => b.byteLength === 0), 'the columns were moved, not copied');
  assert.deepStrictEqual(unpackRequest(arrived), request);
});

test('points without attributes share one empty object after the clone', () => {
  const points = Array.from({ length: 4 }, (_, i) => point(i, i < 2 ? 100n : 200n));
  const { wire, transfer } = packRequest({ resourceMetrics: [{ resource: {}, scopeMetrics: [{ scope: { name: 's', version: '' }, metrics: [{ name: 'g', description: '', unit: '', data: { type: 'gauge', points } }] }] }] });
  const back = unpackRequest(structuredClone(wire, { transfer }));
  const data = back.resourceMetrics[0]!.scopeMetrics[0]!.metrics[0]!.data;
  assert.ok(data.type === 'gauge');
  assert.deepStrictEqual(data.points, points);
  assert.equal(new Set(data.points.map((p) => p.attributes)).size, 1);
});
