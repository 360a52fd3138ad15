/**
 * A host's MetricProducer (createJobmeter's `metricProducers`: a bridge of another library's
 * registry, say) may stop reporting a series it reported before, and report it again later. Where
 * a naming rule merges several of its series into one served series (a legacy table's rule that
 * drops an attribute; the native profile without scope labels, one instrument of two scopes), what
 * a Prometheus user reads must be one counter (and one histogram, `_count`, `_sum` and every `le`)
 * that never goes back while no source reset, and counts every increment once: a series the
 * producer no longer reports stays counted while the label set is served, one that comes back
 * going on adds only what it counted since, one that comes back lower (restarted) adds its new
 * total whole, and a label set none of whose series is reported any more leaves the scrape.
 *
 * The oracle is the model (test/model/model.ts), each series of the producer standing for one of
 * its sources (a sender resource: what is merged into one served series; one the producer stopped
 * reporting, an expired one), and the invariant that no served counter decreases from one scrape
 * to the next.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { ValueType, type Attributes } from '@opentelemetry/api';
import {
  MeterProvider,
  type MetricData,
  type MetricProducer,
  type ScopeMetrics,
} from '@opentelemetry/sdk-metrics';
import { AggregationTemporality, DataPointType, emptyResource } from '../../src/common/otel-sdk.ts';
import {
  createJobmeter,
  JobmeterReader,
  type Jobmeter,
  type JobmeterOptions,
} from '../../src/index.ts';
import { SourceTotals } from '../../src/series/carry.ts';
import {
  applyPush,
  cumulativePoints,
  expireSource,
  INSTRUMENTS,
  observedBuckets,
  served,
  sourceKey,
  type ModelState,
} from '../model/model.ts';
import { modelScrapes } from '../model/system.ts';

const COUNTER = INSTRUMENTS.find((i) => i.kind === 'counter')!;
const HISTOGRAM = INSTRUMENTS.find((i) => i.kind === 'histogram')!;
const BOUNDS = [1, 5];

/** One series of the producer's, of each instrument: its scope and attributes (`k="a"` served). */
interface Source {
  readonly scope: string;
  readonly attributes: Attributes;
}

/** What a source counted since it started: its counter's total and its observations. */
interface Counted {
  total: number;
  observed: number[];
  /** When it started, Unix ms. */
  start: number;
}

/** Two ways a rule merges two of the producer's series into one served series. */
const MERGES: readonly {
  readonly name: string;
  readonly options: JobmeterOptions;
  readonly sources: readonly [Source, Source];
}[] = [
  {
    name: 'a legacy table rule that drops an attribute',
    options: {
      profile: {
        name: 'runwisp',
        rules: [
          {
            instrument: COUNTER.name,
            name: COUNTER.served,
            type: 'counter',
            help: 'Events.',
            labels: [['k', 'k']],
          },
          {
            instrument: HISTOGRAM.name,
            name: HISTOGRAM.served,
            type: 'histogram',
            help: 'Latency.',
            labels: [['k', 'k']],
          },
        ],
      },
    },
    sources: [
      { scope: 'bridge', attributes: { k: 'a', worker: 'x' } },
      { scope: 'bridge', attributes: { k: 'a', worker: 'y' } },
    ],
  },
  {
    name: 'the native profile without scope labels, two scopes',
    options: { profile: 'otel', otelScopeInfo: false },
    sources: [
      { scope: 'scope-a', attributes: { k: 'a' } },
      { scope: 'scope-b', attributes: { k: 'a' } },
    ],
  },
];

/** The model's resource of `source`: one per series the producer reports. */
const resourceOf = (source: Source): string =>
  `${source.scope}/${String(source.attributes.worker ?? '')}`;

/** A host's producer reporting, as cumulative points, what each source in `reported` counted. */
function producerOf(reported: Map<Source, Counted>): MetricProducer {
  const point = (source: Source, c: Counted, value: unknown) => ({
    startTime: [Math.floor(c.start / 1000), (c.start % 1000) * 1e6] as [number, number],
    endTime: [Math.floor(Date.now() / 1000), 0] as [number, number],
    attributes: source.attributes,
    value,
  });
  const descriptor = (name: string) => ({
    name,
    description: '',
    unit: '',
    valueType: ValueType.DOUBLE,
  });
  return {
    collect: async () => {
      const scopes = new Map<string, ScopeMetrics>();
      for (const [source, c] of reported) {
        let sm = scopes.get(source.scope);
        if (sm === undefined) {
          const metrics: MetricData[] = [
            {
              descriptor: descriptor(COUNTER.name),
              aggregationTemporality: AggregationTemporality.CUMULATIVE,
              dataPointType: DataPointType.SUM,
              isMonotonic: true,
              dataPoints: [],
            },
            {
              descriptor: descriptor(HISTOGRAM.name),
              aggregationTemporality: AggregationTemporality.CUMULATIVE,
              dataPointType: DataPointType.HISTOGRAM,
              dataPoints: [],
            },
          ];
          scopes.set(source.scope, (sm = { scope: { name: source.scope }, metrics }));
        }
        const b = observedBuckets(c.observed, BOUNDS);
        const [counter, histogram] = sm.metrics as [MetricData, MetricData];
        (counter.dataPoints as unknown[]).push(point(source, c, c.total));
        (histogram.dataPoints as unknown[]).push(
          point(source, c, {
            buckets: { boundaries: BOUNDS, counts: b.counts },
            sum: b.sum,
            count: c.observed.length,
          }),
        );
      }
      return {
        resourceMetrics: { resource: emptyResource(), scopeMetrics: [...scopes.values()] },
        errors: [],
      };
    },
  };
}

/**
 * A pull endpoint serving `producer` with `options`: a jobmeter's, or a host's own MeterProvider's
 * through a JobmeterReader (its metricProducers).
 */
async function endpointOf(
  host: 'createJobmeter' | 'JobmeterReader',
  options: JobmeterOptions,
  producer: MetricProducer,
): Promise<{ url: string; close: () => Promise<void> }> {
  if (host === 'createJobmeter') {
    const jm = await createJobmeter({
      ...options,
      global: false,
      processMetrics: false,
      listener: { port: 0 },
      metricProducers: [producer],
      log: () => {},
    });
    return { url: `http://127.0.0.1:${jm.pullAddress!.port}/metrics`, close: () => jm.shutdown() };
  }
  const reader = new JobmeterReader({
    profile: options.profile,
    ...(options.otelScopeInfo !== undefined && { otelScopeInfo: options.otelScopeInfo }),
    listener: { port: 0 },
    metricProducers: [producer],
  });
  const provider = new MeterProvider({ readers: [reader] });
  await reader.ready;
  return {
    url: `http://127.0.0.1:${reader.pullAddress!.port}/metrics`,
    close: () => provider.shutdown(),
  };
}

/**
 * A producer's series as the tests drive them (`count`, `drop`), its model, and a `step`: a scrape
 * of the endpoint given to `scrapes`, after the model took what the producer reports now.
 */
function producerModel() {
  const reported = new Map<Source, Counted>();
  const model: ModelState = new Map();
  let order = 0;
  let scrape: ((when: string) => Promise<void>) | undefined;
  const started = Date.now() - 60_000;
  return {
    producer: producerOf(reported),
    scrapes(url: string): void {
      scrape = modelScrapes(url, () => served(model));
    },
    /** `source` counts `n` more, observing `values` (from nothing when it is new or `restarted`). */
    count(source: Source, n: number, values: readonly number[], restarted = false): void {
      let c = reported.get(source);
      if (c === undefined || restarted)
        reported.set(
          source,
          (c = { total: 0, observed: [], start: restarted ? Date.now() : started }),
        );
      c.total += n;
      c.observed.push(...values);
    },
    /** The producer no longer reports `source`'s series: expired, in the model's words. */
    drop(source: Source): void {
      reported.delete(source);
      for (const instrument of [COUNTER, HISTOGRAM])
        expireSource(model, sourceKey(resourceOf(source), instrument.name, 'a'));
    },
    async step(when: string): Promise<void> {
      for (const [source, c] of reported) {
        const buckets = observedBuckets(c.observed, BOUNDS);
        applyPush(model, resourceOf(source), cumulativePoints('a', c.total, buckets), ++order);
      }
      await scrape!(when);
    },
  };
}

/** Both series count, then the producer stops reporting `y` while `x` counts on: a step after each. */
async function yLeaves(m: ReturnType<typeof producerModel>, x: Source, y: Source): Promise<void> {
  m.count(x, 5, [0.5, 2, 2, 8]);
  m.count(y, 3, [0.25, 4]);
  await m.step('both series');
  m.drop(y);
  m.count(x, 1, [3]);
  await m.step('y no longer reported');
}

describe("a served counter and histogram merging a host producer's series", () => {
  for (const host of ['createJobmeter', 'JobmeterReader'] as const)
    for (const merge of MERGES)
      it(`never go back when the producer stops reporting one, and count each increment once: ${merge.name}, ${host}`, async () => {
        const [x, y] = merge.sources;
        const m = producerModel();
        const { count, drop, step } = m;
        const endpoint = await endpointOf(host, merge.options, m.producer);
        m.scrapes(endpoint.url);
        try {
          await yLeaves(m, x, y);
          await step('y no longer reported, scraped again');

          count(y, 2, [0.5, 6]);
          count(x, 1, [2]);
          await step('y reported again, going on');

          drop(y);
          await step('y no longer reported again');
          count(y, 1, [4], true);
          await step('y reported again, restarted while not reported');

          drop(x);
          drop(y);
          await step('neither reported: the series left');
          count(y, 1, [1]);
          await step('y reported again after its series left');
        } finally {
          await endpoint.close();
        }
      });
});

/** A worker thread reporting to `jm` (as test/cluster/worker-threads' do), after its first report. */
async function memberReported(jm: Jobmeter, options: JobmeterOptions): Promise<Worker> {
  const member = new Worker(new URL('../cluster/fixtures/thread-member.ts', import.meta.url), {
    workerData: { options: { ...options, global: false, processMetrics: false } },
  });
  const said = async (key: string): Promise<void> => {
    for (;;) {
      const [msg] = (await once(member, 'message')) as [Record<string, unknown>];
      if (key in msg) return;
    }
  };
  jm.aggregate(member);
  await said('started');
  member.postMessage({ run: 1 });
  await said('recorded');
  return member;
}

// From a member's first hello every collection the primary serves is the cluster's aggregate,
// which holds the primary's own series (the producer's) from then on and carries them itself: what
// the producer's series counted must be served once, and a series it stopped reporting before
// stays served.
describe("a cluster primary's served counter and histogram merging its host producer's series", () => {
  for (const merge of MERGES)
    it(`count each increment once when the first member reports: ${merge.name}`, async () => {
      const [x, y] = merge.sources;
      const m = producerModel();
      const { count, step } = m;
      const jm = await createJobmeter({
        ...merge.options,
        global: false,
        processMetrics: false,
        listener: { port: 0 },
        metricProducers: [m.producer],
        log: () => {},
      });
      m.scrapes(`http://127.0.0.1:${jm.pullAddress!.port}/metrics`);
      let member: Worker | undefined;
      try {
        await yLeaves(m, x, y);
        member = await memberReported(jm, merge.options);
        assert.equal(jm.role, 'primary');
        await step('a member reported: the aggregate is served');
        count(x, 2, [1, 6]);
        await step('x counts on in the aggregate');
      } finally {
        await member?.terminate();
        await jm.shutdown();
      }
    });
});

describe("the carry of a host producer's series", () => {
  it('is kept out of the checkpoint: the producer restarts with the process', () => {
    const sources = new SourceTotals();
    sources.begin();
    sources.of('ingested', 'model_events_total').report({ k: 'a' }, 'k="a"', 3, 0);
    sources.of('produced', 'model_events_total_produced', true).report({ k: 'a' }, 'k="a"', 5, 0);
    assert.deepEqual(
      sources.snapshot().rules.map((r) => r.family),
      ['model_events_total'],
      "only the ingest's sources are snapshotted",
    );
  });
});
