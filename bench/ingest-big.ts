/**
 * Big requests never stall scrapes: the event loop's longest block while jobmeter's
 * ingest takes one max-size request — 20 MiB, the default `ingest.maxBodyBytes` — and what it
 * costs in RSS, with a scraper hitting the pull endpoint all the while.
 *
 * - protobuf: OTLP/protobuf, ~1.05M gauge points (max-size-request.ts).
 * - json: OTLP/JSON of the same points up to 20 MiB (~310k points: JSON spends more bytes a point).
 *
 * The measured process is a `createJobmeter({ listener: { port: 0 }, ingest: { port: 0 } })` with
 * its real listeners (so the body arrives over a socket, is decoded on the decoding thread and
 * ingested a chunk per turn, as in `jobmeter serve`). The sender is a child process
 * (ingest-client.ts) that builds each body untimed, posts it, and scrapes the pull endpoint back to
 * back while the request is in flight. A window runs from the send to the answer; over it,
 * `monitorEventLoopDelay({ resolution: 1 })` in the measured process, its main thread's run-queue
 * wait (Linux schedstat), and an idle bystander process's max (the floor the machine set). RSS is
 * read before (after a full gc), at its peak (sampled every 20 ms) and 12 s after the answer.
 *
 * Every answer must be a 200 without `partial_success` (no point refused), and afterwards the pull
 * endpoint must serve the first metric's last point: a request that was cut or refused fails the run.
 *
 * Diagnostics: `BENCH_LOOP_BLOCKS=<ms>` logs every block longer than that (loop-blocks.ts); with
 * `BENCH_CPU_PROF=<file>` too the windows are profiled and bench/cpuprofile-blocks.ts says what ran.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { createJobmeter } from '../src/index.ts';
import { startBystander } from './bystander-handle.ts';
import {
  bytes,
  cli,
  gc,
  isMain,
  log,
  markdownTable,
  num,
  profiled,
  spread,
  stats,
  type Job,
  type Scenario,
} from './harness.ts';
import type { BodyKind, SendAnswer, SendAsk } from './ingest-client.ts';
import { describeBlock, recordBlocks, runQueueMillis, type Block } from './loop-blocks.ts';

const KINDS: readonly BodyKind[] = ['protobuf', 'json'];
const LABEL: Readonly<Record<BodyKind, string>> = { protobuf: 'OTLP/protobuf', json: 'OTLP/JSON' };
/** Long after the answer: what a request left behind. */
const AFTER_MS = 12_000;
const RSS_EVERY_MS = 20;
/** Blocks this long or longer are looked into for their CPU time (loop-blocks.ts), also without `BENCH_LOOP_BLOCKS`. */
const CPU_BLOCKS_MS = 10;
const BLOCKS_MS =
  process.env.BENCH_LOOP_BLOCKS === undefined || process.env.BENCH_LOOP_BLOCKS === ''
    ? undefined
    : Number(process.env.BENCH_LOOP_BLOCKS);

interface Params {
  readonly warmup: number;
  readonly runs: number;
  readonly processes: number;
}

interface Arg extends Params {
  readonly kind: BodyKind;
}

interface Result {
  readonly bodyBytes: number;
  readonly points: number;
  readonly maxMs: number[];
  /** The most main-thread CPU time (user + system) inside one block of the window. */
  readonly blockCpuMs: number[];
  readonly p99Ms: number[];
  readonly requestMs: number[];
  readonly scrapeMaxMs: number[];
  readonly runQueueMs: number[];
  readonly bystanderMaxMs: number[];
  readonly rssBeforeMiB: number[];
  readonly rssPeakMiB: number[];
  readonly rssAfterMiB: number[];
}

const MiB = 1024 * 1024;
const rss = (): number => process.memoryUsage.rss() / MiB;

function sender(): { child: ChildProcess; ask<T>(m: SendAsk | 'send'): Promise<T> } {
  const child = fork(fileURLToPath(new URL('./ingest-client.ts', import.meta.url)), [], {
    execArgv: [],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return {
    child,
    ask: <T>(m: SendAsk | 'send') =>
      new Promise<T>((resolve, reject) => {
        child.once('message', (x) => resolve(x as T));
        child.once('exit', (code) => reject(new Error(`ingest-client exited with ${code}`)));
        child.send(m);
      }),
  };
}

async function measure(arg: Arg): Promise<Result> {
  const jm = await createJobmeter({
    listener: { port: 0 },
    ingest: { port: 0 },
    processMetrics: false,
  });
  const ask: SendAsk = {
    ingestUrl: `http://127.0.0.1:${jm.ingestAddress!.port}/v1/metrics`,
    pullUrl: `http://127.0.0.1:${jm.pullAddress!.port}/metrics`,
    kind: arg.kind,
  };
  const client = sender();
  const bystander = await startBystander();
  const r: Result = {
    bodyBytes: 0,
    points: 0,
    maxMs: [],
    blockCpuMs: [],
    p99Ms: [],
    requestMs: [],
    scrapeMaxMs: [],
    runQueueMs: [],
    bystanderMaxMs: [],
    rssBeforeMiB: [],
    rssPeakMiB: [],
    rssAfterMiB: [],
  };
  const blocks: Block[] = [];
  try {
    for (let i = 0; i < arg.warmup + arg.runs; i++) {
      const built = await client.ask<{ built: number; points: number; check: string }>(ask);
      gc();
      const before = rss();
      let peak = before;
      const sampler = setInterval(() => (peak = Math.max(peak, rss())), RSS_EVERY_MS);
      const h = monitorEventLoopDelay({ resolution: 1 });
      let answer!: SendAnswer;
      let queued = 0;
      let floor = { maxMs: NaN };
      let blockCpu = 0;
      await profiled(async () => {
        await bystander.start();
        queued = runQueueMillis();
        h.enable();
        const recorder = recordBlocks(BLOCKS_MS ?? CPU_BLOCKS_MS);
        // The monitor sees a gap from its second tick on: let it tick before the request starts.
        await sleep(20);
        answer = await client.ask<SendAnswer>('send');
        await sleep(5);
        h.disable();
        queued = runQueueMillis() - queued;
        const { blocks: seen, gcTotals } = recorder.stop();
        blockCpu = Math.max(0, ...seen.map((b) => b.userMs + b.systemMs));
        if (BLOCKS_MS !== undefined) {
          blocks.push(...seen);
          for (const [kind, t] of Object.entries(gcTotals))
            log(
              `      gc ${kind}: ${t.count} pauses, ${t.ms.toFixed(1)} ms in all, longest ${t.maxMs.toFixed(1)} ms`,
            );
        }
        floor = await bystander.stop();
      });
      await sleep(AFTER_MS);
      clearInterval(sampler);
      const after = rss();
      if (answer.error !== undefined || answer.status !== 200 || !answer.full) {
        throw new Error(
          `${arg.kind}: answer ${JSON.stringify(answer)} (want a 200 without partial_success: every point taken)`,
        );
      }
      const text = await (await fetch(ask.pullUrl)).text();
      if (!text.split('\n').includes(built.check))
        throw new Error(
          `${arg.kind}: the pull endpoint does not serve ${built.check} after the request`,
        );
      const line = `max ${(h.max / 1e6).toFixed(1)} ms (most CPU in a block ${blockCpu.toFixed(1)} ms), p99 ${(h.percentile(99) / 1e6).toFixed(1)} ms, request ${answer.ms.toFixed(0)} ms, slowest of ${answer.scrapes} scrapes ${answer.scrapeMaxMs.toFixed(0)} ms, run queue ${queued.toFixed(0)} ms, bystander max ${floor.maxMs.toFixed(1)} ms, RSS ${before.toFixed(0)} → ${peak.toFixed(0)} → ${after.toFixed(0)} MiB`;
      if (i < arg.warmup) {
        log(`    ${arg.kind} warm-up: ${line}`);
        continue;
      }
      log(`    ${arg.kind}: ${line}`);
      Object.assign(r, { bodyBytes: built.built, points: built.points });
      r.maxMs.push(h.max / 1e6);
      r.blockCpuMs.push(blockCpu);
      r.p99Ms.push(h.percentile(99) / 1e6);
      r.requestMs.push(answer.ms);
      r.scrapeMaxMs.push(answer.scrapeMaxMs);
      r.runQueueMs.push(queued);
      r.bystanderMaxMs.push(floor.maxMs);
      r.rssBeforeMiB.push(before);
      r.rssPeakMiB.push(peak);
      r.rssAfterMiB.push(after);
    }
  } finally {
    bystander.close();
    client.child.disconnect();
    await jm.shutdown();
  }
  if (BLOCKS_MS !== undefined) {
    const prof = process.env.BENCH_CPU_PROF;
    if (prof !== undefined && prof !== '')
      writeFileSync(prof + '.blocks.json', JSON.stringify(blocks));
    for (const b of blocks) log(`      block ${describeBlock(b)}`);
  }
  return r;
}

export const scenario: Scenario<Params, Arg, Result> = {
  name: 'ingest-big',
  title: 'A max-size (20 MiB) ingest request: event loop and RSS',
  params: (quick) =>
    quick ? { warmup: 1, runs: 2, processes: 1 } : { warmup: 1, runs: 4, processes: 2 },
  processes: (p) => p.processes,
  jobs: (p): Job<Arg>[] => KINDS.map((kind) => ({ id: kind, arg: { ...p, kind } })),
  measure,
  table(p, results) {
    const rows = KINDS.map((kind) => {
      const rs = results.get(kind)!;
      const all = (f: (r: Result) => number[]): number[] => rs.flatMap(f);
      return [
        LABEL[kind],
        `${bytes(rs[0]!.bodyBytes)}, ${num(rs[0]!.points / 1000, 0)}k points`,
        `**${spread(stats(all((r) => r.maxMs)), 1)}**`,
        spread(stats(all((r) => r.blockCpuMs)), 1),
        spread(stats(all((r) => r.p99Ms)), 1),
        spread(stats(all((r) => r.bystanderMaxMs)), 1),
        spread(stats(all((r) => r.runQueueMs)), 0),
        spread(stats(all((r) => r.scrapeMaxMs)), 0),
        spread(stats(all((r) => r.requestMs)), 0),
        `${num(stats(all((r) => r.rssBeforeMiB)).median, 0)} → ${num(stats(all((r) => r.rssPeakMiB)).median, 0)} → ${num(stats(all((r) => r.rssAfterMiB)).median, 0)}`,
      ];
    });
    return [
      markdownTable(
        [
          'request',
          'body',
          'event loop max, ms',
          'most CPU in one block, ms',
          'p99, ms',
          'idle bystander max, ms',
          'run-queue wait, ms',
          'slowest scrape meanwhile, ms',
          'request, ms',
          'RSS before → peak → 12 s after, MiB',
        ],
        rows,
        ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
      ),
      '',
      `One request at a time to jobmeter's own ingest listener, a scraper hitting the pull endpoint back to back meanwhile; median (min–max) over ${p.processes} processes × ${p.runs} requests after ${p.warmup} warm-up request. The window runs from the send to the answer; "most CPU in one block" is the most CPU time (user + system) the main thread spent inside any one event-loop block of 10 ms or more (loop-blocks.ts): a block's wall time past it was spent waiting — for a core, or for GC helper threads that wait for one; "run-queue wait" is the time the measured main thread was ready with no free core over it, "idle bystander max" the longest delay an idle Node process saw in the same window (the machine's floor). RSS medians; the peak sampled every ${RSS_EVERY_MS} ms.`,
    ].join('\n');
  },
};

if (isMain(import.meta.url)) await cli(import.meta.url, scenario);
