/**
 * Poison points. A point stamped far ahead of jobmeter's clock (year 2200), far
 * behind it (1970), or before its own start time, and ±Inf on a monotonic sum or a histogram's
 * sum, are refused with `partial_success` and counted in `jobmeter.ingest.refused{reason}`; the
 * series goes on with the sender's real points. The store's clock is a fake one: the window is
 * the store's clock's, never the machine's.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IngestStore } from '../../src/ingest/ingest-store.ts';
import { REFUSAL_REASONS } from '../../src/ingest/ingest-report.ts';
import { createJobmeter } from '../../src/jobmeter.ts';
import { decodeExportResponse } from '../support/otlp-response.ts';
import { MAX_AHEAD_MILLIS, MIN_MAX_AGE_MILLIS } from '../../src/ingest/stream-rules.ts';
import type { OtlpNumberPoint } from '../../src/otlp/types.ts';
import {
  refusedCounts,
  exponential,
  exponentialPoint,
  fakeClock,
  gauge,
  histogram,
  histogramPoint,
  histograms,
  metric,
  numberPoint,
  request,
  sum,
  values,
} from './helpers.ts';

const YEAR_2200 = BigInt(Date.UTC(2200, 0, 1)) * 1_000_000n;
const YEAR_1970 = 1_000_000_000n; // one second after the epoch

/** A cumulative counter point at Unix ms `atMillis` (start: the store's clock at its start). */
function counterAt(value: number, atMillis: bigint | number, startMillis: number): OtlpNumberPoint {
  return {
    ...numberPoint(value),
    startTimeUnixNano: BigInt(startMillis) * 1_000_000n,
    timeUnixNano: BigInt(atMillis) * 1_000_000n,
  };
}

const at = (
  point: OtlpNumberPoint,
  timeUnixNano: bigint,
  startTimeUnixNano = point.startTimeUnixNano,
): OtlpNumberPoint => ({ ...point, timeUnixNano, startTimeUnixNano });

describe('points stamped outside the window', () => {
  it('a point stamped in 2200 is refused, and the counter goes on with the real points after it', async () => {
    const clock = fakeClock();
    const start = clock.wallMillis();
    const store = new IngestStore({ clock });
    const send = (p: OtlpNumberPoint) => store.ingest(request([metric('daemon.jobs', sum([p]))]));

    assert.deepEqual(send(counterAt(5, clock.wallMillis(), start)), {
      acceptedDataPoints: 1,
      rejectedDataPoints: 0,
      errorMessage: '',
    });
    const poisoned = send(at(counterAt(1e6, 0, start), YEAR_2200));
    assert.equal(poisoned.rejectedDataPoints, 1);
    assert.equal(poisoned.acceptedDataPoints, 0);
    assert.equal(
      poisoned.errorMessage,
      "1 data point rejected: daemon.jobs: a point time more than 10 minutes ahead of jobmeter's clock (1)",
    );
    assert.deepEqual(
      await values(store, 'daemon.jobs'),
      { '{}': 5 },
      'the poison value is not served',
    );

    // The sender's next real points are applied, not skipped as older than 2200.
    clock.advance(10_000);
    assert.equal(send(counterAt(8, clock.wallMillis(), start)).rejectedDataPoints, 0);
    clock.advance(10_000);
    send(counterAt(9, clock.wallMillis(), start));
    assert.deepEqual(await values(store, 'daemon.jobs'), { '{}': 9 });
    assert.deepEqual(await refusedCounts(store), { time_ahead: 1 });
  });

  it('a point stamped in 1970 with a start of its own is refused, not taken for a restart', async () => {
    const clock = fakeClock();
    const start = clock.wallMillis();
    const store = new IngestStore({ clock });
    const send = (p: OtlpNumberPoint) => store.ingest(request([metric('daemon.jobs', sum([p]))]));

    send(counterAt(100, clock.wallMillis(), start));
    clock.advance(1_000);
    const poisoned = send(at(counterAt(1e6, 0, 0), YEAR_1970, 1n));
    assert.equal(poisoned.rejectedDataPoints, 1);
    assert.equal(
      poisoned.errorMessage,
      "1 data point rejected: daemon.jobs: a point time more than 1 hour behind jobmeter's clock (1)",
    );
    clock.advance(1_000);
    send(counterAt(110, clock.wallMillis(), start));
    // Taken as a restart, 1e6 would have stayed in the series' base: 1e6 + 110.
    assert.deepEqual(await values(store, 'daemon.jobs'), { '{}': 110 });
    assert.deepEqual(await refusedCounts(store), { time_too_old: 1 });
  });

  it('a point stamped before its own start time is refused', async () => {
    const clock = fakeClock();
    const store = new IngestStore({ clock });
    const now = BigInt(clock.wallMillis()) * 1_000_000n;
    const r = store.ingest(
      request([metric('daemon.depth', gauge([at(numberPoint(3), now - 1n, now)]))]),
    );
    assert.equal(
      r.errorMessage,
      '1 data point rejected: daemon.depth: a point time before its start time (1)',
    );
    assert.deepEqual(await refusedCounts(store), { time_before_start: 1 });
    // At its start time exactly, it is a point (a first cumulative point may be stamped so).
    assert.equal(
      store.ingest(request([metric('daemon.depth', gauge([at(numberPoint(3), now, now)]))]))
        .rejectedDataPoints,
      0,
    );
  });

  it('a start time ahead of the window is refused too; a start years ago, or none, is not', async () => {
    const clock = fakeClock();
    const store = new IngestStore({ clock });
    const now = BigInt(clock.wallMillis()) * 1_000_000n;
    const r = store.ingest(
      request([
        metric(
          'daemon.jobs',
          sum([
            at(numberPoint(1, { a: '1' }), 0n, YEAR_2200),
            at(numberPoint(1, { a: '2' }), now, YEAR_1970),
            at(numberPoint(1, { a: '3' }), now, 0n),
          ]),
        ),
      ]),
    );
    assert.equal(r.rejectedDataPoints, 1);
    assert.deepEqual(await values(store, 'daemon.jobs'), { '{"a":"2"}': 1, '{"a":"3"}': 1 });
  });

  it("the window's edges: 10 minutes ahead, one hour (or the expiry, if longer) behind", async () => {
    const clock = fakeClock();
    const now = clock.wallMillis();
    const ms = (t: number): bigint => BigInt(t) * 1_000_000n;
    const edges = (store: IngestStore) =>
      store.ingest(
        request([
          metric(
            'daemon.depth',
            gauge([
              at(numberPoint(1, { t: 'ahead' }), ms(now + MAX_AHEAD_MILLIS)),
              at(numberPoint(1, { t: 'past ahead' }), ms(now + MAX_AHEAD_MILLIS) + 1_000_000n),
              at(numberPoint(1, { t: 'behind' }), ms(now - MIN_MAX_AGE_MILLIS)),
              at(numberPoint(1, { t: 'past behind' }), ms(now - MIN_MAX_AGE_MILLIS) - 1_000_000n),
              at(numberPoint(1, { t: 'two hours behind' }), ms(now - 2 * MIN_MAX_AGE_MILLIS)),
            ]),
          ),
        ]),
      );
    assert.equal(MAX_AHEAD_MILLIS, 600_000);
    assert.equal(MIN_MAX_AGE_MILLIS, 3_600_000);

    const store = new IngestStore({ clock });
    assert.equal(edges(store).rejectedDataPoints, 3);
    assert.deepEqual(Object.keys(await values(store, 'daemon.depth')).sort(), [
      '{"t":"ahead"}',
      '{"t":"behind"}',
    ]);
    assert.deepEqual(await refusedCounts(store), { time_ahead: 1, time_too_old: 2 });

    // A longer expiry keeps points as old as it: had they arrived on time, they would still be served.
    const longer = new IngestStore({ clock, expiryMillis: 3 * MIN_MAX_AGE_MILLIS });
    const r = edges(longer);
    assert.equal(r.rejectedDataPoints, 1);
    assert.match(
      r.errorMessage,
      /^1 data point rejected: daemon\.depth: a point time more than 10 minutes ahead/,
    );
  });

  it('the window moves with the clock', async () => {
    const clock = fakeClock();
    const store = new IngestStore({ clock });
    const later = BigInt(clock.wallMillis() + 2 * MAX_AHEAD_MILLIS) * 1_000_000n;
    const send = () =>
      store.ingest(request([metric('daemon.depth', gauge([at(numberPoint(1), later)]))]));
    assert.equal(send().rejectedDataPoints, 1);
    clock.advance(2 * MAX_AHEAD_MILLIS);
    assert.equal(send().rejectedDataPoints, 0);
  });
});

describe('infinite values', () => {
  it('+Inf and -Inf on a monotonic sum are refused, cumulative or delta; the counter goes on', async () => {
    const store = new IngestStore();
    const r = store.ingest(
      request([
        metric(
          'daemon.jobs',
          sum([
            numberPoint(Infinity, { a: '1' }),
            numberPoint(-Infinity, { a: '2' }),
            numberPoint(4, { a: '3' }),
          ]),
        ),
        metric('daemon.runs', sum([numberPoint(Infinity)], 'delta')),
      ]),
    );
    assert.equal(r.rejectedDataPoints, 3);
    assert.equal(r.acceptedDataPoints, 1);
    assert.match(r.errorMessage, /daemon\.jobs: an infinite value on a monotonic Sum \(1\)/);
    assert.match(r.errorMessage, /daemon\.jobs: a negative or NaN value on a monotonic Sum \(1\)/);
    assert.match(r.errorMessage, /daemon\.runs: an infinite value on a monotonic Sum \(1\)/);
    store.ingest(request([metric('daemon.jobs', sum([numberPoint(7, { a: '1' })]))]));
    assert.deepEqual(await values(store, 'daemon.jobs'), { '{"a":"1"}': 7, '{"a":"3"}': 4 });
    assert.deepEqual(await refusedCounts(store), { invalid_point: 3 });
  });

  it('a level (gauge, up-down sum) may be infinite: it is replaced by the next point', async () => {
    const store = new IngestStore();
    const r = store.ingest(
      request([
        metric('daemon.depth', gauge([numberPoint(Infinity)])),
        metric('daemon.level', sum([numberPoint(-Infinity)], 'cumulative', false)),
      ]),
    );
    assert.equal(r.rejectedDataPoints, 0);
    assert.deepEqual(await values(store, 'daemon.depth'), { '{}': Infinity });
  });

  it('an infinite histogram sum is refused, explicit or exponential; the histogram goes on', async () => {
    const store = new IngestStore();
    const r = store.ingest(
      request([
        metric(
          'daemon.latency',
          histogram([
            histogramPoint([1], [1, 0], Infinity, { a: '1' }),
            histogramPoint([1], [1, 0], 0.5, { a: '2' }),
          ]),
        ),
        metric('daemon.size', exponential([exponentialPoint(0, 0, [1], Infinity)])),
      ]),
    );
    assert.equal(r.rejectedDataPoints, 2);
    assert.match(
      r.errorMessage,
      /daemon\.latency: an invalid Histogram point \(infinite sum\) \(1\)/,
    );
    assert.match(
      r.errorMessage,
      /daemon\.size: an invalid ExponentialHistogram point \(infinite sum\) \(1\)/,
    );
    store.ingest(
      request([metric('daemon.latency', histogram([histogramPoint([1], [2, 0], 1, { a: '1' })]))]),
    );
    const held = await histograms(store, 'daemon.latency');
    assert.equal(held['{"a":"1"}']?.sum, 1);
    assert.equal(held['{"a":"2"}']?.sum, 0.5);
    assert.deepEqual(await refusedCounts(store), { invalid_histogram: 2 });
  });
});

describe('through createJobmeter({ ingest }) over HTTP', () => {
  it('the sender reads partial_success, the pull endpoint counts jobmeter_ingest_refused_total{reason}', async () => {
    const jm = await createJobmeter({
      listener: false,
      processMetrics: false,
      global: false,
      ingest: { port: 0 },
    });
    try {
      const now = BigInt(Date.now()) * 1_000_000n;
      const point = (value: number | string, time: bigint) => ({
        asDouble: value,
        startTimeUnixNano: String(now - 1_000_000_000n),
        timeUnixNano: String(time),
      });
      const body = (points: object[]) =>
        JSON.stringify({
          resourceMetrics: [
            {
              scopeMetrics: [
                {
                  scope: { name: 'd' },
                  metrics: [
                    {
                      name: 'daemon.jobs',
                      sum: { isMonotonic: true, aggregationTemporality: 2, dataPoints: points },
                    },
                  ],
                },
              ],
            },
          ],
        });
      const send = async (points: object[]) => {
        const res = await fetch(`http://127.0.0.1:${jm.ingestAddress!.port}/v1/metrics`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: body(points),
        });
        assert.equal(res.status, 200);
        return decodeExportResponse(new Uint8Array(await res.arrayBuffer()), 'json');
      };
      assert.equal(await send([point(5, now)]), undefined, 'nothing refused: no partial_success');
      const poisoned = await send([point(9, YEAR_2200)]);
      assert.deepEqual(poisoned, {
        rejectedDataPoints: 1,
        errorMessage:
          "1 data point rejected: daemon.jobs: a point time more than 10 minutes ahead of jobmeter's clock (1)",
      });
      assert.equal((await send([point('Infinity', now + 1n)]))?.rejectedDataPoints, 1);
      assert.equal(
        await send([point(6, now + 2n)]),
        undefined,
        'the real point after them is taken',
      );
      const families = await jm.scrape();
      const value = (name: string) =>
        families
          .find((f) => f.name === name)
          ?.series.map(
            (s) =>
              `${s.labels.replace(/,?otel_scope_[a-z]+="[^"]*"/g, '')} ${'value' in s ? s.value : ''}`,
          )
          .sort();
      // Every reason is served, at 0 until its first refusal.
      assert.deepEqual(
        value('jobmeter_ingest_refused_total'),
        REFUSAL_REASONS.map(
          (r) => `reason="${r}" ${r === 'invalid_point' || r === 'time_ahead' ? 1 : 0}`,
        ).sort(),
      );
      assert.deepEqual(value('daemon_jobs_total'), [' 6']);
    } finally {
      await jm.shutdown();
    }
  });
});
