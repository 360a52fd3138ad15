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
import type { HistogramSeries } from '../../src/exposition/types.ts';
import { DEFAULT_RUN_DURATION_BUCKETS } from '../../src/domain/catalog.ts';
import { IngestStore } from '../../src/ingest/ingest-store.ts';
import type { Jobmeter } from '../../src/jobmeter.ts';
import { resolveProfile } from '../../src/naming/profiles/index.ts';
import { createNamer } from '../../src/naming/to-families.ts';
import type { FamilyRule, Profile } from '../../src/naming/types.ts';
import { MAX_GONE_SOURCES, ServedTotals, SourceTotals } from '../../src/series/carry.ts';
import { MAX_KEPT_BOUNDS } from '../../src/series/aggregation.ts';
import { addBuckets, emptyBuckets, relayout, type Buckets } from '../model/model.ts';
import {
  EPOCH_SECONDS,
  fakeClock,
  histogram,
  histogramPoint,
  metric,
  request,
  scrapedFamilies,
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
    /**
     * Task `task`'s sender reports its `buckets` (cumulative unless `delta`), started at `start`, at
     * `time`, in the scope `scope` (one request per scope).
     */
    send(
      points: {
        task: string;
        buckets: Buckets;
        start: number;
        time: number;
        scope?: string;
        delta?: boolean;
      }[],
    ): void {
      for (const scope of new Set(points.map((p) => p.scope ?? 'daemon'))) {
        const mine = points.filter((p) => (p.scope ?? 'daemon') === scope);
        const data = histogram(
          mine.map((p) =>
            histogramPoint(
              [...p.buckets.bounds],
              [...p.buckets.counts],
              p.buckets.sum,
              served.attributes(p.task),
              p.start,
              p.time,
            ),
          ),
          mine.some((p) => p.delta === true) ? 'delta' : 'cumulative',
        );
        const r = store.ingest(
          request([metric(served.instrument, data, 's')], { 'service.name': 'daemon' }, scope),
        );
        assert.equal(r.rejectedDataPoints, 0, r.errorMessage);
      }
    },
    async scrape(): Promise<HistogramSeries> {
      const family = (await scrapedFamilies(store, namer)).find((f) => f.name === served.family);
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

// A sender that moves to a bucket layout lacking a bound its served series has: what it counted
// there stays counted there, so no `le` series a scraper has read goes back while no sender
// restarted (a counter's rule). Held through the three ways such a series is served: the ingest's
// series alone (the native naming), two producers' series merged by one served series (the native
// naming without scope labels), and a legacy table's, which carries its senders one by one (and
// keeps a gone one's part while it is away).
describe('a sender that changes its bucket layout', () => {
  const NATIVE: Served = {
    profile: resolveProfile('otel', false),
    instrument: 'app.latency',
    attributes: () => ({}),
    family: 'app_latency_seconds',
    labels: '',
  };

  /** One sender's observations, reported in whatever layout it has at the time. */
  class Sender {
    readonly values: number[] = [];
    sent = 0;
    readonly task: string;
    readonly scope: string;
    readonly delta: boolean;
    constructor(task: string, scope: string, delta: boolean) {
      [this.task, this.scope, this.delta] = [task, scope, delta];
    }
    /** Its point in the layout `bounds` at `time`: its whole history, or (delta) what is new. */
    point(bounds: readonly number[], time: number) {
      const values = this.delta ? this.values.slice(this.sent) : this.values;
      this.sent = this.values.length;
      const start = this.delta ? time - 1 : 1;
      const { task, scope, delta } = this;
      return { task, scope, delta, buckets: observed(bounds, values), start, time };
    }
  }

  /**
   * Holds each scrape of the served series `s` to what the senders observed and to the scrapes
   * before: count and sum are every observation's; each `le` reads at most the observations at or
   * below its bound (counts move only up a layout); and every `le` an earlier scrape read is read
   * again, no `le`, count or sum less than before.
   */
  function noneGoesBack(senders: readonly Sender[]) {
    const read = new Map<string, number>();
    return (s: HistogramSeries, step: string): void => {
      const values = senders.flatMap((x) => x.values);
      assert.equal(s.count, values.length, `${step}: every observation counted`);
      assert.equal(
        s.sum,
        values.reduce((a, b) => a + b, 0),
        `${step}: the sum of every one`,
      );
      const now = scraped(s);
      for (const series of read.keys())
        assert.ok(now.has(series), `${step}: ${series} left the scrape`);
      for (const [series, is] of now) {
        const bound = series.startsWith('le=')
          ? Number(series.slice(3).replace('Inf', 'Infinity'))
          : undefined;
        if (bound !== undefined)
          assert.ok(
            is <= values.filter((v) => v <= bound).length,
            `${step}: ${series} counts ${is}, more than was observed at or below it`,
          );
        const was = read.get(series);
        if (was !== undefined)
          assert.ok(is >= was, `${step}: ${series} went back: ${was} then ${is}`);
        read.set(series, is);
      }
    };
  }

  // b's layouts: each drops a bound an earlier one had, and some come back.
  const MOVES: readonly (readonly number[])[] = [
    [1, 5],
    [2, 10],
    [1, 2, 5],
    [0.5, 5],
  ];
  const SERVED = [1, 2, 5];
  const OBSERVED = [
    [1.5, 1.5, 7],
    [0.25, 1.5, 12],
    [1.5, 4],
    [0.375, 1.5, 3],
  ];

  for (const delta of [false, true])
    test(`the native naming: a ${delta ? 'delta' : 'cumulative'} sender's series keeps every bound it was counted in`, async () => {
      const n = ingestNaming(NATIVE);
      const b = new Sender('b', 'daemon', delta);
      const check = noneGoesBack([b]);
      b.values.push(0.75, 1.5, 3);
      n.at(10);
      n.send([b.point(SERVED, 10)]);
      check(await n.scrape(), 'first');
      for (const [i, bounds] of MOVES.entries()) {
        const time = 20 + 10 * i;
        b.values.push(...OBSERVED[i]!);
        n.at(time);
        n.send([b.point(bounds, time)]);
        check(await n.scrape(), `b in [${bounds.join(', ')}]`);
      }
    });

  test(`a sender going through ever new layouts is held in at most ${MAX_KEPT_BOUNDS} bounds, every observation counted`, async () => {
    const n = ingestNaming(NATIVE);
    const b = new Sender('b', 'daemon', false);
    let widest = 0;
    for (let i = 0; i < MAX_KEPT_BOUNDS; i++) {
      b.values.push(i + 0.25);
      n.at(10 + i);
      n.send([b.point([i + 0.5, 1000 + i], 10 + i)]);
      const s = await n.scrape();
      assert.ok(s.bounds.length <= MAX_KEPT_BOUNDS, `${s.bounds.length} bounds held`);
      assert.equal(s.count, b.values.length, 'every observation counted');
      widest = Math.max(widest, s.bounds.length);
    }
    assert.ok(
      widest > MAX_KEPT_BOUNDS - 2,
      `its layouts kept side by side up to the cap: ${widest}`,
    );
  });

  // The native naming carries no gone producer's part (its series is served by its own set), so
  // only the legacy table's sender goes away and comes back.
  for (const [surface, served, scopes, expires] of [
    ['the native naming without scope labels (two scopes)', NATIVE, ['host-a', 'host-b'], false],
    ['a legacy table that merges senders', SOLTI, ['daemon', 'daemon'], true],
  ] as const)
    test(`${surface}: a sender moving to layouts without a bound the served series has${expires ? ', live and back from expiry,' : ''} takes back nothing it counted`, async () => {
      const n = ingestNaming(served);
      const a = new Sender('a', scopes[0], false);
      const b = new Sender('b', scopes[1], false);
      const check = noneGoesBack([a, b]);
      a.values.push(0.75, 1.5);
      b.values.push(0.5, 1.5, 3, 4, 4.5);
      n.at(10);
      n.send([a.point(SERVED, 10), b.point(SERVED, 10)]);
      check(await n.scrape(), 'first');
      let time = 10;
      for (const [i, bounds] of MOVES.entries()) {
        time += 10;
        a.values.push(1.5);
        b.values.push(...OBSERVED[i]!);
        n.at(time);
        n.send([a.point(SERVED, time), b.point(bounds, time)]);
        check(await n.scrape(), `b in [${bounds.join(', ')}]`);
        if (!expires || i !== 0) continue;
        // b falls silent past the expiry while a keeps the served series, and comes back in the
        // next layout: its series is made again, what it counted is the served series' still.
        time += EXPIRY / 1000 + 5;
        n.at(time);
        n.send([a.point(SERVED, time)]);
        n.at(time + 5);
        check(await n.scrape(), 'b gone');
      }
    });
});
