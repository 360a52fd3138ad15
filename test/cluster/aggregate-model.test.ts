// The cluster aggregate held to a model: random runs of members recording, reporting, restarting
// and exiting, and after every step the primary's aggregate (cumulative, and the sum of a delta
// aggregate's exports) equals what the model says from the reports alone:
// - a counter: the last total each process reported, summed over every process that ever did
//   (a restart is a new process, counting from 0; an exit keeps what it counted);
// - an up-down counter and a gauge: over the live processes that reported the series, summed, or
//   the largest under the `max` policy; a series no live process reports is absent.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { emptyResource } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  MeterProvider,
  type Histogram,
  type MetricData,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { ClusterAggregate } from '../../src/cluster/aggregate.ts';
import { ReportEncoder } from '../../src/cluster/report-encoder.ts';
import { mergePolicies } from '../../src/domain/merge-rules.ts';
import { newPullReader } from '../../src/readers/pull-reader.ts';

const MEMBERS = ['a', 'b', 'c'] as const;
const KEYS = ['x', 'y'] as const;
type Member = (typeof MEMBERS)[number];

type Step =
  | { op: 'add'; m: Member; k: string; n: number }
  | { op: 'move'; m: Member; k: string; n: number }
  | { op: 'level'; m: Member; k: string; n: number }
  | { op: 'observe'; m: Member; k: string; n: number }
  | { op: 'send' | 'restart' | 'exit'; m: Member };

const member = fc.constantFrom(...MEMBERS);
const key = fc.constantFrom(...KEYS);
const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ op: fc.constant('add' as const), m: member, k: key, n: fc.nat({ max: 9 }) }),
  fc.record({
    op: fc.constant('move' as const),
    m: member,
    k: key,
    n: fc.integer({ min: -5, max: 5 }),
  }),
  fc.record({ op: fc.constant('level' as const), m: member, k: key, n: fc.nat({ max: 99 }) }),
  fc.record({ op: fc.constant('observe' as const), m: member, k: key, n: fc.nat({ max: 60 }) }),
  fc.record({
    op: fc.constantFrom('send' as const, 'send' as const, 'restart' as const, 'exit' as const),
    m: member,
  }),
);

/** One process of a member: what it recorded, and what it last reported of it. */
interface Process {
  readonly key: string;
  readonly provider: MeterProvider;
  readonly report: (seq: number) => Promise<ReturnType<ReportEncoder['chunks']>>;
  readonly jobs: ReturnType<ReturnType<MeterProvider['getMeter']>['createCounter']>;
  readonly busy: ReturnType<ReturnType<MeterProvider['getMeter']>['createUpDownCounter']>;
  readonly heap: ReturnType<ReturnType<MeterProvider['getMeter']>['createGauge']>;
  readonly peak: ReturnType<ReturnType<MeterProvider['getMeter']>['createGauge']>;
  readonly wait: ReturnType<ReturnType<MeterProvider['getMeter']>['createHistogram']>;
  readonly recorded: Map<string, number>;
  /** What it last reported, by `instrument k`. */
  sent: Map<string, number>;
  live: boolean;
}

function start(key: string): Process {
  const reader = newPullReader([], { cardinalityLimit: 100_000 });
  const provider = new MeterProvider({ readers: [reader] });
  const meter = provider.getMeter('app', '1.0.0');
  const encoder = new ReportEncoder(key);
  return {
    key,
    provider,
    report: async (seq) => encoder.chunks((await reader.collect()).resourceMetrics, seq),
    jobs: meter.createCounter('jobs'),
    busy: meter.createUpDownCounter('busy'),
    heap: meter.createGauge('heap'),
    peak: meter.createGauge('peak'),
    wait: meter.createHistogram('wait', { advice: { explicitBucketBoundaries: [1, 5] } }),
    recorded: new Map(),
    sent: new Map(),
    live: true,
  };
}

/** Whether the series named `name` counts (a counter's, a histogram's count, sum or bucket): it adds up over every process. */
const counts = (name: string) => name === 'jobs' || name.startsWith('wait.');

/** Equal but for rounding: sums of the same figures added in another order. */
const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));

function served(rm: ResourceMetrics): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of rm.scopeMetrics.flatMap((s): MetricData[] => s.metrics))
    for (const p of m.dataPoints) {
      const k = String(p.attributes.k);
      const v = p.value as number | Histogram;
      if (typeof v === 'number') out.set(`${m.descriptor.name} ${k}`, v);
      else {
        out.set(`${m.descriptor.name}.count ${k}`, v.count);
        out.set(`${m.descriptor.name}.sum ${k}`, v.sum ?? 0);
        v.buckets.counts.forEach((n, i) => out.set(`${m.descriptor.name}.b${i} ${k}`, n));
      }
    }
  return out;
}

test('the cluster aggregate serves what its members reported: counters kept over restarts and exits, levels over the live ones by their policy', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(step, { minLength: 1, maxLength: 40, size: 'max' }),
      async (steps) => {
        const policy = mergePolicies({ peak: 'max' });
        const cumulative = new ClusterAggregate({
          resource: emptyResource(),
          policyFor: policy,
          temporality: () => AggregationTemporality.CUMULATIVE,
        });
        const delta = new ClusterAggregate({
          resource: emptyResource(),
          policyFor: policy,
          temporality: () => AggregationTemporality.DELTA,
        });
        const deltaSums = new Map<string, number>();
        let before = new Map<string, number>();
        const all: Process[] = [];
        const current = new Map<Member, Process>();
        let generation = 0;
        let seq = 0;
        const processOf = (m: Member): Process => {
          let p = current.get(m);
          if (p === undefined) {
            p = start(`${m}#${++generation}`);
            current.set(m, p);
            all.push(p);
          }
          return p;
        };
        const retire = (p: Process) => {
          p.live = false;
          cumulative.retire(p.key);
          delta.retire(p.key);
        };
        try {
          for (const s of steps) {
            const p = processOf(s.m);
            const id = (name: string, k: string) => `${name} ${k}`;
            const record = (name: string, k: string, v: number) => p.recorded.set(id(name, k), v);
            if (s.op === 'add') {
              p.jobs.add(s.n, { k: s.k });
              record('jobs', s.k, (p.recorded.get(id('jobs', s.k)) ?? 0) + s.n);
            } else if (s.op === 'move') {
              p.busy.add(s.n, { k: s.k });
              record('busy', s.k, (p.recorded.get(id('busy', s.k)) ?? 0) + s.n);
            } else if (s.op === 'level') {
              p.heap.record(s.n, { k: s.k });
              p.peak.record(s.n, { k: s.k });
              record('heap', s.k, s.n);
              record('peak', s.k, s.n);
            } else if (s.op === 'observe') {
              const v = s.n / 10;
              p.wait.record(v, { k: s.k });
              const bump = (name: string, by: number) =>
                record(name, s.k, (p.recorded.get(id(name, s.k)) ?? 0) + by);
              bump('wait.count', 1);
              bump('wait.sum', v);
              for (let b = 0; b < 3; b++)
                bump(`wait.b${b}`, b === (v <= 1 ? 0 : v <= 5 ? 1 : 2) ? 1 : 0);
            } else if (s.op === 'send') {
              for (const chunk of await p.report(++seq)) {
                cumulative.apply(p.key, chunk);
                delta.apply(p.key, chunk);
              }
              p.sent = new Map(p.recorded);
            } else {
              retire(p);
              current.delete(s.m);
              await p.provider.shutdown();
            }
            // The model.
            const expected = new Map<string, number>();
            for (const q of all)
              for (const [series, v] of q.sent) {
                const name = series.split(' ')[0]!;
                if (counts(name)) expected.set(series, (expected.get(series) ?? 0) + v);
                else if (!q.live) continue;
                else if (name === 'peak')
                  expected.set(series, Math.max(expected.get(series) ?? v, v));
                else expected.set(series, (expected.get(series) ?? 0) + v);
              }
            const got = served(await cumulative.resourceMetrics());
            assert.deepEqual(
              [...got.keys()].sort(),
              [...expected.keys()].sort(),
              JSON.stringify(s),
            );
            for (const [series, v] of expected) {
              const served = got.get(series)!;
              assert.ok(close(served, v), `${series}: ${served}, the model ${v}`);
              // Not by an ulp: Prometheus reads any decrease of a counter as a reset.
              if (counts(series.split(' ')[0]!))
                assert.ok(served >= (before.get(series) ?? 0), `${series} went down to ${served}`);
            }
            before = got;
            for (const [series, v] of served(await delta.resourceMetrics()))
              deltaSums.set(series, (deltaSums.get(series) ?? 0) + v);
            for (const [series, v] of expected)
              if (counts(series.split(' ')[0]!) || series.startsWith('busy '))
                assert.ok(
                  close(deltaSums.get(series) ?? 0, v),
                  `delta exports of ${series} add up to its total`,
                );
          }
        } finally {
          await Promise.all(all.filter((p) => p.live).map((p) => p.provider.shutdown()));
        }
      },
    ),
    {
      numRuns: 150,
      examples: [
        // 0.1 + 0.1 + 0.4 is 0.6000000000000001 added in that order, 0.6 with 0.4 before 0.1.
        [
          [
            { op: 'observe', m: 'c', k: 'x', n: 1 },
            { op: 'send', m: 'c' },
            { op: 'exit', m: 'c' },
            { op: 'observe', m: 'a', k: 'x', n: 1 },
            { op: 'send', m: 'a' },
            { op: 'observe', m: 'b', k: 'x', n: 4 },
            { op: 'send', m: 'b' },
            { op: 'exit', m: 'b' },
          ],
        ],
      ],
    },
  );
});
