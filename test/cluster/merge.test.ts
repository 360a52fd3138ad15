// The cluster merge: members are real OpenTelemetry MeterProviders read by
// jobmeter's pull reader; their collections are encoded as members send them and merged as the
// primary does. Counters never decrease across a member's exit or restart, histogram buckets
// sum, up-down counters and gauges follow the merge policy over live members.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { diag, DiagLogLevel, ValueType } from '@opentelemetry/api';
import { emptyResource } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  AggregationType,
  DataPointType,
  type ExponentialHistogram,
  MeterProvider,
  MetricReader,
  type MetricData,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { ClusterAggregate } from '../../src/cluster/aggregate.ts';
import { CLUSTER_POLICY, mergePolicies } from '../../src/domain/merge-rules.ts';
import { ReportEncoder } from '../../src/cluster/report-encoder.ts';
import { REPORT_CHUNK_POINTS, type Report } from '../../src/cluster/wire.ts';
import { MAX_SERIES_PER_INSTRUMENT } from '../../src/domain/bounded-attributes.ts';
import { OVERFLOW_ATTRIBUTES } from '../../src/series/positions.ts';
import { newPullReader } from '../../src/readers/pull-reader.ts';
import { SeriesCache } from '../../src/naming/series-cache.ts';

/** A process of the cluster: its own provider and reader, and the encoder it reports with. */
function member(name: string) {
  const reader = newPullReader([], { cardinalityLimit: 100_000 });
  const provider = new MeterProvider({ readers: [reader] });
  const meter = provider.getMeter('app', '1.0.0');
  const encoder = new ReportEncoder(name);
  let seq = 0;
  return {
    name,
    meter,
    async report(): Promise<Report[]> {
      const { resourceMetrics } = await reader.collect();
      return [...encoder.chunks(resourceMetrics, ++seq)];
    },
    shutdown: () => provider.shutdown(),
  };
}

async function send(agg: ClusterAggregate, m: ReturnType<typeof member>): Promise<Report[]> {
  const chunks = await m.report();
  for (const c of chunks) agg.apply(m.name, c);
  return chunks;
}

function metric(rm: ResourceMetrics, name: string): MetricData | undefined {
  return rm.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.descriptor.name === name);
}

function values(rm: ResourceMetrics, name: string): Record<string, number> {
  const m = metric(rm, name);
  const out: Record<string, number> = {};
  if (
    m === undefined ||
    m.dataPointType === DataPointType.HISTOGRAM ||
    m.dataPointType === DataPointType.EXPONENTIAL_HISTOGRAM
  )
    return out;
  for (const p of m.dataPoints) out[JSON.stringify(p.attributes)] = p.value;
  return out;
}

const aggregate = (merge = {}, temporality = AggregationTemporality.CUMULATIVE) =>
  new ClusterAggregate({
    resource: emptyResource(),
    policyFor: mergePolicies(merge),
    temporality: () => temporality,
  });

test('counters are summed and never decrease when a member exits, restarts or its source resets', async () => {
  const agg = aggregate();
  const a = member('a');
  const b = member('b');
  const ca = a.meter.createCounter('jobs', { valueType: ValueType.INT });
  const cb = b.meter.createCounter('jobs', { valueType: ValueType.INT });
  ca.add(5, { queue: 'x' });
  cb.add(3, { queue: 'x' });
  cb.add(2, { queue: 'y' });
  await send(agg, a);
  await send(agg, b);
  assert.deepEqual(values(await agg.resourceMetrics(), 'jobs'), {
    '{"queue":"x"}': 8,
    '{"queue":"y"}': 2,
  });

  // a exits: its totals stay.
  agg.retire('a');
  await a.shutdown();
  cb.add(1, { queue: 'x' });
  await send(agg, b);
  assert.deepEqual(values(await agg.resourceMetrics(), 'jobs'), {
    '{"queue":"x"}': 9,
    '{"queue":"y"}': 2,
  });

  // a restarted worker is a new member, starting from 0: its records add to what a left.
  const a2 = member('a2');
  a2.meter.createCounter('jobs').add(4, { queue: 'x' });
  await send(agg, a2);
  assert.deepEqual(values(await agg.resourceMetrics(), 'jobs'), {
    '{"queue":"x"}': 13,
    '{"queue":"y"}': 2,
  });

  // A member whose own count went down (its source really reset) adds its new value whole.
  agg.apply('b', {
    tag: 'jobmeter.cluster.v1',
    t: 'report',
    instance: 'b',
    seq: 99,
    end: true,
    v: [0, 1],
  });
  const after = values(await agg.resourceMetrics(), 'jobs');
  assert.equal(after['{"queue":"x"}'], 14, 'b: 4 then 1 → +1, not −3');
  await Promise.all([b.shutdown(), a2.shutdown()]);
});

test('histograms: bucket counts, sum and count add up over members, exited ones included', async () => {
  const agg = aggregate();
  const a = member('a');
  const b = member('b');
  const opts = { advice: { explicitBucketBoundaries: [1, 10] } };
  const ha = a.meter.createHistogram('wait', opts);
  const hb = b.meter.createHistogram('wait', opts);
  for (const v of [0.5, 2, 20]) ha.record(v);
  for (const v of [0.1, 0.2, 5]) hb.record(v);
  await send(agg, a);
  await send(agg, b);
  agg.retire('a');
  hb.record(50);
  await send(agg, b);
  const m = metric(await agg.resourceMetrics(), 'wait');
  assert.equal(m?.dataPointType, DataPointType.HISTOGRAM);
  const p = m.dataPoints[0]!.value;
  assert.deepEqual(p.buckets.boundaries, [1, 10]);
  assert.deepEqual(p.buckets.counts, [3, 2, 2]);
  assert.equal(p.count, 7);
  assert.ok(Math.abs(p.sum! - 77.8) < 1e-9, `sum ${p.sum}`);
  assert.equal(p.min, 0.1);
  assert.equal(p.max, 50);
  await Promise.all([a.shutdown(), b.shutdown()]);
});

test('up-down counters and gauges: summed over live members by default, max where the policy says; a leaver drops out', async () => {
  const agg = aggregate({ 'app.version.seen': 'max' });
  const a = member('a');
  const b = member('b');
  const inflight = a.meter.createUpDownCounter('inflight');
  inflight.add(3);
  b.meter.createUpDownCounter('inflight').add(2);
  const heap = a.meter.createGauge('heap');
  heap.record(100);
  b.meter.createGauge('heap').record(50);
  a.meter.createGauge('app.version.seen').record(7);
  b.meter.createGauge('app.version.seen').record(9);
  await send(agg, a);
  await send(agg, b);
  let rm = await agg.resourceMetrics();
  assert.deepEqual(values(rm, 'inflight'), { '{}': 5 });
  assert.deepEqual(values(rm, 'heap'), { '{}': 150 });
  assert.deepEqual(values(rm, 'app.version.seen'), { '{}': 9 });
  agg.retire('b');
  rm = await agg.resourceMetrics();
  assert.deepEqual(values(rm, 'inflight'), { '{}': 3 });
  assert.deepEqual(values(rm, 'heap'), { '{}': 100 });
  assert.deepEqual(values(rm, 'app.version.seen'), { '{}': 7 });
  // A level that goes down is lower, not a restart that keeps what it was.
  inflight.add(-2);
  heap.record(40);
  await send(agg, a);
  rm = await agg.resourceMetrics();
  assert.deepEqual(values(rm, 'inflight'), { '{}': 1 });
  assert.deepEqual(values(rm, 'heap'), { '{}': 40 });
  await Promise.all([a.shutdown(), b.shutdown()]);
});

test('a gauge series a member no longer reports leaves the aggregate', async () => {
  const agg = aggregate();
  const encoder = new ReportEncoder('a');
  const attrs = (queue: string) => ({ queue });
  const x = attrs('x');
  const y = attrs('y');
  const collection = (points: Array<[Record<string, string>, number]>): ResourceMetrics => ({
    resource: emptyResource(),
    scopeMetrics: [
      {
        scope: { name: 'app' },
        metrics: [
          {
            descriptor: { name: 'depth', description: '', unit: '', valueType: ValueType.DOUBLE },
            aggregationTemporality: AggregationTemporality.CUMULATIVE,
            dataPointType: DataPointType.GAUGE,
            dataPoints: points.map(([attributes, value]) => ({
              attributes,
              value,
              startTime: [0, 0],
              endTime: [1, 0],
            })),
          },
        ],
      },
    ],
  });
  for (const c of encoder.chunks(
    collection([
      [x, 4],
      [y, 1],
    ]),
    1,
  ))
    agg.apply('a', c);
  assert.deepEqual(values(await agg.resourceMetrics(), 'depth'), {
    '{"queue":"x"}': 4,
    '{"queue":"y"}': 1,
  });
  const [withdrawn] = [...encoder.chunks(collection([[x, 6]]), 2)];
  assert.equal(withdrawn!.x?.length, 1);
  agg.apply('a', withdrawn!);
  assert.deepEqual(values(await agg.resourceMetrics(), 'depth'), { '{"queue":"x"}': 6 });
  // Observed again: sent again.
  for (const c of encoder.chunks(
    collection([
      [x, 6],
      [attrs('y'), 2],
    ]),
    3,
  ))
    agg.apply('a', c);
  assert.deepEqual(values(await agg.resourceMetrics(), 'depth'), {
    '{"queue":"x"}': 6,
    '{"queue":"y"}': 2,
  });
});

test("jobmeter's instruments that every process observes alike default to max", () => {
  const policy = mergePolicies();
  assert.equal(policy('jobmeter.build.info'), 'max');
  assert.equal(policy('jobmeter.queue.depth'), 'max');
  assert.equal(policy('jobmeter.run.history'), 'max');
  assert.equal(policy('process.uptime'), 'max');
  assert.equal(policy('jobmeter.run.active'), 'sum');
  assert.equal(policy('process.memory.usage'), 'sum');
  assert.equal(mergePolicies({ 'process.uptime': 'sum' })('process.uptime'), 'sum');
  assert.ok(Object.isFrozen(CLUSTER_POLICY));
});

test("the oldest waiting job's age: each process that reads the store sees the same job, so the oldest wins", async () => {
  const agg = aggregate();
  const a = member('a');
  const b = member('b');
  const age = (m: ReturnType<typeof member>, seconds: number) =>
    m.meter
      .createObservableGauge('jobmeter.queue.oldest.age', { unit: 's' })
      .addCallback((r) => r.observe(seconds, { queue: 'emails' }));
  age(a, 30);
  age(b, 50);
  await send(agg, a);
  await send(agg, b);
  assert.deepEqual(values(await agg.resourceMetrics(), 'jobmeter.queue.oldest.age'), {
    '{"queue":"emails"}': 50,
  });
  await Promise.all([a.shutdown(), b.shutdown()]);
});

test('reports are compact: series described once, unchanged ones not resent, big ones chunked', async () => {
  const agg = aggregate();
  const a = member('a');
  const c = a.meter.createCounter('churn');
  const n = REPORT_CHUNK_POINTS * 2 + 10;
  for (let i = 0; i < n; i++) c.add(1, { k: String(i) });
  const first = await send(agg, a);
  assert.ok(first.length >= 3, `${first.length} chunks`);
  for (const chunk of first) {
    const points = (chunk.m?.length ?? 0) + (chunk.s?.length ?? 0) + (chunk.v?.length ?? 0) / 2;
    assert.ok(points <= REPORT_CHUNK_POINTS + 1, `chunk of ${points} points`);
  }
  assert.deepEqual(
    first.map((ch) => ch.end),
    [...first.slice(1).map(() => false), true],
  );
  c.add(1, { k: '7' });
  const second = await send(agg, a);
  assert.equal(second.length, 1);
  assert.equal(second[0]!.s, undefined, 'no series described again');
  assert.deepEqual(
    second[0]!.v?.filter((_, i) => i % 2 === 1),
    [2],
    'only the changed series',
  );
  const merged = values(await agg.resourceMetrics(), 'churn');
  assert.equal(Object.keys(merged).length, n);
  assert.equal(merged['{"k":"7"}'], 2);
  // JSON survives the IPC channel's serialization unchanged.
  assert.deepEqual(JSON.parse(JSON.stringify(second[0])), second[0]);
  await a.shutdown();
});

test('a member reporting a metric with other buckets than the first is left out of it, not mixed in', async () => {
  const agg = aggregate();
  const a = member('a');
  const b = member('b');
  a.meter.createHistogram('wait', { advice: { explicitBucketBoundaries: [1] } }).record(0.5);
  b.meter.createHistogram('wait', { advice: { explicitBucketBoundaries: [2, 3] } }).record(0.5);
  await send(agg, a);
  await send(agg, b);
  const m = metric(await agg.resourceMetrics(), 'wait');
  assert.equal(m?.dataPointType, DataPointType.HISTOGRAM);
  assert.deepEqual(m.dataPoints[0]!.value.buckets.counts, [1, 0]);
  await Promise.all([a.shutdown(), b.shutdown()]);
});

test("exponential histograms add up over members as one process's would, exited ones kept; a delta push leaves them out and says so once", async () => {
  const exponential = (name: string) => {
    const reader = newPullReader([], { cardinalityLimit: 100_000 });
    const provider = new MeterProvider({
      readers: [reader],
      views: [
        { instrumentName: 'lat', aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM } },
      ],
    });
    const encoder = new ReportEncoder(name);
    let seq = 0;
    return {
      name,
      lat: provider.getMeter('app', '1.0.0').createHistogram('lat'),
      collect: async () => (await reader.collect()).resourceMetrics,
      report: async () => [...encoder.chunks((await reader.collect()).resourceMetrics, ++seq)],
      shutdown: () => provider.shutdown(),
    };
  };
  const warnings: string[] = [];
  diag.setLogger(
    { error() {}, warn: (m: string) => void warnings.push(m), info() {}, debug() {}, verbose() {} },
    { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
  );
  const cumulative = aggregate();
  const delta = aggregate({}, AggregationTemporality.DELTA);
  const [a, b, one] = [exponential('a'), exponential('b'), exponential('one')];
  try {
    for (const [m, v] of [
      [a, 0.003],
      [b, 250],
      [a, 7],
      [b, 0],
    ] as const) {
      m.lat.record(v, { k: 'x' });
      one.lat.record(v, { k: 'x' });
    }
    for (const m of [a, b])
      for (const c of await m.report()) {
        cumulative.apply(m.name, c);
        delta.apply(m.name, c);
      }
    cumulative.retire('a');
    const got = metric(await cumulative.resourceMetrics(), 'lat')!;
    const want = metric(await one.collect(), 'lat')!;
    assert.equal(got.dataPointType, DataPointType.EXPONENTIAL_HISTOGRAM);
    const { min: _, max: __, ...figures } = want.dataPoints[0]!.value as ExponentialHistogram;
    assert.deepEqual(got.dataPoints[0]!.value, figures, "one process's, but min and max");
    assert.equal(metric(await delta.resourceMetrics(), 'lat'), undefined);
    await delta.resourceMetrics();
    assert.deepEqual(
      warnings.filter((w) => w.includes('lat')),
      [
        "jobmeter cluster: lat: a delta push leaves the cluster's exponential histograms out (the scrape and a cumulative push have them)",
      ],
    );
  } finally {
    diag.disable();
    await Promise.all([a, b, one].map((m) => m.shutdown()));
  }
});

test('delta exports of the aggregate carry the change since the previous export, and nothing for an unchanged series', async () => {
  const agg = aggregate({}, AggregationTemporality.DELTA);
  const a = member('a');
  const c = a.meter.createCounter('jobs');
  const h = a.meter.createHistogram('wait', { advice: { explicitBucketBoundaries: [1] } });
  c.add(5);
  h.record(0.5);
  await send(agg, a);
  const first = await agg.resourceMetrics();
  assert.equal(metric(first, 'jobs')?.aggregationTemporality, AggregationTemporality.DELTA);
  assert.deepEqual(values(first, 'jobs'), { '{}': 5 });
  c.add(2);
  h.record(3);
  await send(agg, a);
  const second = await agg.resourceMetrics();
  assert.deepEqual(values(second, 'jobs'), { '{}': 2 });
  const w = metric(second, 'wait');
  assert.equal(w?.dataPointType, DataPointType.HISTOGRAM);
  assert.deepEqual(w.dataPoints[0]!.value.buckets.counts, [0, 1]);
  assert.equal(w.dataPoints[0]!.value.count, 1);
  assert.deepEqual(
    w.dataPoints[0]!.startTime,
    metric(first, 'jobs')!.dataPoints[0]!.endTime,
    'windows are contiguous',
  );
  await send(agg, a);
  assert.deepEqual(
    (await agg.resourceMetrics()).scopeMetrics,
    [],
    'nothing changed: nothing exported',
  );
  await a.shutdown();
});

test('an up-down counter in a delta aggregate exports what changed, and nothing once its last member leaves; a `max` counter keeps the largest ever', async () => {
  const agg = aggregate({ 'app.peak': 'max' }, AggregationTemporality.DELTA);
  const a = member('a');
  const b = member('b');
  const inflight = a.meter.createUpDownCounter('inflight');
  inflight.add(4);
  a.meter.createCounter('app.peak').add(9);
  b.meter.createCounter('app.peak').add(5);
  await send(agg, a);
  await send(agg, b);
  let rm = await agg.resourceMetrics();
  assert.deepEqual(values(rm, 'inflight'), { '{}': 4 });
  assert.deepEqual(values(rm, 'app.peak'), { '{}': 9 }, 'the largest, not the sum');
  inflight.add(-3);
  await send(agg, a);
  rm = await agg.resourceMetrics();
  assert.deepEqual(values(rm, 'inflight'), { '{}': -3 }, 'the change, down included');
  assert.equal(metric(rm, 'app.peak'), undefined, 'unchanged: not exported');
  agg.retire('a');
  rm = await agg.resourceMetrics();
  assert.equal(metric(rm, 'inflight'), undefined, 'no live member: nothing exported');
  assert.equal(metric(rm, 'app.peak'), undefined, 'a counter outlives its member, unchanged');
  await Promise.all([a.shutdown(), b.shutdown()]);
});

test('the aggregate is bounded: attribute sets past the cap fold into the overflow series, totals kept', async () => {
  const agg = aggregate();
  const a = member('a');
  const b = member('b');
  // Each member within its own bounds, their union past the aggregate's.
  const per = Math.ceil(MAX_SERIES_PER_INSTRUMENT * 0.6);
  const ca = a.meter.createCounter('jobs');
  const cb = b.meter.createCounter('jobs');
  const ga = a.meter.createUpDownCounter('busy');
  const gb = b.meter.createUpDownCounter('busy');
  for (let i = 0; i < per; i++) {
    ca.add(1, { k: `a${i}` });
    cb.add(2, { k: `b${i}` });
    ga.add(1, { k: `a${i}` });
    gb.add(1, { k: `b${i}` });
  }
  await send(agg, a);
  await send(agg, b);
  const rm = await agg.resourceMetrics();
  const jobs = values(rm, 'jobs');
  assert.equal(Object.keys(jobs).length, MAX_SERIES_PER_INSTRUMENT);
  assert.ok(jobs[JSON.stringify(OVERFLOW_ATTRIBUTES)]! > 0);
  assert.equal(
    Object.values(jobs).reduce((x, y) => x + y, 0),
    per * 3,
    'nothing lost in the fold',
  );
  const busy = values(rm, 'busy');
  assert.equal(
    Object.values(busy).reduce((x, y) => x + y, 0),
    per * 2,
    'live values of several member series in one overflow series all count',
  );
  agg.retire('b');
  const after = values(await agg.resourceMetrics(), 'busy');
  assert.equal(
    Object.values(after).reduce((x, y) => x + y, 0),
    per,
  );
  await Promise.all([a.shutdown(), b.shutdown()]);
});

test("the scrape reads the aggregate as the series store's columns: the MetricData's values, a series with no live member left out", async () => {
  const agg = aggregate();
  const a = member('a');
  const b = member('b');
  a.meter.createCounter('jobs').add(5, { queue: 'x' });
  b.meter.createCounter('jobs').add(3, { queue: 'x' });
  a.meter.createUpDownCounter('inflight').add(2, { queue: 'x' });
  b.meter.createUpDownCounter('inflight').add(4, { queue: 'y' });
  b.meter.createHistogram('wait', { advice: { explicitBucketBoundaries: [1] } }).record(3);
  await send(agg, a);
  await send(agg, b);
  agg.retire('b');
  const c = await agg.collect();
  assert.deepEqual(c.metrics, [], 'no MetricData: columns only');
  const scraped: Record<string, unknown> = {};
  const render = (at: Record<string, unknown>) => JSON.stringify(at);
  for (const g of c.series) {
    for (const s of g.series) {
      assert.equal(new SeriesCache(render).labels.column(s).strings.length, s.n);
      for (let i = 0; i < s.n; i++)
        scraped[`${s.descriptor.name}${JSON.stringify(s.attributes[i])}`] =
          s.dataPointType === DataPointType.HISTOGRAM
            ? [...s.values.subarray(i * s.stride, (i + 1) * s.stride)]
            : s.values[i];
    }
  }
  c.done();
  assert.deepEqual(scraped, {
    'jobs{"queue":"x"}': 8,
    'inflight{"queue":"x"}': 2,
    'wait{}': [0, 1],
  });
  const rm = await agg.resourceMetrics();
  assert.deepEqual(values(rm, 'jobs'), { '{"queue":"x"}': 8 });
  assert.deepEqual(values(rm, 'inflight'), { '{"queue":"x"}': 2 });
  await Promise.all([a.shutdown(), b.shutdown()]);
});

test("a member's histogram that restarts is added whole; a series id far past the member's others is refused", async () => {
  const agg = aggregate();
  const report = (extra: Partial<Report>): Report => ({
    tag: 'jobmeter.cluster.v1',
    t: 'report',
    instance: 'a',
    seq: 1,
    end: true,
    ...extra,
  });
  agg.apply(
    'a',
    report({
      m: [[0, 'app', '', 'wait', '', 's', 'histogram', 1, [1]]],
      s: [
        [0, 0, {}],
        [5_000_000, 0, { far: 'yes' }],
      ],
      h: [0, 6, 3, 6, 0.5, 4, 1, 2],
    }),
  );
  agg.apply('a', report({ h: [0, 6, 4, 16, 0.5, 10, 1, 3] }));
  // Restarted: fewer observations than last time, all of them new.
  agg.apply('a', report({ h: [0, 6, 1, 0.25, 0.25, 0.25, 1, 0, 5_000_000, 6, 9, 9, 1, 1, 0, 9] }));
  const m = metric(await agg.resourceMetrics(), 'wait');
  assert.equal(m?.dataPointType, DataPointType.HISTOGRAM);
  assert.equal(m.dataPoints.length, 1, 'the far id made no series');
  assert.deepEqual(m.dataPoints[0]!.value.buckets.counts, [2, 3]);
  assert.equal(m.dataPoints[0]!.value.count, 5);
  assert.equal(m.dataPoints[0]!.value.sum, 16.25);
  assert.equal(m.dataPoints[0]!.value.min, 0.25);
  assert.equal(m.dataPoints[0]!.value.max, 10);
});

/** A delta push reader's collections, without the push. */
class DeltaReader extends MetricReader {
  constructor() {
    super({
      aggregationTemporalitySelector: () => AggregationTemporality.DELTA,
      cardinalitySelector: () => 100_000,
    });
  }
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

test("a delta aggregate that takes over from the primary's own reader continues from what that reader exported, series folded past the cap included", async () => {
  const agg = aggregate({}, AggregationTemporality.DELTA);
  // The primary: a cumulative reader (its own collection for the aggregate) and its delta push reader.
  const pull = newPullReader([], { cardinalityLimit: 100_000 });
  const push = new DeltaReader();
  const provider = new MeterProvider({ readers: [pull, push] });
  const own = provider.getMeter('app', '1.0.0');
  const b = member('b');
  const per = Math.ceil(MAX_SERIES_PER_INSTRUMENT * 0.6);
  const jobs = own.createCounter('jobs');
  const wait = own.createHistogram('wait', { advice: { explicitBucketBoundaries: [1] } });
  for (let i = 0; i < per; i++) jobs.add(1, { k: `own${i}` });
  wait.record(0.5);
  const exported = [(await push.collect()).resourceMetrics];
  // More records on both sides; the member's series reach the aggregate first, so some of the
  // primary's fold into the overflow series.
  jobs.add(1, { k: 'own0' });
  wait.record(2);
  const cb = b.meter.createCounter('jobs');
  for (let i = 0; i < per; i++) cb.add(2, { k: `b${i}` });
  b.meter.createHistogram('wait', { advice: { explicitBucketBoundaries: [1] } }).record(1);
  await send(agg, b);
  const pushed = (await push.collect()).resourceMetrics;
  const totals = (await pull.collect()).resourceMetrics;
  for (const c of new ReportEncoder('self').chunks(totals, 1)) agg.apply('self', c);
  agg.handOver(totals, pushed);
  exported.push(await agg.resourceMetrics());
  const sumOf = (name: string, read: (p: { value: unknown }) => number) =>
    exported.reduce(
      (n, rm) =>
        n +
        (metric(rm, name)?.dataPoints ?? []).reduce((m, p) => m + read(p as { value: unknown }), 0),
      0,
    );
  assert.equal(
    sumOf('jobs', (p) => p.value as number),
    per + 1 + 2 * per,
    'every record exported once',
  );
  assert.equal(
    sumOf('wait', (p) => (p.value as { count: number }).count),
    3,
  );
  assert.equal(
    sumOf('wait', (p) => (p.value as { sum: number }).sum),
    3.5,
  );
  await Promise.all([provider.shutdown(), b.shutdown()]);
});

test("a counter's series outlives the members that fed it: no expiry, one start, its total carried across every member leaving (the overflow series too)", async () => {
  const agg = aggregate();
  const a = member('a');
  const ca = a.meter.createCounter('jobs');
  for (let i = 0; i < MAX_SERIES_PER_INSTRUMENT + 5; i++) ca.add(1, { k: `a${i}` });
  await send(agg, a);
  const points = async () => {
    const m = metric(await agg.resourceMetrics(), 'jobs');
    assert.equal(m?.dataPointType, DataPointType.SUM);
    return new Map(m.dataPoints.map((p) => [JSON.stringify(p.attributes), p]));
  };
  const first = await points();
  const overflow = JSON.stringify(OVERFLOW_ATTRIBUTES);
  assert.equal(first.get(overflow)?.value, 6);
  agg.retire('a');
  await a.shutdown();
  await new Promise((r) => setTimeout(r, 5)); // a later instant: a start made now would differ
  const b = member('b');
  const cb = b.meter.createCounter('jobs');
  cb.add(2, { k: 'a0' });
  cb.add(3, { k: 'zzz' }); // past the cap: into the overflow series
  await send(agg, b);
  const later = await points();
  assert.deepEqual([...later.keys()], [...first.keys()], 'the same series, none left or made');
  for (const [key, p] of later)
    assert.deepEqual(p.startTime, first.get(key)!.startTime, `${key}: its start kept`);
  assert.equal(later.get('{"k":"a0"}')?.value, 3, 'a0: 1 carried, 2 added');
  assert.equal(later.get(overflow)?.value, 9, 'the overflow: 6 carried, 3 added');
  await b.shutdown();
});
