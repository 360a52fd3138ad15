// The ingest's output series as sets of the store (src/series/output-set.ts): the order
// a collection serves them in survives removal (expiry, an ended stream) and a sender's change of
// bucket layout (its series moves to another set), and every charge comes back.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DataPoint, Histogram } from '@opentelemetry/sdk-metrics';
import { IngestStore } from '../../src/ingest/ingest-store.ts';
import { HISTOGRAM } from '../../src/series/aggregation.ts';
import {
  fakeClock,
  gauge,
  histogram,
  histogramPoint,
  metric,
  numberPoint,
  request,
} from './helpers.ts';

async function points(store: IngestStore): Promise<DataPoint<unknown>[]> {
  const { resourceMetrics } = await store.collect();
  return resourceMetrics.scopeMetrics.flatMap((sm) =>
    sm.metrics
      .filter((m) => !m.descriptor.name.startsWith('jobmeter.'))
      .flatMap((m) => m.dataPoints as DataPoint<unknown>[]),
  );
}

test('a series removed between others leaves them in their order, with their values; one made again comes last', async () => {
  const clock = fakeClock();
  const store = new IngestStore({ clock });
  const g = (host: string, v: number, end = false, t = 110) =>
    numberPoint(v, { host }, 100, t, end);
  store.ingest(
    request([metric('daemon.level', gauge([g('a', 1), g('b', 2), g('c', 3), g('d', 4)]))]),
  );
  store.ingest(request([metric('daemon.level', gauge([g('b', 0, true)]))]));
  assert.deepEqual(
    (await points(store)).map((p) => [p.attributes.host, p.value]),
    [
      ['a', 1],
      ['c', 3],
      ['d', 4],
    ],
  );
  store.ingest(
    request([metric('daemon.level', gauge([g('b', 7, false, 120), g('a', 5, false, 120)]))]),
  );
  assert.deepEqual(
    (await points(store)).map((p) => [p.attributes.host, p.value]),
    [
      ['a', 5],
      ['c', 3],
      ['d', 4],
      ['b', 7],
    ],
  );
  store.ingest(
    request([
      metric(
        'daemon.level',
        gauge([g('a', 0, true), g('d', 0, true), g('b', 0, true), g('c', 0, true)]),
      ),
    ]),
  );
  assert.deepEqual(await points(store), []);
  assert.equal(store.memoryBytes, 0, 'every charge given back');
});

test('a series whose only sender changes its bucket layout keeps its place and start among the others', async () => {
  const store = new IngestStore();
  const h = (route: string, bounds: number[], counts: number[], sum: number, t: number) =>
    histogramPoint(bounds, counts, sum, { route }, 100, t);
  store.ingest(
    request([
      metric(
        'daemon.latency',
        histogram([
          h('a', [1], [1, 0], 0.5, 110),
          h('b', [1], [0, 1], 2, 110),
          h('c', [1], [1, 0], 0.5, 110),
        ]),
      ),
    ]),
  );
  const before = (await points(store)) as DataPoint<Histogram>[];
  store.ingest(request([metric('daemon.latency', histogram([h('b', [2, 4], [0, 0, 1], 5, 120)]))]));
  const after = (await points(store)) as DataPoint<Histogram>[];
  assert.deepEqual(
    after.map((p) => [p.attributes.route, p.value.buckets.boundaries, p.value.buckets.counts]),
    [
      ['a', [1], [1, 0]],
      // It keeps the bound it was counted in beside its sender's new ones (aggregation.ts
      // HISTOGRAM.keptLayout): no `le` it served goes back or leaves.
      ['b', [1, 2, 4], [0, 0, 0, 1]],
      ['c', [1], [1, 0]],
    ],
  );
  assert.deepEqual(after[1]!.startTime, before[1]!.startTime);
  store.ingest(request([metric('daemon.latency', histogram([h('a', [1], [2, 0], 1, 130)]))]));
  assert.deepEqual(
    ((await points(store)) as DataPoint<Histogram>[]).map((p) => [
      p.attributes.route,
      p.value.count,
    ]),
    [
      ['a', 2],
      ['b', 1],
      ['c', 1],
    ],
  );
});

test('expiry removes idle series and gives their charge back; the others keep their values', async () => {
  const clock = fakeClock();
  const store = new IngestStore({ clock, expiryMillis: 60_000 });
  store.ingest(
    request([
      metric(
        'daemon.level',
        gauge([numberPoint(1, { host: 'a' }, 100, 110), numberPoint(2, { host: 'b' }, 100, 110)]),
      ),
    ]),
  );
  const held = store.memoryBytes;
  clock.advance(40_000);
  store.ingest(request([metric('daemon.level', gauge([numberPoint(3, { host: 'b' }, 100, 150)]))]));
  clock.advance(30_000);
  assert.deepEqual(
    (await points(store)).map((p) => [p.attributes.host, p.value]),
    [['b', 3]],
  );
  assert.ok(store.memoryBytes < held);
  clock.advance(60_000);
  assert.deepEqual(await points(store), []);
  assert.equal(store.memoryBytes, 0);
});

test('a layout change re-buckets counts upwards: shared bounds keep their cumulative counts, nothing moves down', () => {
  const acc = { counts: [5, 3, 2, 1], sum: 40, count: 11 };
  // [1, 2, 4] → [2, 3, 4, 8]: ≤1 and (1,2] into ≤2, (2,4] into (3,4], +Inf stays +Inf.
  assert.deepEqual(HISTOGRAM.rebucket(acc, [1, 2, 4], [2, 3, 4, 8]), {
    counts: [8, 0, 2, 0, 1],
    sum: 40,
    count: 11,
  });
  // A bound dropped: its bucket goes up to the next one left.
  assert.deepEqual(HISTOGRAM.rebucket(acc, [1, 2, 4], [2]), { counts: [8, 3], sum: 40, count: 11 });
  // No bounds either way: everything is the +Inf bucket.
  assert.deepEqual(HISTOGRAM.rebucket(acc, [1, 2, 4], []), { counts: [11], sum: 40, count: 11 });
  assert.deepEqual(HISTOGRAM.rebucket({ counts: [7], sum: 9, count: 7 }, [], [1, 2]), {
    counts: [0, 0, 7],
    sum: 9,
    count: 7,
  });
  // The same layout is the identity.
  assert.deepEqual(HISTOGRAM.rebucket(acc, [1, 2, 4], [1, 2, 4]), acc);
});
