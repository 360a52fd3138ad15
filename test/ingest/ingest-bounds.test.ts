/**
 * Ingest bounds at the store: what a sender sends is bounded in length before it is kept,
 * and the store's estimated bytes stay under `maxMemoryBytes`; past it new series are refused with
 * `partial_success` and counted in `jobmeter.ingest.refused{reason}`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { REFUSED_METRIC } from '../../src/domain/catalog.ts';
import { IngestStore } from '../../src/ingest/ingest-store.ts';
import { boundsBytes } from '../../src/ingest/memory-estimate.ts';
import {
  collected,
  refusedCounts,
  fakeClock,
  gauge,
  histogram,
  histogramPoint,
  metric,
  numberPoint,
  request,
  sum,
} from './helpers.ts';

const MiB = 1024 * 1024;
const huge = (i: number, length = MiB): string => `v${i}-` + 'x'.repeat(length);

describe('ingest bounds in bytes', () => {
  it('keeps a bounded number of bytes per series however long the attribute values, and tells long values apart', async () => {
    const store = new IngestStore();
    for (let i = 0; i < 20; i++) {
      const r = store.ingest(
        request([metric('daemon.load', gauge([numberPoint(i, { payload: huge(i) })]))], {
          'service.name': 'd',
          blob: huge(i),
        }),
      );
      assert.equal(r.rejectedDataPoints, 0, r.errorMessage);
    }
    // 20 streams: two values sharing a 256-character prefix are still two series.
    assert.equal(store.seriesCount, 20);
    // A few KiB each, not each 1 MiB value kept whole in its key (40 MiB for these 20).
    assert.ok(store.memoryBytes < 20 * 8 * 1024, `memoryBytes ${store.memoryBytes}`);
    const points = (await collected(store))
      .get('daemon.load')!
      .flatMap((m) => m.dataPoints as { attributes: Record<string, unknown> }[]);
    for (const p of points) assert.ok(String(p.attributes['payload']).length <= 256);
  });

  it('refuses a metric name or unit past the length bound, cuts a description, a scope name and attribute keys', async () => {
    const store = new IngestStore();
    const longName = 'n'.repeat(MiB);
    const r = store.ingest(
      request(
        [
          metric(longName, gauge([numberPoint(1)])),
          metric('daemon.u', gauge([numberPoint(1)]), 'u'.repeat(100)),
          {
            name: 'daemon.described',
            description: 'd'.repeat(MiB),
            unit: '',
            data: gauge([numberPoint(1, { ['k'.repeat(1000)]: 'a', '': 'b', ok: 'c' })]),
          },
        ],
        {},
        's'.repeat(MiB),
      ),
    );
    assert.equal(r.rejectedDataPoints, 2);
    assert.match(r.errorMessage, /a metric name longer than 255 characters \(1\)/);
    assert.match(r.errorMessage, /a unit longer than 63 characters \(1\)/);
    assert.ok(r.errorMessage.length <= 1024);
    const [data] = (await collected(store)).get('daemon.described')!;
    assert.ok(data!.descriptor.description.length <= 1024);
    assert.deepEqual(Object.keys(data!.dataPoints[0]!.attributes), ['ok']);
    const { resourceMetrics } = await store.collect();
    for (const sm of resourceMetrics.scopeMetrics) assert.ok(sm.scope.name.length <= 256);
    assert.deepEqual(await refusedCounts(store), { too_long: 2 });
  });

  it('refuses new series past the memory budget, keeps serving the ones it holds, and frees the budget when they expire', async () => {
    const clock = fakeClock();
    const store = new IngestStore({ maxMemoryBytes: 256 * 1024, expiryMillis: 60_000, clock });
    let accepted = 0;
    let lastMessage = '';
    for (let i = 0; i < 200; i++) {
      const attributes: Record<string, string> = {};
      for (let k = 0; k < 8; k++) attributes[`key${k}`] = huge(i * 8 + k, 300);
      const r = store.ingest(
        request([metric('daemon.jobs', sum([numberPoint(i, attributes, 1, 2)]))]),
      );
      if (r.rejectedDataPoints === 0) accepted++;
      else lastMessage = r.errorMessage;
      assert.ok(store.memoryBytes <= 256 * 1024);
    }
    assert.ok(accepted > 10 && accepted < 200, `accepted ${accepted}`);
    assert.match(
      lastMessage,
      /^1 data point rejected: daemon\.jobs: over the memory budget of 262144 bytes \(1\)$/,
    );
    assert.equal((await refusedCounts(store))['memory_budget'], 200 - accepted);
    assert.equal(store.seriesCount, accepted);
    // Expired series give their bytes back: new ones fit again.
    clock.advance(61_000);
    await store.collect();
    assert.equal(store.memoryBytes, 0);
    const r = store.ingest(
      request([metric('daemon.jobs', sum([numberPoint(1, { key0: 'again' }, 1, 2)]))]),
    );
    assert.equal(r.rejectedDataPoints, 0, r.errorMessage);
  });

  it('refuses the self-metric name from a sender', () => {
    const store = new IngestStore();
    const r = store.ingest(
      request([metric(REFUSED_METRIC, sum([numberPoint(5, { reason: 'x' })]))]),
    );
    assert.equal(r.rejectedDataPoints, 1);
    assert.match(r.errorMessage, /the name of a jobmeter self-metric/);
  });
});

describe('a histogram that keeps the bounds of its old layout', () => {
  const latency = (bounds: number[], counts: number[], sum: number) =>
    request([metric('daemon.latency', histogram([histogramPoint(bounds, counts, sum, {}, 1, 2)]))]);

  it('is charged for the bounds it adds, and gives them back when it expires', async () => {
    const clock = fakeClock();
    const store = new IngestStore({ expiryMillis: 60_000, clock });
    assert.equal(store.ingest(latency([1, 5], [1, 1, 0], 3)).rejectedDataPoints, 0);
    const before = store.memoryBytes;
    // The sender's new layout lacks 1 and adds 2: the series keeps [1, 2, 5].
    const r = store.ingest(latency([2, 5], [2, 1, 0], 4));
    assert.equal(r.rejectedDataPoints, 0, r.errorMessage);
    const [data] = (await collected(store)).get('daemon.latency')!;
    assert.deepEqual(
      (data!.dataPoints[0]!.value as { buckets: { boundaries: number[] } }).buckets.boundaries,
      [1, 2, 5],
    );
    assert.ok(boundsBytes(1) > 0);
    assert.equal(store.memoryBytes - before, boundsBytes(1));
    clock.advance(61_000);
    await store.collect();
    assert.equal(store.memoryBytes, 0);
  });

  it('past the memory budget, refuses the new layout and serves the series as it was', async () => {
    const sized = new IngestStore();
    sized.ingest(latency([1, 5], [1, 1, 0], 3));
    const store = new IngestStore({ maxMemoryBytes: sized.memoryBytes + boundsBytes(1) - 1 });
    assert.equal(store.ingest(latency([1, 5], [1, 1, 0], 3)).rejectedDataPoints, 0);
    const held = store.memoryBytes;
    const r = store.ingest(latency([2, 5], [2, 1, 0], 4));
    assert.equal(r.rejectedDataPoints, 1);
    assert.match(r.errorMessage, /daemon\.latency: over the memory budget/);
    assert.equal(store.memoryBytes, held);
    assert.equal((await refusedCounts(store))['memory_budget'], 1);
    const [data] = (await collected(store)).get('daemon.latency')!;
    const value = data!.dataPoints[0]!.value as {
      buckets: { boundaries: number[]; counts: number[] };
      count: number;
    };
    assert.deepEqual(value.buckets, { boundaries: [1, 5], counts: [1, 1, 0] });
    assert.equal(value.count, 2);
  });
});
