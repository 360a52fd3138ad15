/**
 * The ingest store on decoded requests: temporalities, resets, duplicates, expiry (on a fake
 * clock), bounds, caps, refusals and their partial-success message, and the SDK shapes it emits.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  AggregationTemporality,
  DataPointType,
  type ExponentialHistogram,
  type ResourceMetrics,
  type ScopeMetrics,
} from '@opentelemetry/sdk-metrics';
import { emptyResource } from '@opentelemetry/resources';
import { decodeCheckpoint, encodeCheckpoint } from '../../src/ingest/checkpoint.ts';
import { ingestedScope, IngestStore } from '../../src/ingest/ingest-store.ts';
import { preferIngested } from '../../src/ingest/prefer-ingested.ts';
import { createNamer } from '../../src/naming/to-families.ts';
import type { OtlpExponentialHistogramPoint, OtlpHistogramPoint } from '../../src/otlp/types.ts';
import {
  collected,
  heldNames,
  refusedCounts,
  exponential,
  exponentialPoint,
  fakeClock,
  gauge,
  histogram,
  histogramPoint,
  histograms,
  metric,
  ns,
  numberPoint,
  request,
  sum,
  values,
} from './helpers.ts';
import {
  addBuckets,
  applyPush,
  emptyBuckets,
  expireSource,
  INSTRUMENTS,
  KEYS,
  refusal,
  served as modelServed,
  sourceKey,
  type Buckets,
  type Key,
  type ModelState,
  type Point,
  type Temporality,
} from '../model/model.ts';

const RUN = { task: 'backup', kind: 'task', runner: 'subprocess', outcome: 'success' };
const key = (attributes: Record<string, unknown>): string => JSON.stringify(attributes);

describe('temporality', () => {
  it('keeps a cumulative sum as sent', async () => {
    const store = new IngestStore();
    store.ingest(
      request([metric('daemon.jobs', sum([numberPoint(3, { b: '2', a: '1' }, 100, 110)]))]),
    );
    store.ingest(
      request([metric('daemon.jobs', sum([numberPoint(5, { a: '1', b: '2' }, 100, 120)]))]),
    );
    // Attribute order does not matter; non-canonical attributes come out sorted.
    assert.deepEqual(await values(store, 'daemon.jobs'), { [key({ a: '1', b: '2' })]: 5 });
  });

  it("keeps the last of two cumulative points of one series at one time in one request, as the Collector's prometheus exporter does", async () => {
    const store = new IngestStore();
    const at110 = (...v: number[]) =>
      store.ingest(
        request([metric('daemon.jobs', sum(v.map((x) => numberPoint(x, { q: 'a' }, 100, 110))))]),
      );
    assert.equal(at110(3, 9).rejectedDataPoints, 0);
    assert.deepEqual(await values(store, 'daemon.jobs'), { [key({ q: 'a' })]: 9 });
    // The point held sent again (a retried export) changes nothing.
    at110(9);
    assert.deepEqual(await values(store, 'daemon.jobs'), { [key({ q: 'a' })]: 9 });
    // A lower total at that time is a restart of its sender, as at any time: what it counted stays
    // (the Collector's exporter would serve 4: its counter goes back).
    at110(4);
    assert.deepEqual(await values(store, 'daemon.jobs'), { [key({ q: 'a' })]: 13 });
    // At two later times the later is the report, whichever order they come in.
    store.ingest(
      request([
        metric(
          'daemon.jobs',
          sum([numberPoint(16, { q: 'a' }, 100, 130), numberPoint(14, { q: 'a' }, 100, 120)]),
        ),
      ]),
    );
    assert.deepEqual(await values(store, 'daemon.jobs'), { [key({ q: 'a' })]: 16 + 9 });
  });

  it('accumulates delta points into a cumulative sum and skips a retried (duplicate) delta, saying so', async () => {
    const store = new IngestStore();
    const send = (v: number, start: number, end: number) =>
      store.ingest(
        request([metric('daemon.jobs', sum([numberPoint(v, { q: 'a' }, start, end)], 'delta'))]),
      );
    send(3, 100, 110);
    send(2, 110, 120);
    const retried = send(2, 110, 120);
    send(4, 120, 130);
    // Skipped, a retried window is refused with its reason, never counted as accepted.
    assert.equal(retried.rejectedDataPoints, 1);
    assert.equal(retried.acceptedDataPoints, 0);
    assert.match(
      retried.errorMessage,
      /daemon\.jobs: a delta window already counted \(a retried export\)/,
    );
    assert.deepEqual(await values(store, 'daemon.jobs'), { [key({ q: 'a' })]: 9 });
    const m = (await collected(store)).get('daemon.jobs')![0]!;
    assert.equal(m.aggregationTemporality, AggregationTemporality.CUMULATIVE);
    assert.equal(m.dataPointType, DataPointType.SUM);
    assert.equal(m.dataPointType === DataPointType.SUM && m.isMonotonic, true);
  });

  it('adds a late delta window it never counted (an export queued through an outage), skips its retry', async () => {
    const store = new IngestStore();
    const send = (v: number, start: number, end: number) =>
      store.ingest(
        request([metric('daemon.jobs', sum([numberPoint(v, { q: 'a' }, start, end)], 'delta'))]),
      );
    send(3, 100, 110);
    // An outage: (110, 120] and (120, 130] are queued; (130, 140] is delivered first.
    send(5, 130, 140);
    const late = [send(2, 120, 130), send(1, 110, 120)];
    assert.deepEqual(
      late.map((r) => [r.acceptedDataPoints, r.rejectedDataPoints]),
      [
        [1, 0],
        [1, 0],
      ],
    );
    assert.deepEqual(await values(store, 'daemon.jobs'), { [key({ q: 'a' })]: 11 });
    const retried = send(1, 110, 120);
    assert.deepEqual([retried.acceptedDataPoints, retried.rejectedDataPoints], [0, 1]);
    assert.deepEqual(await values(store, 'daemon.jobs'), { [key({ q: 'a' })]: 11 });
    // The stream's time stayed the newest window's: that window's retry is still recognised.
    assert.equal(send(5, 130, 140).rejectedDataPoints, 1);
    assert.equal(send(4, 140, 150).acceptedDataPoints, 1);
    assert.deepEqual(await values(store, 'daemon.jobs'), { [key({ q: 'a' })]: 15 });
  });

  it('refuses a late delta window that overlaps counted ones, and counts it as refused, with its reason', async () => {
    const store = new IngestStore();
    const send = (v: number, start: number, end: number) =>
      store.ingest(
        request([metric('daemon.jobs', sum([numberPoint(v, {}, start, end)], 'delta'))]),
      );
    send(3, 100, 110);
    send(5, 130, 140);
    const overlap = send(7, 105, 125);
    assert.deepEqual([overlap.acceptedDataPoints, overlap.rejectedDataPoints], [0, 1]);
    assert.match(
      overlap.errorMessage,
      /daemon\.jobs: a delta window that overlaps windows already counted \(1\)/,
    );
    // The span it overlapped is still open to the windows really missing.
    assert.equal(send(1, 110, 120).acceptedDataPoints, 1);
    assert.equal(send(1, 120, 130).acceptedDataPoints, 1);
    assert.deepEqual(await values(store, 'daemon.jobs'), { '{}': 10 });
    assert.deepEqual(await refusedCounts(store), { delta_overlap: 1 });
  });

  it('adds a late window from before the first it counted, a late histogram window too', async () => {
    const store = new IngestStore();
    const send = (v: number, start: number, end: number) =>
      store.ingest(
        request([metric('daemon.jobs', sum([numberPoint(v, {}, start, end)], 'delta'))]),
      );
    send(3, 110, 120);
    assert.equal(send(2, 100, 110).acceptedDataPoints, 1);
    assert.equal(send(2, 100, 110).rejectedDataPoints, 1);
    assert.deepEqual(await values(store, 'daemon.jobs'), { '{}': 5 });
    const hist = (counts: number[], start: number, end: number) =>
      store.ingest(
        request([
          metric(
            'daemon.latency',
            histogram(
              [histogramPoint([1], counts, counts[0]! + 2 * counts[1]!, {}, start, end)],
              'delta',
            ),
          ),
        ]),
      );
    hist([1, 0], 100, 110);
    hist([0, 1], 120, 130);
    assert.equal(hist([1, 1], 110, 120).acceptedDataPoints, 1);
    assert.equal(hist([1, 1], 110, 120).rejectedDataPoints, 1);
    assert.deepEqual((await histograms(store, 'daemon.latency'))['{}'], {
      buckets: { boundaries: [1], counts: [2, 2] },
      sum: 6,
      count: 4,
    });
  });

  it('keeps a bounded number of uncounted spans; a window in one it forgot is refused, never counted twice', async () => {
    const store = new IngestStore();
    const send = (v: number, start: number, end: number) =>
      store.ingest(
        request([metric('daemon.jobs', sum([numberPoint(v, {}, start, end)], 'delta'))]),
      );
    send(1, 100, 110);
    // Every other window missing: 9 spans left open, one more than MAX_GAPS (8).
    for (let i = 1; i <= 9; i++) send(1, 100 + 20 * i, 110 + 20 * i);
    assert.equal(
      send(1, 110, 120).rejectedDataPoints,
      1,
      'the oldest span is forgotten: taken as counted',
    );
    assert.equal(send(1, 130, 140).acceptedDataPoints, 1, 'the next one is still open');
    assert.deepEqual(await values(store, 'daemon.jobs'), { '{}': 11 });
  });

  it('drops an uncounted span once it is older than any point it takes', async () => {
    const clock = fakeClock();
    const store = new IngestStore({ clock });
    const send = (start: number, end: number) =>
      store.ingest(
        request([metric('daemon.jobs', sum([numberPoint(1, {}, start, end)], 'delta'))]),
      );
    const gaps = () => store.snapshot().instruments[0]!.series[0]!.streams[0]!.gaps;
    send(100, 110);
    send(120, 130);
    assert.deepEqual(gaps(), [ns(110), ns(120)]);
    // Pushing every 4 minutes (inside the 5-minute expiry) for 80 minutes: the span is past the
    // hour a point may be late by, and goes.
    for (let end = 130; end < 130 + 80 * 60; end += 240) {
      clock.advance(240_000);
      send(end, end + 240);
    }
    assert.equal(gaps(), undefined);
    assert.equal(send(110, 120).rejectedDataPoints, 1, 'a point in it is too old anyway');
  });

  it('refuses a negative delta on a monotonic sum, accepts it on an up-down sum', async () => {
    const store = new IngestStore();
    const r1 = store.ingest(
      request([metric('daemon.jobs', sum([numberPoint(-1, {}, 0, 10)], 'delta'))]),
    );
    assert.equal(r1.rejectedDataPoints, 1);
    store.ingest(
      request([metric('daemon.level', sum([numberPoint(5, {}, 0, 10)], 'delta', false))]),
    );
    store.ingest(
      request([metric('daemon.level', sum([numberPoint(-2, {}, 10, 20)], 'delta', false))]),
    );
    assert.deepEqual(await values(store, 'daemon.level'), { '{}': 3 });
  });

  it('treats up-down sums and gauges as levels: the latest value of each source; of several sources, the last written, never added', async () => {
    const store = new IngestStore();
    store.ingest(
      request([metric('daemon.depth', gauge([numberPoint(5, {}, 0, 10)]))], {
        'service.name': 'a',
      }),
    );
    store.ingest(
      request([metric('daemon.depth', gauge([numberPoint(2, {}, 0, 20)]))], {
        'service.name': 'a',
      }),
    );
    store.ingest(
      request([metric('daemon.depth', gauge([numberPoint(4, {}, 0, 20)]))], {
        'service.name': 'b',
      }),
    );
    assert.deepEqual(
      await values(store, 'daemon.depth'),
      { '{}': 4 },
      "two resources are merged: b's 4, written last (a new resource is the daemon's next process), not 2 + 4",
    );
  });

  it('a sender that changes temporality keeps what it counted, and its next total counts whole, whatever it reads, across a restore too', async () => {
    const store = new IngestStore();
    const send = (s: IngestStore, v: number, start: number, end: number, delta: boolean) =>
      s.ingest(
        request([
          metric('daemon.jobs', sum([numberPoint(v, {}, start, end)], delta ? 'delta' : undefined)),
        ]),
      );
    send(store, 3, 100, 110, true);
    send(store, 2, 110, 120, true);
    // The same sender restarted cumulative: its first total, 5, reads as the windows' sum.
    send(store, 5, 200, 210, false);
    assert.deepEqual(await values(store, 'daemon.jobs'), { '{}': 10 });
    send(store, 7, 200, 220, false);
    assert.deepEqual(await values(store, 'daemon.jobs'), { '{}': 12 });
    // And back to delta, then through a checkpoint, to cumulative again.
    send(store, 1, 220, 230, true);
    assert.deepEqual(await values(store, 'daemon.jobs'), { '{}': 13 });
    const restored = new IngestStore();
    restored.restore(decodeCheckpoint(encodeCheckpoint(store.snapshot())));
    send(restored, 13, 300, 310, false);
    assert.deepEqual(await values(restored, 'daemon.jobs'), { '{}': 26 });
  });

  it('a histogram sender that changes temporality keeps what it counted in its count, sum and every bucket, and its next total counts whole, across a restore too', async () => {
    const store = new IngestStore();
    const point = (counts: number[], sum: number, start: number, end: number) =>
      histogramPoint([1, 5], counts, sum, {}, start, end);
    const send = (s: IngestStore, p: OtlpHistogramPoint, delta: boolean) =>
      s.ingest(request([metric('daemon.latency', histogram([p], delta ? 'delta' : undefined))]));
    const served = async (s: IngestStore) => (await histograms(s, 'daemon.latency'))['{}'];
    // What the series serves when each of `points` counts whole: their buckets, sums, counts added.
    const counted = (...points: OtlpHistogramPoint[]) => ({
      buckets: {
        boundaries: [1, 5],
        counts: [0, 1, 2].map((i) => points.reduce((n, p) => n + p.bucketCounts[i]!, 0)),
      },
      sum: points.reduce((n, p) => n + p.sum!, 0),
      count: points.reduce((n, p) => n + p.count, 0),
    });
    const w1 = point([1, 1, 1], 10, 100, 110);
    const w2 = point([0, 2, 0], 6, 110, 120);
    send(store, w1, true);
    send(store, w2, true);
    // The same sender restarted cumulative: its first total, count 5, reads as the windows' count 5.
    const c1 = point([2, 2, 1], 20, 200, 210);
    send(store, c1, false);
    assert.deepEqual(await served(store), counted(w1, w2, c1), 'count 10, not 5');
    const c2 = point([2, 3, 1], 25, 200, 220);
    send(store, c2, false);
    assert.deepEqual(await served(store), counted(w1, w2, c2));
    // And back to delta (its windows add to the total it counted), then through a checkpoint to
    // cumulative again, a total above everything the stream counted.
    const w3 = point([0, 0, 1], 7, 220, 230);
    send(store, w3, true);
    assert.deepEqual(await served(store), counted(w1, w2, c2, w3));
    const restored = new IngestStore();
    restored.restore(decodeCheckpoint(encodeCheckpoint(store.snapshot())));
    const c3 = point([3, 6, 4], 60, 300, 310);
    send(restored, c3, false);
    assert.deepEqual(await served(restored), counted(w1, w2, c2, w3, c3), 'count 25, not 13');
  });

  it('an exponential histogram sender that changes temporality keeps what it counted, both ways', async () => {
    const store = new IngestStore();
    const point = (counts: number[], sum: number, start: number, end: number) =>
      exponentialPoint(2, 4, counts, sum, {}, start, end);
    const send = (p: OtlpExponentialHistogramPoint, delta: boolean) =>
      store.ingest(
        request([metric('rpc.latency', exponential([p], delta ? 'delta' : undefined), 's')]),
      );
    const served = async () => {
      const [m] = (await collected(store)).get('rpc.latency') ?? [];
      assert.equal(m?.dataPointType, DataPointType.EXPONENTIAL_HISTOGRAM);
      const { scale, positive, count, sum } = m.dataPoints[0]!.value;
      return { scale, positive, count, sum };
    };
    // What the series serves when each of `points` counts whole (one scale and offset: added bucket by bucket).
    const counted = (...points: OtlpExponentialHistogramPoint[]) => ({
      scale: 2,
      positive: {
        offset: 4,
        bucketCounts: [0, 1].map((i) =>
          points.reduce((n, p) => n + p.positive.bucketCounts[i]!, 0),
        ),
      },
      count: points.reduce((n, p) => n + p.count, 0),
      sum: points.reduce((n, p) => n + p.sum!, 0),
    });
    const w1 = point([1, 2], 3, 100, 110);
    const w2 = point([1, 1], 2, 110, 120);
    send(w1, true);
    send(w2, true);
    const c1 = point([2, 3], 6, 200, 210);
    send(c1, false);
    assert.deepEqual(await served(), counted(w1, w2, c1), 'count 10, not 5');
    const w3 = point([0, 1], 1, 210, 220);
    send(w3, true);
    assert.deepEqual(await served(), counted(w1, w2, c1, w3));
    const c2 = point([3, 4], 9, 300, 310);
    send(c2, false);
    assert.deepEqual(await served(), counted(w1, w2, c1, w3, c2), 'count 18, not 7');
  });

  it('ignores a cumulative point older than the last one', async () => {
    const store = new IngestStore();
    store.ingest(request([metric('daemon.jobs', sum([numberPoint(7, {}, 100, 120)]))]));
    store.ingest(request([metric('daemon.jobs', sum([numberPoint(5, {}, 100, 110)]))]));
    assert.deepEqual(await values(store, 'daemon.jobs'), { '{}': 7 });
  });
});

describe('counter resets', () => {
  it('a new start time alone is no reset: totals a daemon keeps across its restart are not counted twice', async () => {
    const store = new IngestStore();
    const send = (v: number, start: number, end: number) =>
      store.ingest(request([metric('daemon.jobs', sum([numberPoint(v, {}, start, end)]))]));
    send(1000, 100, 110);
    send(1000, 200, 201); // restarted at t=200, reporting the total from its database
    assert.deepEqual(await values(store, 'daemon.jobs'), { '{}': 1000 });
    send(1002, 200, 210);
    assert.deepEqual(await values(store, 'daemon.jobs'), { '{}': 1002 });
  });

  it('a restart that counts from zero is a reset: what was counted stays, the new count adds to it', async () => {
    const store = new IngestStore();
    const send = (v: number, start: number, end: number) =>
      store.ingest(request([metric('daemon.jobs', sum([numberPoint(v, {}, start, end)]))]));
    send(10, 100, 110);
    send(2, 200, 201); // the sender restarted at t=200, in memory
    assert.deepEqual(await values(store, 'daemon.jobs'), { '{}': 12 }, 'no negative jump to 2');
    send(5, 200, 210);
    assert.deepEqual(await values(store, 'daemon.jobs'), { '{}': 15 });
  });

  it('a histogram with a new start time and the same totals is no reset either', async () => {
    const store = new IngestStore();
    store.ingest(
      request([
        metric('daemon.latency', histogram([histogramPoint([1, 5], [2, 1, 0], 3, {}, 100, 110)])),
      ]),
    );
    store.ingest(
      request([
        metric('daemon.latency', histogram([histogramPoint([1, 5], [2, 1, 0], 3, {}, 200, 210)])),
      ]),
    );
    const h = (await histograms(store, 'daemon.latency'))['{}']!;
    assert.equal(h.count, 3);
    assert.deepEqual(h.buckets, { boundaries: [1, 5], counts: [2, 1, 0] });
  });

  it('a value going down is a reset even without start times', async () => {
    const store = new IngestStore();
    store.ingest(request([metric('daemon.jobs', sum([numberPoint(10, {}, 0, 110)]))]));
    store.ingest(request([metric('daemon.jobs', sum([numberPoint(3, {}, 0, 120)]))]));
    assert.deepEqual(await values(store, 'daemon.jobs'), { '{}': 13 });
  });

  it('an up-down sum that restarts takes its new level', async () => {
    const store = new IngestStore();
    store.ingest(
      request([metric('daemon.level', sum([numberPoint(10, {}, 100, 110)], 'cumulative', false))]),
    );
    store.ingest(
      request([metric('daemon.level', sum([numberPoint(1, {}, 200, 210)], 'cumulative', false))]),
    );
    assert.deepEqual(await values(store, 'daemon.level'), { '{}': 1 });
  });

  it('a cumulative histogram whose count goes down was reset', async () => {
    const store = new IngestStore();
    store.ingest(
      request([
        metric('daemon.latency', histogram([histogramPoint([1, 5], [2, 1, 0], 3, {}, 100, 110)])),
      ]),
    );
    store.ingest(
      request([
        metric('daemon.latency', histogram([histogramPoint([1, 5], [1, 0, 0], 0.5, {}, 100, 120)])),
      ]),
    );
    const h = (await histograms(store, 'daemon.latency'))['{}']!;
    assert.deepEqual(h.buckets, { boundaries: [1, 5], counts: [3, 1, 0] });
    assert.equal(h.count, 4);
    assert.equal(h.sum, 3.5);
  });
});

describe('histograms', () => {
  it('accumulates delta histograms bucket by bucket', async () => {
    const store = new IngestStore();
    store.ingest(
      request([
        metric(
          'daemon.latency',
          histogram([histogramPoint([1, 5], [1, 1, 0], 3, {}, 100, 110)], 'delta'),
        ),
      ]),
    );
    store.ingest(
      request([
        metric(
          'daemon.latency',
          histogram([histogramPoint([1, 5], [0, 2, 1], 16, {}, 110, 120)], 'delta'),
        ),
      ]),
    );
    const h = (await histograms(store, 'daemon.latency'))['{}']!;
    assert.deepEqual(h, { buckets: { boundaries: [1, 5], counts: [1, 3, 1] }, sum: 19, count: 5 });
  });

  it('refuses boundaries that differ from the series when another source shares it', async () => {
    const store = new IngestStore();
    store.ingest(
      request([metric('daemon.latency', histogram([histogramPoint([1, 5], [1, 0, 0], 1)]))], {
        'service.name': 'a',
      }),
    );
    const r = store.ingest(
      request([metric('daemon.latency', histogram([histogramPoint([2], [1, 0], 1)]))], {
        'service.name': 'b',
      }),
    );
    assert.equal(r.rejectedDataPoints, 1);
    assert.match(
      r.errorMessage,
      /daemon\.latency: bucket boundaries \[2\] differ from the series' \[1, 5\] \(1\)/,
    );
    assert.equal(store.seriesCount, 1, 'the refused source is not kept');
  });

  it('lets the only source of a series change its layout (the series keeps its bounds and takes the new ones)', async () => {
    const store = new IngestStore();
    store.ingest(
      request([
        metric('daemon.latency', histogram([histogramPoint([1, 5], [1, 0, 0], 0.5, {}, 100, 110)])),
      ]),
    );
    // The sender goes on in [2] (a 3 observed since): le=1 keeps its 1, le=2 and +Inf are the
    // point's, and le=5 reads what it read (the 3 lies somewhere above 2, as far as [2] says).
    store.ingest(
      request([
        metric('daemon.latency', histogram([histogramPoint([2], [1, 1], 3.5, {}, 100, 210)])),
      ]),
    );
    assert.deepEqual((await histograms(store, 'daemon.latency'))['{}'], {
      buckets: { boundaries: [1, 2, 5], counts: [1, 0, 0, 1] },
      sum: 3.5,
      count: 2,
    });
  });

  it("keeps a delta histogram's count and sum when its only source changes its layout, re-bucketed upwards", async () => {
    const store = new IngestStore();
    const send = (bounds: number[], counts: number[], sum: number, start: number, end: number) =>
      store.ingest(
        request([
          metric(
            'daemon.latency',
            histogram([histogramPoint(bounds, counts, sum, {}, start, end)], 'delta'),
          ),
        ]),
      );
    send([1, 2], [50, 30, 20], 150, 100, 110);
    send([1, 2, 3], [1, 1, 1, 1], 7, 110, 120);
    // Each old bucket goes to the first new one whose bound is at or above its own: le=1 and le=2
    // keep their cumulative counts (50, 80), the old (2, +Inf] stays above 3.
    assert.deepEqual((await histograms(store, 'daemon.latency'))['{}'], {
      buckets: { boundaries: [1, 2, 3], counts: [51, 31, 1, 21] },
      sum: 157,
      count: 104,
    });
    send([1, 2, 3], [0, 0, 0, 2], 10, 120, 130);
    assert.equal((await histograms(store, 'daemon.latency'))['{}']!.count, 106);
  });

  it('keeps a cumulative histogram monotonic across a layout change: a lower count is a reset', async () => {
    const store = new IngestStore();
    const send = (bounds: number[], counts: number[], sum: number, start: number, end: number) =>
      store.ingest(
        request([
          metric(
            'daemon.latency',
            histogram([histogramPoint(bounds, counts, sum, {}, start, end)]),
          ),
        ]),
      );
    send([1, 2], [50, 30, 20], 150, 100, 110);
    send([1, 2, 3], [1, 1, 1, 1], 7, 200, 210);
    assert.deepEqual((await histograms(store, 'daemon.latency'))['{}'], {
      buckets: { boundaries: [1, 2, 3], counts: [51, 31, 1, 21] },
      sum: 157,
      count: 104,
    });
  });

  it('refuses invalid histogram points', async () => {
    const store = new IngestStore();
    const r = store.ingest(
      request([
        metric(
          'daemon.latency',
          histogram([
            histogramPoint([1, 5], [1, 0], 1),
            histogramPoint([5, 1], [1, 0, 0], 1),
            histogramPoint([1, 5], [1, 0, 0], 1),
          ]),
        ),
      ]),
    );
    assert.equal(r.rejectedDataPoints, 2);
    assert.equal(r.acceptedDataPoints, 1);
  });
});

describe('canonical instruments', () => {
  it('are bounded as an embedded host bounds them: undeclared attributes dropped (with a warning), values folded', async () => {
    const store = new IngestStore();
    const r = store.ingest(
      request([
        metric(
          'jobmeter.run.finished',
          sum([
            numberPoint(2, { ...RUN, 'job.id': 'j-1' }, 100, 110),
            numberPoint(3, { ...RUN, 'job.id': 'j-2' }, 100, 110),
            numberPoint(1, { ...RUN, outcome: 'exploded' }, 100, 110),
          ]),
        ),
      ]),
    );
    assert.equal(r.rejectedDataPoints, 0);
    assert.equal(r.acceptedDataPoints, 3);
    assert.equal(
      r.errorMessage,
      'Warnings: jobmeter.run.finished: attribute "job.id" is not declared and was dropped',
    );
    assert.deepEqual(await values(store, 'jobmeter.run.finished'), {
      [key(RUN)]: 5,
      [key({ ...RUN, outcome: 'other' })]: 1,
    });
    const m = (await collected(store)).get('jobmeter.run.finished')![0]!;
    assert.deepEqual(m.descriptor, {
      name: 'jobmeter.run.finished',
      description: 'Runs that reached a terminal outcome.',
      unit: '{run}',
      valueType: 1,
    });
  });

  it('refuses a data type that conflicts with the catalog', () => {
    const store = new IngestStore();
    const r = store.ingest(
      request([metric('jobmeter.run.finished', gauge([numberPoint(1, RUN), numberPoint(2, RUN)]))]),
    );
    assert.deepEqual(r, {
      acceptedDataPoints: 0,
      rejectedDataPoints: 2,
      errorMessage:
        '2 data points rejected: jobmeter.run.finished: type conflict: received a Gauge, but it is a monotonic Sum (counter) (2)',
    });
  });

  it('accepts a gauge or an up-down sum for a canonical level, and emits the catalog shape', async () => {
    const store = new IngestStore();
    store.ingest(
      request([
        metric(
          'jobmeter.run.active',
          gauge([numberPoint(2, { task: 't', kind: 'task', runner: 'r' })]),
        ),
      ]),
    );
    const m = (await collected(store)).get('jobmeter.run.active')![0]!;
    assert.equal(m.dataPointType, DataPointType.SUM);
    assert.equal(m.dataPointType === DataPointType.SUM && m.isMonotonic, false);
  });

  it('refuses another unit, accepts none', async () => {
    const store = new IngestStore();
    const bad = store.ingest(
      request([
        metric('jobmeter.run.duration', histogram([histogramPoint([1], [1, 0], 0.5, RUN)]), 'ms'),
      ]),
    );
    assert.equal(
      bad.errorMessage,
      '1 data point rejected: jobmeter.run.duration: unit conflict: received "ms", expected "s" (1)',
    );
    const ok = store.ingest(
      request([
        metric('jobmeter.run.duration', histogram([histogramPoint([1], [1, 0], 0.5, RUN)]), ''),
      ]),
    );
    assert.equal(ok.rejectedDataPoints, 0);
    assert.match(
      ok.errorMessage,
      /^Warnings: jobmeter\.run\.duration: bucket boundaries differ from the catalog's \[0\.01, /,
    );
    assert.equal((await collected(store)).get('jobmeter.run.duration')![0]!.descriptor.unit, 's');
  });
});

describe('refusals', () => {
  it('a name held under another type is a conflict', () => {
    const store = new IngestStore();
    store.ingest(request([metric('daemon.jobs', sum([numberPoint(1)]))]));
    const r = store.ingest(
      request([metric('daemon.jobs', histogram([histogramPoint([1], [1, 0], 1)]))]),
    );
    assert.equal(
      r.errorMessage,
      '1 data point rejected: daemon.jobs: type conflict: received a Histogram, but it is a monotonic Sum (counter) (1)',
    );
  });

  it('unsupported data and points without a value are refused and counted; reasons are listed', () => {
    const store = new IngestStore();
    const r = store.ingest(
      request([
        metric(
          'a',
          exponential([
            exponentialPoint(30, 0, [1], 1),
            exponentialPoint(2, 0, new Array<number>(161).fill(1), 1, { i: 2 }),
          ]),
        ),
        metric('b', { type: 'summary', pointCount: 1 }),
        metric('c', {
          type: 'sum',
          monotonic: true,
          temporality: 'unspecified',
          points: [numberPoint(1)],
        }),
        metric('d', gauge([numberPoint(undefined), numberPoint(4)])),
        metric('e', { type: 'empty' }),
      ]),
    );
    assert.deepEqual(r, {
      acceptedDataPoints: 1,
      rejectedDataPoints: 5,
      errorMessage:
        '5 data points rejected: a: an invalid ExponentialHistogram point (scale 30: -4 to 20 are served) (1); ' +
        'a: an invalid ExponentialHistogram point (more than 160 buckets a side) (1); ' +
        'b: Summary is not supported (use an explicit-bucket or exponential Histogram) (1); c: AggregationTemporality is unspecified (1); ' +
        'd: a data point without a value (neither asDouble nor asInt) (1)',
    });
  });

  it('caps: source series per instrument, in all, and instruments', async () => {
    const perInstrument = new IngestStore({ maxSeriesPerInstrument: 2 });
    const r1 = perInstrument.ingest(
      request([
        metric(
          'x',
          gauge([numberPoint(1, { i: 1 }), numberPoint(1, { i: 2 }), numberPoint(1, { i: 3 })]),
        ),
      ]),
    );
    assert.equal(
      r1.errorMessage,
      '1 data point rejected: x: over the cap of 2 source series per instrument (1)',
    );
    assert.equal(perInstrument.seriesCount, 2);
    // Known series still update past the cap.
    const r1b = perInstrument.ingest(request([metric('x', gauge([numberPoint(9, { i: 1 })]))]));
    assert.equal(r1b.rejectedDataPoints, 0);

    const total = new IngestStore({ maxSeries: 2 });
    const r2 = total.ingest(
      request([
        metric('x', gauge([numberPoint(1, { i: 1 })])),
        metric('y', gauge([numberPoint(1, { i: 1 }), numberPoint(1, { i: 2 })])),
      ]),
    );
    assert.equal(
      r2.errorMessage,
      '1 data point rejected: y: over the cap of 2 source series in all (1)',
    );

    // A canonical instrument holds as many as its attributes allow: jobmeter.host.agent.online has
    // host.id and host.name capped at 5000 each.
    const canonical = new IngestStore({ maxSeriesPerInstrument: 2 });
    const hosts = Array.from({ length: 5 }, (_, i) =>
      numberPoint(1, { 'host.id': `h${i}`, 'host.name': `n${i}` }),
    );
    assert.equal(
      canonical.ingest(request([metric('jobmeter.host.agent.online', gauge(hosts))]))
        .rejectedDataPoints,
      0,
    );

    const instruments = new IngestStore({ maxInstruments: 1 });
    const r3 = instruments.ingest(
      request([metric('x', gauge([numberPoint(1)])), metric('y', gauge([numberPoint(1)]))]),
    );
    assert.equal(r3.errorMessage, '1 data point rejected: y: over the cap of 1 instruments (1)');
  });

  it('the message is cut at 1024 characters', () => {
    const store = new IngestStore({ maxInstruments: 1 });
    const metrics = [metric('x', gauge([numberPoint(1)]))];
    for (let i = 0; i < 100; i++)
      metrics.push(metric(`refused.instrument.number.${i}`, gauge([numberPoint(1)])));
    const r = store.ingest(request(metrics));
    assert.equal(r.rejectedDataPoints, 100);
    assert.equal(r.errorMessage.length, 1024);
    assert.ok(r.errorMessage.endsWith('…'));
  });
});

describe('expiry', () => {
  /** A store on `clock` restored from what `store` would write to its state file now. */
  const restored = (store: IngestStore, clock: ReturnType<typeof fakeClock>): IngestStore => {
    const next = new IngestStore({ clock, expiryMillis: 10_000 });
    next.restore(decodeCheckpoint(encodeCheckpoint(store.snapshot())));
    return next;
  };

  it('a series not updated for expiryMillis disappears (default 5 minutes)', async () => {
    const clock = fakeClock();
    const store = new IngestStore({ clock });
    store.ingest(
      request([
        metric('daemon.jobs', sum([numberPoint(3, { q: 'a' })])),
        metric('daemon.depth', gauge([numberPoint(1)])),
      ]),
    );
    clock.advance(4 * 60_000);
    store.ingest(request([metric('daemon.depth', gauge([numberPoint(2)]))]));
    clock.advance(60_000 + 1);
    assert.deepEqual(await heldNames(store), ['daemon.depth']);
    assert.equal(store.seriesCount, 1);
    clock.advance(4 * 60_000);
    assert.deepEqual(await heldNames(store), []);
    // The name is free again: it may now come as another type.
    const r = store.ingest(request([metric('daemon.jobs', gauge([numberPoint(1)]))]));
    assert.equal(r.rejectedDataPoints, 0);
  });

  it('a counter keeps the increments of an expired source while other sources feed it', async () => {
    const clock = fakeClock();
    const store = new IngestStore({ clock, expiryMillis: 10_000 });
    store.ingest(request([metric('daemon.jobs', sum([numberPoint(5)]))], { 'service.name': 'a' }));
    store.ingest(request([metric('daemon.jobs', sum([numberPoint(2)]))], { 'service.name': 'b' }));
    clock.advance(6_000);
    store.ingest(request([metric('daemon.jobs', sum([numberPoint(3)]))], { 'service.name': 'b' }));
    clock.advance(6_000);
    assert.deepEqual(
      await values(store, 'daemon.jobs'),
      { '{}': 8 },
      "a's 5 stay counted after a expired",
    );
    assert.equal(store.seriesCount, 1);
  });

  it("a source whose points another's bucket layout refuses stays alive while it is sent: the series keeps the other's counts past its expiry, re-bucketed when the layout changes", async () => {
    const clock = fakeClock();
    const store = new IngestStore({ clock, expiryMillis: 10_000 });
    const send = (
      daemon: string,
      bounds: number[],
      counts: number[],
      start: number,
      time: number,
    ) =>
      store.ingest(
        request(
          [
            metric(
              'daemon.latency',
              histogram([histogramPoint(bounds, counts, counts[2]! * 6, {}, start, time)], 'delta'),
            ),
          ],
          { 'service.instance.id': daemon },
        ),
      );
    assert.equal(send('b', [1, 5], [0, 0, 0], 100, 105).acceptedDataPoints, 1);
    assert.equal(send('a', [1, 5], [0, 0, 5], 100, 110).acceptedDataPoints, 1);
    // b comes back with another layout: refused while a, in the series' layout, is alive.
    assert.equal(send('b', [2, 10], [0, 0, 0], 105, 110).rejectedDataPoints, 1);
    clock.advance(6_000);
    assert.equal(send('b', [2, 10], [0, 0, 0], 110, 116).rejectedDataPoints, 1);
    clock.advance(6_000);
    // a expired; b, still sending the series, keeps it served with a's 5.
    assert.equal((await histograms(store, 'daemon.latency'))['{}']?.count, 5);
    // b is the series' only live source now: the series takes its bounds beside its own, a's
    // counts where they were.
    assert.equal(send('b', [2, 10], [0, 0, 0], 116, 122).acceptedDataPoints, 1);
    const h = (await histograms(store, 'daemon.latency'))['{}']!;
    assert.deepEqual(
      [h.buckets.boundaries, h.buckets.counts, h.count],
      [[1, 2, 5, 10], [0, 0, 0, 0, 5], 5],
    );
  });

  // Restored from the state file while its source is gone (`restart`), the store keeps that too.
  for (const restart of [false, true])
    it(`a source back from expiry with another temporality keeps what it counted, and its points count by their new temporality, as a live sender changing it; one back delta adds a late window of its silence${restart ? ', across a restore' : ''}`, async () => {
      const clock = fakeClock();
      let store = new IngestStore({ clock, expiryMillis: 10_000 });
      const model: ModelState = new Map();
      const events = INSTRUMENTS.find((i) => i.name === 'model.events')!;
      let order = 0;
      // Sender `r` pushes `value` for key `k` as `temporality`, its point's window (start, time].
      const send = (
        r: string,
        k: Key,
        value: number,
        temporality: Temporality,
        window: number[],
      ) => {
        const p = numberPoint(value, { k }, window[0], window[1]);
        const res = store.ingest(
          request([metric(events.name, sum([p], temporality))], { 'service.instance.id': r }),
        );
        assert.equal(res.rejectedDataPoints, 0);
        applyPush(model, r, [{ instrument: events, key: k, value, temporality }], order++);
      };
      const check = async (what: string) => {
        const want = modelServed(model);
        const got = await values(store, events.name);
        for (const k of KEYS)
          assert.equal(
            got[key({ k })],
            want.get(`${events.served}{k="${k}"}`),
            `${what}, key ${k}`,
          );
      };
      // r0 counts a by delta windows (3, then 2), b by cumulative totals (4, then 6); r2 counts a by
      // delta windows and stays delta; r1 keeps both series served while r0 and r2 are gone.
      send('r2', 'a', 1, 'delta', [100, 105]);
      send('r1', 'a', 1, 'cumulative', [100, 101]);
      send('r1', 'b', 1, 'cumulative', [100, 101]);
      send('r0', 'a', 3, 'delta', [100, 110]);
      send('r0', 'b', 4, 'cumulative', [100, 110]);
      send('r0', 'a', 2, 'delta', [110, 120]);
      send('r0', 'b', 6, 'cumulative', [100, 120]);
      await check('r0 live');
      clock.advance(6_000);
      send('r1', 'a', 2, 'cumulative', [100, 126]);
      send('r1', 'b', 2, 'cumulative', [100, 126]);
      clock.advance(6_000);
      for (const k of KEYS) expireSource(model, sourceKey('r0', events.name, k));
      expireSource(model, sourceKey('r2', events.name, 'a'));
      await check('r0 and r2 expired');
      if (restart) store = restored(store, clock);
      // r0 is back, a turned cumulative (7 reads above its windows' 5: still no continuation of
      // them), b turned delta.
      send('r0', 'a', 7, 'cumulative', [200, 210]);
      send('r0', 'b', 2, 'delta', [200, 210]);
      await check("r0's first points back");
      send('r0', 'a', 9, 'cumulative', [200, 220]);
      send('r0', 'b', 1, 'delta', [210, 220]);
      await check("r0's next points");
      // r2 is back delta, then a window of its silence comes late (queued through it): added.
      send('r2', 'a', 2, 'delta', [200, 210]);
      send('r2', 'a', 4, 'delta', [105, 200]);
      await check("r2's windows");
    });

  for (const restart of [false, true])
    it(`a histogram source back from expiry turned cumulative keeps what its delta windows counted, and its total counts whole${restart ? ', across a restore' : ''}`, async () => {
      const clock = fakeClock();
      let store = new IngestStore({ clock, expiryMillis: 10_000 });
      const bounds = [1, 5];
      const send = (r: string, b: Buckets, delta: boolean, start: number, time: number) => {
        const p = histogramPoint(bounds, [...b.counts], b.sum, {}, start, time);
        const res = store.ingest(
          request([metric('daemon.latency', histogram([p], delta ? 'delta' : undefined))], {
            'service.instance.id': r,
          }),
        );
        assert.equal(res.rejectedDataPoints, 0);
      };
      const read = async () => {
        const h = (await histograms(store, 'daemon.latency'))['{}']!;
        return { bounds: h.buckets.boundaries, counts: h.buckets.counts, sum: h.sum };
      };
      // test/model/model.ts: a sender that changes its temporality keeps what it counted, and its
      // points count by their new temporality from there (a histogram's buckets and sum alike).
      const counted = (...points: Buckets[]) => points.reduce(addBuckets, emptyBuckets(bounds));
      const b1: Buckets = { bounds, counts: [1, 0, 0], sum: 0.5 };
      const w1: Buckets = { bounds, counts: [1, 1, 1], sum: 10 };
      const w2: Buckets = { bounds, counts: [0, 2, 0], sum: 6 };
      send('r1', b1, false, 100, 101);
      send('r0', w1, true, 100, 110);
      send('r0', w2, true, 110, 120);
      clock.advance(6_000);
      send('r1', b1, false, 100, 126);
      clock.advance(6_000);
      assert.deepEqual(await read(), counted(b1, w1, w2), "r0 expired: its windows' counts stay");
      if (restart) store = restored(store, clock);
      // Back cumulative, with a count (6) above its windows' (5): no continuation of them.
      const c1: Buckets = { bounds, counts: [2, 3, 1], sum: 20 };
      send('r0', c1, false, 200, 210);
      assert.deepEqual(await read(), counted(b1, w1, w2, c1));
      const c2: Buckets = { bounds, counts: [2, 4, 2], sum: 30 };
      send('r0', c2, false, 200, 220);
      assert.deepEqual(await read(), counted(b1, w1, w2, c2));
    });

  for (const restart of [false, true])
    it(`a delta window its source counted before it expired, sent again after, is refused as a live stream's retry is, for the same reason${restart ? ', across a restore' : ''}`, async () => {
      const clock = fakeClock();
      let store = new IngestStore({ clock, expiryMillis: 10_000 });
      const model: ModelState = new Map();
      const deltas = INSTRUMENTS.find((i) => i.name === 'model.delta_events')!;
      // The points the model refuses since `store` was made, by reason.
      const refused = new Map<string, number>();
      let order = 0;
      const send = (r: string, value: number, start: number, end: number) => {
        const window = { start, end };
        const point: Point = { instrument: deltas, key: 'a', value, temporality: 'delta', window };
        const reason = refusal(model, r, point);
        const p = numberPoint(value, { k: 'a' }, start, end);
        const res = store.ingest(
          request([metric(deltas.name, sum([p], 'delta'))], { 'service.instance.id': r }),
        );
        assert.deepEqual(
          [res.acceptedDataPoints, res.rejectedDataPoints],
          reason === undefined ? [1, 0] : [0, 1],
          `${r} (${start}, ${end}]: the model says ${reason ?? 'taken'}`,
        );
        if (reason !== undefined) refused.set(reason, (refused.get(reason) ?? 0) + 1);
        applyPush(model, r, [point], order++);
      };
      const check = async (what: string) => {
        const got = await values(store, deltas.name);
        const want = modelServed(model).get(`${deltas.served}{k="a"}`);
        assert.equal(got[key({ k: 'a' })], want, what);
        assert.deepEqual(
          await refusedCounts(store),
          Object.fromEntries(refused),
          `${what}: jobmeter.ingest.refused by reason`,
        );
      };
      // r0 counts W1 and W2, and its exporter retries W2; r1 keeps the series served while r0 is gone.
      send('r1', 1, 100, 105);
      send('r0', 3, 100, 110);
      send('r0', 2, 110, 120);
      send('r0', 2, 110, 120);
      await check('r0 live');
      clock.advance(6_000);
      send('r1', 1, 105, 126);
      clock.advance(6_000);
      expireSource(model, sourceKey('r0', deltas.name, 'a'));
      await check('r0 expired');
      if (restart) {
        store = restored(store, clock);
        refused.clear();
      }
      // r0 is back: W2 once more, then W3, then a window across both.
      send('r0', 2, 110, 120);
      send('r0', 4, 120, 130);
      send('r0', 5, 115, 125);
      await check('r0 back');
    });

  it('a gauge drops the level of an expired source', async () => {
    const clock = fakeClock();
    const store = new IngestStore({ clock, expiryMillis: 10_000 });
    store.ingest(
      request([metric('daemon.depth', gauge([numberPoint(5)]))], { 'service.name': 'a' }),
    );
    clock.advance(6_000);
    store.ingest(
      request([metric('daemon.depth', gauge([numberPoint(2)]))], { 'service.name': 'b' }),
    );
    clock.advance(6_000);
    assert.deepEqual(await values(store, 'daemon.depth'), { '{}': 2 });
  });

  it('a point flagged "no recorded value" ends its source series at once', async () => {
    const store = new IngestStore();
    store.ingest(
      request([
        metric('daemon.depth', gauge([numberPoint(5, { q: 'a' }), numberPoint(1, { q: 'b' })])),
      ]),
    );
    store.ingest(
      request([metric('daemon.depth', gauge([numberPoint(undefined, { q: 'a' }, 0, 0, true)]))]),
    );
    assert.deepEqual(await values(store, 'daemon.depth'), { [key({ q: 'b' })]: 1 });
  });
});

describe('collection', () => {
  it('keeps scopes apart and reuses each series attributes object (the naming stage caches by identity)', async () => {
    const store = new IngestStore();
    store.ingest(
      request([metric('daemon.jobs', sum([numberPoint(1, { q: 'a' })]))], {}, 'scope-a'),
    );
    store.ingest(
      request([metric('daemon.jobs', sum([numberPoint(2, { q: 'a' })]))], {}, 'scope-b'),
    );
    const first = await store.collect();
    const second = await store.collect();
    assert.deepEqual(
      first.resourceMetrics.scopeMetrics.map((s) => s.scope.name),
      ['scope-a', 'scope-b', 'jobmeter'],
    );
    const attrs = (r: typeof first) =>
      r.resourceMetrics.scopeMetrics.map((s) => s.metrics[0]!.dataPoints[0]!.attributes);
    assert.equal(attrs(first)[0], attrs(second)[0]);
    assert.ok(ingestedScope(first.resourceMetrics.scopeMetrics[0]!));
  });
});

describe('preferIngested', () => {
  it("drops the SDK's own metrics that ingested ones shadow, and nothing else", async () => {
    const store = new IngestStore();
    store.ingest(request([metric('process.uptime', gauge([numberPoint(42)]))]));
    const ingested = (await store.collect()).resourceMetrics.scopeMetrics;
    // An empty store's collection: its refused points alone (stand-in shapes below).
    const own = (await new IngestStore().collect()).resourceMetrics.scopeMetrics;
    assert.deepEqual(
      own.map((s) => [s.scope.name, s.metrics.map((m) => m.descriptor.name)]),
      [['jobmeter', ['jobmeter.ingest.refused']]],
    );
    const sdkScope = {
      scope: { name: 'jobmeter' },
      metrics: [
        ingested[0]!.metrics[0]!,
        {
          ...ingested[0]!.metrics[0]!,
          descriptor: { ...ingested[0]!.metrics[0]!.descriptor, name: 'jobmeter.build.info' },
        },
      ],
    } as ScopeMetrics;
    const rm: ResourceMetrics = {
      resource: emptyResource(),
      scopeMetrics: [sdkScope, ...ingested],
    };
    const out = preferIngested(rm, ingestedScope);
    assert.deepEqual(
      out.scopeMetrics.map((s) => [s.scope.name, s.metrics.map((m) => m.descriptor.name)]),
      [
        ['jobmeter', ['jobmeter.build.info']],
        ['daemon', ['process.uptime']],
        ['jobmeter', ['jobmeter.ingest.refused']],
      ],
    );
    const untouched: ResourceMetrics = { resource: emptyResource(), scopeMetrics: [sdkScope] };
    assert.equal(preferIngested(untouched, ingestedScope), untouched);
  });
});

describe('exponential histograms', () => {
  const value = async (store: IngestStore): Promise<ExponentialHistogram[]> => {
    const [m] = (await collected(store)).get('rpc.latency') ?? [];
    assert.equal(m?.dataPointType, DataPointType.EXPONENTIAL_HISTOGRAM);
    return m.dataPoints.map((p) => p.value);
  };

  it('cumulative points replace, two senders add up at the coarser scale, a reset keeps what was counted', async () => {
    const clock = fakeClock();
    const store = new IngestStore({ clock });
    const sender = (name: string, point: OtlpExponentialHistogramPoint) =>
      store.ingest(
        request([metric('rpc.latency', exponential([point]), 's')], { 'service.name': name }),
      );
    assert.equal(sender('a', exponentialPoint(2, 4, [1, 2], 3, {}, 1, 1)).rejectedDataPoints, 0);
    assert.equal(sender('a', exponentialPoint(2, 4, [2, 3], 6, {}, 1, 2)).rejectedDataPoints, 0);
    // Sender b at scale 1: buckets 2 and 3 there hold a's 4…7 at scale 2.
    assert.equal(sender('b', exponentialPoint(1, 2, [1, 1], 2, {}, 1, 1)).rejectedDataPoints, 0);
    let [h] = await value(store);
    assert.deepEqual(
      { scale: h!.scale, positive: h!.positive, count: h!.count, sum: h!.sum },
      { scale: 1, positive: { offset: 2, bucketCounts: [2 + 3 + 1, 1] }, count: 7, sum: 8 },
    );
    // a restarts (its count went down): what it had counted stays in the series.
    assert.equal(sender('a', exponentialPoint(2, 4, [1], 1, {}, 5, 5)).rejectedDataPoints, 0);
    [h] = await value(store);
    assert.equal(h!.count, 5 + 2 + 1);
    assert.equal(h!.sum, 6 + 2 + 1);
  });

  it('delta points accumulate, wide spreads downscale to at most 160 buckets; the naming stage serves a native histogram', async () => {
    const store = new IngestStore();
    const send = (point: OtlpExponentialHistogramPoint) =>
      store.ingest(request([metric('rpc.latency', exponential([point], 'delta'), 's')]));
    send(exponentialPoint(3, 0, [1], 1, {}, 0, 1));
    send(exponentialPoint(3, 1000, [1], 1, {}, 0, 2));
    const [h] = await value(store);
    assert.equal(h!.count, 2);
    assert.ok(h!.positive.bucketCounts.length <= 160, `${h!.positive.bucketCounts.length} buckets`);
    assert.ok(h!.scale < 3);
    const families = createNamer({
      kind: 'native',
      name: 'otel',
      format: 'negotiate',
      scopeInfo: false,
    }).toFamilies((await store.collect()).resourceMetrics);
    const f = families.find((x) => x.name === 'rpc_latency_seconds');
    assert.ok(
      f?.type === 'histogram' && f.series[0]!.native !== undefined && f.series[0]!.count === 2,
    );
  });
});

describe('a point finds its stream whatever followed the point before it last time', () => {
  const point = (v: number | undefined, host: string, t: number, ended = false) =>
    numberPoint(v, { host }, 0, t, ended);
  const send = (store: IngestStore, points: ReturnType<typeof point>[], service = 'a') =>
    store.ingest(request([metric('daemon.depth', gauge(points))], { 'service.name': service }));

  it('points in another order go to their own streams', async () => {
    const store = new IngestStore();
    send(store, [point(1, 'a', 10), point(2, 'b', 10), point(3, 'c', 10)]);
    send(store, [point(10, 'a', 20), point(30, 'c', 20), point(20, 'b', 20)]);
    send(store, [point(11, 'a', 30), point(21, 'b', 30)]);
    assert.deepEqual(await values(store, 'daemon.depth'), {
      [key({ host: 'a' })]: 11,
      [key({ host: 'b' })]: 21,
      [key({ host: 'c' })]: 30,
    });
  });

  it("a stream after the point before's, ended and its slot taken by another source's stream of the same attributes, is not that stream", async () => {
    const store = new IngestStore();
    send(store, [point(1, 'a', 10), point(2, 'b', 10)]); // service a: b's stream follows a's
    send(store, [point(undefined, 'b', 20, true)]); // b's stream ends, its slot is free
    send(store, [point(7, 'b', 20)], 'b'); // service b's own stream of host b takes that slot
    send(store, [point(5, 'a', 30), point(6, 'b', 30)]); // service a's b again: a stream of its own
    // A gauge of two sources is the last written: service a's 6.
    assert.deepEqual(await values(store, 'daemon.depth'), {
      [key({ host: 'a' })]: 5,
      [key({ host: 'b' })]: 6,
    });
    send(store, [point(undefined, 'b', 40, true)], 'b'); // service b's stream of host b ends
    // Service a's own stream of host b still holds the series (had its point gone to service b's
    // stream, the series would have ended with it).
    assert.deepEqual(await values(store, 'daemon.depth'), {
      [key({ host: 'a' })]: 5,
      [key({ host: 'b' })]: 6,
    });
  });
});
