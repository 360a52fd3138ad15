/**
 * OTLP in, Prometheus out: the real OpenTelemetry Collector (the pinned build of
 * scripts/build-test-peers.sh, started as test/support/collector.ts starts it: `otlp` receiver →
 * `prometheus` exporter) against jobmeter doing the same job (ingest-server.mjs: `createJobmeter`
 * with its ingest and pull listeners, as `jobmeter serve` with `[ingest]`), each in a process of its
 * own on loopback, fed the same OTLP/HTTP protobuf payloads.
 *
 * The payloads: the series mix of series.ts (n counter + n/10 15-bucket histogram series, 1,000
 * per instrument) recorded on a plain OTel SDK in this process and serialized once per round with
 * the official protobuf serializer, cumulative; before each round 1% of the series get a record, as
 * between two real exports. Per round:
 *
 * - **push → scrape body**: from the POST of the whole payload to the end of the first scrape body
 *   that shows it (the sum of every counter sample equals the pushed sum; scraped again until it
 *   does), with the POST alone (to its 200) beside it;
 * - **scrape**: then a few more scrapes of the re-exposed series, each timed to its last byte and
 *   checked for the expected sample lines.
 *
 * And **under a fleet's load** (the `*-fleet-*` jobs, collector-fleet.ts): many senders at once,
 * each exporting its own series under its own resource straight to the server (no batching
 * between), back to back over its own keep-alive connection, after a warm-up window: data points
 * accepted per second, requests refused, the server's CPU seconds per million data points and its
 * resident set with every series live (and per 100,000 live series), each repeat on a fresh server
 * process. jobmeter runs with its default request slots (8), so the fleets of more senders than
 * slots show what a sender past them gets. Two more shapes of the same load: **one body shared by
 * every sender** (`-shared`: the same resource and series from each, as replicas or Collectors
 * forwarding one source; both servers keep the later point of a series), and **over OTLP/gRPC**
 * (`-grpc`: the same bodies to jobmeter's `grpc_port` front and the Collector's `otlp` receiver's
 * `grpc` protocol, a grpc-js channel per sender).
 *
 * The server process's CPU time (utime + stime) and its resident set (and peak) come from /proc.
 * Every request is `fetch`; one at a time, except the load's senders.
 */
import { fork } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import { DataPointType } from '@opentelemetry/sdk-metrics';
import { startCollector } from '../test/support/collector.ts';
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
  type Layout,
  type SizePlan,
} from './series.ts';
import {
  FLEET_PREFIX,
  fleetSenders,
  INGEST_SERVER_EXEC_ARGV,
  liveSeries,
  sendFor,
  sendOnceEach,
  type FleetPlan,
  type IngestServerReady,
} from './collector-fleet.ts';
import { ratio, type TargetResult } from './targets.ts';

type Contender = 'jobmeter' | 'collector';
type Transport = 'http' | 'grpc';

/** A fleet of the load table: its senders and series, over one transport. */
interface Fleet extends FleetPlan {
  /** @default 'http' */
  readonly transport?: Transport;
}
const CONTENDERS: readonly Contender[] = ['jobmeter', 'collector'];
const LABEL: Readonly<Record<Contender, string>> = {
  jobmeter: 'jobmeter ingest → pull listener',
  collector: 'Collector `otlp` → `prometheus` exporter',
};

interface Params {
  readonly sizes: readonly SizePlan[];
  /** Timed scrapes after each push. */
  readonly scrapes: number;
  readonly fleets: readonly Fleet[];
  /** Fresh server processes per fleet and contender. */
  readonly repeats: number;
}

type Arg =
  | (SizePlan & { readonly kind: 'push'; readonly contender: Contender; readonly scrapes: number })
  | (Fleet & {
      readonly kind: 'load';
      readonly contender: Contender;
      readonly repeats: number;
    });

interface LoadResult {
  readonly pointsPerSecond: number;
  readonly requests: number;
  /** Requests answered with anything but 200, or whose connection failed. */
  readonly refused: number;
  /** Points of accepted requests their `partial_success` rejected. */
  readonly rejectedPoints: number;
  readonly statuses: Readonly<Record<string, number>>;
  readonly cpuSecondsPerMillion: number;
  readonly rss: number;
  readonly rssPeak: number;
  /** Resident set once it serves, before the first export. */
  readonly rssIdle: number;
  readonly liveSeries: number;
}

interface Result {
  readonly payloadBytes: number;
  readonly bodyBytes: number;
  /** Per timed round: POST to 200, POST to the first body showing it, scrapes that took. */
  readonly pushMs: number[];
  readonly visibleMs: number[];
  readonly polls: number[];
  /** Every timed scrape after the pushes, ms. */
  readonly scrapeMs: number[];
  /** Server CPU (user + system) per timed round, ms; resident set after the rounds and its peak, bytes. */
  readonly cpuMsPerRound: number;
  readonly rss: number;
  readonly rssPeak: number;
  readonly version: string;
  /** One per repeat, each on a fresh server. */
  readonly loads?: readonly LoadResult[];
}

interface Server {
  readonly otlpUrl: string;
  /** `grpc://host:port`, for a server started for gRPC. */
  readonly grpcTarget?: string;
  readonly pullUrl: string;
  readonly pid: number;
  readonly version: string;
  close(): Promise<void>;
}

/**
 * `BENCH_INGEST_PROF=<dir>`: jobmeter's server process runs under `node --cpu-prof` and writes its
 * profile there when it ends (read it with `node bench/cpuprofile-top.ts <dir>/*.cpuprofile`).
 */
const INGEST_PROF = process.env.BENCH_INGEST_PROF;

async function startJobmeter(transport: Transport = 'http'): Promise<Server> {
  const execArgv = [
    ...INGEST_SERVER_EXEC_ARGV,
    ...(INGEST_PROF === undefined || INGEST_PROF === ''
      ? []
      : ['--cpu-prof', `--cpu-prof-dir=${INGEST_PROF}`]),
  ];
  const args = transport === 'grpc' ? ['grpc'] : [];
  const child = fork(fileURLToPath(new URL('./ingest-server.mjs', import.meta.url)), args, {
    execArgv,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ready = await new Promise<IngestServerReady>((resolve, reject) => {
    child.once('message', (m) => resolve(m as IngestServerReady));
    child.once('exit', (code) => reject(new Error(`ingest-server exited with ${code}`)));
  });
  const { VERSION } = await import('../src/index.ts');
  return {
    otlpUrl: `http://127.0.0.1:${ready.otlpPort}/v1/metrics`,
    ...(ready.grpcPort !== undefined && { grpcTarget: `grpc://127.0.0.1:${ready.grpcPort}` }),
    pullUrl: `http://127.0.0.1:${ready.pullPort}/metrics`,
    pid: child.pid!,
    version: `jobmeter ${VERSION}`,
    close: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.disconnect();
      }),
  };
}

/** The Collector's gRPC message limit, raised to jobmeter's `max_body_bytes` (20 MiB; the Collector's HTTP body limit too), from gRPC's 4 MiB. */
const GRPC_MAX_MIB = 20;

async function startOtelcol(transport: Transport = 'http'): Promise<Server> {
  const collector = await startCollector({
    ports: ['otlp', 'grpc', 'prom'],
    config: (p) => ({
      receivers: {
        otlp: {
          protocols: {
            http: { endpoint: `127.0.0.1:${p.otlp}` },
            ...(transport === 'grpc' && {
              grpc: { endpoint: `127.0.0.1:${p.grpc}`, max_recv_msg_size_mib: GRPC_MAX_MIB },
            }),
          },
        },
      },
      exporters: { prometheus: { endpoint: `127.0.0.1:${p.prom}` } },
      service: { pipelines: { metrics: { receivers: ['otlp'], exporters: ['prometheus'] } } },
    }),
  });
  return {
    otlpUrl: `http://127.0.0.1:${collector.ports.otlp}/v1/metrics`,
    ...(transport === 'grpc' && { grpcTarget: `grpc://127.0.0.1:${collector.ports.grpc}` }),
    pullUrl: `http://127.0.0.1:${collector.ports.prom}/metrics`,
    pid: pidRunning(collector.configFile),
    version: `otelcol ${/Version":\s*"([^"]+)"|version["=:\s]+([0-9.]+)/i.exec(collector.logs())?.slice(1).find(Boolean) ?? '(version not logged)'}`,
    close: () => collector.stop(),
  };
}

/** The pid of the process whose command line names `configFile` (the Collector handle keeps its child to itself). */
function pidRunning(configFile: string): number {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(configFile)) return Number(entry);
    } catch {
      // The process ended while we looked: not ours.
    }
  }
  throw new Error(`no process runs with ${configFile}`);
}

/** user + system CPU of `pid`, ms (/proc/<pid>/stat fields 14 and 15, in clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

function memory(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) =>
    Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

/** The sum of every counter sample of the bench's families in an exposition (no timestamps in either). */
function counterSum(text: string): number {
  let sum = 0;
  for (const line of text.split('\n'))
    if (line.startsWith('bench_requests_')) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  return sum;
}

/** The payload source: the series on a plain SDK; each `next()` records 1% and serializes a cumulative export. */
async function payloads(
  layout: Layout,
  hosts: readonly string[],
): Promise<() => Promise<{ body: Uint8Array; counterSum: number }>> {
  const built = (await setUp('otel', layout)).populate(hosts);
  if (built.contender !== 'otel') throw new Error('unreachable');
  const perTouch = Math.max(1, Math.ceil(layout.counters / 100));
  let touched = 0;
  return async () => {
    for (let i = 0; i < perTouch; i++) built.touch(touched++);
    const { resourceMetrics, errors } = await built.otel.exporter.collect();
    if (errors.length > 0) throw new Error(`payload collect: ${errors.map(String).join('; ')}`);
    let sum = 0;
    for (const sm of resourceMetrics.scopeMetrics) {
      for (const m of sm.metrics)
        if (m.dataPointType === DataPointType.SUM) for (const dp of m.dataPoints) sum += dp.value;
    }
    const body = ProtobufMetricsSerializer.serializeRequest(resourceMetrics);
    if (body === undefined) throw new Error('payload: the serializer returned nothing');
    return { body, counterSum: sum };
  };
}

async function push(url: string, body: Uint8Array): Promise<void> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-protobuf' },
    body,
    signal: AbortSignal.timeout(60_000),
  });
  const answer = await res.arrayBuffer();
  if (res.status !== 200)
    throw new Error(
      `push: status ${res.status}: ${Buffer.from(answer).toString('utf8').slice(0, 500)}`,
    );
}

async function scrape(url: string): Promise<string> {
  const res = await fetch(url, {
    headers: { accept: 'text/plain;version=0.0.4' },
    signal: AbortSignal.timeout(60_000),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`scrape: status ${res.status}`);
  return text;
}

/** Polls attempts before giving up on a push ever showing. */
const MAX_POLLS = 200;

async function measure(arg: Arg): Promise<Result> {
  if (arg.kind === 'load') return measureLoad(arg);
  const layout = referenceLayout(arg.n);
  const next = await payloads(layout, hostNames(arg.n));
  const server = arg.contender === 'collector' ? await startOtelcol() : await startJobmeter();
  try {
    const want = sampleLines(layout);
    const result = {
      pushMs: [] as number[],
      visibleMs: [] as number[],
      polls: [] as number[],
      scrapeMs: [] as number[],
      payloadBytes: 0,
      bodyBytes: 0,
    };
    let cpu0 = 0;
    for (let r = 0; r < arg.warmup + arg.runs; r++) {
      const timed = r >= arg.warmup;
      if (r === arg.warmup) cpu0 = cpuMs(server.pid);
      const payload = await next();
      const t0 = performance.now();
      await push(server.otlpUrl, payload.body);
      const t1 = performance.now();
      let polls = 0;
      let tVisible = 0;
      for (;;) {
        const text = await scrape(server.pullUrl);
        tVisible = performance.now();
        polls++;
        if (counterSum(text) === payload.counterSum) break;
        if (polls >= MAX_POLLS)
          throw new Error(
            `${arg.contender}@${arg.n}: the push of round ${r} never showed (counter sum ${counterSum(text)}, pushed ${payload.counterSum})`,
          );
      }
      for (let s = 0; s < arg.scrapes; s++) {
        const t = performance.now();
        const text = await scrape(server.pullUrl);
        const ms = performance.now() - t;
        const lines = countBenchSamples(text);
        if (lines !== want)
          throw new Error(`${arg.contender}@${arg.n}: ${lines} sample lines, expected ${want}`);
        if (timed) result.scrapeMs.push(ms);
        result.bodyBytes = Buffer.byteLength(text);
      }
      result.payloadBytes = payload.body.length;
      if (timed) {
        result.pushMs.push(t1 - t0);
        result.visibleMs.push(tVisible - t0);
        result.polls.push(polls);
      }
    }
    const mem = memory(server.pid);
    const done: Result = {
      ...result,
      version: server.version,
      cpuMsPerRound: (cpuMs(server.pid) - cpu0) / arg.runs,
      rss: mem.rss,
      rssPeak: mem.peak,
    };
    log(
      `    ${arg.contender}@${arg.n}: push→body ${done.visibleMs.map((x) => x.toFixed(0)).join(' ')} ms, scrapes ${done.scrapeMs.map((x) => x.toFixed(0)).join(' ')} ms, RSS ${bytes(done.rss)}`,
    );
    return done;
  } finally {
    await server.close();
  }
}

const LOAD_WARMUP_SECONDS = 3;

/** The fleet: every sender's export built first, then each repeat on a fresh server: one export each (until accepted; checked on a scrape), a warm-up window, the measured one. */
async function measureLoad(
  arg: Fleet & { readonly contender: Contender; readonly repeats: number },
): Promise<Result> {
  const senders = fleetSenders(arg);
  const pointsPerExport = senders[0]!.points;
  const transport = arg.transport ?? 'http';
  const loads: LoadResult[] = [];
  let version = '';
  for (let r = 0; r < arg.repeats; r++) {
    const server =
      arg.contender === 'collector'
        ? await startOtelcol(transport)
        : await startJobmeter(transport);
    version = server.version;
    const target = transport === 'grpc' ? server.grpcTarget! : server.otlpUrl;
    try {
      const idle = memory(server.pid).rss;
      await sendOnceEach(target, senders);
      const want = liveSeries(arg);
      const lines = (await scrape(server.pullUrl))
        .split('\n')
        .filter((l) => l.startsWith(FLEET_PREFIX)).length;
      if (lines !== want)
        throw new Error(`${arg.contender} fleet: ${lines} sample lines, expected ${want}`);
      await sendFor(target, senders, LOAD_WARMUP_SECONDS);
      const cpu0 = cpuMs(server.pid);
      const t0 = performance.now();
      const window = await sendFor(target, senders, arg.seconds);
      const seconds = (performance.now() - t0) / 1000;
      const cpuSeconds = (cpuMs(server.pid) - cpu0) / 1000;
      const mem = memory(server.pid);
      const points = window.accepted * pointsPerExport;
      const load: LoadResult = {
        pointsPerSecond: points / seconds,
        requests: window.accepted + window.refused,
        refused: window.refused,
        rejectedPoints: window.rejectedPoints,
        statuses: window.statuses,
        cpuSecondsPerMillion: cpuSeconds / (points / 1e6),
        rss: mem.rss,
        rssPeak: mem.peak,
        rssIdle: idle,
        liveSeries: want,
      };
      log(
        `    ${arg.contender} ${fleetName(arg)}: ${num(load.pointsPerSecond, 0)} points/s, ${load.requests} requests (${load.refused} refused ${JSON.stringify(window.statuses)}, ${load.rejectedPoints} points rejected), ${load.cpuSecondsPerMillion.toFixed(2)} CPU s per million, RSS ${bytes(mem.rss)}`,
      );
      loads.push(load);
    } finally {
      for (const s of senders) s.close();
      await server.close();
    }
  }
  return {
    payloadBytes: senders[0]!.body.length,
    bodyBytes: 0,
    pushMs: [],
    visibleMs: [],
    polls: [],
    scrapeMs: [],
    cpuMsPerRound: 0,
    rss: 0,
    rssPeak: 0,
    version,
    loads,
  };
}

/**
 * The issue's side-by-side loads as fleets (11 counters a sender): 11k series from 8 and from 10
 * senders, 110k from 4, from 10 (bodies of ~1 MiB: the decoding thread, past its 8 slots) and
 * from 50; one body shared by 10 senders (11k series) and by 4 (110k series, ~10 MiB); over gRPC,
 * both shared bodies and two of the disjoint fleets.
 */
const fleet = (
  senders: number,
  perInstrument: number,
  seconds: number,
  shape: { shared?: boolean; transport?: Transport } = {},
): Fleet => ({ senders, instruments: 11, perInstrument, seconds, ...shape });
const SHARED = { shared: true } as const;
const GRPC = { transport: 'grpc' } as const;
const SHARED_GRPC = { shared: true, transport: 'grpc' } as const;

function params(quick: boolean): Params {
  return quick
    ? {
        sizes: [{ n: 1_000, warmup: 3, runs: 2 }],
        scrapes: 2,
        fleets: [
          fleet(10, 10, 3),
          fleet(10, 10, 3, SHARED),
          fleet(4, 100, 3, SHARED),
          fleet(10, 10, 3, GRPC),
          fleet(4, 100, 3, SHARED_GRPC),
        ],
        repeats: 1,
      }
    : {
        sizes: [
          { n: 10_000, warmup: 8, runs: 7 },
          { n: 100_000, warmup: 4, runs: 5 },
        ],
        scrapes: 3,
        fleets: [
          fleet(8, 125, 10),
          fleet(10, 100, 10),
          fleet(4, 2_500, 10),
          fleet(10, 1_000, 10),
          fleet(50, 200, 10),
          fleet(10, 1_000, 10, SHARED),
          fleet(4, 10_000, 10, SHARED),
          fleet(10, 100, 10, GRPC),
          fleet(4, 2_500, 10, GRPC),
          fleet(10, 1_000, 10, SHARED_GRPC),
          fleet(4, 10_000, 10, SHARED_GRPC),
        ],
        repeats: 3,
      };
}

const fleetId = (c: Contender, f: Fleet): string =>
  `${c}-fleet-${f.senders}x${f.instruments * f.perInstrument}` +
  (f.shared === true ? '-shared' : '') +
  (f.transport === 'grpc' ? '-grpc' : '');

/** `10×11,000`, `4×110,000 one body`, `… gRPC`: a fleet as the rows name it. */
const fleetName = (f: Fleet): string =>
  `${f.senders}×${num(f.instruments * f.perInstrument, 0)}` +
  (f.shared === true ? ' one body' : '') +
  (f.transport === 'grpc' ? ' gRPC' : '');

const jobs = (p: Params): Job<Arg>[] => [
  ...p.sizes.flatMap((s) =>
    CONTENDERS.map((contender): Job<Arg> => ({
      id: `${contender}@${s.n}`,
      arg: { ...s, kind: 'push', contender, scrapes: p.scrapes },
    })),
  ),
  ...p.fleets.flatMap((f) =>
    CONTENDERS.map((contender): Job<Arg> => ({
      id: fleetId(contender, f),
      arg: { ...f, kind: 'load', contender, repeats: p.repeats },
    })),
  ),
];

function table(p: Params, results: ReadonlyMap<string, readonly Result[]>): string {
  const rows: string[][] = [];
  for (const size of p.sizes) {
    const layout = referenceLayout(size.n);
    const get = (c: Contender) => results.get(`${c}@${size.n}`)![0]!;
    const anchor = {
      visible: stats(get('collector').visibleMs).median,
      scrape: stats(get('collector').scrapeMs).median,
    };
    for (const c of CONTENDERS) {
      const r = get(c);
      const visible = stats(r.visibleMs);
      const scrapeStats = stats(r.scrapeMs);
      const d = (s: { median: number }) => (s.median < 10 ? 2 : 1);
      rows.push([
        `${num(layout.counters + layout.histograms, 0)} (${num(sampleLines(layout), 0)} lines)`,
        LABEL[c],
        spread(visible, d(visible)),
        spread(stats(r.pushMs), d(stats(r.pushMs))),
        num(stats(r.polls).median, 0),
        spread(scrapeStats, d(scrapeStats)),
        (visible.median / anchor.visible).toFixed(2) +
          '× / ' +
          (scrapeStats.median / anchor.scrape).toFixed(2) +
          '×',
        num(r.cpuMsPerRound, 0),
        `${bytes(r.rss)} (peak ${bytes(r.rssPeak)})`,
        bytes(r.payloadBytes),
        bytes(r.bodyBytes),
      ]);
    }
  }
  const first = results.get(`collector@${p.sizes[0]!.n}`)![0]!;
  const loadRows: string[][] = [];
  for (const f of p.fleets) {
    const loadsOf = (c: Contender) => results.get(fleetId(c, f))![0]!.loads!;
    const perLive = (x: LoadResult) => (x.rss / x.liveSeries) * 100_000;
    const anchor = {
      points: stats(loadsOf('collector').map((l) => l.pointsPerSecond)).median,
      perLive: stats(loadsOf('collector').map(perLive)).median,
      added: stats(loadsOf('collector').map(addedPerLive)).median,
    };
    for (const c of CONTENDERS) {
      const ls = loadsOf(c);
      const pps = stats(ls.map((l) => l.pointsPerSecond));
      const perLiveStats = stats(ls.map(perLive));
      const rejected = ls.reduce((n, l) => n + l.rejectedPoints, 0);
      loadRows.push([
        `${f.senders} × ${num(f.instruments * f.perInstrument, 0)}${f.shared === true ? ', one body' : ''} (${num(liveSeries(f), 0)} live)`,
        f.transport === 'grpc' ? 'gRPC' : 'HTTP',
        LABEL[c],
        spread(pps, 0),
        (pps.median / anchor.points).toFixed(2) + '×',
        `${num(stats(ls.map((l) => l.requests)).median, 0)} (${ls.map((l) => num(l.refused, 0)).join(' / ')} refused${rejected === 0 ? '' : `; ${num(rejected, 0)} points rejected`})`,
        stats(ls.map((l) => l.cpuSecondsPerMillion)).median.toFixed(2),
        `${bytes(stats(ls.map((l) => l.rss)).median)} (peak ${bytes(Math.max(...ls.map((l) => l.rssPeak)))})`,
        `${bytes(perLiveStats.median)} (${bytes(perLiveStats.min)}–${bytes(perLiveStats.max)})`,
        (perLiveStats.median / anchor.perLive).toFixed(2) + '×',
        bytes(stats(ls.map((l) => l.rssIdle)).median),
        `${bytes(stats(ls.map(addedPerLive)).median)} (${(stats(ls.map(addedPerLive)).median / anchor.added).toFixed(2)}×)`,
      ]);
    }
  }
  const sizeRuns = p.sizes
    .map((s) => `${num(s.n, 0)}: ${s.runs} rounds after ${s.warmup} warm-up rounds`)
    .join('; ');
  return [
    markdownTable(
      [
        'series (sample lines)',
        'contender',
        'push → scrape body, ms',
        'push alone, ms',
        'scrapes until shown',
        'scrape of the re-exposed series, ms',
        '÷ Collector (push→body / scrape)',
        'server CPU per round, ms',
        'server RSS after',
        'payload',
        'body',
      ],
      rows,
      ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
    ),
    '',
    `${first.version}. One process per contender and size, on loopback; every request one at a time (\`fetch\`). A round: 1% of the series recorded on the sender's SDK, its cumulative export serialized (protobuf, uncompressed, untimed), POSTed to \`/v1/metrics\`, then \`/metrics\` scraped until the sum of the counter samples equals the pushed sum ("push → scrape body": POST to that body's last byte), then ${p.scrapes} more scrapes timed to their last byte and checked for the expected sample lines. ${sizeRuns}. Median (min–max) over the timed rounds. Server CPU: the server process's user + system time over the timed rounds (10 ms ticks), per round (a push and its ${p.scrapes + 1}+ scrapes); RSS: its resident set after the last round (peak in brackets).`,
    '',
    markdownTable(
      [
        'fleet: senders × series each',
        'transport',
        'contender',
        'data points/s',
        '÷ Collector',
        'requests per window (refused, each repeat)',
        'CPU s per million points',
        'server RSS after',
        'RSS per 100k live series',
        '÷ Collector',
        'RSS idle',
        'RSS above idle per 100k live (÷ Collector)',
      ],
      loadRows,
      ['l', 'l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
    ),
    '',
    `Under a fleet's load (collector-fleet.ts): each sender exports its own cumulative counters (11 counters, two attributes, its own resource) straight to the server, back to back over a keep-alive connection of its own, every export stamped with the clock, every series' value counting up with it (${bytes(results.get(fleetId('collector', p.fleets[0]!))![0]!.payloadBytes)} a sender in the first fleet, protobuf, uncompressed). "One body": every sender sends the same resource and series (each stamping its own exports), so the live series are one sender's and a series' points come from every sender, the later kept. Whom the shared bodies stand for: replicas, or Collectors forwarding one service's series, each body large (the 110k-series one is 8.1 MiB); the speed piece they lean on is the decoding thread giving each body's buffer back for the next (ingest/body-chunks.ts), since in a virtual machine faulting a fresh buffer's pages in cost more than receiving the body, and the decoding thread's attribute memo reading what it keeps of a set by the set's number, from arrays laid out in the order the sets came (otlp/decode-attribute-memo.ts), where an object per set was a cache miss per point (1.83× the Collector before it at 4×110,000 one body, 1.49× over gRPC). gRPC: the same bodies as unary \`MetricsService/Export\` calls (@grpc/grpc-js, a channel per sender) to jobmeter's \`grpc_port\` front and the Collector's \`otlp\` receiver \`grpc\` protocol (its message limit raised to ${GRPC_MAX_MIB} MiB, jobmeter's \`max_body_bytes\`, from gRPC's 4 MiB). After one export each (sent again until accepted, then checked on a scrape) and a ${LOAD_WARMUP_SECONDS} s warm-up window, ${p.fleets[0]!.seconds} s measured; ${p.repeats} repeats, each on a fresh server process: median (min–max). jobmeter with its default 8 request slots (series and memory limits raised to hold the fleets). Data points accepted per second (200s or gRPC OKs × points per export); refused: any answer but 200 (gRPC OK), or a failed connection, and the points a \`partial_success\` rejected, when any; CPU: the server's user + system seconds over the window per million accepted points; RSS after the window with every series live, and per 100,000 live series; RSS idle: once the server serves, before the first export; above idle: RSS after the window less that, per 100,000 live series (what the series and the load cost, without the process's own start-up; not the target's measure, which is the column before).`,
  ].join('\n');
}

/** The fewest live series at which a fleet's RSS per 100k live series is judged (the `ingest-rss` target). */
const RSS_JUDGED_FROM = 100_000;

/** What the series and the load added to the server's resident set, per 100,000 live series. */
const addedPerLive = (x: LoadResult): number => ((x.rss - x.rssIdle) / x.liveSeries) * 100_000;

export const scenario: Scenario<Params, Arg, Result> = {
  name: 'collector',
  title: 'OTLP in, Prometheus out: jobmeter ingest vs the OpenTelemetry Collector',
  params,
  jobs,
  measure,
  table,
  targets(p, results): TargetResult[] {
    const per = p.fleets.map((f) => {
      const loadsOf = (c: Contender) => results.get(fleetId(c, f))![0]!.loads!;
      const perLive = (x: LoadResult) => (x.rss / x.liveSeries) * 100_000;
      const median = (c: Contender, v: (x: LoadResult) => number) =>
        stats(loadsOf(c).map(v)).median;
      const sum = (c: Contender, v: (x: LoadResult) => number) =>
        loadsOf(c).reduce((n, l) => n + v(l), 0);
      return {
        fleet: fleetName(f),
        shape: f.transport === 'grpc' ? 'grpc' : f.shared === true ? 'shared' : 'disjoint',
        live: liveSeries(f),
        points:
          median('jobmeter', (l) => l.pointsPerSecond) /
          median('collector', (l) => l.pointsPerSecond),
        rss: median('jobmeter', perLive) / median('collector', perLive),
        added: median('jobmeter', addedPerLive) / median('collector', addedPerLive),
        refused: {
          jobmeter: sum('jobmeter', (l) => l.refused),
          collector: sum('collector', (l) => l.refused),
        },
        rejected: {
          jobmeter: sum('jobmeter', (l) => l.rejectedPoints),
          collector: sum('collector', (l) => l.rejectedPoints),
        },
      };
    });
    type Row = (typeof per)[number];
    const listOf = (some: readonly Row[], v: (x: Row) => string) =>
      some.map((x) => `${x.fleet} ${v(x)}`).join(', ');
    // Each shape's rows, over its fleets: the worst fleet decides. A shape this run did not load
    // keeps its rows as the last run left them.
    const rowsOf = (prefix: string, some: readonly Row[]): TargetResult[] => {
      if (some.length === 0) return [];
      // RSS per 100k live series is judged where that many are live: below, a process's start-up
      // (a Node process that imports the SDK alone holds half the Collector's RSS at 11k series)
      // outweighs what the series cost, and the ratio measures runtimes, not series (bench/README.md).
      const judged = some.filter((x) => x.live >= RSS_JUDGED_FROM);
      const notJudged = some.filter((x) => x.live < RSS_JUDGED_FROM);
      return [
        {
          id: `${prefix}-points`,
          measured: `jobmeter ÷ Collector data points/s: ${listOf(some, (x) => ratio(x.points))}`,
          met: some.every((x) => x.points >= 2),
        },
        {
          id: `${prefix}-rss`,
          measured:
            `jobmeter ÷ Collector RSS per 100k live series: ${listOf(judged, (x) => ratio(x.rss))}` +
            (notJudged.length === 0
              ? ''
              : `; under ${num(RSS_JUDGED_FROM, 0)} live series, not judged: ${listOf(notJudged, (x) => ratio(x.rss))}`) +
            ` (above idle RSS, not the target's measure: ${listOf(some, (x) => ratio(x.added))})`,
          met: judged.length > 0 && judged.every((x) => x.rss <= 0.5),
        },
      ];
    };
    const taken = per.filter((x) => x.refused.collector === 0 && x.rejected.collector === 0);
    const rejected = per.some((x) => x.rejected.jobmeter + x.rejected.collector > 0);
    return [
      ...rowsOf(
        'ingest',
        per.filter((x) => x.shape === 'disjoint'),
      ),
      ...rowsOf(
        'ingest-shared',
        per.filter((x) => x.shape === 'shared'),
      ),
      ...rowsOf(
        'ingest-grpc',
        per.filter((x) => x.shape === 'grpc'),
      ),
      {
        id: 'ingest-no-503',
        measured:
          `requests refused over all repeats, jobmeter / Collector: ${listOf(per, (x) => `${x.refused.jobmeter} / ${x.refused.collector}`)}` +
          (rejected
            ? `; points rejected (partial_success): ${listOf(per, (x) => `${num(x.rejected.jobmeter, 0)} / ${num(x.rejected.collector, 0)}`)}`
            : '; no point rejected'),
        met:
          taken.length > 0 &&
          taken.every((x) => x.refused.jobmeter === 0 && x.rejected.jobmeter === 0),
      },
    ];
  },
};

if (isMain(import.meta.url)) await cli(import.meta.url, scenario);
