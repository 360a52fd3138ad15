/**
 * Record hot path: one histogram observation with 2 attributes/labels, 15 buckets (64 label sets
 * in rotation, 1024 values spread over every bucket).
 *
 * jobmeter: a histogram made on `jobmeter.meter` and declared in `options.instruments` with the
 * 15 bounds, so its view sets the buckets (and, as jobmeter's views do, no min/max). otel: a plain
 * SDK histogram given the same bounds as advice (min/max recorded: the SDK's default).
 */
import { Histogram } from 'prom-client';
import { BUCKETS, benchJobmeter, plainOtel, promRegistry } from './contenders.ts';
import { cli, isMain, type Scenario } from './harness.ts';
import {
  A,
  B,
  VALUES,
  expectTotals,
  hotPathJob,
  hotPathParams,
  hotPathTable,
  jobmeterTotals,
  measureHotPath,
  opsRecorded,
  otelTotals,
  promTotals,
  type HotPathArg,
  type HotPathParams,
  type HotPathResult,
} from './hot-path.ts';

const jobs = (p: HotPathParams) => [
  hotPathJob('jobmeter', 'jobmeter', 'jm.meter.createHistogram(…).record(v, { a, b })', p),
  hotPathJob('prom-client', 'prom-client', 'histogram.observe({ a, b }, v)', p),
  hotPathJob('prom-client-labels', 'prom-client', 'histogram.labels(a, b).observe(v)', p),
  hotPathJob('otel', 'otel', 'histogram.record(v, { a, b })', p),
];

const NAME = 'bench.latency';
const OPTIONS = { unit: 's', description: 'Bench latency.' };
const want = (p: HotPathParams) => ({ total: opsRecorded(p), series: 64 });

export const scenario: Scenario<HotPathParams, HotPathArg, HotPathResult> = {
  name: 'record-histogram',
  title: 'Record: histogram observation, 15 buckets, 2 attributes',
  params: hotPathParams,
  processes: (p) => p.processes,
  jobs,
  async measure(arg) {
    switch (arg.id) {
      case 'jobmeter': {
        const jm = await benchJobmeter([
          { name: NAME, kind: 'histogram', ...OPTIONS, buckets: BUCKETS, attributes: [{ key: 'a', cap: 16 }, { key: 'b', cap: 16 }] },
        ]);
        const h = jm.meter.createHistogram(NAME, OPTIONS);
        const result = measureHotPath(arg, (i) => h.record(VALUES[i & 1023]!, { a: A[i & 7]!, b: B[(i >> 3) & 7]! }));
        expectTotals(arg.id, await jobmeterTotals(jm, 'bench_latency_seconds'), want(arg));
        return result;
      }
      case 'prom-client':
      case 'prom-client-labels': {
        const h = new Histogram({
          name: 'bench_latency_seconds',
          help: 'Bench latency.',
          labelNames: ['a', 'b'],
          buckets: [...BUCKETS],
          registers: [promRegistry()],
        });
        const result =
          arg.id === 'prom-client'
            ? measureHotPath(arg, (i) => h.observe({ a: A[i & 7]!, b: B[(i >> 3) & 7]! }, VALUES[i & 1023]!))
            : measureHotPath(arg, (i) => h.labels(A[i & 7]!, B[(i >> 3) & 7]!).observe(VALUES[i & 1023]!));
        expectTotals(arg.id, await promTotals(h), want(arg));
        return result;
      }
      case 'otel': {
        const o = plainOtel();
        const h = o.meter.createHistogram(NAME, { ...OPTIONS, advice: { explicitBucketBoundaries: [...BUCKETS] } });
        const result = measureHotPath(arg, (i) => h.record(VALUES[i & 1023]!, { a: A[i & 7]!, b: B[(i >> 3) & 7]! }));
        expectTotals(arg.id, await otelTotals(o, NAME), want(arg));
        return result;
      }
      default:
        throw new Error(`unknown job ${arg.id}`);
    }
  },
  table: (p, results) => hotPathTable(p, jobs(p), results, 'prom-client'),
};

if (isMain(import.meta.url)) await cli(import.meta.url, scenario);
