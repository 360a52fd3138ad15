/**
 * Record hot path through jobmeter's domain API, next to what a user would hand-write with the
 * others (@prometheus-io/client, prom-client, the OTel SDK) for the same series:
 *
 * - `jm.reject(reason)`: one counter, 1 attribute (8 reasons in rotation).
 * - `jm.runnerError(runner, error)`: one counter, 2 attributes (2 runners × 8 errors).
 * - `jm.recordRun(run)`: the finished counter + the duration histogram (15 buckets), 4 attributes
 *   (8 tasks × 4 outcomes × 2 kinds × 2 runners = 128 label sets in rotation). The Prometheus
 *   clients and otel do the same two records with the same 4 labels. Also `recordRun` of
 *   `createRecorder(meter)` on a host's own SDK provider read by a `JobmeterReader`: the domain API
 *   through the host's SDK instruments.
 */
import { createRecorder, type Jobmeter } from '../src/index.ts';
import {
  BUCKETS,
  benchJobmeter,
  hostSdkWithJobmeterReader,
  isPromLib,
  plainOtel,
  promLib,
  promRegistry,
  PROM_LABEL,
  type PlainOtel,
  type PromLibName,
} from './contenders.ts';
import { cli, isMain, type Scenario } from './harness.ts';
import {
  KINDS,
  OUTCOMES,
  REASONS,
  RUNNERS,
  TASKS,
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
  type Totals,
} from './hot-path.ts';

const IO = PROM_LABEL['prometheus-io'];
const rejectJobs = (p: HotPathParams) => [
  hotPathJob('jobmeter-reject', 'jobmeter', 'jm.reject(reason)', p),
  hotPathJob('prometheus-io-reject', IO, 'rejected.inc({ reason })', p),
  hotPathJob('prom-client-reject', 'prom-client', 'rejected.inc({ reason })', p),
  hotPathJob('otel-reject', 'otel', 'rejected.add(1, { reason })', p),
];
const errorJobs = (p: HotPathParams) => [
  hotPathJob('jobmeter-error', 'jobmeter', 'jm.runnerError(runner, error)', p),
  hotPathJob('prometheus-io-error', IO, 'runnerErrors.inc({ runner, error })', p),
  hotPathJob('prom-client-error', 'prom-client', 'runnerErrors.inc({ runner, error })', p),
  hotPathJob('otel-error', 'otel', 'runnerErrors.add(1, { runner, error })', p),
];
const runJobs = (p: HotPathParams) => [
  hotPathJob(
    'jobmeter-run',
    'jobmeter',
    'jm.recordRun({ task, kind, runner, outcome, durationSeconds })',
    p,
  ),
  hotPathJob(
    'host-run',
    'jobmeter on a host SDK provider (JobmeterReader)',
    'createRecorder(meter).recordRun({ … })',
    p,
  ),
  hotPathJob('prometheus-io-run', IO, 'finished.inc(l); duration.observe(l, s)', p),
  hotPathJob('prom-client-run', 'prom-client', 'finished.inc(l); duration.observe(l, s)', p),
  hotPathJob('otel-run', 'otel', 'finished.add(1, l); duration.record(s, l)', p),
];

/** `prometheus-io-run` → its library and the measured op (`run`). */
function promJob(id: string): { lib: PromLibName; op: string } | undefined {
  const at = id.lastIndexOf('-');
  const lib = id.slice(0, at);
  return isPromLib(lib) ? { lib, op: id.slice(at + 1) } : undefined;
}

const RUN_OPTIONS = { unit: '{run}', description: 'Runs that reached a terminal outcome.' };
const DURATION_OPTIONS = {
  unit: 's',
  description: 'Wall-clock duration of finished runs.',
  advice: { explicitBucketBoundaries: [...BUCKETS] },
};
const LABELS = ['task', 'kind', 'runner', 'outcome'];

/** The 4 run attributes of op `i`. */
function run(i: number) {
  return {
    task: TASKS[i & 7]!,
    kind: KINDS[(i >> 5) & 1]!,
    runner: RUNNERS[(i >> 6) & 1]!,
    outcome: OUTCOMES[(i >> 3) & 3]!,
  };
}

async function checkRun(
  id: string,
  p: HotPathParams,
  finished: () => Promise<{ total: number; series: number }>,
  duration: () => Promise<{ total: number; series: number }>,
) {
  expectTotals(id + ' (finished)', await finished(), { total: opsRecorded(p), series: 128 });
  expectTotals(id + ' (duration)', await duration(), { total: opsRecorded(p), series: 128 });
}

/** The same records by hand with a Prometheus client library (both have one API). */
async function measureProm(
  arg: HotPathArg,
  lib: PromLibName,
  op: string,
  rejects: Totals,
  errors: Totals,
): Promise<HotPathResult> {
  const { Counter, Histogram } = promLib(lib);
  const registers = [promRegistry(lib)];
  switch (op) {
    case 'reject': {
      const c = new Counter({
        name: 'jobmeter_request_rejected_total',
        help: 'Requests rejected.',
        labelNames: ['reason'],
        registers,
      });
      const result = measureHotPath(arg, (i) => c.inc({ reason: REASONS[i & 7]! }));
      expectTotals(arg.id, await promTotals(c), rejects);
      return result;
    }
    case 'error': {
      const c = new Counter({
        name: 'jobmeter_runner_error_total',
        help: 'Runner errors.',
        labelNames: ['runner', 'error'],
        registers,
      });
      const result = measureHotPath(arg, (i) =>
        c.inc({ runner: RUNNERS[(i >> 3) & 1]!, error: REASONS[i & 7]! }),
      );
      expectTotals(arg.id, await promTotals(c), errors);
      return result;
    }
    case 'run': {
      const finished = new Counter({
        name: 'jobmeter_run_finished_total',
        help: RUN_OPTIONS.description,
        labelNames: LABELS,
        registers,
      });
      const duration = new Histogram({
        name: 'jobmeter_run_duration_seconds',
        help: DURATION_OPTIONS.description,
        labelNames: LABELS,
        buckets: [...BUCKETS],
        registers,
      });
      const result = measureHotPath(arg, (i) => {
        const l = run(i);
        finished.inc(l);
        duration.observe(l, VALUES[i & 1023]!);
      });
      await checkRun(
        arg.id,
        arg,
        () => promTotals(finished),
        () => promTotals(duration),
      );
      return result;
    }
    default:
      throw new Error(`unknown job ${arg.id}`);
  }
}

export const scenario: Scenario<HotPathParams, HotPathArg, HotPathResult> = {
  name: 'record-domain',
  title: "Record: jobmeter's domain API",
  params: hotPathParams,
  processes: (p) => p.processes,
  jobs: (p) => [...rejectJobs(p), ...errorJobs(p), ...runJobs(p)],
  async measure(arg) {
    const rejects = { total: opsRecorded(arg), series: REASONS.length };
    const errors = { total: opsRecorded(arg), series: REASONS.length * RUNNERS.length };
    const prom = promJob(arg.id);
    if (prom !== undefined) return measureProm(arg, prom.lib, prom.op, rejects, errors);
    switch (arg.id) {
      case 'jobmeter-reject': {
        const jm: Jobmeter = await benchJobmeter([]);
        const result = measureHotPath(arg, (i) => jm.reject(REASONS[i & 7]!));
        expectTotals(arg.id, await jobmeterTotals(jm, 'jobmeter_request_rejected_total'), rejects);
        return result;
      }
      case 'otel-reject': {
        const o: PlainOtel = plainOtel();
        const c = o.meter.createCounter('jobmeter.request.rejected', {
          unit: '{request}',
          description: 'Requests rejected.',
        });
        const result = measureHotPath(arg, (i) => c.add(1, { reason: REASONS[i & 7]! }));
        expectTotals(arg.id, await otelTotals(o, 'jobmeter.request.rejected'), rejects);
        return result;
      }
      case 'jobmeter-error': {
        const jm: Jobmeter = await benchJobmeter([]);
        const result = measureHotPath(arg, (i) =>
          jm.runnerError(RUNNERS[(i >> 3) & 1]!, REASONS[i & 7]!),
        );
        expectTotals(arg.id, await jobmeterTotals(jm, 'jobmeter_runner_error_total'), errors);
        return result;
      }
      case 'otel-error': {
        const o: PlainOtel = plainOtel();
        const c = o.meter.createCounter('jobmeter.runner.error', {
          unit: '{error}',
          description: 'Runner errors.',
        });
        const result = measureHotPath(arg, (i) =>
          c.add(1, { runner: RUNNERS[(i >> 3) & 1]!, error: REASONS[i & 7]! }),
        );
        expectTotals(arg.id, await otelTotals(o, 'jobmeter.runner.error'), errors);
        return result;
      }
      case 'jobmeter-run': {
        const jm = await benchJobmeter([]);
        const result = measureHotPath(arg, (i) =>
          jm.recordRun({ ...run(i), durationSeconds: VALUES[i & 1023]! }),
        );
        await checkRun(
          arg.id,
          arg,
          () => jobmeterTotals(jm, 'jobmeter_run_finished_total'),
          () => jobmeterTotals(jm, 'jobmeter_run_duration_seconds'),
        );
        return result;
      }
      case 'host-run': {
        const h = hostSdkWithJobmeterReader();
        const jm = createRecorder(h.provider.getMeter('jobmeter'));
        const result = measureHotPath(arg, (i) =>
          jm.recordRun({ ...run(i), durationSeconds: VALUES[i & 1023]! }),
        );
        await checkRun(
          arg.id,
          arg,
          () => jobmeterTotals(h.reader, 'jobmeter_run_finished_total'),
          () => jobmeterTotals(h.reader, 'jobmeter_run_duration_seconds'),
        );
        return result;
      }
      case 'otel-run': {
        const o = plainOtel();
        const finished = o.meter.createCounter('jobmeter.run.finished', RUN_OPTIONS);
        const duration = o.meter.createHistogram('jobmeter.run.duration', DURATION_OPTIONS);
        const result = measureHotPath(arg, (i) => {
          const l = run(i);
          finished.add(1, l);
          duration.record(VALUES[i & 1023]!, l);
        });
        await checkRun(
          arg.id,
          arg,
          () => otelTotals(o, 'jobmeter.run.finished'),
          () => otelTotals(o, 'jobmeter.run.duration'),
        );
        return result;
      }
      default:
        throw new Error(`unknown job ${arg.id}`);
    }
  },
  table: (p, results) =>
    hotPathTable(p, rejectJobs(p), results, 'prometheus-io-reject', false) +
    '\n\n' +
    hotPathTable(p, errorJobs(p), results, 'prometheus-io-error', false) +
    '\n\n' +
    hotPathTable(p, runJobs(p), results, 'prometheus-io-run'),
};

if (isMain(import.meta.url)) await cli(import.meta.url, scenario);
