/**
 * What the three record scenarios (`record-*.ts`) share: parameters, the measuring loop, the value
 * sets every contender records, and the table.
 *
 * Each op builds its attributes/labels object literal, as user code does (`add(1, { a, b })`),
 * over a rotating set of values (64 label sets for 2 attributes), so every contender also pays for
 * its hashing and lookup of a series that already exists; nobody gets to reuse one object.
 */
import { DataPointType } from '@opentelemetry/sdk-metrics';
import type { Jobmeter } from '../src/index.ts';
import type { Family } from '../src/index-exposition.ts';
import { BUCKETS, type PlainOtel, type PromValues } from './contenders.ts';
import { gc, markdownTable, nsPerOp, prng, spread, stats, type Job } from './harness.ts';

export interface HotPathParams {
  /** Ops per timed run. */
  readonly ops: number;
  /** Timed runs (each after a gc). */
  readonly runs: number;
  /** Untimed runs first, so every contender is measured with its JIT warm. */
  readonly warmup: number;
  /** Fresh processes per job, interleaved with the other jobs'; their runs are pooled. */
  readonly processes: number;
}

export function hotPathParams(quick: boolean): HotPathParams {
  return quick
    ? { ops: 20_000, runs: 3, warmup: 1, processes: 1 }
    : { ops: 300_000, runs: 5, warmup: 3, processes: 3 };
}

export interface HotPathArg extends HotPathParams {
  /** The job id, which the scenario's `measure` switches on. */
  readonly id: string;
  readonly contender: string;
  /** The call measured, as a user writes it (shown in the table). */
  readonly call: string;
}

export interface HotPathResult {
  /** ns/op of each timed run. */
  readonly ns: number[];
}

export function hotPathJob(
  id: string,
  contender: string,
  call: string,
  p: HotPathParams,
): Job<HotPathArg> {
  return { id, arg: { ...p, id, contender, call } };
}

/** Warms `op` up, then times `runs` runs of `ops` calls, with a gc before each. */
export function measureHotPath(p: HotPathParams, op: (i: number) => void): HotPathResult {
  for (let w = 0; w < p.warmup; w++) nsPerOp(p.ops, op);
  const ns: number[] = [];
  for (let r = 0; r < p.runs; r++) {
    gc();
    ns.push(nsPerOp(p.ops, op));
  }
  return { ns };
}

/**
 * One row per job: `| contender | call | ns/op | vs <baseline> |`. Rows of a process each are
 * pooled (all their runs go into one median).
 */
export function hotPathTable(
  p: HotPathParams,
  jobs: readonly Job<HotPathArg>[],
  results: ReadonlyMap<string, readonly HotPathResult[]>,
  baseline: string,
  withNote = true,
): string {
  const nsOf = (id: string) => stats(results.get(id)!.flatMap((r) => r.ns));
  const base = nsOf(baseline).median;
  const baseName = jobs.find((j) => j.id === baseline)?.arg.contender ?? baseline;
  const rows = jobs.map((j) => {
    const s = nsOf(j.id);
    return [
      j.arg.contender,
      '`' + j.arg.call + '`',
      spread(s, 0),
      (s.median / base).toFixed(2) + '×',
    ];
  });
  const note = `${p.processes} processes per row (interleaved) × ${p.runs} runs × ${p.ops.toLocaleString('en-US')} ops, after ${p.warmup} warm-up runs in each process; median (min–max) ns/op over the ${p.processes * p.runs} runs; last column: median ÷ the first ${baseName} row's median.`;
  const table = markdownTable(['contender', 'call', 'ns/op', `÷ ${baseName}`], rows, [
    'l',
    'l',
    'r',
    'r',
  ]);
  return withNote ? table + '\n\n' + note : table;
}

// ---------------------------------------------------------------------------------------------
// Checking that the records landed: a contender that silently dropped or folded them would look
// fast. Each scenario checks, after timing, the total count and the number of series.

export interface Totals {
  /** Sum of counter values, or of histogram counts. */
  readonly total: number;
  readonly series: number;
}

/** Ops one job records: warm-up and timed runs. */
export function opsRecorded(p: HotPathParams): number {
  return (p.warmup + p.runs) * p.ops;
}

export function expectTotals(what: string, got: Totals, want: Totals): void {
  if (got.total !== want.total || got.series !== want.series) {
    throw new Error(
      `${what}: recorded ${got.total} in ${got.series} series, expected ${want.total} in ${want.series}`,
    );
  }
}

/** Totals of one family of a scrape: `jm.scrape()`, or a `JobmeterReader`'s `scrape()`. */
export async function jobmeterTotals(
  jm: Pick<Jobmeter, 'scrape'>,
  family: string,
): Promise<Totals> {
  const f = (await jm.scrape()).find((x: Family) => x.name === family);
  if (f === undefined) return { total: 0, series: 0 };
  let total = 0;
  for (const s of f.series) total += 'count' in s ? s.count : s.value;
  return { total, series: f.series.length };
}

export async function promTotals(metric: { get(): Promise<PromValues> }): Promise<Totals> {
  // A histogram's values carry `metricName` (`_bucket`/`_sum`/`_count`); a counter's do not.
  const { values } = await metric.get();
  const points = values.filter(
    (v) => v.metricName === undefined || v.metricName.endsWith('_count'),
  );
  let total = 0;
  for (const v of points) total += v.value;
  return { total, series: points.length };
}

export async function otelTotals(o: PlainOtel, instrument: string): Promise<Totals> {
  const { resourceMetrics } = await o.exporter.collect();
  let total = 0;
  let series = 0;
  for (const sm of resourceMetrics.scopeMetrics) {
    for (const m of sm.metrics) {
      if (m.descriptor.name !== instrument) continue;
      for (const dp of m.dataPoints) {
        series++;
        total +=
          m.dataPointType === DataPointType.HISTOGRAM
            ? (dp.value as { count: number }).count
            : (dp.value as number);
      }
    }
  }
  return { total, series };
}

// ---------------------------------------------------------------------------------------------
// The values every contender records

/** 8 values each for attributes `a` and `b`: 64 label sets. */
export const A: readonly string[] = [
  'alpha',
  'bravo',
  'charlie',
  'delta',
  'echo',
  'foxtrot',
  'golf',
  'hotel',
];
export const B: readonly string[] = [
  'GET',
  'POST',
  'PUT',
  'DELETE',
  'PATCH',
  'HEAD',
  'OPTIONS',
  'TRACE',
];

/** 1024 observations spread over the 15 buckets and the +Inf bucket. */
export const VALUES: readonly number[] = (() => {
  const rnd = prng(42);
  const top = BUCKETS[BUCKETS.length - 1]! * 1.2;
  // Log-uniform between 5 ms and 1.2× the top bound: every bucket gets some.
  return Array.from({ length: 1024 }, () =>
    Math.exp(Math.log(0.005) + rnd() * (Math.log(top) - Math.log(0.005))),
  );
})();

/** Run attributes for the domain scenario: 8 tasks × 4 outcomes × 2 kinds × 2 runners = 128 sets. */
export const TASKS: readonly string[] = [
  'backup',
  'build',
  'deploy',
  'lint',
  'migrate',
  'report',
  'sync',
  'test',
];
export const OUTCOMES = ['success', 'failure', 'cancelled', 'timeout'] as const;
export const KINDS: readonly string[] = ['task', 'service'];
export const RUNNERS: readonly string[] = ['subprocess', 'wasm'];
export const REASONS: readonly string[] = [
  'busy',
  'quota',
  'unknown_task',
  'disabled',
  'bad_args',
  'draining',
  'auth',
  'rate',
];
