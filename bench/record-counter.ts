/**
 * Record hot path: counter +1 with 2 attributes/labels (64 label sets in rotation).
 *
 * jobmeter: a counter declared in `options.instruments` and recorded through the domain API,
 * `jm.counter(name)`: the local tallies, bounded by the instrument's spec (allow-list, cap fold)
 * and read by both readers through the tallies' producer. Also, as a reference, the same
 * instrument made on `jobmeter.meter`, i.e. a plain SDK counter with jobmeter's view. The
 * pre-bound rows resolve the 64 series once (`bind` / `labels`) and record through the handles.
 * prom-client: both of its spellings. otel: a plain SDK counter.
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
  hotPathJob('jobmeter', 'jobmeter', 'jm.counter(name).add(1, { a, b })', p),
  hotPathJob('prom-client', 'prom-client', 'counter.inc({ a, b })', p),
  hotPathJob('prom-client-labels', 'prom-client', 'counter.labels(a, b).inc()', p),
  hotPathJob('otel', 'otel', 'counter.add(1, { a, b })', p),
  hotPathJob('jobmeter-sdk', 'jobmeter (SDK path)', 'jm.meter.createCounter(name).add(1, { a, b })', p),
  hotPathJob('jobmeter-bound', 'jobmeter, pre-bound', 'bound[i].add(1) (jm.counter(name).bind({ a, b }))', p),
  hotPathJob('prom-client-bound', 'prom-client, pre-bound', 'child[i].inc() (counter.labels(a, b))', p),
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
      case 'jobmeter':
      case 'jobmeter-sdk':
      case 'jobmeter-bound': {
        const jm = await benchJobmeter([
          { name: NAME, kind: 'counter', ...OPTIONS, attributes: [{ key: 'a', cap: 16 }, { key: 'b', cap: 16 }] },
        ]);
        let result: HotPathResult;
        if (arg.id === 'jobmeter-sdk') {
          const c = jm.meter.createCounter(NAME, OPTIONS);
          result = measureHotPath(arg, (i) => c.add(1, { a: A[i & 7]!, b: B[(i >> 3) & 7]! }));
        } else if (arg.id === 'jobmeter-bound') {
          const c = jm.counter(NAME);
          const bound = Array.from({ length: 64 }, (_, i) => c.bind({ a: A[i & 7]!, b: B[(i >> 3) & 7]! }));
          result = measureHotPath(arg, (i) => bound[i & 63]!.add(1));
        } else {
          const c = jm.counter(NAME);
          result = measureHotPath(arg, (i) => c.add(1, { a: A[i & 7]!, b: B[(i >> 3) & 7]! }));
        }
        expectTotals(arg.id, await jobmeterTotals(jm, 'bench_counter_total'), want(arg));
        return result;
      }
      case 'prom-client':
      case 'prom-client-labels':
      case 'prom-client-bound': {
        const c = new Counter({ name: 'bench_counter_total', help: 'Bench counter.', labelNames: ['a', 'b'], registers: [promRegistry()] });
        const children = Array.from({ length: 64 }, (_, i) => c.labels(A[i & 7]!, B[(i >> 3) & 7]!));
        const result =
          arg.id === 'prom-client'
            ? measureHotPath(arg, (i) => c.inc({ a: A[i & 7]!, b: B[(i >> 3) & 7]! }))
            : arg.id === 'prom-client-labels'
              ? measureHotPath(arg, (i) => c.labels(A[i & 7]!, B[(i >> 3) & 7]!).inc())
              : measureHotPath(arg, (i) => children[i & 63]!.inc());
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
