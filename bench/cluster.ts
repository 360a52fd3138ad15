/**
 * node:cluster: what serving the workers' aggregate costs the primary. A primary and 2 workers
 * (node:cluster, this file re-run by `cluster.fork()`), each worker holding `n` counter series
 * (instruments of 10 000 series each: jobmeter's per-instrument ceiling; the same label sets in
 * both, so the aggregate has `n` series) and recording into 1% of them every 200 ms. The primary is scraped over HTTP by a client in its own process (body read and
 * dropped), `runs` times back to back after two warm-up scrapes; `monitorEventLoopDelay` (1 ms
 * resolution) runs in the primary over that window: its max is the longest the primary's own
 * timers and I/O waited.
 *
 * - jobmeter: `createJobmeter({ listener })` in the primary and in each worker (the workers report
 *   to the primary: change-only reports in chunks, merged as they arrive).
 * - prom-client: `AggregatorRegistry#clusterMetrics()` behind `http.createServer` in the primary,
 *   a plain registry in each worker (it sends every worker's whole registry as JSON per scrape).
 */
import cluster from 'node:cluster';
import { get, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { AggregatorRegistry, Counter, Registry } from 'prom-client';
import { createJobmeter, type InstrumentSpec } from '../src/index.ts';
import { bytes, cli, isMain, markdownTable, num, spread, stats, type Job, type Scenario } from './harness.ts';

type Contender = 'jobmeter' | 'prom-client';
const CONTENDERS: readonly Contender[] = ['jobmeter', 'prom-client'];
const WORKERS = 2;
const PER_INSTRUMENT = 10_000;

interface Params {
  readonly sizes: readonly number[];
  readonly runs: number;
}
interface Arg {
  readonly contender: Contender;
  readonly n: number;
  readonly runs: number;
}
interface Result {
  readonly scrapeMs: number[];
  readonly delayMaxMs: number;
  readonly delayP99Ms: number;
  readonly bodyBytes: number;
}

const instrumentNames = (n: number): string[] => Array.from({ length: Math.ceil(n / PER_INSTRUMENT) }, (_, i) => `bench.cluster.c${i}`);
const SPECS = (n: number): InstrumentSpec[] =>
  instrumentNames(n).map((name) => ({ name, kind: 'counter', unit: '1', description: 'bench', attributes: [{ key: 'a', cap: PER_INSTRUMENT }, { key: 'b', cap: 10 }] }));
const labelsOf = (i: number) => ({ a: `v${Math.floor(i / 10) % PER_INSTRUMENT}`, b: `w${i % 10}` });

async function worker(arg: Arg): Promise<never> {
  const names = instrumentNames(arg.n);
  const per = Math.ceil(arg.n / names.length);
  let record: (k: number, i: number) => void;
  if (arg.contender === 'jobmeter') {
    const jm = await createJobmeter({ listener: { port: 0 }, processMetrics: false, global: false, otelScopeInfo: false, instruments: SPECS(arg.n) });
    const counters = names.map((name) => jm.counter(name));
    record = (k, i) => counters[k]!.add(1, labelsOf(i));
  } else {
    const registry = new Registry();
    // Constructing one installs the worker's answer to the primary's requests.
    new AggregatorRegistry();
    AggregatorRegistry.setRegistries([registry]);
    const counters = names.map((name) => new Counter({ name: name.replaceAll('.', '_'), help: 'bench', labelNames: ['a', 'b'], registers: [registry] }));
    record = (k, i) => counters[k]!.inc(labelsOf(i));
  }
  for (let k = 0; k < names.length; k++) for (let i = 0; i < per; i++) record(k, i);
  let tick = 0;
  setInterval(() => {
    for (let j = 0; j < arg.n / 100; j++) record(j % names.length, (tick * 7919 + j * 104729) % per);
    tick++;
  }, 200);
  process.send!({ benchReady: true });
  return new Promise<never>(() => {});
}

function scrape(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    get(url, { headers: { accept: 'text/plain' } }, (res) => {
      let size = 0;
      res.on('data', (chunk: Buffer) => (size += chunk.length));
      res.on('end', () => (res.statusCode === 200 ? resolve(size) : reject(new Error(`HTTP ${res.statusCode}`))));
    }).on('error', reject);
  });
}

async function primary(arg: Arg): Promise<Result> {
  let url: string;
  let close: () => Promise<void>;
  if (arg.contender === 'jobmeter') {
    const jm = await createJobmeter({ listener: { port: 0 }, processMetrics: false, global: false, otelScopeInfo: false, instruments: SPECS(arg.n) });
    url = `http://127.0.0.1:${jm.pullAddress!.port}/metrics`;
    close = () => jm.shutdown();
  } else {
    const registry = new AggregatorRegistry();
    const server = createServer((_req, res) => void registry.clusterMetrics().then((text) => res.end(text), (err: unknown) => res.end(String(err))));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
    close = () => new Promise((resolve) => server.close(() => resolve()));
  }
  let ready = 0;
  const allReady = new Promise<void>((resolve) =>
    cluster.on('message', (_w, msg: { benchReady?: boolean }) => {
      if (msg?.benchReady === true && ++ready === WORKERS) resolve();
    }),
  );
  for (let i = 0; i < WORKERS; i++) cluster.fork();
  await allReady;
  // The workers hold the same label sets: the aggregate has n series, each the sum of 2.
  const expected = arg.n;
  for (let i = 0; i < 2; i++) {
    const size = await scrape(url);
    if (size < expected * 20) throw new Error(`warm-up scrape of ${size} bytes for ${expected} series`);
  }
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  const scrapeMs: number[] = [];
  let bodyBytes = 0;
  for (let r = 0; r < arg.runs; r++) {
    const t0 = performance.now();
    bodyBytes = await scrape(url);
    scrapeMs.push(performance.now() - t0);
  }
  h.disable();
  for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGKILL');
  await close();
  return { scrapeMs, delayMaxMs: h.max / 1e6, delayP99Ms: h.percentile(99) / 1e6, bodyBytes };
}

export const scenario: Scenario<Params, Arg, Result> = {
  name: 'cluster',
  title: 'node:cluster: the primary serving 2 workers\' aggregate',
  params: (quick) => (quick ? { sizes: [2_000], runs: 3 } : { sizes: [10_000, 50_000], runs: 15 }),
  jobs: (p) => p.sizes.flatMap((n) => CONTENDERS.map((contender): Job<Arg> => ({ id: `${contender}@${n}`, arg: { contender, n, runs: p.runs } }))),
  measure: (arg) => (cluster.isWorker ? worker(arg) : primary(arg)),
  table(p, results) {
    const rows = p.sizes.flatMap((n) =>
      CONTENDERS.map((c) => {
        const r = results.get(`${c}@${n}`)![0]!;
        return [`${c}, ${num(n, 0)} series per worker`, spread(stats(r.scrapeMs), 1), num(r.delayMaxMs, 1), num(r.delayP99Ms, 1), bytes(r.bodyBytes)];
      }),
    );
    return markdownTable(['contender (2 workers)', 'scrape ms, median (min–max)', 'primary loop delay max, ms', 'p99, ms', 'body'], rows);
  },
};

if (isMain(import.meta.url)) await cli(import.meta.url, scenario);
