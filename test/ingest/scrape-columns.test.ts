// A pull scrape reads the ingest's series sets as columns (a Collection's `ingested` part,
// src/ingest/collect.ts `collectSeries`), not as MetricData: none is made of a set on a scrape, and
// what the naming pass makes of the columns is what it made of the MetricData (families, their
// order, series order across a histogram's bucket layouts, start times, name claims and the
// ingest's precedence over the service's own metrics).
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { emptyResource } from '@opentelemetry/resources';
import type { CollectionResult, MetricData, MetricProducer } from '@opentelemetry/sdk-metrics';
import {
  isMetricData,
  metricsCollection,
  withIngested,
  type Collection,
  type IngestedPart,
} from '../../src/series/collection.ts';
import { HistogramSet } from '../../src/series/histogram.ts';
import { ExponentialSet } from '../../src/series/exponential.ts';
import { SeriesStore } from '../../src/series/series-store.ts';
import { SumSet } from '../../src/series/sum.ts';
import { renderOpenMetrics } from '../../src/exposition/openmetrics.ts';
import type { RenderFamily } from '../../src/exposition/render-model.ts';
import { createJobmeter, type Jobmeter } from '../../src/index.ts';
import { IngestStore } from '../../src/ingest/ingest-store.ts';
import { resolveProfile } from '../../src/naming/profiles/index.ts';
import { createNamer } from '../../src/naming/to-families.ts';
import { VERSION } from '../../src/version.ts';
import type { Profile } from '../../src/naming/types.ts';
import {
  exponential,
  exponentialPoint,
  fakeClock,
  gauge,
  histogram,
  histogramPoint,
  metric,
  numberPoint,
  request,
  sum,
} from './helpers.ts';

// --- the store and the naming pass: the columns name as the MetricData did -------------------

/** The store read as the push reads it: MetricData, as a producer's part of a collection. */
async function asMetricData(store: IngestStore): Promise<Collection> {
  return metricsCollection((await store.collect()).resourceMetrics);
}

/** The store read as a scrape reads it: its series sets, the `ingested` part. */
async function asColumns(store: IngestStore): Promise<Collection> {
  return withIngested(
    metricsCollection({ resource: emptyResource(), scopeMetrics: [] }),
    await store.collectSeries(),
  );
}

const PROFILES: Record<string, Profile> = {
  'native, scope labels and start times': {
    ...resolveProfile('otel', true),
    startTimestamps: true,
  },
  'legacy table, host instruments native': resolveProfile('runwisp', false),
};

for (const [label, profile] of Object.entries(PROFILES)) {
  test(`${label}: the ingest's columns name as its MetricData did, through layout changes, removals and expiry`, async () => {
    const clock = fakeClock();
    const store = new IngestStore({ clock, expiryMillis: 60_000 });
    const options = {
      hostname: 'h',
      hostInstruments: 'native' as const,
      ownInstruments: new Set<string>(),
    };
    const fromMetrics = createNamer(profile, options);
    const fromColumns = createNamer(profile, options);
    const same = async (round: string): Promise<RenderFamily[]> => {
      const want = fromMetrics.toFamilies(await asMetricData(store));
      const c = await asColumns(store);
      assert.equal(c.metrics.length, 0);
      const got = fromColumns.toFamilies(c);
      c.done();
      assert.deepEqual(got, want, round);
      assert.equal(renderOpenMetrics(got), renderOpenMetrics(want), round);
      return got;
    };
    const h = (route: string, bounds: number[], counts: number[], s: number, t: number) =>
      histogramPoint(bounds, counts, s, { route }, 100, t);
    store.ingest(
      request(
        [
          metric(
            'daemon.requests',
            sum([numberPoint(1, { k: '1' }, 100, 110), numberPoint(2, { k: '2' }, 100, 110)]),
          ),
          metric('daemon.level', gauge([numberPoint(5, {}, 100, 110)])),
          metric(
            'daemon.latency',
            histogram([
              h('x', [1], [1, 0], 0.5, 110),
              h('y', [1], [0, 1], 2, 110),
              h('z', [1], [1, 0], 0.5, 110),
            ]),
            's',
          ),
          metric(
            'daemon.sizes',
            exponential([exponentialPoint(0, 0, [1, 2], 5, { k: 'e' }, 100, 110)]),
          ),
          metric(
            'jobmeter.run.finished',
            sum([
              numberPoint(3, { outcome: 'success', task: 't', kind: 'task' }, 100, 110),
              numberPoint(1, { outcome: 'failure', task: 't', kind: 'task' }, 100, 110),
            ]),
            '{run}',
          ),
          metric('daemon.bad', sum([numberPoint(-1, {}, 100, 110)])),
        ],
        { 'service.name': 'one' },
        'a',
      ),
    );
    store.ingest(
      request(
        [
          metric('daemon.requests', sum([numberPoint(4, { k: '1' }, 100, 110)])),
          metric('daemon.latency', histogram([h('w', [5], [1, 1], 6, 110)]), 's'),
        ],
        { 'service.name': 'two' },
        'b',
      ),
    );
    await same('first');
    clock.advance(40_000);
    // y moves to another bucket layout (its place and start kept), v is new, k=1 of scope a ends.
    store.ingest(
      request(
        [
          metric(
            'daemon.latency',
            histogram([h('y', [2, 4], [0, 0, 1], 5, 150), h('v', [1], [1, 0], 0.5, 150)]),
            's',
          ),
          metric('daemon.requests', sum([numberPoint(undefined, { k: '1' }, 100, 150, true)])),
          metric(
            'jobmeter.run.finished',
            sum([numberPoint(2, { outcome: 'failure', task: 't', kind: 'task' }, 100, 150)]),
            '{run}',
          ),
        ],
        { 'service.name': 'one' },
        'a',
      ),
    );
    const second = await same('after a layout change and an ended stream');
    const latency = second.find(
      (f) => f.name === 'daemon_latency_seconds' || f.name.startsWith('daemon_latency'),
    );
    assert.ok(latency !== undefined && latency.type === 'histogram');
    assert.deepEqual(
      latency.series.map((s) => [s.labels.match(/route="(\w)"/)?.[1], s.bounds]),
      [
        ['x', [1]],
        // The bound it was counted in kept beside its sender's new ones (HISTOGRAM.keptLayout).
        ['y', [1, 2, 4]],
        ['z', [1]],
        ['v', [1]],
        ['w', [5]],
      ],
      "a scope's series in the order made, each with its own layout",
    );
    clock.advance(30_000);
    await same('after the idle series expired');
  });
}

test("a set compacted between the collection and the naming pass still names the collection's series", async () => {
  const store = new IngestStore();
  const g = (host: string, v: number, end = false) => numberPoint(v, { host }, 100, 110, end);
  store.ingest(request([metric('daemon.level', gauge([g('a', 1), g('b', 2), g('c', 3)]))]));
  const part = await store.collectSeries();
  // b ends, and a checkpoint compacts the set (state-keeper.ts writes while a scrape is named).
  store.ingest(request([metric('daemon.level', gauge([g('b', 0, true)]))]));
  store.snapshot();
  const namer = createNamer(resolveProfile('otel', false));
  const families = namer.toFamilies(
    withIngested(metricsCollection({ resource: emptyResource(), scopeMetrics: [] }), part),
  );
  part.done();
  assert.deepEqual(
    families
      .find((f) => f.name === 'daemon_level')
      ?.series.map((s) => [s.labels, 'value' in s ? s.value : undefined]),
    [
      ['host="a"', 1],
      ['host="b"', 2],
      ['host="c"', 3],
    ],
  );
});

// --- createJobmeter: what a scrape reads, and what it serves ------------------------------------

const NOW = BigInt(Date.now()) * 1_000_000n;
const START = NOW - 60_000_000_000n;
const attrs = (a: Record<string, string>) =>
  Object.entries(a).map(([key, v]) => ({ key, value: { stringValue: v } }));
const num = (v: number, a: Record<string, string>, t = NOW) => ({
  asDouble: v,
  startTimeUnixNano: String(START),
  timeUnixNano: String(t),
  attributes: attrs(a),
});
const hist = (
  bounds: number[],
  counts: number[],
  s: number,
  a: Record<string, string>,
  t = NOW,
) => ({
  explicitBounds: bounds,
  bucketCounts: counts.map(String),
  sum: s,
  count: String(counts.reduce((x, y) => x + y, 0)),
  startTimeUnixNano: String(START),
  timeUnixNano: String(t),
  attributes: attrs(a),
});
const body = (scopes: { scope: string; metrics: unknown[] }[]) =>
  JSON.stringify({
    resourceMetrics: [
      {
        resource: { attributes: attrs({ 'service.name': 'daemon' }) },
        scopeMetrics: scopes.map((s) => ({ scope: { name: s.scope }, metrics: s.metrics })),
      },
    ],
  });

/** A host's producer giving one name the ingest gives too (events: both count) and one of its own. */
const hostProducer: MetricProducer = {
  collect: (): Promise<CollectionResult> =>
    Promise.resolve({
      resourceMetrics: {
        resource: emptyResource(),
        scopeMetrics: [
          {
            scope: { name: 'host-producer' },
            metrics: [
              {
                descriptor: { name: 'shared.events', description: '', unit: '', valueType: 1 },
                aggregationTemporality: 1,
                dataPointType: 3,
                isMonotonic: true,
                dataPoints: [
                  { startTime: [1, 0], endTime: [2, 0], attributes: { route: '/a' }, value: 5 },
                ],
              },
              {
                descriptor: { name: 'producer.level', description: '', unit: '', valueType: 1 },
                aggregationTemporality: 1,
                dataPointType: 2,
                dataPoints: [{ startTime: [1, 0], endTime: [2, 0], attributes: {}, value: 9 }],
              },
            ],
          },
        ],
      },
      errors: [],
    }),
};

/** A jobmeter with own metrics (process ones too), a host's instruments and producer, and an ingest holding names of each. */
async function fedJobmeter(profile: 'otel' | 'runwisp'): Promise<Jobmeter> {
  const jm = await createJobmeter({
    profile,
    listener: false,
    global: false,
    processMetrics: true,
    startTimestamps: true,
    hostInstruments: 'native',
    ingest: { port: 0 },
    metricProducers: [hostProducer],
  });
  jm.meter.createCounter('shared.events').add(3, { route: '/a' });
  jm.meter.createObservableGauge('shared.level').addCallback((r) => r.observe(1));
  // Its native name is the one the ingested counter `clash.me` would take: the host's comes first.
  jm.meter.createObservableGauge('clash_me_total').addCallback((r) => r.observe(2));
  const post = async (json: string) => {
    const res = await fetch(`http://127.0.0.1:${jm.ingestAddress!.port}/v1/metrics`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: json,
    });
    assert.equal(res.status, 200);
    await res.arrayBuffer();
  };
  await post(
    body([
      {
        scope: 'daemon',
        metrics: [
          { name: 'process.uptime', unit: 's', gauge: { dataPoints: [num(12345, {})] } },
          {
            name: 'shared.events',
            sum: {
              aggregationTemporality: 2,
              isMonotonic: true,
              dataPoints: [num(7, { route: '/a' }), num(1, { route: '/b' })],
            },
          },
          { name: 'shared.level', gauge: { dataPoints: [num(4, {})] } },
          {
            name: 'jobmeter.run.finished',
            unit: '{run}',
            sum: {
              aggregationTemporality: 2,
              isMonotonic: true,
              dataPoints: [
                num(3, { outcome: 'success', task: 'x', kind: 'task' }),
                num(1, { outcome: 'failure', task: 'x', kind: 'task' }),
              ],
            },
          },
          {
            name: 'daemon.latency',
            unit: 's',
            histogram: {
              aggregationTemporality: 2,
              dataPoints: [
                hist([1], [1, 0], 0.5, { route: 'a' }),
                hist([1], [0, 1], 2, { route: 'b' }),
                hist([1], [1, 0], 0.5, { route: 'c' }),
              ],
            },
          },
          {
            name: 'daemon.exp',
            exponentialHistogram: {
              aggregationTemporality: 2,
              dataPoints: [
                {
                  scale: 0,
                  zeroCount: '1',
                  positive: { offset: 0, bucketCounts: ['1', '2'] },
                  sum: 5,
                  count: '4',
                  startTimeUnixNano: String(START),
                  timeUnixNano: String(NOW),
                  attributes: attrs({ k: 'v' }),
                },
              ],
            },
          },
          {
            name: 'clash.me',
            sum: { aggregationTemporality: 2, isMonotonic: true, dataPoints: [num(6, {})] },
          },
          {
            name: 'bad.counter',
            sum: { aggregationTemporality: 2, isMonotonic: true, dataPoints: [num(-1, {})] },
          },
        ],
      },
      {
        scope: 'other',
        metrics: [
          {
            name: 'shared.events',
            sum: {
              aggregationTemporality: 2,
              isMonotonic: true,
              dataPoints: [num(2, { route: '/a' })],
            },
          },
          {
            name: 'daemon.latency',
            unit: 's',
            histogram: {
              aggregationTemporality: 2,
              dataPoints: [hist([5], [1, 1], 6, { route: 'z' })],
            },
          },
        ],
      },
    ]),
  );
  const later = NOW + 1_000_000n;
  await post(
    body([
      {
        scope: 'daemon',
        metrics: [
          {
            name: 'daemon.latency',
            unit: 's',
            histogram: {
              aggregationTemporality: 2,
              dataPoints: [
                hist([2, 4], [0, 0, 1], 5, { route: 'b' }, later),
                hist([1], [1, 0], 0.5, { route: 'd' }, later),
              ],
            },
          },
          {
            name: 'jobmeter.run.finished',
            unit: '{run}',
            sum: {
              aggregationTemporality: 2,
              isMonotonic: true,
              dataPoints: [num(2, { outcome: 'failure', task: 'x', kind: 'task' }, later)],
            },
          },
        ],
      },
    ]),
  );
  return jm;
}

/** Families the process metrics make (what they are depends on the machine), left out of the comparisons. */
const machine = (name: string) =>
  /^(process_|system_|nodejs_|v8js_|jobmeter_process_|runwisp_daemon_(cpu|memory))/.test(name) &&
  name !== 'process_uptime_seconds';
/** The body with the start times (and the wall clock of the last failure) masked. */
const masked = (families: readonly RenderFamily[]) =>
  renderOpenMetrics(families.filter((f) => !machine(f.name)))
    .replace(/(_created(\{[^}]*\})?) \d+(\.\d+)?/g, '$1 X')
    .replace(/(last_failure_time(stamp)?_seconds(\{[^}]*\})?) \d+(\.\d+)?/g, '$1 X');

describe('createJobmeter with an ingest: the scrape', () => {
  const restore: (() => void)[] = [];
  let jm: Jobmeter | undefined;
  afterEach(async () => {
    for (const undo of restore.splice(0)) undo();
    await jm?.shutdown();
    jm = undefined;
  });

  /** Counts the calls of `proto[name]` (the real method still runs) until the test ends. */
  function counted<T extends object>(
    proto: T,
    name: keyof T & string,
    seen?: (result: unknown) => void,
  ): { calls: number } {
    const original = proto[name] as (...args: unknown[]) => unknown;
    const count = { calls: 0 };
    (proto as Record<string, unknown>)[name] = function (this: unknown, ...args: unknown[]) {
      count.calls++;
      const result = original.apply(this, args);
      seen?.(result);
      return result;
    };
    restore.push(() => ((proto as Record<string, unknown>)[name] = original));
    return count;
  }

  test("makes no MetricData of a series set: the ingest is the Collection's `ingested` part, none of it in `metrics`", async () => {
    const fed = (jm = await fedJobmeter('otel'));
    const parts: Promise<IngestedPart>[] = [];
    const collections: Promise<Collection>[] = [];
    const pointsMade = [
      counted(SumSet.prototype, 'cumulative'),
      counted(HistogramSet.prototype, 'cumulative'),
      counted(ExponentialSet.prototype, 'cumulative'),
    ];
    const metricData = counted(IngestStore.prototype, 'collect');
    counted(IngestStore.prototype, 'collectSeries', (p) => parts.push(p as Promise<IngestedPart>));
    counted(SeriesStore.prototype, 'collect', (c) => collections.push(c as Promise<Collection>));
    const families = await fed.scrape();
    assert.deepEqual(
      pointsMade.map((c) => c.calls),
      [0, 0, 0],
      'no points made of a set',
    );
    assert.equal(metricData.calls, 0, "the ingest's MetricData is not read");
    assert.equal(parts.length, 1);
    const part = await parts[0]!;
    const entries = part.scopes.flatMap((s) => s.series);
    const columns = entries.filter((e) => !isMetricData(e)).map((e) => e.descriptor.name);
    const asMetrics = entries.filter(isMetricData).map((e: MetricData) => e.descriptor.name);
    assert.deepEqual(columns, [
      'process.uptime',
      'shared.events',
      'shared.level',
      'jobmeter.run.finished',
      'daemon.latency',
      'daemon.exp',
      'clash.me',
      'shared.events',
      'daemon.latency',
      // The refused points are a counter's set of jobmeter's own engine (ingest-report.ts).
      'jobmeter.ingest.refused',
    ]);
    assert.deepEqual(
      asMetrics,
      ['jobmeter.run.history', 'jobmeter.run.last_failure.time'],
      'MetricData only where no set holds the series (the runs derived from them)',
    );
    assert.equal(collections.length, 1);
    const pulled = (await collections[0]!).metrics;
    assert.deepEqual(
      pulled.map((sm) => sm.scope.name),
      ['jobmeter', 'host-producer'],
      "the pull reader's part: the SDK's instruments and the host's producer, no scope of the ingest",
    );
    for (const name of [
      'daemon.latency',
      'daemon.exp',
      'clash.me',
      'jobmeter.run.finished',
      'jobmeter.ingest.refused',
    ]) {
      assert.ok(
        pulled.every((sm) => sm.metrics.every((m) => m.descriptor.name !== name)),
        `${name} is not in metrics`,
      );
    }
    assert.ok(families.some((f) => f.name === 'daemon_latency_seconds'));
    part.done();
  });

  test('native profile: family order and name precedence as before (own, host instruments, host producer, then ingest)', async () => {
    const fed = (jm = await fedJobmeter('otel'));
    for (let round = 0; round < 2; round++) {
      const families = await fed.scrape();
      assert.deepEqual(
        families.map((f) => f.name).filter((n) => !machine(n)),
        [
          'target_info',
          'jobmeter_records_dropped_total',
          'jobmeter_attribute_values_truncated_total',
          'jobmeter_instruments_unserved_total',
          'jobmeter_run_history_total',
          'jobmeter_build_info',
          'shared_events_total',
          'clash_me_total',
          'producer_level',
          'process_uptime_seconds',
          'shared_level',
          'jobmeter_run_finished_total',
          'daemon_latency_seconds',
          'daemon_exp',
          'jobmeter_run_last_failure_time_seconds',
          'jobmeter_ingest_refused_total',
        ].filter((n) => !machine(n)),
      );
      const text = masked(families);
      assert.ok(
        text.includes(
          [
            '# TYPE shared_events counter',
            `shared_events_total{route="/a",otel_scope_name="jobmeter",otel_scope_version="${VERSION}"} 3`,
            `shared_events_created{route="/a",otel_scope_name="jobmeter",otel_scope_version="${VERSION}"} X`,
            'shared_events_total{route="/a",otel_scope_name="host-producer"} 5',
            'shared_events_created{route="/a",otel_scope_name="host-producer"} X',
            'shared_events_total{route="/a",otel_scope_name="daemon"} 7',
            'shared_events_created{route="/a",otel_scope_name="daemon"} X',
            'shared_events_total{route="/b",otel_scope_name="daemon"} 1',
            'shared_events_created{route="/b",otel_scope_name="daemon"} X',
            'shared_events_total{route="/a",otel_scope_name="other"} 2',
            'shared_events_created{route="/a",otel_scope_name="other"} X',
            '# TYPE clash_me_total gauge',
            `clash_me_total{otel_scope_name="jobmeter",otel_scope_version="${VERSION}"} 2`,
            '# TYPE producer_level gauge',
            'producer_level{otel_scope_name="host-producer"} 9',
            '# TYPE process_uptime_seconds gauge',
            '# UNIT process_uptime_seconds seconds',
            '# HELP process_uptime_seconds Seconds since the process started.',
            'process_uptime_seconds{otel_scope_name="daemon"} 12345',
            '# TYPE shared_level gauge',
            'shared_level{otel_scope_name="daemon"} 4',
          ].join('\n'),
        ),
        `events from every side, levels and process figures from the ingest alone, the host's name first:\n${text}`,
      );
      assert.match(
        text,
        new RegExp(
          `jobmeter_run_history_total\\{outcome="success",otel_scope_name="jobmeter",otel_scope_version="${VERSION}"\\} 3\\n[^\\n]*\\njobmeter_run_history_total\\{outcome="failure",otel_scope_name="jobmeter",otel_scope_version="${VERSION}"\\} 2\\n`,
        ),
      );
      const latency = families.find((f) => f.name === 'daemon_latency_seconds');
      assert.ok(latency?.type === 'histogram');
      assert.deepEqual(
        latency.series.map((s) => [s.labels, s.bounds, s.counts, s.created !== undefined]),
        [
          ['route="a",otel_scope_name="daemon"', [1], [1, 0], true],
          ['route="b",otel_scope_name="daemon"', [1, 2, 4], [0, 0, 0, 1], true],
          ['route="c",otel_scope_name="daemon"', [1], [1, 0], true],
          ['route="d",otel_scope_name="daemon"', [1], [1, 0], true],
          ['route="z",otel_scope_name="other"', [5], [1, 1], true],
        ],
      );
    }
  });

  test('legacy profile: family order and values as before', async () => {
    const fed = (jm = await fedJobmeter('runwisp'));
    const families = await fed.scrape();
    assert.deepEqual(
      families.map((f) => f.name).filter((n) => !machine(n)),
      [
        'runwisp_runs_total',
        'runwisp_runs_last_failure_timestamp_seconds',
        'runwisp_daemon_uptime_seconds',
        'runwisp_build_info',
        'shared_events_total',
        'clash_me_total',
        'producer_level',
        'shared_level',
        'daemon_latency_seconds',
        'daemon_exp',
      ],
    );
    assert.equal(
      masked(families),
      [
        '# TYPE runwisp_runs counter',
        '# HELP runwisp_runs Total runs that reached a terminal status (success or failed) since the DB existed',
        'runwisp_runs_total{status="success"} 3',
        'runwisp_runs_created{status="success"} X',
        'runwisp_runs_total{status="failed"} 2',
        'runwisp_runs_created{status="failed"} X',
        '# TYPE runwisp_runs_last_failure_timestamp_seconds gauge',
        '# UNIT runwisp_runs_last_failure_timestamp_seconds seconds',
        '# HELP runwisp_runs_last_failure_timestamp_seconds Unix time of the most recent failed run; omitted entirely when no failure recorded',
        'runwisp_runs_last_failure_timestamp_seconds X',
        '# TYPE runwisp_daemon_uptime_seconds gauge',
        '# UNIT runwisp_daemon_uptime_seconds seconds',
        '# HELP runwisp_daemon_uptime_seconds Seconds since the daemon started',
        'runwisp_daemon_uptime_seconds 12345',
        '# TYPE runwisp_build_info gauge',
        "# HELP runwisp_build_info Always 1; the label carries the running daemon's version string",
        `runwisp_build_info{version="${VERSION}"} 1`,
        '# TYPE shared_events counter',
        'shared_events_total{route="/a"} 17',
        'shared_events_created{route="/a"} X',
        'shared_events_total{route="/b"} 1',
        'shared_events_created{route="/b"} X',
        '# TYPE clash_me_total gauge',
        'clash_me_total 2',
        '# TYPE producer_level gauge',
        'producer_level 9',
        '# TYPE shared_level gauge',
        'shared_level 4',
        '# TYPE daemon_latency_seconds histogram',
        '# UNIT daemon_latency_seconds seconds',
        ...(
          [
            ['a', [['1.0', 1]], 0.5, 1],
            [
              'b',
              [
                // The bound it was counted in, kept beside its sender's new ones.
                ['1.0', 0],
                ['2.0', 0],
                ['4.0', 0],
              ],
              5,
              1,
            ],
            ['c', [['1.0', 1]], 0.5, 1],
            ['d', [['1.0', 1]], 0.5, 1],
            ['z', [['5.0', 1]], 6, 2],
          ] satisfies Array<[string, Array<[string, number]>, number, number]>
        ).flatMap(([route, buckets, s, count]) => [
          ...buckets.map(
            ([le, c]) => `daemon_latency_seconds_bucket{route="${route}",le="${le}"} ${c}`,
          ),
          `daemon_latency_seconds_bucket{route="${route}",le="+Inf"} ${count}`,
          `daemon_latency_seconds_sum{route="${route}"} ${s}`,
          `daemon_latency_seconds_count{route="${route}"} ${count}`,
          `daemon_latency_seconds_created{route="${route}"} X`,
        ]),
        '# TYPE daemon_exp histogram',
        'daemon_exp_bucket{k="v",le="0.0"} 1',
        'daemon_exp_bucket{k="v",le="2.0"} 2',
        'daemon_exp_bucket{k="v",le="4.0"} 4',
        'daemon_exp_bucket{k="v",le="+Inf"} 4',
        'daemon_exp_sum{k="v"} 5',
        'daemon_exp_count{k="v"} 4',
        'daemon_exp_created{k="v"} X',
        '# EOF',
        '',
      ].join('\n'),
    );
  });
});
