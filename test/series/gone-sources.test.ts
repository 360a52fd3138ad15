// A source series that expires while another sender keeps its output series, and comes back under
// the same resource (src/series/output-set.ts gone sources, streams.ts `resume`): every shape that
// adds up counts it once -- its next report goes on from its last, or, below it, adds whole
// (series/carry.ts) -- and what the series carries of it survives a checkpoint. The oracle is what
// the senders counted (test/model/model.ts says the same for counters and explicit histograms).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DataPoint, ExponentialHistogram, Histogram } from '@opentelemetry/sdk-metrics';
import { IngestStore } from '../../src/ingest/ingest-store.ts';
import { MAX_GONE_SOURCES } from '../../src/series/carry.ts';
import {
  EPOCH_SECONDS,
  exponential,
  exponentialPoint,
  fakeClock,
  histogram,
  histogramPoint,
  metric,
  numberPoint,
  request,
  sum,
} from '../ingest/helpers.ts';
import type { OtlpMetricData } from '../../src/otlp/types.ts';

const EXPIRY = 60_000;
const KEY = { k: 'a' };

/** A store of two senders of one series, sender 0 made to expire while sender 1 keeps it. */
function world() {
  const clock = fakeClock();
  const store = new IngestStore({ clock, expiryMillis: EXPIRY });
  let t = 10;
  const send = (sender: number, data: OtlpMetricData, name = 'daemon.events'): void => {
    const r = store.ingest(
      request([metric(name, data)], { 'service.name': 'd', 'service.instance.id': `i${sender}` }),
    );
    assert.equal(r.rejectedDataPoints, 0, r.errorMessage);
  };
  /** Sender 0 silent past expiry while sender 1 sends `steady` every 10 s. */
  const expire0 = (steady: () => OtlpMetricData, name?: string): void => {
    for (let i = 0; i < 8; i++) {
      clock.advance(10_000);
      t += 10;
      send(1, steady(), name);
    }
  };
  const time = (): number => (t += 1);
  return { store, clock, send, expire0, time };
}

async function point(store: IngestStore, name: string): Promise<DataPoint<unknown> | undefined> {
  const { resourceMetrics } = await store.collect();
  for (const sm of resourceMetrics.scopeMetrics)
    for (const m of sm.metrics) if (m.descriptor.name === name) return m.dataPoints[0];
  return undefined;
}

const value = async (store: IngestStore, name = 'daemon.events'): Promise<number | undefined> =>
  (await point(store, name))?.value as number | undefined;

test('a cumulative counter: back unchanged it adds nothing, higher the difference, restarted its total whole', async () => {
  for (const [back, then, want] of [
    [1, 4, [2, 2, 5]],
    [3, 3, [2, 4, 4]],
  ] as const) {
    const { store, send, expire0, time } = world();
    const c = (v: number, start = 1): OtlpMetricData => sum([numberPoint(v, KEY, start, time())]);
    send(1, c(1));
    send(0, c(1));
    expire0(() => c(1));
    assert.equal(await value(store), 2, 'the expired source stays counted');
    send(0, c(back));
    send(0, c(then));
    assert.equal(await value(store), want[2], `back with ${back}, then ${then}`);
  }
  // Restarted while gone: its total below its last is new whole.
  const { store, send, expire0, time } = world();
  const c = (v: number, start = 1): OtlpMetricData => sum([numberPoint(v, KEY, start, time())]);
  send(1, c(1));
  send(0, c(3));
  expire0(() => c(1));
  send(0, c(1, time()));
  assert.equal(await value(store), 5, '3 kept, 1 whole, 1 from sender 1');
});

test('a delta counter: back, its windows add on to what it counted', async () => {
  const { store, send, expire0, time } = world();
  const d = (v: number): OtlpMetricData => {
    const end = time();
    return sum([numberPoint(v, KEY, end - 1, end)], 'delta');
  };
  send(1, d(1));
  send(0, d(2));
  expire0(() => d(0));
  assert.equal(await value(store), 3);
  send(0, d(5));
  assert.equal(await value(store), 8);
});

test('an explicit-bucket histogram: back unchanged adds nothing, restarted adds whole', async () => {
  const { store, send, expire0, time } = world();
  const h = (counts: number[], start = 1): OtlpMetricData =>
    histogram([histogramPoint([1], counts, counts[0]!, KEY, start, time())]);
  send(1, h([1, 0]));
  send(0, h([2, 1]));
  expire0(() => h([1, 0]));
  send(0, h([2, 1]));
  let p = (await point(store, 'daemon.events')) as DataPoint<Histogram>;
  assert.deepEqual([p.value.count, p.value.buckets.counts], [4, [3, 1]], 'back unchanged');
  send(0, h([1, 0], time()));
  p = (await point(store, 'daemon.events')) as DataPoint<Histogram>;
  assert.deepEqual([p.value.count, p.value.buckets.counts], [5, [4, 1]], 'restarted: whole');
});

test('a histogram whose layout changed while a source was gone counts that source whole when back', async () => {
  const { store, send, expire0, time } = world();
  const h = (bounds: number[], counts: number[]): OtlpMetricData =>
    histogram([histogramPoint(bounds, counts, 0, KEY, 1, time())]);
  send(1, h([1], [1, 0]));
  send(0, h([1], [2, 0]));
  expire0(() => h([1], [1, 0]));
  // Sender 1, the series' only live source, takes a new layout: everything counted moves into it.
  send(1, h([1, 2], [1, 0, 0]));
  let p = (await point(store, 'daemon.events')) as DataPoint<Histogram>;
  assert.equal(p.value.count, 3);
  // Sender 0 back in the new layout (the model: its old counts are in the base, its new whole).
  send(0, h([1, 2], [2, 0, 0]));
  p = (await point(store, 'daemon.events')) as DataPoint<Histogram>;
  assert.equal(p.value.count, 5);
});

test('an exponential histogram: back unchanged adds nothing', async () => {
  const { store, send, expire0, time } = world();
  const e = (counts: number[]): OtlpMetricData =>
    exponential([exponentialPoint(0, 0, counts, 1, KEY, 1, time())]);
  send(1, e([1]));
  send(0, e([2, 1]));
  expire0(() => e([1]));
  assert.equal(
    ((await point(store, 'daemon.events')) as DataPoint<ExponentialHistogram>).value.count,
    4,
  );
  send(0, e([2, 1]));
  assert.equal(
    ((await point(store, 'daemon.events')) as DataPoint<ExponentialHistogram>).value.count,
    4,
  );
  send(0, e([3, 1]));
  assert.equal(
    ((await point(store, 'daemon.events')) as DataPoint<ExponentialHistogram>).value.count,
    5,
  );
});

test('a checkpoint keeps what a gone source counted in its series', async () => {
  const { store, send, expire0, time, clock } = world();
  const c = (v: number): OtlpMetricData => sum([numberPoint(v, KEY, 1, time())]);
  send(1, c(1));
  send(0, c(3));
  expire0(() => c(1));
  const restored = new IngestStore({ clock, expiryMillis: EXPIRY });
  restored.restore(store.snapshot());
  assert.equal(await value(restored), 4);
});

test('gone sources kept apart are bounded: past the cap the oldest fold into the base, still counted', async () => {
  const { store, clock } = world();
  // Each round a thousand new senders count 1 in the series and expire while sender "live" keeps it.
  const extra = 5;
  const send = (instance: string): void => {
    const now = clock.wallMillis() / 1000 - EPOCH_SECONDS;
    const r = store.ingest(
      request([metric('daemon.events', sum([numberPoint(1, KEY, 1, now)]))], {
        'service.instance.id': instance,
      }),
    );
    assert.equal(r.rejectedDataPoints, 0, r.errorMessage);
  };
  const n = MAX_GONE_SOURCES + extra;
  for (let i = 0; i < n; i += 1000) {
    for (let j = i; j < Math.min(n, i + 1000); j++) send(`s${j}`);
    send('live');
    clock.advance(EXPIRY / 2);
    send('live');
    clock.advance(EXPIRY / 2 + 1);
    send('live');
  }
  assert.equal(await value(store), n + 1, 'every source counted once');
  send('s0');
  assert.equal(await value(store), n + 2, 'a folded source back counts whole');
  send(`s${n - 1}`);
  assert.equal(await value(store), n + 2, 'one kept apart goes on from its last');
});
