/**
 * node:cluster: what serving the workers' aggregate costs the primary. A primary and 2 workers
 * (node:cluster, this file re-run by `cluster.fork()`), each worker holding `n` counter series
 * (instruments of 10 000 series each: jobmeter's per-instrument ceiling; the same label sets in
 * both, so the aggregate has `n` series) and recording into 1% of them every 200 ms. The primary
 * is scraped over HTTP by a client in its own process (body read and dropped), `runs` times back
 * to back once the aggregate is whole (every series once, summed over the workers: checked on
 * each warm-up scrape until it is, then on two more); `monitorEventLoopDelay` (1 ms resolution)
 * runs in the primary over the timed window: its max is the longest the primary's own timers
 * and I/O waited. The primary's heap per aggregated series: `heapUsed` + `arrayBuffers` after a
 * full gc once the warm-up scrapes are done, minus the same reading before the workers started,
 * over `n` (what holding and serving the aggregate keeps between scrapes).
 *
 * - jobmeter: `createJobmeter({ listener })` in the primary and in each worker (the workers report
 *   to the primary: change-only reports in chunks, merged as they arrive).
 * - @prometheus-io/client (the anchor the ratios divide by) and prom-client: the cluster registry
 *   their READMEs show (`ClusterRegistry`, prom-client's `AggregatorRegistry`: the same class
 *   renamed) constructed in every process, `clusterMetrics()` behind `http.createServer` in the
 *   primary, a plain registry in each worker (every worker sends its whole registry as JSON per
 *   scrape).
 */
import cluster from 'node:cluster';
import { get } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import * as prometheusIo from '@prometheus-io/client';
import * as promClient from 'prom-client';
import { createJobmeter, type InstrumentSpec } from '../src/index.ts';
import { PROM_LABEL, promClientServer, type PromLibName } from './contenders.ts';
import {
  bytes,
  cli,
  isMain,
  jsMemory,
  markdownTable,
  num,
  spread,
  stats,
  type Job,
  type Scenario,
} from './harness.ts';

type Contender = 'jobmeter' | PromLibName;
const CONTENDERS: readonly Contender[] = ['jobmeter', 'prometheus-io', 'prom-client'];
const LABEL: Readonly<Record<Contender, string>> = { jobmeter: 'jobmeter', ...PROM_LABEL };
const WORKERS = 2;
const PER_INSTRUMENT = 10_000;
/** Past this many scrapes with part of the aggregate missing, the run fails. */
const MAX_UNTIL_WHOLE = 20;

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
  /** Scrapes until the first whole aggregate (1: the first scrape was). */
  readonly untilWhole: number;
  /** The primary's JS memory per aggregated series after the warm-up scrapes (see the file comment). */
  readonly heapPerSeries: number;
}

const instrumentNames = (n: number): string[] =>
  Array.from({ length: Math.ceil(n / PER_INSTRUMENT) }, (_, i) => `bench.cluster.c${i}`);
const SPECS = (n: number): InstrumentSpec[] =>
  instrumentNames(n).map((name) => ({
    name,
    kind: 'counter',
    unit: '1',
    description: 'bench',
    attributes: [
      { key: 'a', cap: PER_INSTRUMENT },
      { key: 'b', cap: 10 },
    ],
  }));
const labelsOf = (i: number) => ({ a: `v${Math.floor(i / 10) % PER_INSTRUMENT}`, b: `w${i % 10}` });

/** What the bench uses of either library's cluster support: one API, two packages. */
interface ClusterLib {
  readonly Registry: new () => object;
  readonly Counter: new (c: {
    name: string;
    help: string;
    labelNames: string[];
    registers: object[];
  }) => { inc(labels: Record<string, string>): void };
  /** Constructing one installs this process's side of the IPC: a worker's answer, the primary's request. */
  readonly ClusterRegistry: (new () => {
    clusterMetrics(): Promise<string>;
    readonly contentType: string;
  }) & { setRegistries(regs: object[]): void };
}

/**
 * The cast: each library's `Counter` wants its own `Registry` class in `registers`, which the
 * structural {@link ClusterLib} cannot name for both; a worker only ever passes a library the
 * registry it made.
 */
const clusterLib = (name: PromLibName): ClusterLib =>
  (name === 'prometheus-io'
    ? {
        Registry: prometheusIo.Registry,
        Counter: prometheusIo.Counter,
        ClusterRegistry: prometheusIo.ClusterRegistry,
      }
    : {
        Registry: promClient.Registry,
        Counter: promClient.Counter,
        ClusterRegistry: promClient.AggregatorRegistry,
      }) as unknown as ClusterLib;

async function worker(arg: Arg): Promise<never> {
  const names = instrumentNames(arg.n);
  const per = Math.ceil(arg.n / names.length);
  let record: (k: number, i: number) => void;
  if (arg.contender === 'jobmeter') {
    const jm = await createJobmeter({
      listener: { port: 0 },
      processMetrics: false,
      global: false,
      otelScopeInfo: false,
      instruments: SPECS(arg.n),
    });
    const counters = names.map((name) => jm.counter(name));
    record = (k, i) => counters[k]!.add(1, labelsOf(i));
  } else {
    const lib = clusterLib(arg.contender);
    const registry = new lib.Registry();
    new lib.ClusterRegistry();
    lib.ClusterRegistry.setRegistries([registry]);
    const counters = names.map(
      (name) =>
        new lib.Counter({
          name: name.replaceAll('.', '_'),
          help: 'bench',
          labelNames: ['a', 'b'],
          registers: [registry],
        }),
    );
    record = (k, i) => counters[k]!.inc(labelsOf(i));
  }
  for (let k = 0; k < names.length; k++) for (let i = 0; i < per; i++) record(k, i);
  let tick = 0;
  setInterval(() => {
    for (let j = 0; j < arg.n / 100; j++)
      record(j % names.length, (tick * 7919 + j * 104729) % per);
    tick++;
  }, 200);
  process.send!({ benchReady: true });
  return new Promise<never>(() => {});
}

/**
 * The workers hold the same label sets, each recorded at least once in every worker: the whole
 * aggregate holds each of the `n` series once, its value summed over the workers. What is wrong
 * with `body`, or undefined.
 */
function aggregateProblem(body: string, n: number): string | undefined {
  const lines = body.split('\n').filter((l) => l.startsWith('bench_'));
  if (lines.length !== n) return `${lines.length} series in the aggregate, expected ${n}`;
  const unsummed = lines.find((l) => !(Number(l.slice(l.lastIndexOf(' ') + 1)) >= WORKERS));
  return unsummed === undefined
    ? undefined
    : `a series not summed over ${WORKERS} workers: ${unsummed}`;
}

/** A checked warm-up scrape: what is wrong with the aggregate it answered, or undefined. */
async function warmUpScrape(arg: Arg, url: string): Promise<string | undefined> {
  const res = await fetch(url, { headers: { accept: 'text/plain' } });
  if (res.status !== 200)
    throw new Error(`${arg.contender}: warm-up scrape answered ${res.status}`);
  return aggregateProblem(await res.text(), arg.n);
}

function scrape(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    get(url, { headers: { accept: 'text/plain' } }, (res) => {
      let size = 0;
      res.on('data', (chunk: Buffer) => (size += chunk.length));
      res.on('end', () =>
        res.statusCode === 200 ? resolve(size) : reject(new Error(`HTTP ${res.statusCode}`)),
      );
    }).on('error', reject);
  });
}

async function primary(arg: Arg): Promise<Result> {
  let url: string;
  let close: () => Promise<void>;
  if (arg.contender === 'jobmeter') {
    const jm = await createJobmeter({
      listener: { port: 0 },
      processMetrics: false,
      global: false,
      otelScopeInfo: false,
      instruments: SPECS(arg.n),
    });
    url = `http://127.0.0.1:${jm.pullAddress!.port}/metrics`;
    close = () => jm.shutdown();
  } else {
    const registry = new (clusterLib(arg.contender).ClusterRegistry)();
    ({ url, close } = await promClientServer({
      metrics: () => registry.clusterMetrics(),
      contentType: registry.contentType,
    }));
  }
  const heapBefore = jsMemory();
  let ready = 0;
  const allReady = new Promise<void>((resolve) =>
    cluster.on('message', (_w, msg: { benchReady?: boolean }) => {
      if (msg?.benchReady === true && ++ready === WORKERS) resolve();
    }),
  );
  for (let i = 0; i < WORKERS; i++) cluster.fork();
  await allReady;
  // A primary may answer before every worker's first report has arrived (jobmeter's members
  // report within a timeout, the rest following at the next collection): scrape until the
  // aggregate is whole, so the timed scrapes serve all of it.
  let untilWhole = 0;
  for (let problem: string | undefined = 'not scraped'; problem !== undefined;) {
    if (++untilWhole > MAX_UNTIL_WHOLE)
      throw new Error(
        `${arg.contender}: the aggregate is not whole after ${MAX_UNTIL_WHOLE} scrapes: ${problem}`,
      );
    problem = await warmUpScrape(arg, url);
  }
  for (let i = 0; i < 2; i++) {
    const problem = await warmUpScrape(arg, url);
    if (problem !== undefined)
      throw new Error(
        `${arg.contender}: warm-up scrape ${i + 1} after the aggregate was whole: ${problem}`,
      );
  }
  const heapPerSeries = (jsMemory() - heapBefore) / arg.n;
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
  return {
    scrapeMs,
    delayMaxMs: h.max / 1e6,
    delayP99Ms: h.percentile(99) / 1e6,
    bodyBytes,
    untilWhole,
    heapPerSeries,
  };
}

export const scenario: Scenario<Params, Arg, Result> = {
  name: 'cluster',
  title: "node:cluster: the primary serving 2 workers' aggregate",
  params: (quick) => (quick ? { sizes: [2_000], runs: 3 } : { sizes: [10_000, 50_000], runs: 15 }),
  jobs: (p) =>
    p.sizes.flatMap((n) =>
      CONTENDERS.map((contender): Job<Arg> => ({
        id: `${contender}@${n}`,
        arg: { contender, n, runs: p.runs },
      })),
    ),
  measure: (arg) => (cluster.isWorker ? worker(arg) : primary(arg)),
  table(p, results) {
    const anchor = LABEL['prometheus-io'];
    const rows = p.sizes.flatMap((n) => {
      const of = (c: Contender) => results.get(`${c}@${n}`)![0]!;
      const base = of('prometheus-io');
      const baseMedian = stats(base.scrapeMs).median;
      return CONTENDERS.map((c) => {
        const r = of(c);
        const scrape = stats(r.scrapeMs);
        return [
          `${LABEL[c]}, ${num(n, 0)} series per worker`,
          spread(scrape, 1),
          (scrape.median / baseMedian).toFixed(2) + '×',
          num(r.delayMaxMs, 1),
          (r.delayMaxMs / base.delayMaxMs).toFixed(2) + '×',
          num(r.delayP99Ms, 1),
          String(r.untilWhole),
          bytes(r.bodyBytes),
          num(r.heapPerSeries, 0),
        ];
      });
    });
    return [
      markdownTable(
        [
          'contender (2 workers)',
          'scrape ms, median (min–max)',
          `÷ ${anchor}`,
          'primary loop delay max, ms',
          `÷ ${anchor}`,
          'p99, ms',
          'scrapes until whole',
          'body',
          'primary heap per series, B',
        ],
        rows,
      ),
      '',
      `One process tree (a primary and ${WORKERS} workers) per contender and size; ${p.runs} scrapes back to back after the first whole aggregate (every series once, summed over the workers; "scrapes until whole" counts the scrapes it took) and 2 more warm-up scrapes, both checked whole; median (min–max). Loop delay: \`monitorEventLoopDelay\` (1 ms resolution) in the primary over the timed scrapes. Primary heap: \`heapUsed\` + \`arrayBuffers\` after a full gc once the warm-up scrapes are done, minus the reading before the workers started, per aggregated series. Ratios: median scrape and max loop delay ÷ ${anchor}'s at the same size.`,
    ].join('\n');
  },
};

if (isMain(import.meta.url)) await cli(import.meta.url, scenario);
