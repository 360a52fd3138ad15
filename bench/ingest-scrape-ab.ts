/**
 * The scrape of ingested series alone, for an A/B between two checkouts: a jobmeter with its OTLP
 * ingest (`createJobmeter({ ingest })`, the native profile) holding a fleet's series
 * (collector-fleet.ts: `senders` senders, each 11 counters × `perInstrument` series under its own
 * resource), then per round one sender exports again (its series changed: 1/senders of them,
 * untimed, then a full gc) and the endpoint's scrape is timed: `jm.scrape()` (collection + naming)
 * and the body (`buildMetricsResponse` with the endpoint's render memos into its `BodyStore`).
 * One line of medians (min–max) per process.
 *
 *   node --expose-gc bench/ingest-scrape-ab.ts [root] [senders=100] [perInstrument=100] [runs=30]
 *
 * `root`: the checkout whose src/ is timed (default this one), so the same driver times an older
 * commit's tree; the fleet's bodies are this checkout's. Run two roots one after the other, in
 * turn, a few times each (A B A B …): one process at a time. `BENCH_CPU_PROF=<file>`: a cpu
 * profile of the timed rounds (harness.ts `profiled`; the exports between scrapes are in it too).
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { FleetSender, sendOnceEach } from './collector-fleet.ts';
import { endpointScrape, medianRange as med } from './endpoint-scrape.ts';
import { profiled } from './harness.ts';

const [rootArg, sendersArg, perArg, runsArg] = process.argv.slice(2);
const root = resolve(rootArg ?? new URL('..', import.meta.url).pathname);
const senders = Number(sendersArg ?? 100);
const perInstrument = Number(perArg ?? 100);
const runs = Number(runsArg ?? 30);
const INSTRUMENTS = 11;
const load = (p: string) => import(pathToFileURL(`${root}/${p}`).href);

const { createJobmeter } = await load('src/index.ts');

const gc =
  globalThis.gc ??
  (() => {
    throw new Error('run with node --expose-gc');
  });
const series = senders * INSTRUMENTS * perInstrument;
const jm = await createJobmeter({
  listener: false,
  global: false,
  processMetrics: false,
  ingest: {
    port: 0,
    maxSeries: 2 * series,
    maxSeriesPerInstrument: senders * perInstrument + 1,
    maxMemoryBytes: 2 ** 31,
  },
});
const url = `http://127.0.0.1:${jm.ingestAddress.port}/v1/metrics`;
const fleet = Array.from(
  { length: senders },
  (_, k) => new FleetSender(k, { instruments: INSTRUMENTS, perInstrument }),
);
await sendOnceEach(url, fleet);
let round = 0;
/** One sender exports again: its series change. */
const change = async () => {
  const sender = fleet[round++ % senders]!;
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-protobuf' },
    body: sender.next(),
  });
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`export: ${res.status}`);
};
const scrape = await endpointScrape(root, () => jm.scrape());
for (let w = 0; w < 5; w++) {
  await change();
  await scrape();
}
const cols: number[][] = [[], [], []];
await profiled(async () => {
  for (let r = 0; r < runs; r++) {
    await change();
    gc();
    const ms = await scrape();
    ms.forEach((v, i) => cols[i]!.push(v));
  }
});
// Read once, untimed: a family's `series` makes an object per series (and has the store keep its label strings).
const lines = (await jm.scrape()).reduce(
  (n: number, f: { series: unknown[] }) => n + f.series.length,
  0,
);
const heap = process.memoryUsage();
console.log(
  `${root} series=${series} lines=${lines} runs=${runs}: total ${med(cols[0]!)} · scrape() ${med(cols[1]!)} · body ${med(cols[2]!)} ms · heap ${((heap.heapUsed + heap.arrayBuffers) / 2 ** 20).toFixed(0)} MiB`,
);
await jm.shutdown();
process.exit(0);
