/**
 * Does a big scrape stall the host? The event loop's delay while a 110 000-series scrape (the
 * reference mix at n = 100 000, ≈ 15 MB of text) is served, measured with
 * `perf_hooks.monitorEventLoopDelay` (1 ms resolution): its max is the longest the host's timers
 * and I/O waited, its p99 what they usually waited.
 *
 * - jobmeter: the path its listener serves, driven here without a socket: `await jm.scrape()`
 *   (collection, then the naming pass in slices) and the body from `renderStream` (rendered and
 *   encoded in pieces, the event loop given back whenever a slice has held it 5 ms), every piece
 *   consumed as a socket write would take it. With `+ gzip`, the pieces also go through
 *   `zlib.createGzip()` (compression runs on libuv's thread pool).
 * - prom-client: `await registry.metrics()` then `Buffer.from(text)`, what its users hand to
 *   `response.end`.
 *
 * The timed scrapes run back to back (one event-loop turn between two) in one window with one
 * histogram. No forced gc between them: a collection's pause is part of what the host sees. 1% of
 * the series get a record before each scrape, as in scrape.ts.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { createGzip } from 'node:zlib';
import { renderStream } from '../src/exposition/stream.ts';
import { bytes, cli, gc, isMain, log, markdownTable, num, spread, stats, type Job, type Scenario } from './harness.ts';
import { hostNames, referenceLayout, setUp, type Built } from './series.ts';

type Variant = 'jobmeter' | 'jobmeter-gzip' | 'prom-client';
const VARIANTS: readonly Variant[] = ['jobmeter', 'jobmeter-gzip', 'prom-client'];
const LABEL: Readonly<Record<Variant, string>> = {
  jobmeter: 'jobmeter (streamed body)',
  'jobmeter-gzip': 'jobmeter (streamed body + gzip)',
  'prom-client': 'prom-client (`registry.metrics()`)',
};

interface Params {
  readonly n: number;
  readonly warmup: number;
  readonly runs: number;
  readonly processes: number;
}

interface Arg extends Params {
  readonly variant: Variant;
}

interface Result {
  /** The longest delay over the window, ms. */
  readonly maxMs: number;
  /** p99 and mean of the delays over the window, ms. */
  readonly p99Ms: number;
  readonly meanMs: number;
  /** Per timed scrape: wall time, ms. */
  readonly wallMs: number[];
  readonly bodyBytes: number;
}

async function consume(chunks: AsyncIterable<Buffer>, gzip: boolean): Promise<number> {
  let n = 0;
  if (!gzip) {
    for await (const c of chunks) n += c.length;
    return n;
  }
  const z = createGzip();
  const done = new Promise<void>((resolve, reject) => {
    z.on('data', (c: Buffer) => (n += c.length));
    z.on('end', resolve);
    z.on('error', reject);
  });
  for await (const c of chunks) {
    // As a pipe would: wait for the compressor to drain before handing it more.
    if (!z.write(c)) await new Promise((resolve) => z.once('drain', resolve));
  }
  z.end();
  await done;
  return n;
}

function scrapeOf(b: Built, variant: Variant): () => Promise<number> {
  if (b.contender === 'jobmeter') {
    const gzip = variant === 'jobmeter-gzip';
    return async () => consume(renderStream('text', await b.jm.scrape()), gzip);
  }
  if (b.contender === 'prom-client') {
    return async () => Buffer.from(await b.registry.metrics(), 'utf8').length;
  }
  throw new Error(`no event-loop scenario for ${b.contender}`);
}

async function measure(arg: Arg): Promise<Result> {
  const layout = referenceLayout(arg.n);
  const contender = arg.variant === 'prom-client' ? 'prom-client' : 'jobmeter';
  const built = (await setUp(contender, layout)).populate(hostNames(arg.n));
  const scrape = scrapeOf(built, arg.variant);
  const perTouch = Math.max(1, Math.ceil(arg.n / 100));
  let touched = 0;
  const touch = () => {
    for (let i = 0; i < perTouch; i++) built.touch(touched++);
  };
  let bodyBytes = 0;
  for (let w = 0; w < arg.warmup; w++) {
    touch();
    bodyBytes = await scrape();
  }
  gc();
  // One window over `runs` scrapes served back to back, as a busy endpoint serves them. The monitor
  // records the gap between two ticks of its timer from the second tick on: it must have ticked
  // before the first scrape starts, or a block right at the start goes unseen.
  const h = monitorEventLoopDelay({ resolution: 1 });
  const wallMs: number[] = [];
  h.enable();
  await new Promise((resolve) => setTimeout(resolve, 20));
  for (let r = 0; r < arg.runs; r++) {
    // One turn of the event loop between two scrapes, as between two requests: without it, awaits
    // alone (microtasks) would chain the scrapes of a contender that never yields into one block.
    await nextTurn();
    touch();
    const t = performance.now();
    await scrape();
    wallMs.push(performance.now() - t);
  }
  // One more turn so a delay that ends with the last scrape is recorded.
  await new Promise((resolve) => setTimeout(resolve, 5));
  h.disable();
  const result = { maxMs: h.max / 1e6, p99Ms: h.percentile(99) / 1e6, meanMs: h.mean / 1e6, wallMs, bodyBytes };
  log(`    ${arg.variant}: max ${result.maxMs.toFixed(1)} ms, p99 ${result.p99Ms.toFixed(1)} ms, scrapes ${wallMs.map((x) => x.toFixed(0)).join(' ')} ms`);
  return result;
}

export const scenario: Scenario<Params, Arg, Result> = {
  name: 'event-loop',
  title: 'Event-loop delay during a 110k-series scrape',
  params: (quick) => (quick ? { n: 10_000, warmup: 1, runs: 5, processes: 1 } : { n: 100_000, warmup: 2, runs: 10, processes: 2 }),
  processes: (p) => p.processes,
  jobs: (p): Job<Arg>[] => VARIANTS.map((variant) => ({ id: variant, arg: { ...p, variant } })),
  measure,
  table(p, results) {
    const layout = referenceLayout(p.n);
    const worst = (v: Variant) => Math.max(...results.get(v)!.map((r) => r.maxMs));
    const prom = worst('prom-client');
    const rows = VARIANTS.map((v) => {
      const rs = results.get(v)!;
      return [
        LABEL[v],
        num(worst(v), 1),
        rs.map((r) => num(r.maxMs, 1)).join(', '),
        num(stats(rs.map((r) => r.p99Ms)).median, 1),
        num(stats(rs.map((r) => r.meanMs)).median, 2),
        spread(stats(rs.flatMap((r) => r.wallMs)), 1),
        bytes(rs[0]!.bodyBytes),
        (worst(v) / prom).toFixed(3) + '×',
      ];
    });
    return [
      markdownTable(
        ['contender', 'max delay, ms', 'max per process', 'p99 delay, ms', 'mean delay, ms', 'scrape wall time, ms', 'body', 'max ÷ prom-client'],
        rows,
        ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
      ),
      '',
      `${num(layout.counters + layout.histograms, 0)} series (${num(layout.counters, 0)} counter + ${num(layout.histograms, 0)} histogram), text format, ${p.runs} scrapes served back to back after ${p.warmup} warm-up scrapes, in ${p.processes} processes. \`monitorEventLoopDelay({ resolution: 1 })\` over the whole window: "max" is the longest the event loop was held (the worst of the processes, then each process's), p99 and mean are over every 1 ms tick of the window (median of the processes). Scrape wall time: median (min–max). Target: max ≤ 20 ms.`,
    ].join('\n');
  },
};

if (isMain(import.meta.url)) await cli(import.meta.url, scenario);
