/**
 * Record hot path: counter +1 with 2 attributes/labels (64 label sets in rotation).
 *
 * jobmeter, three ways in:
 * - the domain API, `jm.counter(name)`, for a counter declared in `options.instruments`: the
 *   counter's storage, bounded by the instrument's spec (allow-list, cap fold);
 * - the OpenTelemetry API on jobmeter's provider, for the same declared counter:
 *   `jm.meter.createCounter(name)` hands out that same storage;
 * - the OpenTelemetry API on jobmeter's provider for an instrument nobody declared (a host's,
 *   `jm.meterProvider.getMeter('host').createCounter(name)`): a host instrument's storage, its
 *   attribute sets open up to the cardinality limit.
 * A host's own SDK `MeterProvider` is measured with each reader: the official `PrometheusExporter`
 * (the "otel" row) and `JobmeterReader`: same SDK, same record path, the reader must add nothing.
 * @prometheus-io/client and prom-client: both of their spellings. The pre-bound rows resolve the
 * 64 series once (`bind` / `labels`) and record through the handles.
 */
import {
  benchJobmeter,
  hostSdkWithJobmeterReader,
  plainOtel,
  promLib,
  promRegistry,
  PROM_LABEL,
  type PromLibName,
} from './contenders.ts';
import { cli, isMain, num, stats, type Scenario } from './harness.ts';
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
import { ratio, type TargetResult } from './targets.ts';

const IO = PROM_LABEL['prometheus-io'];
const jobs = (p: HotPathParams) => [
  hotPathJob('jobmeter', 'jobmeter, domain API', 'jm.counter(name).add(1, { a, b })', p),
  hotPathJob(
    'jobmeter-api',
    "jobmeter, OTel API, declared (jobmeter's storage)",
    'jm.meter.createCounter(name).add(1, { a, b })',
    p,
  ),
  hotPathJob(
    'jobmeter-host',
    "jobmeter's provider, OTel API, undeclared (a host instrument's storage)",
    "jm.meterProvider.getMeter('host').createCounter(name).add(1, { a, b })",
    p,
  ),
  hotPathJob('prometheus-io', IO, 'counter.inc({ a, b })', p),
  hotPathJob('prometheus-io-labels', IO, 'counter.labels(a, b).inc()', p),
  hotPathJob('prom-client', 'prom-client', 'counter.inc({ a, b })', p),
  hotPathJob('prom-client-labels', 'prom-client', 'counter.labels(a, b).inc()', p),
  hotPathJob('otel', 'otel SDK + PrometheusExporter', 'counter.add(1, { a, b })', p),
  hotPathJob('otel-jobmeter-reader', 'otel SDK + JobmeterReader', 'counter.add(1, { a, b })', p),
  hotPathJob(
    'jobmeter-bound',
    'jobmeter, pre-bound',
    'bound[i].add(1) (jm.counter(name).bind({ a, b }))',
    p,
  ),
  hotPathJob('prometheus-io-bound', `${IO}, pre-bound`, 'child[i].inc() (counter.labels(a, b))', p),
  hotPathJob(
    'prom-client-bound',
    'prom-client, pre-bound',
    'child[i].inc() (counter.labels(a, b))',
    p,
  ),
];

const NAME = 'bench.counter';
const FAMILY = 'bench_counter_total';
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
      case 'jobmeter-api':
      case 'jobmeter-bound': {
        const jm = await benchJobmeter([
          {
            name: NAME,
            kind: 'counter',
            ...OPTIONS,
            attributes: [
              { key: 'a', cap: 16 },
              { key: 'b', cap: 16 },
            ],
          },
        ]);
        let result: HotPathResult;
        if (arg.id === 'jobmeter-api') {
          const c = jm.meter.createCounter(NAME, OPTIONS);
          result = measureHotPath(arg, (i) => c.add(1, { a: A[i & 7]!, b: B[(i >> 3) & 7]! }));
        } else if (arg.id === 'jobmeter-bound') {
          const c = jm.counter(NAME);
          const bound = Array.from({ length: 64 }, (_, i) =>
            c.bind({ a: A[i & 7]!, b: B[(i >> 3) & 7]! }),
          );
          result = measureHotPath(arg, (i) => bound[i & 63]!.add(1));
        } else {
          const c = jm.counter(NAME);
          result = measureHotPath(arg, (i) => c.add(1, { a: A[i & 7]!, b: B[(i >> 3) & 7]! }));
        }
        expectTotals(arg.id, await jobmeterTotals(jm, FAMILY), want(arg));
        return result;
      }
      case 'jobmeter-host': {
        const jm = await benchJobmeter([]);
        const c = jm.meterProvider.getMeter('host').createCounter(NAME, OPTIONS);
        const result = measureHotPath(arg, (i) => c.add(1, { a: A[i & 7]!, b: B[(i >> 3) & 7]! }));
        expectTotals(arg.id, await jobmeterTotals(jm, FAMILY), want(arg));
        return result;
      }
      case 'prometheus-io':
      case 'prometheus-io-labels':
      case 'prometheus-io-bound':
      case 'prom-client':
      case 'prom-client-labels':
      case 'prom-client-bound': {
        const lib: PromLibName = arg.id.startsWith('prometheus-io')
          ? 'prometheus-io'
          : 'prom-client';
        const c = new (promLib(lib).Counter)({
          name: FAMILY,
          help: 'Bench counter.',
          labelNames: ['a', 'b'],
          registers: [promRegistry(lib)],
        });
        const children = Array.from({ length: 64 }, (_, i) =>
          c.labels(A[i & 7]!, B[(i >> 3) & 7]!),
        );
        const result = arg.id.endsWith('-labels')
          ? measureHotPath(arg, (i) => c.labels(A[i & 7]!, B[(i >> 3) & 7]!).inc())
          : arg.id.endsWith('-bound')
            ? measureHotPath(arg, (i) => children[i & 63]!.inc())
            : measureHotPath(arg, (i) => c.inc({ a: A[i & 7]!, b: B[(i >> 3) & 7]! }));
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
      case 'otel-jobmeter-reader': {
        const h = hostSdkWithJobmeterReader();
        const c = h.meter.createCounter(NAME, OPTIONS);
        const result = measureHotPath(arg, (i) => c.add(1, { a: A[i & 7]!, b: B[(i >> 3) & 7]! }));
        expectTotals(arg.id, await jobmeterTotals(h.reader, FAMILY), want(arg));
        return result;
      }
      default:
        throw new Error(`unknown job ${arg.id}`);
    }
  },
  table: (p, results) => hotPathTable(p, jobs(p), results, 'prometheus-io'),
  targets(_p, results): TargetResult[] {
    const median = (id: string) => stats(results.get(id)!.flatMap((r) => r.ns)).median;
    const base = median('prometheus-io');
    const paths = [
      ['declared', median('jobmeter-api')],
      ["undeclared (a host instrument's storage)", median('jobmeter-host')],
    ] as const;
    const measured = paths
      .map(([what, ns]) => `${what} ${num(ns, 0)} vs ${num(base, 0)} ns: **${ratio(ns / base)}**`)
      .join('; ');
    return [{ id: 'record-counter', measured, met: paths.every(([, ns]) => ns <= base) }];
  },
};

if (isMain(import.meta.url)) await cli(import.meta.url, scenario);
