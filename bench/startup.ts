/**
 * What a host pays before its first series: a fresh process that imports one contender, serves one
 * counter on a pull endpoint and answers one scrape (bench/startup-host.mjs, plain JavaScript, the
 * jobmeter package root as a host imports it: the built dist/). Two figures per process: the time
 * from spawning it to the first scrape's body, read over HTTP by this process, and its resident set
 * (VmRSS) right after that scrape; beside the time, the CPU the process spent until then (user +
 * system, /proc/<pid>/stat, 10 ms ticks), which a loaded machine stretches far less. Each contender in 15 processes, interleaved (with 5, the
 * time ratio's median moved between 0.88x and 1.07x from run to run on a quiet machine; a process
 * costs ~0.3 s); the ratios divide by
 * `@opentelemetry/sdk-metrics` + `exporter-prometheus` doing the same, the anchor of the target.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { freePort } from '../test/support/free-port.ts';
import {
  cli,
  isMain,
  markdownTable,
  num,
  spread,
  stats,
  type Job,
  type Scenario,
} from './harness.ts';
import { ratio, type TargetResult } from './targets.ts';

const STARTUP_CONTENDERS = [
  'jobmeter',
  'jobmeter-no-process-metrics',
  'otel',
  'otel-one-sdk',
  'prom-client',
  'prom-client-default-metrics',
  'prometheus-io',
  'node',
] as const;
type StartupContender = (typeof STARTUP_CONTENDERS)[number];
const LABEL: Record<StartupContender, string> = {
  jobmeter: 'jobmeter `createJobmeter({ listener })`',
  'jobmeter-no-process-metrics': '… with `processMetrics: false`',
  otel: '`sdk-metrics` + `exporter-prometheus`',
  'otel-one-sdk': "… the host on the exporter's own `sdk-metrics` (one copy of the SDK)",
  'prom-client': 'prom-client + node:http',
  'prom-client-default-metrics': '… with `collectDefaultMetrics()`',
  'prometheus-io': '@prometheus-io/client + node:http',
  node: 'bare Node (node:http, a constant body)',
};
const ANCHOR: StartupContender = 'otel';
const HOST = fileURLToPath(new URL('./startup-host.mjs', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));

interface Params {
  readonly processes: number;
}

interface Result {
  /** From spawn to the first scrape's whole body, ms. */
  readonly firstScrapeMs: number;
  /** VmRSS right after that scrape, bytes. */
  readonly rssBytes: number;
  /** User + system CPU time of the process until then, ms. */
  readonly cpuMs: number;
}

/** The resident set of process `pid`, bytes (Linux: /proc/<pid>/status). */
async function rssOf(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kib = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  if (kib === null) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(kib[1]) * 1024;
}

/** User + system CPU time of process `pid`, ms (Linux: /proc/<pid>/stat, fields 14 and 15, in clock ticks of 10 ms). */
async function cpuOf(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function measure(contender: StartupContender): Promise<Result> {
  if (contender.startsWith('jobmeter') && !existsSync(`${ROOT}dist/src/index.js`))
    throw new Error(
      'dist/src/index.js is missing: run `npm run build` (the host imports the package root)',
    );
  const port = await freePort();
  const t0 = performance.now();
  const child = spawn(process.execPath, [HOST, contender, String(port)], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    await new Promise<void>((resolve, reject) => {
      let out = '';
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (chunk: string) => {
        out += chunk;
        if (out.includes('READY\n')) resolve();
      });
      child.once('error', reject);
      child.once('exit', (code) =>
        reject(new Error(`startup-host ${contender} exited with ${code} before it was ready`)),
      );
    });
    const body = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const firstScrapeMs = performance.now() - t0;
    if (!body.includes('requests'))
      throw new Error(`startup-host ${contender}: the scrape did not serve the counter:\n${body}`);
    return { firstScrapeMs, rssBytes: await rssOf(child.pid!), cpuMs: await cpuOf(child.pid!) };
  } finally {
    child.kill('SIGKILL');
  }
}

const mib = (bytes: number) => bytes / (1024 * 1024);

export const scenario: Scenario<Params, StartupContender, Result> = {
  name: 'startup',
  title: 'What a host pays before its first series',
  params: (quick) => ({ processes: quick ? 2 : 15 }),
  jobs: (): Job<StartupContender>[] => STARTUP_CONTENDERS.map((c) => ({ id: c, arg: c })),
  processes: (p) => p.processes,
  settleMillis: 200,
  measure,
  table(_p, results) {
    const anchor = medians(results, ANCHOR);
    const rows = STARTUP_CONTENDERS.map((c) => {
      const rs = results.get(c)!;
      const rss = stats(rs.map((r) => mib(r.rssBytes)));
      const ms = stats(rs.map((r) => r.firstScrapeMs));
      const cpu = stats(rs.map((r) => r.cpuMs));
      return [
        LABEL[c],
        spread(rss, 1),
        ratio(rss.median / anchor.rss),
        spread(ms, 0),
        ratio(ms.median / anchor.ms),
        spread(cpu, 0),
        ratio(cpu.median / anchor.cpu),
      ];
    });
    return [
      markdownTable(
        [
          'contender',
          'RSS after the first scrape, MiB',
          `÷ ${LABEL[ANCHOR]}`,
          'spawn → first scrape, ms',
          `÷ ${LABEL[ANCHOR]}`,
          'CPU until then, ms',
          `÷ ${LABEL[ANCHOR]}`,
        ],
        rows,
      ),
      '',
      `One counter with one point, served on loopback; a fresh process each, median (min–max) of ${results.get(ANCHOR)!.length} processes per contender, interleaved.`,
    ].join('\n');
  },
  targets(_p, results): TargetResult[] {
    const j = medians(results, 'jobmeter');
    const a = medians(results, ANCHOR);
    // The exporter pins the SDK's release exactly: while the newest sdk-metrics is another, the
    // anchor holds two copies. Met only against the one-copy anchor as well (the stricter).
    const one = medians(results, 'otel-one-sdk');
    const measured =
      `RSS ${num(j.rss, 1)} vs ${num(a.rss, 1)} MiB: **${ratio(j.rss / a.rss)}**; first scrape ${num(j.ms, 0)} vs ${num(a.ms, 0)} ms: **${ratio(j.ms / a.ms)}** (CPU ${num(j.cpu, 0)} vs ${num(a.cpu, 0)} ms: ${ratio(j.cpu / a.cpu)}); ` +
      `against one copy of the SDK: RSS ${num(one.rss, 1)} MiB, **${ratio(j.rss / one.rss)}**; first scrape ${num(one.ms, 0)} ms, **${ratio(j.ms / one.ms)}**`;
    // Like for like: each jobmeter host against the prom-client host serving the same kind of
    // metrics (process and event-loop metrics, or one counter alone).
    const pairs = [
      ['jobmeter', 'prom-client-default-metrics'],
      ['jobmeter-no-process-metrics', 'prom-client'],
    ].map(([ours, theirs]) => [medians(results, ours!), medians(results, theirs!)] as const);
    const promClient = pairs
      .map(
        ([o, t], i) =>
          `${i === 0 ? 'with process metrics' : 'without'}: RSS ${num(o.rss, 1)} vs ${num(t.rss, 1)} MiB, **${ratio(o.rss / t.rss)}**; first scrape ${num(o.ms, 0)} vs ${num(t.ms, 0)} ms, **${ratio(o.ms / t.ms)}** (CPU ${num(o.cpu, 0)} vs ${num(t.cpu, 0)} ms)`,
      )
      .join('; ');
    return [
      {
        id: 'startup',
        measured,
        met: j.rss <= a.rss && j.ms <= a.ms && j.rss <= one.rss && j.ms <= one.ms,
      },
      {
        id: 'startup-prom-client',
        measured: promClient,
        met: pairs.every(([o, t]) => o.rss <= t.rss && o.ms <= t.ms),
      },
    ];
  },
};

function medians(
  results: ReadonlyMap<string, readonly Result[]>,
  c: string,
): { rss: number; ms: number; cpu: number } {
  const rs = results.get(c)!;
  const median = (f: (r: Result) => number) => stats(rs.map(f)).median;
  return {
    rss: median((r) => mib(r.rssBytes)),
    ms: median((r) => r.firstScrapeMs),
    cpu: median((r) => r.cpuMs),
  };
}

if (isMain(import.meta.url)) await cli(import.meta.url, scenario);
