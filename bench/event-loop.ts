/**
 * Does a big scrape stall the host? The event loop's delay while a 110 000-series scrape (the
 * reference mix at n = 100 000, ≈ 15 MB of text) is served, measured with
 * `perf_hooks.monitorEventLoopDelay` (1 ms resolution): its max is the longest the host's timers
 * and I/O waited, its p99 what they usually waited.
 *
 * - jobmeter: the path its listener serves, driven here without a socket: `await jm.scrape()`
 *   (collection, then the naming pass in slices) and `buildMetricsResponse` (the body rendered in
 *   pieces into the endpoint's reused storage, the event loop given back whenever a slice has held
 *   it 5 ms; with `+ gzip`, compressed as it is written, on libuv's thread pool), the storage
 *   given back at once as a written response would.
 * - @prometheus-io/client and prom-client: `await registry.metrics()` then `Buffer.from(text)`,
 *   what their users hand to `response.end`.
 *
 * Over a socket (the rows "…, over a socket"): the same series behind a real server, in this
 * process, and a client in a child process of its own (scrape-client.ts: HTTP/1.1 GETs on one
 * keep-alive socket read into one reused buffer, body read and dropped, with and without
 * `Accept-Encoding: gzip`).
 * jobmeter is `createJobmeter({ listener: { host: '127.0.0.1', port: 0 } })`, its own listener;
 * the Prometheus clients are `http.createServer` answering `res.end(await register.metrics())`, as in
 * throughput.ts. The monitor runs in the server's process only; the warm-up scrapes are checked
 * (status, encoding, sample lines), the timed ones must be 200s of about the same size.
 *
 * The timed scrapes run back to back (one event-loop turn between two) in one window with one
 * histogram. No forced gc between them: a collection's pause is part of what the host sees. 1% of
 * the series get a record before each scrape, as in scrape.ts.
 *
 * On 2 shared cores a delay is not only the contender's: a thread that is ready to run waits for a
 * core too. So every window also reports the main thread's run-queue wait (Linux schedstat) and the
 * max of an idle bystander process (bystander.ts) over the same window: the floor the machine set.
 *
 * Diagnostics (env): `BENCH_RUNS=<n>` scrapes per window (mark-compacts come every ~25 scrapes at
 * this size, so a 10-scrape window may miss them); `BENCH_LOOP_BLOCKS=<ms>` logs every block
 * longer than that with its user/system/run-queue time, GC pauses and socket writes
 * (loop-blocks.ts); with `BENCH_CPU_PROF=<file>` too, bench/cpuprofile-blocks.ts says what ran in
 * each block; `BENCH_SERVER_NICE=<n>` runs the measured main thread at that priority for the window.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { setPriority } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import {
  createJobmeter,
  type DeclaredCounter,
  type DeclaredHistogram,
  type InstrumentSpec,
} from '../src/index.ts';
import { PROTOBUF_CONTENT_TYPE } from '../src/exposition/negotiate.ts';
import { BodyStore } from '../src/http/body-store.ts';
import { buildMetricsResponse, variantOf } from '../src/http/metrics-response.ts';
import { BUCKETS, PROM_LABEL, promClientServer, type PromLibName } from './contenders.ts';
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
import { VALUES } from './hot-path.ts';
import { startBystander } from './bystander-handle.ts';
import {
  describeBlock,
  recordBlocks,
  runQueueMillis,
  type BlockRecorder,
  type Blocks,
} from './loop-blocks.ts';
import type { ScrapeAnswer, ScrapeAsk } from './scrape-client.ts';
import {
  hostNames,
  referenceLayout,
  sampleLines,
  setUp,
  SHARD,
  type Built,
  type Layout,
} from './series.ts';
import type { TargetResult } from './targets.ts';

type Variant =
  | 'jobmeter'
  | 'jobmeter-gzip'
  | 'jobmeter-openmetrics'
  | 'jobmeter-protobuf'
  | 'prometheus-io'
  | 'prom-client'
  | 'jobmeter-socket'
  | 'jobmeter-socket-gzip'
  | 'prometheus-io-socket'
  | 'prom-client-socket';
const VARIANTS: readonly Variant[] = [
  'jobmeter',
  'jobmeter-gzip',
  'jobmeter-openmetrics',
  'jobmeter-protobuf',
  'prometheus-io',
  'prom-client',
  'jobmeter-socket',
  'jobmeter-socket-gzip',
  'prometheus-io-socket',
  'prom-client-socket',
];
const IO = PROM_LABEL['prometheus-io'];
const LABEL: Readonly<Record<Variant, string>> = {
  jobmeter: 'jobmeter (streamed body)',
  'jobmeter-gzip': 'jobmeter (streamed body + gzip)',
  'jobmeter-openmetrics': 'jobmeter (streamed body, OpenMetrics)',
  'jobmeter-protobuf': 'jobmeter (streamed body, protobuf)',
  'prometheus-io': `${IO} (\`registry.metrics()\`)`,
  'prom-client': 'prom-client (`registry.metrics()`)',
  'jobmeter-socket': 'jobmeter listener, over a socket',
  'jobmeter-socket-gzip': 'jobmeter listener, over a socket + gzip',
  'prometheus-io-socket': `${IO} \`http.createServer\`, over a socket`,
  'prom-client-socket': 'prom-client `http.createServer`, over a socket',
};
const SOCKET: ReadonlySet<Variant> = new Set([
  'jobmeter-socket',
  'jobmeter-socket-gzip',
  'prometheus-io-socket',
  'prom-client-socket',
]);
/** The contender each row's max is divided by: the @prometheus-io/client row measured the same way. */
const REFERENCE = (v: Variant): Variant =>
  SOCKET.has(v) ? 'prometheus-io-socket' : 'prometheus-io';
/** The Prometheus client library a variant serves with, if any. */
const PROM_OF: Readonly<Partial<Record<Variant, PromLibName>>> = {
  'prometheus-io': 'prometheus-io',
  'prom-client': 'prom-client',
  'prometheus-io-socket': 'prometheus-io',
  'prom-client-socket': 'prom-client',
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
  /** Body bytes (on the wire, for the socket rows: compressed with gzip). */
  readonly bodyBytes: number;
  /**
   * Over the same window: how long this process's main thread sat runnable without a core (Linux
   * schedstat; NaN elsewhere), and the max delay an idle process saw (bystander.ts). Both say how
   * much of the max was the machine's, not the contender's.
   */
  readonly runQueueMs: number;
  readonly bystanderMaxMs: number;
}

/**
 * `BENCH_SERVER_NICE=<n>` (diagnostics; negative needs root): the measured process's main thread
 * only (Linux: `setpriority` of a thread id), over the window only, so the client, the bystander
 * and V8's helper threads keep theirs. With the main thread favoured by the scheduler (it still
 * waits some: see its run-queue time), what is left of the max is mostly what it did itself.
 */
const SERVER_NICE =
  process.env.BENCH_SERVER_NICE === undefined || process.env.BENCH_SERVER_NICE === ''
    ? undefined
    : Number(process.env.BENCH_SERVER_NICE);

/** `BENCH_LOOP_BLOCKS=<ms>`: log every block longer than that, with the GCs and phases inside it (loop-blocks.ts). */
const BLOCKS_MS =
  process.env.BENCH_LOOP_BLOCKS === undefined || process.env.BENCH_LOOP_BLOCKS === ''
    ? undefined
    : Number(process.env.BENCH_LOOP_BLOCKS);

function scrapeOf(b: Built, variant: Variant): () => Promise<number> {
  if (b.contender === 'jobmeter') {
    // What the listener does for one request: the body rendered (and compressed) into its
    // endpoint's storage, which the response gives back once written.
    const store = new BodyStore();
    const request = {
      accept:
        variant === 'jobmeter-protobuf'
          ? PROTOBUF_CONTENT_TYPE
          : variant === 'jobmeter-openmetrics'
            ? 'application/openmetrics-text; version=1.0.0'
            : 'text/plain; version=0.0.4',
      acceptEncoding: variant === 'jobmeter-gzip' ? 'gzip' : undefined,
    };
    return async () => {
      const response = await buildMetricsResponse(
        store,
        await b.jm.scrape(),
        variantOf(request, 'negotiate'),
      );
      response.done?.();
      return response.length;
    };
  }
  if (b.contender === 'prometheus-io' || b.contender === 'prom-client') {
    const { registry } = b;
    return async () => Buffer.from(await registry.metrics(), 'utf8').length;
  }
  throw new Error(`no event-loop scenario for ${b.contender}`);
}

async function measure(arg: Arg): Promise<Result> {
  if (SOCKET.has(arg.variant)) return measureSocket(arg);
  const layout = referenceLayout(arg.n);
  const contender = PROM_OF[arg.variant] ?? 'jobmeter';
  const built = (await setUp(contender, layout)).populate(hostNames(arg.n));
  const scrape = scrapeOf(built, arg.variant);
  const perTouch = Math.max(1, Math.ceil(arg.n / 100));
  let touched = 0;
  const touch = () => {
    for (let i = 0; i < perTouch; i++) built.touch(touched++);
  };
  const bystander = await startBystander();
  try {
    let bodyBytes = 0;
    for (let w = 0; w < arg.warmup; w++) {
      touch();
      bodyBytes = await scrape();
    }
    gc();
    const wallMs: number[] = [];
    const w = await watch(bystander, async (blocks) => {
      for (let r = 0; r < arg.runs; r++) {
        // One turn of the event loop between two scrapes, as between two requests: without it, awaits
        // alone (microtasks) would chain the scrapes of a contender that never yields into one block.
        await nextTurn();
        touch();
        const t = performance.now();
        await scrape();
        wallMs.push(performance.now() - t);
        blocks?.mark(`scraped#${r}`);
      }
    });
    return report(arg, { ...w.delays, wallMs, bodyBytes }, w.blocks);
  } finally {
    bystander.close();
  }
}

interface Watched {
  readonly delays: Pick<Result, 'maxMs' | 'p99Ms' | 'meanMs' | 'runQueueMs' | 'bystanderMaxMs'>;
  readonly blocks: Blocks | undefined;
}

type Bystander = Awaited<ReturnType<typeof startBystander>>;

/**
 * One window over `run` (the timed scrapes, served back to back as a busy endpoint serves them):
 * the delay histogram, the main thread's run-queue wait, the idle `bystander`'s max, and with
 * BENCH_LOOP_BLOCKS the blocks (loop-blocks.ts). With BENCH_CPU_PROF the window is profiled too,
 * the monitors started inside it (starting the profiler holds the loop for a while).
 *
 * The bystander must be forked before the warm-up, not here: a fork write-protects every page of
 * the forking process (copy-on-write), so each page the window's first scrapes write afterwards
 * (the snapshot's copy, the young generation) takes a page fault first, a cost the bench itself
 * caused. The client is forked before the warm-up for the same reason.
 */
async function watch(
  bystander: Bystander,
  run: (blocks: BlockRecorder | undefined) => Promise<void>,
): Promise<Watched> {
  const h = monitorEventLoopDelay({ resolution: 1 });
  let blocks: BlockRecorder | undefined;
  let seen: Blocks | undefined;
  let waited = 0;
  let floor = { maxMs: NaN };
  await profiled(async () => {
    await bystander.start();
    // After every fork: children inherit the nice value of the thread that forks them.
    if (SERVER_NICE !== undefined) setPriority(0, SERVER_NICE);
    const queued = runQueueMillis();
    h.enable();
    blocks = BLOCKS_MS === undefined ? undefined : recordBlocks(BLOCKS_MS);
    // The monitor records the gap between two ticks of its timer from the second tick on: it must
    // have ticked before the first scrape starts, or a block right at the start goes unseen.
    await new Promise((resolve) => setTimeout(resolve, 20));
    await run(blocks);
    // One more turn so a delay that ends with the last scrape is recorded.
    await new Promise((resolve) => setTimeout(resolve, 5));
    h.disable();
    waited = runQueueMillis() - queued;
    if (SERVER_NICE !== undefined) setPriority(0, 0);
    seen = blocks?.stop();
    floor = await bystander.stop();
  });
  return {
    delays: {
      maxMs: h.max / 1e6,
      p99Ms: h.percentile(99) / 1e6,
      meanMs: h.mean / 1e6,
      runQueueMs: waited,
      bystanderMaxMs: floor.maxMs,
    },
    blocks: seen,
  };
}

function report(arg: Arg, result: Result, blocks: Blocks | undefined): Result {
  log(
    `    ${arg.variant}: max ${result.maxMs.toFixed(1)} ms, p99 ${result.p99Ms.toFixed(1)} ms, run queue ${result.runQueueMs.toFixed(0)} ms, idle bystander max ${result.bystanderMaxMs.toFixed(1)} ms, scrapes ${result.wallMs.map((x) => x.toFixed(0)).join(' ')} ms`,
  );
  if (blocks !== undefined) {
    const { blocks: list, gcTotals } = blocks;
    // Next to a profile of the same window, for bench/cpuprofile-blocks.ts.
    const prof = process.env.BENCH_CPU_PROF;
    if (prof !== undefined && prof !== '')
      writeFileSync(prof + '.blocks.json', JSON.stringify(list));
    for (const b of list) log(`      block ${describeBlock(b)}`);
    for (const [kind, t] of Object.entries(gcTotals))
      log(
        `      gc ${kind}: ${t.count} pauses, ${t.ms.toFixed(1)} ms in all, longest ${t.maxMs.toFixed(1)} ms`,
      );
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// Over a socket

interface Served {
  readonly url: string;
  /** Records 1% of the series, as between two real scrapes. */
  readonly touch: () => void;
  close(): Promise<void>;
}

/** The jobmeter instruments of series.ts, with the listener on (series.ts builds them without). */
async function serveJobmeter(layout: Layout, hosts: readonly string[]): Promise<Served> {
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
    listener: { host: '127.0.0.1', port: 0 },
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
  const add = (i: number, v: number) => counters[(i / SHARD) | 0]!.add(v, { host: hosts[i]! });
  const observe = (i: number, v: number) => histos[(i / SHARD) | 0]!.record(v, { host: hosts[i]! });
  for (let i = 0; i < layout.counters; i++) add(i, 1 + (i % 7));
  for (let i = 0; i < layout.histograms; i++)
    for (let r = 0; r < 3; r++) observe(i, VALUES[(i * 3 + r) & 1023]!);
  let touched = 0;
  const perTouch = Math.max(1, Math.ceil(layout.counters / 100));
  const touch = () => {
    for (let k = 0; k < perTouch; k++, touched++) {
      const j = touched % layout.counters;
      add(j, 1);
      if (j < layout.histograms) observe(j, VALUES[touched & 1023]!);
    }
  };
  return {
    url: `http://127.0.0.1:${jm.pullAddress!.port}/metrics`,
    touch,
    close: () => jm.shutdown(),
  };
}

async function servePromClient(
  lib: PromLibName,
  layout: Layout,
  hosts: readonly string[],
): Promise<Served> {
  const built = (await setUp(lib, layout)).populate(hosts);
  if (built.contender !== lib) throw new Error('unreachable');
  const server = await promClientServer(built.registry);
  let touched = 0;
  const perTouch = Math.max(1, Math.ceil(layout.counters / 100));
  const touch = () => {
    for (let k = 0; k < perTouch; k++) built.touch(touched++);
  };
  return { url: server.url, touch, close: server.close };
}

/** The client process; `ask` runs one scrape there and resolves with its answer. */
export function startClient(): {
  ask: (a: ScrapeAsk) => Promise<ScrapeAnswer>;
  stop: () => void;
  pid: number | undefined;
} {
  // No inherited flags: `--cpu-prof` or `--expose-gc` on the server must not follow it here.
  const child: ChildProcess = fork(
    fileURLToPath(new URL('./scrape-client.ts', import.meta.url)),
    [],
    { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
  );
  let waiting: { resolve: (a: ScrapeAnswer) => void; reject: (e: Error) => void } | undefined;
  child.on('message', (m: ScrapeAnswer) => {
    const w = waiting;
    waiting = undefined;
    if (m.error !== undefined) w?.reject(new Error(`scrape client: ${m.error}`));
    else w?.resolve(m);
  });
  child.on('exit', (code) => waiting?.reject(new Error(`scrape client exited with ${code}`)));
  return {
    ask: (a) =>
      new Promise((resolve, reject) => {
        waiting = { resolve, reject };
        child.send(a);
      }),
    stop: () => child.disconnect(),
    pid: child.pid,
  };
}

/**
 * Diagnostics only (BENCH_LOOP_BLOCKS): times every write the server's sockets make (one
 * `writeGeneric`/`writev` into libuv, which on loopback copies into the kernel and runs the TCP of
 * both ends before it returns), so a block can say how much of it was writing. Returns the undo.
 */
function countSocketWrites(
  account: (label: string, start: number, ms: number, bytes: number) => void,
): () => void {
  type WriteGeneric = (
    this: Socket,
    writev: boolean,
    data: unknown,
    encoding: string,
    cb: (err?: Error) => void,
  ) => void;
  const proto = Socket.prototype as unknown as { _writeGeneric: WriteGeneric };
  const original = proto._writeGeneric;
  proto._writeGeneric = function (writev, data, encoding, cb) {
    const t = performance.now();
    let n = 0;
    if (writev)
      for (const c of data as { chunk: Buffer | string }[])
        n += typeof c.chunk === 'string' ? Buffer.byteLength(c.chunk) : c.chunk.length;
    else n = typeof data === 'string' ? Buffer.byteLength(data) : (data as Buffer).length;
    original.call(this, writev, data, encoding, cb);
    account(writev ? 'writev' : 'write', t, performance.now() - t, n);
  };
  return () => {
    proto._writeGeneric = original;
  };
}

async function measureSocket(arg: Arg): Promise<Result> {
  const layout = referenceLayout(arg.n);
  const hosts = hostNames(arg.n);
  const gzip = arg.variant === 'jobmeter-socket-gzip';
  const lib = PROM_OF[arg.variant];
  const served =
    lib !== undefined
      ? await servePromClient(lib, layout, hosts)
      : await serveJobmeter(layout, hosts);
  const client = startClient();
  let bystander: Bystander | undefined;
  try {
    bystander = await startBystander();
    const ask: ScrapeAsk = { url: served.url, gzip, check: true };
    const want = sampleLines(layout);
    let checked: ScrapeAnswer | undefined;
    for (let w = 0; w < Math.max(1, arg.warmup); w++) {
      served.touch();
      checked = await client.ask(ask);
      if (checked.status !== 200) throw new Error(`${arg.variant}: status ${checked.status}`);
      if (checked.samples !== want)
        throw new Error(`${arg.variant}: ${checked.samples} sample lines, expected ${want}`);
      if ((checked.contentEncoding === 'gzip') !== gzip)
        throw new Error(
          `${arg.variant}: Content-Encoding ${checked.contentEncoding}, gzip asked: ${gzip}`,
        );
    }
    log(
      `    ${arg.variant}: ${bytes(checked!.wireBytes)} on the wire, ${bytes(checked!.bodyBytes!)} decoded, transfer-encoding ${checked!.transferEncoding ?? '-'}`,
    );
    // For `perf sched timehist`, which names threads by these.
    if (BLOCKS_MS !== undefined) log(`    server pid ${process.pid}, client pid ${client.pid}`);
    gc();
    const wallMs: number[] = [];
    let recorder: BlockRecorder | undefined;
    const unpatch =
      BLOCKS_MS === undefined
        ? undefined
        : countSocketWrites((label, start, ms, n) => recorder?.account(label, start, ms, n));
    let w: Watched;
    try {
      w = await watch(bystander, async (blocks) => {
        recorder = blocks;
        for (let r = 0; r < arg.runs; r++) {
          served.touch();
          blocks?.mark(`ask#${r}`);
          const a = await client.ask({ ...ask, check: false });
          blocks?.mark(`answered#${r}`);
          // Values change between scrapes (so digits do); a lost piece or family would be far more.
          if (
            a.status !== 200 ||
            Math.abs(a.wireBytes - checked!.wireBytes) > checked!.wireBytes * 0.02
          ) {
            throw new Error(
              `${arg.variant}: timed scrape ${r}: status ${a.status}, ${a.wireBytes} bytes vs ${checked!.wireBytes} checked`,
            );
          }
          wallMs.push(a.ms);
        }
      });
    } finally {
      unpatch?.();
    }
    return report(arg, { ...w.delays, wallMs, bodyBytes: checked!.wireBytes }, w.blocks);
  } finally {
    bystander?.close();
    client.stop();
    await served.close();
  }
}

export const scenario: Scenario<Params, Arg, Result> = {
  name: 'event-loop',
  title: 'Event-loop delay during a 110k-series scrape',
  params: (quick) => {
    // 20 warm-up scrapes: over its first scrapes a process grows its young generation to the size
    // its scrapes need, mapping fresh pages once (one long scavenge); a long-running host is past that.
    const p = quick
      ? { n: 10_000, warmup: 1, runs: 5, processes: 1 }
      : { n: 100_000, warmup: 20, runs: 30, processes: 2 };
    // `BENCH_RUNS=<n>`: scrapes in the window (a longer window sees the rarer mark-compacts too).
    const runs = process.env.BENCH_RUNS === undefined ? undefined : Number(process.env.BENCH_RUNS);
    if (runs !== undefined && !(Number.isInteger(runs) && runs > 0))
      throw new Error(`BENCH_RUNS must be a positive integer, got ${process.env.BENCH_RUNS}`);
    return runs === undefined ? p : { ...p, runs };
  },
  processes: (p) => p.processes,
  // The socket rows follow @prometheus-io/client's and prom-client's, which hold GBs: right after
  // one exits, jobmeter's windows held blocks of 15–35 ms of CPU with no GC in them (13 windows:
  // 7 over 18 ms); 8 s between the two took every window to 7.8–12.4 ms.
  settleMillis: 8_000,
  jobs: (p): Job<Arg>[] => VARIANTS.map((variant) => ({ id: variant, arg: { ...p, variant } })),
  measure,
  table(p, results) {
    const layout = referenceLayout(p.n);
    const worst = (v: Variant) => Math.max(...results.get(v)!.map((r) => r.maxMs));
    const rows = VARIANTS.map((v) => {
      const rs = results.get(v)!;
      return [
        LABEL[v],
        num(worst(v), 1),
        rs.map((r) => num(r.maxMs, 1)).join(', '),
        num(stats(rs.map((r) => r.p99Ms)).median, 1),
        num(stats(rs.map((r) => r.meanMs)).median, 2),
        spread(stats(rs.flatMap((r) => r.wallMs)), 1),
        num(stats(rs.map((r) => r.runQueueMs)).median, 0),
        rs.map((r) => num(r.bystanderMaxMs, 1)).join(', '),
        bytes(rs[0]!.bodyBytes),
        (worst(v) / worst(REFERENCE(v))).toFixed(3) + '×',
      ];
    });
    return [
      markdownTable(
        [
          'contender',
          'max delay, ms',
          'max per process',
          'p99 delay, ms',
          'mean delay, ms',
          'scrape wall time, ms',
          'run-queue wait, ms',
          'idle process max, ms',
          'body',
          `max ÷ ${IO}`,
        ],
        rows,
        ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
      ),
      '',
      `${num(layout.counters + layout.histograms, 0)} series (${num(layout.counters, 0)} counter + ${num(layout.histograms, 0)} histogram), text format unless the row names another, ${p.runs} scrapes served back to back after ${p.warmup} warm-up scrapes, in ${p.processes} processes. \`monitorEventLoopDelay({ resolution: 1 })\` over the whole window: "max" is the longest the event loop was held (the worst of the processes, then each process's), p99 and mean are over every 1 ms tick of the window (median of the processes). Scrape wall time: median (min–max). Run-queue wait: how long the measured process's main thread sat runnable without a core over the window (Linux schedstat, median of the processes); idle process max: the max delay of an idle Node process over the same window (per process): the floor the machine set, since a process that does nothing sees its timers late too when no core is free. Over a socket: the server in the measured process, the client (HTTP/1.1 on one keep-alive socket, every read into one reused buffer, body read and dropped) in a process of its own on the same 2 cores; wall time is the client's, request to last byte; body is the bytes on the wire; the ratio is to the ${IO} row measured the same way (in process, or its socket row). Target: max ≤ 20 ms.`,
    ].join('\n');
  },
  targets(_p, results): TargetResult[] {
    const socket = ['jobmeter-socket', 'jobmeter-socket-gzip'] as const;
    const per = socket.map((v) => ({ v, max: results.get(v)!.map((r) => r.maxMs) }));
    const measured = per
      .map(({ v, max }) => `${LABEL[v]}: max ${max.map((m) => num(m, 1)).join(', ')} ms`)
      .join('; ');
    return [{ id: 'event-loop', measured, met: per.every(({ max }) => max.every((m) => m <= 20)) }];
  },
};

if (isMain(import.meta.url)) await cli(import.meta.url, scenario);
