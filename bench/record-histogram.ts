/**
 * Record hot path: one histogram observation with 2 attributes/labels, 15 buckets (64 label sets
 * in rotation, 1024 values spread over every bucket).
 *
 * jobmeter: a histogram declared in `options.instruments` with the 15 bounds, recorded through the
 * domain API `jm.histogram(name)` and through the OpenTelemetry API on jobmeter's provider,
 * `jm.meter.createHistogram(name)`, which hands out the same storage (no min/max, as jobmeter's
 * views); and an undeclared one a host makes on jobmeter's provider
 * (`jm.meterProvider.getMeter('host')`): a host instrument's storage, given the bounds as advice
 * (min/max recorded, as the SDK would). A host's own SDK `MeterProvider` with the official
 * `PrometheusExporter` ("otel") and with `JobmeterReader`: the same SDK histogram (min/max
 * recorded: the SDK's default), the reader must add nothing per record. Pre-bound rows resolve the
 * 64 series once.
 */
import {
  BUCKETS,
  benchJobmeter,
  hostSdkWithJobmeterReader,
  plainOtel,
  promLib,
  promRegistry,
  PROM_LABEL,
  type PromLibName,
} from './contenders.ts';
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

const IO = PROM_LABEL['prometheus-io'];
const jobs = (p: HotPathParams) => [
  hotPathJob('jobmeter', 'jobmeter, domain API', 'jm.histogram(name).record(v, { a, b })', p),
  hotPathJob(
    'jobmeter-api',
    "jobmeter, OTel API, declared (jobmeter's storage)",
    'jm.meter.createHistogram(name).record(v, { a, b })',
    p,
  ),
  hotPathJob(
    'jobmeter-host',
    "jobmeter's provider, OTel API, undeclared (a host instrument's storage)",
    "jm.meterProvider.getMeter('host').createHistogram(name).record(v, { a, b })",
    p,
  ),
  hotPathJob('prometheus-io', IO, 'histogram.observe({ a, b }, v)', p),
  hotPathJob('prometheus-io-labels', IO, 'histogram.labels(a, b).observe(v)', p),
  hotPathJob('prom-client', 'prom-client', 'histogram.observe({ a, b }, v)', p),
  hotPathJob('prom-client-labels', 'prom-client', 'histogram.labels(a, b).observe(v)', p),
  hotPathJob('otel', 'otel SDK + PrometheusExporter', 'histogram.record(v, { a, b })', p),
  hotPathJob(
    'otel-jobmeter-reader',
    'otel SDK + JobmeterReader',
    'histogram.record(v, { a, b })',
    p,
  ),
  hotPathJob(
    'jobmeter-bound',
    'jobmeter, pre-bound',
    'bound[i].record(v) (jm.histogram(name).bind({ a, b }))',
    p,
  ),
  hotPathJob(
    'prometheus-io-bound',
    `${IO}, pre-bound`,
    'child[i].observe(v) (histogram.labels(a, b))',
    p,
  ),
  hotPathJob(
    'prom-client-bound',
    'prom-client, pre-bound',
    'child[i].observe(v) (histogram.labels(a, b))',
    p,
  ),
];

const NAME = 'bench.latency';
const FAMILY = 'bench_latency_seconds';
const OPTIONS = { unit: 's', description: 'Bench latency.' };
/** An SDK histogram's bounds come as advice. */
const SDK_OPTIONS = { ...OPTIONS, advice: { explicitBucketBoundaries: [...BUCKETS] } };
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
      case 'jobmeter-api':
      case 'jobmeter-bound': {
        const jm = await benchJobmeter([
          {
            name: NAME,
            kind: 'histogram',
            ...OPTIONS,
            buckets: BUCKETS,
            attributes: [
              { key: 'a', cap: 16 },
              { key: 'b', cap: 16 },
            ],
          },
        ]);
        let result: HotPathResult;
        if (arg.id === 'jobmeter-api') {
          const h = jm.meter.createHistogram(NAME, OPTIONS);
          result = measureHotPath(arg, (i) =>
            h.record(VALUES[i & 1023]!, { a: A[i & 7]!, b: B[(i >> 3) & 7]! }),
          );
        } else if (arg.id === 'jobmeter-bound') {
          const h = jm.histogram(NAME);
          const bound = Array.from({ length: 64 }, (_, i) =>
            h.bind({ a: A[i & 7]!, b: B[(i >> 3) & 7]! }),
          );
          result = measureHotPath(arg, (i) => bound[i & 63]!.record(VALUES[i & 1023]!));
        } else {
          const h = jm.histogram(NAME);
          result = measureHotPath(arg, (i) =>
            h.record(VALUES[i & 1023]!, { a: A[i & 7]!, b: B[(i >> 3) & 7]! }),
          );
        }
        expectTotals(arg.id, await jobmeterTotals(jm, FAMILY), want(arg));
        return result;
      }
      case 'jobmeter-host': {
        const jm = await benchJobmeter([]);
        const h = jm.meterProvider.getMeter('host').createHistogram(NAME, SDK_OPTIONS);
        const result = measureHotPath(arg, (i) =>
          h.record(VALUES[i & 1023]!, { a: A[i & 7]!, b: B[(i >> 3) & 7]! }),
        );
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
        const h = new (promLib(lib).Histogram)({
          name: FAMILY,
          help: 'Bench latency.',
          labelNames: ['a', 'b'],
          buckets: [...BUCKETS],
          registers: [promRegistry(lib)],
        });
        const children = Array.from({ length: 64 }, (_, i) =>
          h.labels(A[i & 7]!, B[(i >> 3) & 7]!),
        );
        const result = arg.id.endsWith('-labels')
          ? measureHotPath(arg, (i) =>
              h.labels(A[i & 7]!, B[(i >> 3) & 7]!).observe(VALUES[i & 1023]!),
            )
          : arg.id.endsWith('-bound')
            ? measureHotPath(arg, (i) => children[i & 63]!.observe(VALUES[i & 1023]!))
            : measureHotPath(arg, (i) =>
                h.observe({ a: A[i & 7]!, b: B[(i >> 3) & 7]! }, VALUES[i & 1023]!),
              );
        expectTotals(arg.id, await promTotals(h), want(arg));
        return result;
      }
      case 'otel': {
        const o = plainOtel();
        const h = o.meter.createHistogram(NAME, SDK_OPTIONS);
        const result = measureHotPath(arg, (i) =>
          h.record(VALUES[i & 1023]!, { a: A[i & 7]!, b: B[(i >> 3) & 7]! }),
        );
        expectTotals(arg.id, await otelTotals(o, NAME), want(arg));
        return result;
      }
      case 'otel-jobmeter-reader': {
        const o = hostSdkWithJobmeterReader();
        const h = o.meter.createHistogram(NAME, SDK_OPTIONS);
        const result = measureHotPath(arg, (i) =>
          h.record(VALUES[i & 1023]!, { a: A[i & 7]!, b: B[(i >> 3) & 7]! }),
        );
        expectTotals(arg.id, await jobmeterTotals(o.reader, FAMILY), want(arg));
        return result;
      }
      default:
        throw new Error(`unknown job ${arg.id}`);
    }
  },
  table: (p, results) => hotPathTable(p, jobs(p), results, 'prometheus-io'),
};

if (isMain(import.meta.url)) await cli(import.meta.url, scenario);
