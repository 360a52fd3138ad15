// Explicit-bucket histograms of other bucket layouts (and exponential ones beside them, by their
// classic buckets) that land on one served series (one instrument from several producers served
// without scope labels, a legacy table that merges senders, a sender whose layout changes while
// its served series carries it): a Prometheus user
// reads one histogram whose every observation is counted, its count the +Inf bucket, its buckets
// cumulative, and no figure going back from one scrape to the next. What each source counted is
// re-bucketed into the served series' layout by the model's rule (test/model/model.ts `relayout`,
// the ingest's own: each bucket's count in the first served bucket whose bound is at or above its
// upper bound).
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { metrics, type Attributes } from '@opentelemetry/api';
import { AggregationType } from '@opentelemetry/sdk-metrics';
import { emptyResource } from '@opentelemetry/resources';
import type { HistogramSeries } from '../../src/exposition/types.ts';
import { DEFAULT_RUN_DURATION_BUCKETS } from '../../src/domain/catalog.ts';
import { IngestStore } from '../../src/ingest/ingest-store.ts';
import type { Jobmeter } from '../../src/jobmeter.ts';
import { resolveProfile } from '../../src/naming/profiles/index.ts';
import { createNamer } from '../../src/naming/to-families.ts';
import type { FamilyRule, Profile } from '../../src/naming/types.ts';
import { MAX_GONE_SOURCES, ServedTotals, SourceTotals } from '../../src/series/carry.ts';
import { metricsCollection, withIngested } from '../../src/series/collection.ts';
import { addBuckets, emptyBuckets, relayout, type Buckets } from '../model/model.ts';
import {
  EPOCH_SECONDS,
  fakeClock,
  histogram,
  histogramPoint,
  metric,
  request,
} from '../ingest/helpers.ts';
import { histogramSeries, scrapeByName, testJobmeter } from '../profiles/helpers.ts';

const open: Jobmeter[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((jm) => jm.shutdown()));
  metrics.disable();
});

/** `values` observed into the layout `bounds`, as the model holds a histogram. */
function observed(bounds: readonly number[], values: readonly number[]): Buckets {
  const counts = bounds.map(() => 0).concat(0);
  for (const v of values) {
    const i = bounds.findIndex((b) => v <= b);
    counts[i === -1 ? bounds.length : i]!++;
  }
  return { bounds, counts, sum: values.reduce((a, b) => a + b, 0) };
}

const sameLayout = (a: readonly number[], b: readonly number[]): boolean =>
  a.length === b.length && a.every((x, i) => x === b[i]);

/** What a scraper reads of `s`: its `le` series (cumulative), `_count` and `_sum`. */
function scraped(s: HistogramSeries): Map<string, number> {
  const out = new Map<string, number>();
  let cumulative = 0;
  s.counts.forEach((c, i) => {
    cumulative += c;
    out.set(`le=${s.bounds[i] ?? '+Inf'}`, cumulative);
  });
  out.set('count', s.count);
  out.set('sum', s.sum);
  return out;
}

/**
 * `s` is one consistent histogram holding everything `sources` counted: laid out as one of them,
 * each source's buckets re-bucketed into that layout by the model and added up.
 */
function assertCounted(s: HistogramSeries, sources: readonly Buckets[]): void {
  assert.ok(
    sources.some((b) => sameLayout(b.bounds, s.bounds)),
    `served in one of its sources' layouts, not [${s.bounds.join(', ')}]`,
  );
  const want = sources.map((b) => relayout(b, s.bounds)).reduce(addBuckets, emptyBuckets(s.bounds));
  const count = want.counts.reduce((a, b) => a + b, 0);
  assert.deepEqual(
    { counts: s.counts, sum: s.sum, count: s.count },
    { counts: want.counts, sum: want.sum, count },
    'every observation counted, in the served layout',
  );
  const read = scraped(s);
  assert.equal(read.get('le=+Inf'), read.get('count'), 'the +Inf bucket is the count');
  assert.ok(
    s.counts.every((c) => c >= 0),
    `cumulative buckets never fall with le: ${s.counts.join(' ')}`,
  );
}

/** No counter of the histogram went back from scrape `before` to `after` (an `le` both serve, count, sum). */
function assertNoDecrease(before: HistogramSeries, after: HistogramSeries): void {
  const now = scraped(after);
  for (const [series, was] of scraped(before)) {
    const is = now.get(series);
    if (is !== undefined) assert.ok(is >= was, `${series} went back: ${was} then ${is}`);
  }
}

describe('producers of one served histogram with other bucket layouts', () => {
  const jobmeter = async (...args: Parameters<typeof testJobmeter>): Promise<Jobmeter> => {
    const jm = await testJobmeter(...args);
    open.push(jm);
    return jm;
  };

  test('the native naming without scope labels serves two producers of one instrument as one histogram, every observation counted', async () => {
    const jm = await jobmeter('otel', { otelScopeInfo: false });
    const layouts = { 'host-a': [1, 5], 'host-b': [2, 10] } as const;
    const recorded: Record<string, number[]> = { 'host-a': [], 'host-b': [] };
    const record = (scope: keyof typeof layouts, values: number[]): void => {
      const h = jm.meterProvider.getMeter(scope).createHistogram('app.latency', {
        unit: 's',
        advice: { explicitBucketBoundaries: [...layouts[scope]] },
      });
      for (const v of values) h.record(v);
      recorded[scope]!.push(...values);
    };
    const served = async (): Promise<HistogramSeries> => {
      const s = histogramSeries((await scrapeByName(jm)).get('app_latency_seconds'), '');
      assertCounted(
        s,
        (['host-a', 'host-b'] as const).map((p) => observed(layouts[p], recorded[p]!)),
      );
      return s;
    };
    record('host-a', [0.5, 3, 7]);
    record('host-b', [0.25, 1.5, 4, 20]);
    const first = await served();
    record('host-b', [0.5, 0.5, 9]);
    record('host-a', [2]);
    assertNoDecrease(first, await served());
  });

  // One producer's instrument aggregated as a base-2 exponential histogram, the other's with
  // explicit buckets (a host's Views, so both come from the SDK in the order their meters were
  // made): the exponential one's classic buckets (what a text scrape reads of it) are counted with
  // the explicit ones, in the layout of whichever comes first. Its values are powers of two, bounds
  // of an exponential histogram at any scale, so each lies at its classic bucket's upper bound and
  // the model's rule places it as its own value.
  for (const first of ['explicit', 'exponential'] as const)
    test(`the native naming without scope labels serves an exponential and an explicit producer of one instrument as one histogram (${first} first), every observation counted`, async () => {
      const explicit = [1, 5];
      const jm = await jobmeter('otel', {
        otelScopeInfo: false,
        views: [
          {
            instrumentName: 'app.latency',
            meterName: 'host-a',
            aggregation: {
              type: AggregationType.EXPLICIT_BUCKET_HISTOGRAM,
              options: { boundaries: explicit },
            },
          },
          {
            instrumentName: 'app.latency',
            meterName: 'host-exp',
            aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM, options: { maxSize: 160 } },
          },
        ],
      });
      const meters = first === 'explicit' ? ['host-a', 'host-exp'] : ['host-exp', 'host-a'];
      const made = new Map(
        meters.map((m) => [
          m,
          jm.meterProvider.getMeter(m).createHistogram('app.latency', { unit: 's' }),
        ]),
      );
      const [a, e] = [made.get('host-a'), made.get('host-exp')];
      const recorded = { a: [] as number[], e: [] as number[] };
      const record = (values: { a?: number[]; e?: number[] }): void => {
        for (const v of values.a ?? []) a!.record(v);
        for (const v of values.e ?? []) e!.record(v);
        recorded.a.push(...(values.a ?? []));
        recorded.e.push(...(values.e ?? []));
      };
      const served = async (): Promise<HistogramSeries> => {
        const s = histogramSeries((await scrapeByName(jm)).get('app_latency_seconds'), '');
        assert.equal(
          sameLayout(s.bounds, explicit),
          first === 'explicit',
          'the first one is served',
        );
        const classic = first === 'exponential' ? s.bounds : explicit;
        assertCounted(s, [observed(explicit, recorded.a), observed(classic, recorded.e)]);
        const n = s.native;
        if (n !== undefined) {
          const held = [...n.positiveCounts, ...n.negativeCounts].reduce((x, y) => x + y, 0);
          assert.equal(n.zeroCount + held, s.count, 'its native buckets hold every observation');
        }
        return s;
      };
      record({ a: [0.5, 3, 7], e: [0.25, 1, 4, 16] });
      const before = await served();
      record({ a: [2], e: [0.5, 0.5, 8] });
      assertNoDecrease(before, await served());
    });

  test("a legacy table serves its instrument from the host's meter, another layout, in the series jobmeter's own runs feed", async () => {
    const jm = await jobmeter('solti');
    jm.recordRun({ task: 't', runner: 'wasm', outcome: 'success', durationSeconds: 0.03125 });
    jm.recordRun({ task: 't', runner: 'wasm', outcome: 'success', durationSeconds: 3 });
    const bounds = [0.0625, 0.5];
    const host = jm.meterProvider.getMeter('host-lib').createHistogram('jobmeter.run.duration', {
      unit: 's',
      advice: { explicitBucketBoundaries: bounds },
    });
    const hostValues = [0.0078125, 0.25, 0.75];
    for (const v of hostValues) host.record(v, { runner: 'wasm', outcome: 'success' });
    const family = (await scrapeByName(jm)).get('solti_runner_task_duration_seconds');
    assert.equal(family?.series.length, 1, 'one series: one outcome of one runner');
    const s = family.series[0] as HistogramSeries;
    assertCounted(s, [
      observed(DEFAULT_RUN_DURATION_BUCKETS, [0.03125, 3]),
      observed(bounds, hostValues),
    ]);
  });
});

// The ingest's senders under a table that merges them (solti's task duration: every task of a
// runner), scraped through its naming as served-counters-expiry.test.ts does, on a fake clock.
const EXPIRY = 60_000;

/** What a table serves its senders' points as: solti's task duration, or a rule of the host's own. */
interface Served {
  readonly profile: Profile;
  readonly instrument: string;
  /** A sender's attributes, the task (a job) it times named `task`. */
  readonly attributes: (task: string) => Attributes;
  readonly family: string;
  readonly labels: string;
}

const SOLTI: Served = {
  profile: resolveProfile('solti', false),
  instrument: 'jobmeter.run.duration',
  attributes: (task) => ({ task, kind: 'task', runner: 'wasm' }),
  family: 'solti_runner_task_duration_seconds',
  labels: 'runner="wasm"',
};

function ingestNaming(served: Served = SOLTI, maxSeriesPerInstrument?: number) {
  const clock = fakeClock();
  const store = new IngestStore({
    clock,
    expiryMillis: EXPIRY,
    ...(maxSeriesPerInstrument !== undefined && {
      maxSeriesPerInstrument,
      maxSeries: maxSeriesPerInstrument,
    }),
  });
  const namer = createNamer(served.profile, {
    hostname: 'h',
    totals: new ServedTotals(),
    sources: new SourceTotals(),
  });
  return {
    /** Moves the clocks to `seconds` after the test epoch. */
    at(seconds: number): void {
      clock.advance(EPOCH_SECONDS * 1000 + seconds * 1000 - clock.wallMillis());
    },
    /** Task `task`'s sender reports its cumulative `buckets`, started at `start`, at `time`. */
    send(points: { task: string; buckets: Buckets; start: number; time: number }[]): void {
      const data = histogram(
        points.map((p) =>
          histogramPoint(
            [...p.buckets.bounds],
            [...p.buckets.counts],
            p.buckets.sum,
            served.attributes(p.task),
            p.start,
            p.time,
          ),
        ),
      );
      const r = store.ingest(request([metric(served.instrument, data, 's')]));
      assert.equal(r.rejectedDataPoints, 0, r.errorMessage);
    },
    async scrape(): Promise<HistogramSeries> {
      const collection = withIngested(
        metricsCollection({ resource: emptyResource(), scopeMetrics: [] }),
        await store.collectSeries(),
      );
      const families = namer.toFamilies(collection);
      collection.done();
      const family = families.find((f) => f.name === served.family);
      return histogramSeries(family, served.labels);
    },
  };
}

describe('ingested senders of one served histogram with other bucket layouts', () => {
  const A = [0.0625, 1];
  const B = [0.125, 0.5, 4];

  test('two senders a legacy table merges are served as one histogram, every observation counted', async () => {
    const n = ingestNaming();
    const a = observed(A, [0.0078125, 0.5, 2]);
    const b = observed(B, [0.03125, 0.375, 0.375, 8]);
    n.at(10);
    n.send([
      { task: 'a', buckets: a, start: 1, time: 10 },
      { task: 'b', buckets: b, start: 1, time: 10 },
    ]);
    assertCounted(await n.scrape(), [a, b]);
  });

  test('a sender back from expiry, restarted with another layout, keeps what it counted before', async () => {
    const n = ingestNaming();
    const before = observed(A, [0.0078125, 0.5, 0.5, 2]);
    const other = observed(A, [0.25]);
    n.at(10);
    n.send([
      { task: 'a', buckets: before, start: 1, time: 10 },
      { task: 'b', buckets: other, start: 1, time: 10 },
    ]);
    const first = await n.scrape();
    assertCounted(first, [before, other]);
    // a falls silent past the expiry while b keeps the served series.
    n.at(75);
    n.send([{ task: 'b', buckets: other, start: 1, time: 75 }]);
    n.at(80);
    const gone = await n.scrape();
    assertCounted(gone, [before, other]);
    assertNoDecrease(first, gone);
    // a comes back restarted, its buckets finer (A's bounds and more): what it counted before stays
    // counted, moved into its new layout as the ingest moves a series' (series/streams.ts
    // relayout). Every bound both layouts have keeps its cumulative count exactly, so no `le` the
    // served series has goes back; a bound a new layout dropped would read its old counts higher up.
    // Then it goes on in its new layout: only what it counted since is added.
    const finer = [0.0625, 0.5, 1, 4];
    const after = observed(finer, [0.03125, 3]);
    const more = addBuckets(after, observed(finer, [0.375]));
    let last = gone;
    for (const [time, sent] of [
      [90, after],
      [100, more],
    ] as const) {
      n.at(time);
      n.send([
        { task: 'a', buckets: sent, start: 85, time },
        { task: 'b', buckets: other, start: 1, time },
      ]);
      const now = await n.scrape();
      assertCounted(now, [relayout(before, finer), sent, other]);
      assertNoDecrease(last, now);
      last = now;
    }
  });

  test(`gone senders folded past ${MAX_GONE_SOURCES} keep what they counted, whatever their layouts`, async () => {
    // A rule of the host's own serves its jobs' latencies as one series: as many senders as it has
    // jobs (a canonical instrument's, solti's, are bounded by its attributes' caps below this).
    const rule: FamilyRule = {
      instrument: 'app.latency',
      name: 'app_latency_seconds',
      type: 'histogram',
      help: 'Job latency.',
    };
    const gone = MAX_GONE_SOURCES + 2;
    const n = ingestNaming(
      {
        profile: resolveProfile('otel', false, [rule]),
        instrument: rule.instrument,
        attributes: (task) => ({ job: task }),
        family: rule.name,
        labels: '',
      },
      gone + 10,
    );
    // The two oldest fold first: the second in another layout than the first.
    const layouts = (i: number): readonly number[] => (i === 1 ? B : A);
    const sources = Array.from({ length: gone }, (_, i) => ({
      task: `t${i}`,
      buckets: observed(layouts(i), i < 2 ? [0.03125, 0.75, 3] : [0.0078125]),
      start: 1,
      time: 10,
    }));
    const keeper = { task: 'keeper', buckets: observed(A, [0.5]), start: 1, time: 10 };
    n.at(10);
    n.send([keeper, ...sources]);
    const all = [keeper.buckets, ...sources.map((s) => s.buckets)];
    const first = await n.scrape();
    assertCounted(first, all);
    // Every task but the keeper falls silent past the expiry: past the cap, the oldest gone fold.
    n.at(75);
    n.send([{ ...keeper, time: 75 }]);
    n.at(80);
    const folded = await n.scrape();
    assertCounted(folded, all);
    assertNoDecrease(first, folded);
  });
});
