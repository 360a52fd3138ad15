/**
 * Record hot path: counter +1 with 2 attributes/labels (64 label sets in rotation).
 *
 * jobmeter: a counter made on `jobmeter.meter` and declared in `options.instruments`, so each add
 * goes through jobmeter's view (allow-list + cap fold processor, cardinality limit), like the
 * domain instruments. prom-client: both of its spellings. otel: a plain SDK counter.
 */
import { Counter } from 'prom-client';
import { benchJobmeter, plainOtel, promRegistry } from './contenders.ts';
import { cli, isMain, type Scenario } from './harness.ts';
import {
  A,
  B,
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
  hotPathJob('jobmeter', 'jobmeter', 'jm.meter.createCounter(…).add(1, { a, b })', p),
  hotPathJob('prom-client', 'prom-client', 'counter.inc({ a, b })', p),
  hotPathJob('prom-client-labels', 'prom-client', 'counter.labels(a, b).inc()', p),
  hotPathJob('otel', 'otel', 'counter.add(1, { a, b })', p),
];

const NAME = 'bench.counter';
const OPTIONS = { unit: '{request}', description: 'Bench counter.' };
const want = (p: HotPathParams) => ({ total: opsRecorded(p), series: 64 });

export const scenario: Scenario<HotPathParams, HotPathArg, HotPathResult> = {
  name: 'record-counter',
  title: 'Record: counter +1, 2 attributes',
  params: hotPathParams,
  processes: (p) => p.processes,
  jobs,
  async measure(arg) {
    switch (arg.id) {
      case 'jobmeter': {
        const jm = await benchJobmeter([
          { name: NAME, kind: 'counter', ...OPTIONS, attributes: [{ key: 'a', cap: 16 }, { key: 'b', cap: 16 }] },
        ]);
        const c = jm.meter.createCounter(NAME, OPTIONS);
        const result = measureHotPath(arg, (i) => c.add(1, { a: A[i & 7]!, b: B[(i >> 3) & 7]! }));
        expectTotals(arg.id, await jobmeterTotals(jm, 'bench_counter_total'), want(arg));
        return result;
      }
      case 'prom-client':
      case 'prom-client-labels': {
        const c = new Counter({ name: 'bench_counter_total', help: 'Bench counter.', labelNames: ['a', 'b'], registers: [promRegistry()] });
        const result =
          arg.id === 'prom-client'
            ? measureHotPath(arg, (i) => c.inc({ a: A[i & 7]!, b: B[(i >> 3) & 7]! }))
            : measureHotPath(arg, (i) => c.labels(A[i & 7]!, B[(i >> 3) & 7]!).inc());
        expectTotals(arg.id, await promTotals(c), want(arg));
        return result;
      }
      case 'otel': {
        const o = plainOtel();
        const c = o.meter.createCounter(NAME, OPTIONS);
        const result = measureHotPath(arg, (i) => c.add(1, { a: A[i & 7]!, b: B[(i >> 3) & 7]! }));
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
