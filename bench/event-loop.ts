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
 * Each timed scrape gets a histogram of its own (reset before, read after); the table pools the
 * scrapes' max and p99 (median, min–max) and their wall time. No forced gc between timed scrapes:
 * a collection's pause is part of what the host sees. 1% of the series get a record before each
 * scrape, as in scrape.ts.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
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
  /** Per timed scrape: the longest delay, ms. */
  readonly maxMs: number[];
  /** Per timed scrape: p99 delay, ms. */
  readonly p99Ms: number[];
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
  const h = monitorEventLoopDelay({ resolution: 1 });
  const maxMs: number[] = [];
  const p99Ms: number[] = [];
  const wallMs: number[] = [];
  for (let r = 0; r < arg.runs; r++) {
    touch();
    // The monitor records the gap between two of its timer's ticks, from the second tick on: it
    // must have ticked before the scrape starts, or a block right at the start goes unseen.
    h.reset();
    h.enable();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const t = performance.now();
    await scrape();
    wallMs.push(performance.now() - t);
    // One more turn so a delay that ends with the scrape is recorded.
    await new Promise((resolve) => setTimeout(resolve, 5));
    h.disable();
    maxMs.push(h.max / 1e6);
    p99Ms.push(h.percentile(99) / 1e6);
  }
  log(`    ${arg.variant}: max ${maxMs.map((x) => x.toFixed(1)).join(' ')} ms`);
  return { maxMs, p99Ms, wallMs, bodyBytes };
}

export const scenario: Scenario<Params, Arg, Result> = {
  name: 'event-loop',
  title: 'Event-loop delay during a 110k-series scrape',
  params: (quick) => (quick ? { n: 10_000, warmup: 1, runs: 3, processes: 1 } : { n: 100_000, warmup: 2, runs: 7, processes: 2 }),
  processes: (p) => p.processes,
  jobs: (p): Job<Arg>[] => VARIANTS.map((variant) => ({ id: variant, arg: { ...p, variant } })),
  measure,
  table(p, results) {
    const layout = referenceLayout(p.n);
    const prom = stats(results.get('prom-client')!.flatMap((r) => r.maxMs)).median;
    const rows = VARIANTS.map((v) => {
      const rs = results.get(v)!;
      const max = stats(rs.flatMap((r) => r.maxMs));
      return [
        LABEL[v],
        spread(max, 1),
        num(Math.max(...rs.flatMap((r) => r.maxMs)), 1),
        spread(stats(rs.flatMap((r) => r.p99Ms)), 1),
        spread(stats(rs.flatMap((r) => r.wallMs)), 1),
        bytes(rs[0]!.bodyBytes),
        (max.median / prom).toFixed(2) + '×',
      ];
    });
    return [
      markdownTable(['contender', 'max delay, ms', 'worst max', 'p99 delay, ms', 'scrape wall time, ms', 'body', 'max ÷ prom-client'], rows, ['l', 'r', 'r', 'r', 'r', 'r', 'r']),
      '',
      `${num(layout.counters + layout.histograms, 0)} series (${num(layout.counters, 0)} counter + ${num(layout.histograms, 0)} histogram), text format. \`monitorEventLoopDelay({ resolution: 1 })\` over each scrape; median (min–max) over ${p.processes} processes × ${p.runs} scrapes after ${p.warmup} warm-up scrapes; "worst max" is the longest single delay seen. Target: max ≤ 20 ms.`,
    ].join('\n');
  },
};

if (isMain(import.meta.url)) await cli(import.meta.url, scenario);
