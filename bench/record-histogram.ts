/**
 * Record hot path: one histogram observation with 2 attributes/labels, 15 buckets (64 label sets
 * in rotation, 1024 values spread over every bucket).
 *
 * jobmeter: a histogram declared in `options.instruments` with the 15 bounds and recorded through
 * the domain API, `jm.histogram(name)` (the local tallies; no min/max, as jobmeter's views). As a
 * reference, the same instrument made on `jobmeter.meter` (a plain SDK histogram with jobmeter's
 * view). Pre-bound rows resolve the 64 series once. otel: a plain SDK histogram given the same
 * bounds as advice (min/max recorded: the SDK's default).
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
  hotPathJob('jobmeter', 'jobmeter', 'jm.histogram(name).record(v, { a, b })', p),
  hotPathJob('prom-client', 'prom-client', 'histogram.observe({ a, b }, v)', p),
  hotPathJob('prom-client-labels', 'prom-client', 'histogram.labels(a, b).observe(v)', p),
  hotPathJob('otel', 'otel', 'histogram.record(v, { a, b })', p),
  hotPathJob('jobmeter-sdk', 'jobmeter (SDK path)', 'jm.meter.createHistogram(name).record(v, { a, b })', p),
  hotPathJob('jobmeter-bound', 'jobmeter, pre-bound', 'bound[i].record(v) (jm.histogram(name).bind({ a, b }))', p),
  hotPathJob('prom-client-bound', 'prom-client, pre-bound', 'child[i].observe(v) (histogram.labels(a, b))', p),
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
      case 'jobmeter':
      case 'jobmeter-sdk':
      case 'jobmeter-bound': {
        const jm = await benchJobmeter([
          { name: NAME, kind: 'histogram', ...OPTIONS, buckets: BUCKETS, attributes: [{ key: 'a', cap: 16 }, { key: 'b', cap: 16 }] },
        ]);
        let result: HotPathResult;
        if (arg.id === 'jobmeter-sdk') {
          const h = jm.meter.createHistogram(NAME, OPTIONS);
          result = measureHotPath(arg, (i) => h.record(VALUES[i & 1023]!, { a: A[i & 7]!, b: B[(i >> 3) & 7]! }));
        } else if (arg.id === 'jobmeter-bound') {
          const h = jm.histogram(NAME);
          const bound = Array.from({ length: 64 }, (_, i) => h.bind({ a: A[i & 7]!, b: B[(i >> 3) & 7]! }));
          result = measureHotPath(arg, (i) => bound[i & 63]!.record(VALUES[i & 1023]!));
        } else {
          const h = jm.histogram(NAME);
          result = measureHotPath(arg, (i) => h.record(VALUES[i & 1023]!, { a: A[i & 7]!, b: B[(i >> 3) & 7]! }));
        }
        expectTotals(arg.id, await jobmeterTotals(jm, 'bench_latency_seconds'), want(arg));
        return result;
      }
      case 'prom-client':
      case 'prom-client-labels':
      case 'prom-client-bound': {
        const h = new Histogram({
          name: 'bench_latency_seconds',
          help: 'Bench latency.',
          labelNames: ['a', 'b'],
          buckets: [...BUCKETS],
          registers: [promRegistry()],
        });
        const children = Array.from({ length: 64 }, (_, i) => h.labels(A[i & 7]!, B[(i >> 3) & 7]!));
        const result =
          arg.id === 'prom-client'
            ? measureHotPath(arg, (i) => h.observe({ a: A[i & 7]!, b: B[(i >> 3) & 7]! }, VALUES[i & 1023]!))
            : arg.id === 'prom-client-labels'
              ? measureHotPath(arg, (i) => h.labels(A[i & 7]!, B[(i >> 3) & 7]!).observe(VALUES[i & 1023]!))
              : measureHotPath(arg, (i) => children[i & 63]!.observe(VALUES[i & 1023]!));
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
