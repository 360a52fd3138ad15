/**
 * `/metrics` under load: autocannon (10 connections, 10 s, keep-alive, loopback) against a
 * jobmeter listener and against an @prometheus-io/client and a prom-client server, each holding 11,000 series (the reference
 * mix at n = 10,000: 10,000 counter + 1,000 15-bucket histogram series, ≈ 1.4 MB of text).
 *
 * - jobmeter: `createJobmeter({ listener: { port: 0 } })`, its own node:http listener; concurrent
 *   scrapes share one collection, one naming pass and one rendering.
 * - @prometheus-io/client, prom-client: the server their READMEs show, `http.createServer`
 *   answering `await register.metrics()`.
 *
 * Neither gets `Accept-Encoding` (no gzip) nor `Accept` (text 0.0.4 for both). The server runs in
 * this job's process; autocannon runs in a process of its own (same Node), so the load generator
 * does not share the server's event loop — on a 2-core machine it does share the cores, for both
 * contenders alike. Every response's status is checked (non-2xx fail the run) and one body is
 * checked for the expected sample lines.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import {
  createJobmeter,
  type DeclaredCounter,
  type DeclaredHistogram,
  type InstrumentSpec,
} from '../src/index.ts';
import { BUCKETS, PROM_LABEL, promClientServer, type PromLibName } from './contenders.ts';
import {
  bytes,
  cli,
  isMain,
  log,
  markdownTable,
  num,
  spread,
  stats,
  type Job,
  type Scenario,
} from './harness.ts';
import {
  countBenchSamples,
  hostNames,
  referenceLayout,
  sampleLines,
  setUp,
  SHARD,
} from './series.ts';
import { VALUES } from './hot-path.ts';
import { ratio, type TargetResult } from './targets.ts';

type Contender = 'jobmeter' | PromLibName;
const CONTENDERS: readonly Contender[] = ['jobmeter', 'prometheus-io', 'prom-client'];
const LABEL: Readonly<Record<Contender, string>> = { jobmeter: 'jobmeter', ...PROM_LABEL };

interface Params {
  readonly n: number;
  readonly connections: number;
  readonly seconds: number;
  readonly processes: number;
}

interface Arg extends Params {
  readonly contender: Contender;
}

interface Result {
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly bodyBytes: number;
  readonly requests: number;
}

const AUTOCANNON = fileURLToPath(
  new URL(
    'autocannon.js',
    `file://${createRequire(import.meta.url).resolve('autocannon/package.json')}`,
  ),
);

interface AutocannonJson {
  readonly requests: { readonly average: number; readonly total: number };
  readonly latency: { readonly p50: number; readonly p99: number; readonly max: number };
  readonly non2xx: number;
  readonly errors: number;
  readonly timeouts: number;
}

function autocannon(url: string, p: Params): Promise<AutocannonJson> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [AUTOCANNON, '-c', String(p.connections), '-d', String(p.seconds), '--json', url],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`autocannon exited with ${code}`));
      resolve(JSON.parse(out) as AutocannonJson);
    });
  });
}

/** Starts the contender's server with the series recorded; returns its URL and a stop function. */
async function serve(
  contender: Contender,
  n: number,
): Promise<{ url: string; close: () => Promise<void> }> {
  const layout = referenceLayout(n);
  const hosts = hostNames(n);
  if (contender === 'jobmeter') {
    // As series.ts sets the bench instruments up, but with the listener on.
    const nc = Math.ceil(layout.counters / SHARD);
    const nh = Math.ceil(layout.histograms / SHARD);
    const host = [{ key: 'host', cap: SHARD }];
    const specs: InstrumentSpec[] = [];
    for (let k = 0; k < nc; k++)
      specs.push({
        name: `bench.requests.${k}`,
        kind: 'counter',
        unit: '{request}',
        description: 'Bench requests.',
        attributes: host,
      });
    for (let k = 0; k < nh; k++)
      specs.push({
        name: `bench.latency.${k}`,
        kind: 'histogram',
        unit: 's',
        description: 'Bench latency.',
        buckets: BUCKETS,
        attributes: host,
      });
    const jm = await createJobmeter({
      listener: { port: 0 },
      processMetrics: false,
      otelScopeInfo: false,
      instruments: specs,
    });
    const counters: DeclaredCounter[] = Array.from({ length: nc }, (_, k) =>
      jm.counter(`bench.requests.${k}`),
    );
    const histos: DeclaredHistogram[] = Array.from({ length: nh }, (_, k) =>
      jm.histogram(`bench.latency.${k}`),
    );
    for (let i = 0; i < layout.counters; i++)
      counters[(i / SHARD) | 0]!.add(1 + (i % 7), { host: hosts[i]! });
    for (let i = 0; i < layout.histograms; i++)
      for (let r = 0; r < 3; r++)
        histos[(i / SHARD) | 0]!.record(VALUES[(i * 3 + r) & 1023]!, { host: hosts[i]! });
    return { url: `http://127.0.0.1:${jm.pullAddress!.port}/metrics`, close: () => jm.shutdown() };
  }
  const built = (await setUp(contender, layout)).populate(hosts);
  if (built.contender !== contender) throw new Error('unreachable');
  return promClientServer(built.registry);
}

async function measure(arg: Arg): Promise<Result> {
  const { url, close } = await serve(arg.contender, arg.n);
  try {
    const body = await (await fetch(url)).text();
    const lines = countBenchSamples(body);
    const want = sampleLines(referenceLayout(arg.n));
    if (lines !== want)
      throw new Error(`${arg.contender}: ${lines} sample lines, expected ${want}`);
    // A short warm-up run, then the measured one.
    await autocannon(url, { ...arg, seconds: 2 });
    const r = await autocannon(url, arg);
    if (r.non2xx > 0 || r.errors > 0 || r.timeouts > 0)
      throw new Error(
        `${arg.contender}: ${r.non2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts`,
      );
    log(`    ${arg.contender}: ${r.requests.average} req/s, p99 ${r.latency.p99} ms`);
    return {
      rps: r.requests.average,
      p50: r.latency.p50,
      p99: r.latency.p99,
      max: r.latency.max,
      bodyBytes: Buffer.byteLength(body),
      requests: r.requests.total,
    };
  } finally {
    await close();
  }
}

export const scenario: Scenario<Params, Arg, Result> = {
  name: 'throughput',
  title: '`/metrics` throughput under autocannon',
  params: (quick) =>
    quick
      ? { n: 1_000, connections: 10, seconds: 3, processes: 1 }
      : { n: 10_000, connections: 10, seconds: 10, processes: 2 },
  processes: (p) => p.processes,
  jobs: (p): Job<Arg>[] =>
    CONTENDERS.map((contender) => ({ id: contender, arg: { ...p, contender } })),
  measure,
  table(p, results) {
    const layout = referenceLayout(p.n);
    const pooled = (c: Contender) => results.get(c)!;
    const prom = {
      rps: stats(pooled('prometheus-io').map((r) => r.rps)).median,
      p99: stats(pooled('prometheus-io').map((r) => r.p99)).median,
    };
    const rows = CONTENDERS.map((c) => {
      const rs = pooled(c);
      const rps = stats(rs.map((r) => r.rps));
      const p99 = stats(rs.map((r) => r.p99));
      return [
        LABEL[c],
        spread(rps, 0),
        (rps.median / prom.rps).toFixed(2) + '×',
        spread(stats(rs.map((r) => r.p50)), 0),
        spread(p99, 0),
        (p99.median / prom.p99).toFixed(2) + '×',
        bytes(rs[0]!.bodyBytes),
      ];
    });
    return [
      markdownTable(
        [
          'contender',
          'req/s',
          `÷ ${LABEL['prometheus-io']}`,
          'p50 latency, ms',
          'p99 latency, ms',
          `÷ ${LABEL['prometheus-io']}`,
          'body',
        ],
        rows,
        ['l', 'r', 'r', 'r', 'r', 'r', 'r'],
      ),
      '',
      `${num(layout.counters + layout.histograms, 0)} series, text 0.0.4, no gzip. autocannon ${p.connections} connections × ${p.seconds} s on loopback (after a 2 s warm-up run), in a process of its own; median (min–max) over ${p.processes} processes per contender. Targets: req/s ≥ 20× ${LABEL['prometheus-io']}'s, p99 ≤ 1/10 of its.`,
    ].join('\n');
  },
  targets(_p, results): TargetResult[] {
    const median = (c: Contender, f: (r: Result) => number) => stats(results.get(c)!.map(f)).median;
    const rps = median('jobmeter', (r) => r.rps) / median('prometheus-io', (r) => r.rps);
    const p99 = median('jobmeter', (r) => r.p99) / median('prometheus-io', (r) => r.p99);
    const measured = `req/s ${num(
      median('jobmeter', (r) => r.rps),
      0,
    )} vs ${num(
      median('prometheus-io', (r) => r.rps),
      0,
    )}: **${rps.toFixed(1)}×**; p99 ${num(
      median('jobmeter', (r) => r.p99),
      0,
    )} vs ${num(
      median('prometheus-io', (r) => r.p99),
      0,
    )} ms: **${ratio(p99)}**`;
    return [{ id: 'throughput', measured, met: rps >= 20 && p99 <= 0.1 }];
  },
};

if (isMain(import.meta.url)) await cli(import.meta.url, scenario);
