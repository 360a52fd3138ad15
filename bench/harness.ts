/**
 * The bench harness: statistics, timing loops, gc, child processes, markdown tables.
 *
 * Every measurement runs in a fresh child process per (scenario, job): the three contenders never
 * share a heap or JIT state (a megamorphic call site or a big old-space left by one contender
 * would bias the next). A scenario file is both a module (`run.ts` imports it) and a CLI:
 *
 *   node --expose-gc bench/<scenario>.ts              all its jobs, each in a child; prints the table
 *   node --expose-gc bench/<scenario>.ts <job> [--json] one job in this process (what a child runs,
 *                                                      and what to put under `--cpu-prof`)
 */
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { fileURLToPath } from 'node:url';
import { targetsTable, type TargetResult } from './targets.ts';

/** `BENCH_QUICK=1`: a smoke run (small N, few runs), which does not rewrite bench/README.md. */
export const QUICK = process.env.BENCH_QUICK === '1';

/** The Node that runs children: the one running us (Node 24), never whatever `node` is on PATH. */
const NODE = process.execPath;

// ---------------------------------------------------------------------------------------------
// Scenarios

/** One unit of work run in its own process: a contender (at one size, for sized scenarios). */
export interface Job<A> {
  /** Unique within the scenario, usable on the command line: `jobmeter`, `prom-client@100000`. */
  readonly id: string;
  readonly arg: A;
}

export interface Scenario<P, A, R> {
  /** File name without `.ts`; also the README marker name. */
  readonly name: string;
  readonly title: string;
  /** Parameters for a full or a quick (`BENCH_QUICK=1`) run. */
  params(quick: boolean): P;
  jobs(params: P): readonly Job<A>[];
  /**
   * A pause before each job's process but the first, ms: the machine settles after the previous
   * one (a contender that held GBs leaves the next process's first seconds slower), so that
   * nothing of it lands in a window that measures one process's blocking. @default 0
   */
  readonly settleMillis?: number;
  /** How many separate processes per job (their results are pooled by {@link table}). @default 1 */
  readonly processes?: (params: P) => number;
  /** Runs one job in the current process. */
  measure(arg: A): Promise<R>;
  /** Markdown for the pooled results: job id → one result per process. */
  table(params: P, results: ReadonlyMap<string, readonly R[]>): string;
  /** Verdicts on the targets this scenario measures (bench/targets.ts), from the same results. */
  readonly targets?: (
    params: P,
    results: ReadonlyMap<string, readonly R[]>,
  ) => readonly TargetResult[];
}

/** What a scenario run gives: its markdown table and its target verdicts. */
export interface ScenarioRun {
  readonly table: string;
  readonly targets: readonly TargetResult[];
}

// Scenarios handled as a list (run.ts) are erased to `any`: each one's types are checked in its file.
export type AnyScenario = Scenario<any, any, any>;

/** Runs every job of `scenario`, each in `processes` fresh children, interleaved to spread drift. */
export async function runScenario(
  file: string,
  scenario: AnyScenario,
  quick: boolean,
): Promise<ScenarioRun> {
  const params = scenario.params(quick);
  const jobs = scenario.jobs(params);
  const processes = scenario.processes?.(params) ?? 1;
  const results = new Map<string, unknown[]>(jobs.map((j) => [j.id, []]));
  let first = true;
  for (let p = 0; p < processes; p++) {
    for (const job of jobs) {
      if (!first && (scenario.settleMillis ?? 0) > 0)
        await new Promise((r) => setTimeout(r, scenario.settleMillis));
      first = false;
      const t0 = performance.now();
      const result = await runChild(file, job.id, quick);
      results.get(job.id)!.push(result);
      const suffix = processes > 1 ? ` (process ${p + 1}/${processes})` : '';
      log(
        `  ${scenario.name} ${job.id}${suffix}: ${((performance.now() - t0) / 1000).toFixed(1)} s`,
      );
    }
  }
  return {
    table: scenario.table(params, results),
    targets: scenario.targets?.(params, results) ?? [],
  };
}

function runChild(file: string, jobId: string, quick: boolean): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const child = spawn(NODE, ['--expose-gc', file, jobId, '--json'], {
      env: { ...process.env, BENCH_QUICK: quick ? '1' : '0' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      if (code !== 0 || line === undefined) {
        reject(
          new Error(
            `${file} ${jobId}: exited with ${code}${line === undefined ? ', no RESULT line' : ''}\n${out}`,
          ),
        );
        return;
      }
      resolve(JSON.parse(line.slice('RESULT '.length)));
    });
  });
}

/**
 * The CLI of a scenario file; call as `if (isMain(import.meta.url)) await cli(import.meta.url, scenario)`.
 * With no argument it runs all jobs (in children) and prints the table; with a job id it runs that
 * job here and prints its result (`RESULT <json>` with `--json`, for the parent).
 */
export async function cli(url: string, scenario: AnyScenario): Promise<void> {
  requireGc();
  const [jobId] = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  if (jobId === undefined) {
    const run = await runScenario(fileURLToPath(url), scenario, QUICK);
    console.log(run.table);
    if (run.targets.length > 0)
      console.log('\n' + targetsTable(run.targets.map((result) => ({ result, run: 'this run' }))));
    return;
  }
  const job = scenario.jobs(scenario.params(QUICK)).find((j) => j.id === jobId);
  if (job === undefined) {
    const ids = scenario.jobs(scenario.params(QUICK)).map((j) => j.id);
    throw new Error(`${scenario.name}: no job ${JSON.stringify(jobId)}; jobs: ${ids.join(', ')}`);
  }
  const result = await scenario.measure(job.arg);
  if (process.argv.includes('--json')) console.log('RESULT ' + JSON.stringify(result));
  else console.log(JSON.stringify(result, null, 2));
}

export function isMain(url: string): boolean {
  return process.argv[1] !== undefined && fileURLToPath(url) === process.argv[1];
}

export function log(message: string): void {
  process.stderr.write(message + '\n');
}

// ---------------------------------------------------------------------------------------------
// Measuring

function requireGc(): void {
  if (typeof globalThis.gc !== 'function')
    throw new Error('run with node --expose-gc (npm run bench does)');
}

/**
 * A full collection, twice: the second one frees what the first one's finalizers released.
 * (`globalThis.gc` exists only under --expose-gc; @types/node types it.)
 */
export function gc(): void {
  requireGc();
  globalThis.gc!();
  globalThis.gc!();
}

/** Nanoseconds per call of `op` over `ops` calls (one timed loop, `i` = 0..ops-1). */
export function nsPerOp(ops: number, op: (i: number) => void): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < ops; i++) op(i);
  return Number(process.hrtime.bigint() - t0) / ops;
}

/**
 * What the JS side holds after a full gc: the V8 heap in use plus ArrayBuffer storage (typed
 * arrays, Buffers), which V8 keeps outside its heap. Both count, so moving figures into typed
 * arrays does not make a contender look smaller than it is.
 */
export function jsMemory(): number {
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/**
 * `BENCH_CPU_PROF=<file.cpuprofile>`: profiles only what runs inside `fn` (the timed region, not
 * the setup) with the inspector's sampling profiler and writes the profile there. Without the
 * variable `fn` just runs.
 */
export async function profiled<T>(fn: () => Promise<T>): Promise<T> {
  const file = process.env.BENCH_CPU_PROF;
  if (file === undefined || file === '') return fn();
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 100 });
  await session.post('Profiler.start');
  try {
    return await fn();
  } finally {
    const { profile } = await session.post('Profiler.stop');
    await writeFile(file, JSON.stringify(profile));
    session.disconnect();
    log(`cpu profile of the timed region written to ${file}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Statistics and formatting

export interface Stats {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly n: number;
}

export function stats(xs: readonly number[]): Stats {
  if (xs.length === 0) throw new RangeError('stats of nothing');
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { median, min: s[0]!, max: s[s.length - 1]!, n: s.length };
}

/** A deterministic PRNG (mulberry32), so every contender records the same values. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `123` / `1,234` / `12.3` with a sensible number of digits for a table cell. */
export function num(v: number, digits?: number): string {
  const d = digits ?? (Math.abs(v) >= 100 ? 0 : Math.abs(v) >= 10 ? 1 : 2);
  return v.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
}

/** `median (min–max)`. */
export function spread(s: Stats, digits?: number): string {
  return `${num(s.median, digits)} (${num(s.min, digits)}–${num(s.max, digits)})`;
}

export function bytes(n: number): string {
  if (n >= 1024 * 1024) return (n / (1024 * 1024)).toFixed(2) + ' MiB';
  if (n >= 1024) return (n / 1024).toFixed(1) + ' KiB';
  return n + ' B';
}

export function markdownTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  align?: readonly ('l' | 'r')[],
): string {
  const a = align ?? header.map((_, i) => (i === 0 ? 'l' : 'r'));
  const line = (cells: readonly string[]) => '| ' + cells.join(' | ') + ' |';
  return [line(header), line(a.map((x) => (x === 'l' ? ':--' : '--:'))), ...rows.map(line)].join(
    '\n',
  );
}
