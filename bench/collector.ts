/**
 * OTLP in, Prometheus out: the real OpenTelemetry Collector (the pinned build of
 * scripts/build-test-peers.sh, started as test/support/collector.ts starts it: `otlp` receiver →
 * `prometheus` exporter) against jobmeter doing the same job (ingest-server.ts: `createJobmeter`
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
 * And **under load** (the `*-load` jobs): 10 senders at once, each pushing its own batch of the
 * 11,000-series mix (its own host names, so 110,000 live series in all) over and over for 10 s
 * after a 3 s warm-up window:
 * data points accepted per second, the server's CPU seconds per million data points and its
 * resident set with the 110,000 series live.
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
import { bytes, cli, isMain, log, markdownTable, num, spread, stats, type Job, type Scenario } from './harness.ts';
import type { IngestServerReady } from './ingest-server.ts';
import { countBenchSamples, hostNames, referenceLayout, sampleLines, setUp, type Layout, type SizePlan } from './series.ts';

type Contender = 'jobmeter' | 'collector';
const CONTENDERS: readonly Contender[] = ['jobmeter', 'collector'];
const LABEL: Readonly<Record<Contender, string>> = {
  jobmeter: 'jobmeter ingest → pull listener',
  collector: 'Collector `otlp` → `prometheus` exporter',
};

interface LoadPlan {
  /** Concurrent senders, each with its own batch. */
  readonly senders: number;
  /** Counter series per batch; histograms get a tenth. */
  readonly n: number;
  readonly seconds: number;
}

interface Params {
  readonly sizes: readonly SizePlan[];
  /** Timed scrapes after each push. */
  readonly scrapes: number;
  readonly load: LoadPlan;
}

type Arg =
  | (SizePlan & { readonly kind: 'push'; readonly contender: Contender; readonly scrapes: number })
  | (LoadPlan & { readonly kind: 'load'; readonly contender: Contender });

interface LoadResult {
  readonly pointsPerSecond: number;
  readonly requests: number;
  /** Requests answered with anything but 200. */
  readonly refused: number;
  readonly cpuSecondsPerMillion: number;
  readonly rss: number;
  readonly rssPeak: number;
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
  readonly load?: LoadResult;
}

interface Server {
  readonly otlpUrl: string;
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

async function startJobmeter(): Promise<Server> {
  const execArgv = INGEST_PROF === undefined || INGEST_PROF === '' ? [] : ['--cpu-prof', `--cpu-prof-dir=${INGEST_PROF}`];
  const child = fork(fileURLToPath(new URL('./ingest-server.ts', import.meta.url)), [], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ready = await new Promise<IngestServerReady>((resolve, reject) => {
    child.once('message', (m) => resolve(m as IngestServerReady));
    child.once('exit', (code) => reject(new Error(`ingest-server exited with ${code}`)));
  });
  const { VERSION } = await import('../src/index.ts');
  return {
    otlpUrl: `http://127.0.0.1:${ready.otlpPort}/v1/metrics`,
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

async function startOtelcol(): Promise<Server> {
  const collector = await startCollector({
    ports: ['otlp', 'prom'],
    config: (p) => ({
      receivers: { otlp: { protocols: { http: { endpoint: `127.0.0.1:${p.otlp}` } } } },
      exporters: { prometheus: { endpoint: `127.0.0.1:${p.prom}` } },
      service: { pipelines: { metrics: { receivers: ['otlp'], exporters: ['prometheus'] } } },
    }),
  });
  return {
    otlpUrl: `http://127.0.0.1:${collector.ports.otlp}/v1/metrics`,
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
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

/** The sum of every counter sample of the bench's families in an exposition (no timestamps in either). */
function counterSum(text: string): number {
  let sum = 0;
  for (const line of text.split('\n')) if (line.startsWith('bench_requests_')) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  return sum;
}

/** The payload source: the series on a plain SDK; each `next()` records 1% and serializes a cumulative export. */
async function payloads(layout: Layout, hosts: readonly string[]): Promise<() => Promise<{ body: Uint8Array; counterSum: number }>> {
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
      for (const m of sm.metrics) if (m.dataPointType === DataPointType.SUM) for (const dp of m.dataPoints) sum += dp.value as number;
    }
    const body = ProtobufMetricsSerializer.serializeRequest(resourceMetrics);
    if (body === undefined) throw new Error('payload: the serializer returned nothing');
    return { body, counterSum: sum };
  };
}

async function push(url: string, body: Uint8Array): Promise<void> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body, signal: AbortSignal.timeout(60_000) });
  const answer = await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`push: status ${res.status}: ${Buffer.from(answer).toString('utf8').slice(0, 500)}`);
}

async function scrape(url: string): Promise<string> {
  const res = await fetch(url, { headers: { accept: 'text/plain;version=0.0.4' }, signal: AbortSignal.timeout(60_000) });
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
    const result = { pushMs: [] as number[], visibleMs: [] as number[], polls: [] as number[], scrapeMs: [] as number[], payloadBytes: 0, bodyBytes: 0 };
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
        if (polls >= MAX_POLLS) throw new Error(`${arg.contender}@${arg.n}: the push of round ${r} never showed (counter sum ${counterSum(text)}, pushed ${payload.counterSum})`);
      }
      for (let s = 0; s < arg.scrapes; s++) {
        const t = performance.now();
        const text = await scrape(server.pullUrl);
        const ms = performance.now() - t;
        const lines = countBenchSamples(text);
        if (lines !== want) throw new Error(`${arg.contender}@${arg.n}: ${lines} sample lines, expected ${want}`);
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
    const done: Result = { ...result, version: server.version, cpuMsPerRound: (cpuMs(server.pid) - cpu0) / arg.runs, rss: mem.rss, rssPeak: mem.peak };
    log(
      `    ${arg.contender}@${arg.n}: push→body ${done.visibleMs.map((x) => x.toFixed(0)).join(' ')} ms, scrapes ${done.scrapeMs.map((x) => x.toFixed(0)).join(' ')} ms, RSS ${bytes(done.rss)}`,
    );
    return done;
  } finally {
    await server.close();
  }
}

const LOAD_WARMUP_SECONDS = 3;

/** Every batch pushed by a sender of its own, back to back, for `seconds`; counts the answers. */
async function pushFor(url: string, batches: readonly Uint8Array[], seconds: number): Promise<{ requests: number; refused: number }> {
  const end = performance.now() + seconds * 1000;
  let requests = 0;
  let refused = 0;
  await Promise.all(
    batches.map(async (body) => {
      while (performance.now() < end) {
        const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body, signal: AbortSignal.timeout(60_000) });
        await res.arrayBuffer();
        if (res.status === 200) requests++;
        else refused++;
      }
    }),
  );
  return { requests, refused };
}

/** The load: every sender's batch built and serialized first, then all of them pushing at once for `seconds`. */
async function measureLoad(arg: LoadPlan & { readonly contender: Contender }): Promise<Result> {
  const layout = referenceLayout(arg.n);
  const hosts = hostNames(arg.n);
  const batches: Uint8Array[] = [];
  for (let k = 0; k < arg.senders; k++) {
    const built = (await setUp('otel', layout)).populate(hosts.map((h) => `s${k}-${h}`));
    if (built.contender !== 'otel') throw new Error('unreachable');
    const { resourceMetrics } = await built.otel.exporter.collect();
    batches.push(ProtobufMetricsSerializer.serializeRequest(resourceMetrics)!);
    await built.otel.provider.shutdown();
  }
  const pointsPerBatch = layout.counters + layout.histograms;
  const server = arg.contender === 'collector' ? await startOtelcol() : await startJobmeter();
  try {
    // Every sender once, so every series is live; the scrape must show them all.
    await Promise.all(batches.map((b) => push(server.otlpUrl, b)));
    const want = arg.senders * sampleLines(layout);
    const lines = countBenchSamples(await scrape(server.pullUrl));
    if (lines !== want) throw new Error(`${arg.contender} load: ${lines} sample lines, expected ${want}`);
    // A warm-up window (the JITs of both ends), then the measured one.
    await pushFor(server.otlpUrl, batches, LOAD_WARMUP_SECONDS);
    const cpu0 = cpuMs(server.pid);
    const t0 = performance.now();
    const { requests, refused } = await pushFor(server.otlpUrl, batches, arg.seconds);
    const seconds = (performance.now() - t0) / 1000;
    const cpuSeconds = (cpuMs(server.pid) - cpu0) / 1000;
    const mem = memory(server.pid);
    const points = requests * pointsPerBatch;
    const load: LoadResult = {
      pointsPerSecond: points / seconds,
      requests,
      refused,
      cpuSecondsPerMillion: cpuSeconds / (points / 1e6),
      rss: mem.rss,
      rssPeak: mem.peak,
      liveSeries: arg.senders * pointsPerBatch,
    };
    log(`    ${arg.contender} load: ${num(load.pointsPerSecond, 0)} points/s, ${requests} requests (${refused} refused), ${load.cpuSecondsPerMillion.toFixed(2)} CPU s per million, RSS ${bytes(mem.rss)}`);
    return { payloadBytes: batches[0]!.length, bodyBytes: 0, pushMs: [], visibleMs: [], polls: [], scrapeMs: [], cpuMsPerRound: 0, rss: mem.rss, rssPeak: mem.peak, version: server.version, load };
  } finally {
    await server.close();
  }
}

function params(quick: boolean): Params {
  return quick
    ? { sizes: [{ n: 1_000, warmup: 3, runs: 2 }], scrapes: 2, load: { senders: 3, n: 1_000, seconds: 3 } }
    : {
        sizes: [
          { n: 10_000, warmup: 8, runs: 7 },
          { n: 100_000, warmup: 4, runs: 5 },
        ],
        scrapes: 3,
        load: { senders: 10, n: 10_000, seconds: 10 },
      };
}

const jobs = (p: Params): Job<Arg>[] => [
  ...p.sizes.flatMap((s) => CONTENDERS.map((contender): Job<Arg> => ({ id: `${contender}@${s.n}`, arg: { ...s, kind: 'push', contender, scrapes: p.scrapes } }))),
  ...CONTENDERS.map((contender): Job<Arg> => ({ id: `${contender}-load`, arg: { ...p.load, kind: 'load', contender } })),
];

function table(p: Params, results: ReadonlyMap<string, readonly Result[]>): string {
  const rows: string[][] = [];
  for (const size of p.sizes) {
    const layout = referenceLayout(size.n);
    const get = (c: Contender) => results.get(`${c}@${size.n}`)![0]!;
    const anchor = { visible: stats(get('collector').visibleMs).median, scrape: stats(get('collector').scrapeMs).median };
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
        (visible.median / anchor.visible).toFixed(2) + '× / ' + (scrapeStats.median / anchor.scrape).toFixed(2) + '×',
        num(r.cpuMsPerRound, 0),
        `${bytes(r.rss)} (peak ${bytes(r.rssPeak)})`,
        bytes(r.payloadBytes),
        bytes(r.bodyBytes),
      ]);
    }
  }
  const first = results.get(`collector@${p.sizes[0]!.n}`)![0]!;
  const loadOf = (c: Contender) => results.get(`${c}-load`)![0]!.load!;
  const cl = loadOf('collector');
  const loadRows = CONTENDERS.map((c) => {
    const l = loadOf(c);
    const perLive = (x: LoadResult) => (x.rss / x.liveSeries) * 100_000;
    return [
      LABEL[c],
      num(l.pointsPerSecond, 0),
      (l.pointsPerSecond / cl.pointsPerSecond).toFixed(2) + '×',
      `${num(l.requests, 0)} (${num(l.refused, 0)} refused)`,
      l.cpuSecondsPerMillion.toFixed(2),
      `${bytes(l.rss)} (peak ${bytes(l.rssPeak)})`,
      bytes(perLive(l)),
      (perLive(l) / perLive(cl)).toFixed(2) + '×',
    ];
  });
  const sizeRuns = p.sizes.map((s) => `${num(s.n, 0)}: ${s.runs} rounds after ${s.warmup} warm-up rounds`).join('; ');
  return [
    markdownTable(
      ['series (sample lines)', 'contender', 'push → scrape body, ms', 'push alone, ms', 'scrapes until shown', 'scrape of the re-exposed series, ms', '÷ Collector (push→body / scrape)', 'server CPU per round, ms', 'server RSS after', 'payload', 'body'],
      rows,
      ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
    ),
    '',
    `${first.version}. One process per contender and size, on loopback; every request one at a time (\`fetch\`). A round: 1% of the series recorded on the sender's SDK, its cumulative export serialized (protobuf, uncompressed, untimed), POSTed to \`/v1/metrics\`, then \`/metrics\` scraped until the sum of the counter samples equals the pushed sum ("push → scrape body": POST to that body's last byte), then ${p.scrapes} more scrapes timed to their last byte and checked for the expected sample lines. ${sizeRuns}. Median (min–max) over the timed rounds. Server CPU: the server process's user + system time over the timed rounds (10 ms ticks), per round (a push and its ${p.scrapes + 1}+ scrapes); RSS: its resident set after the last round (peak in brackets).`,
    '',
    markdownTable(['contender', 'data points/s', '÷ Collector', 'requests (refused)', 'CPU s per million points', 'server RSS after', 'RSS per 100k live series', '÷ Collector'], loadRows, ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r']),
    '',
    `Under load: ${p.load.senders} senders at once, each pushing its own ${num(referenceLayout(p.load.n).counters + referenceLayout(p.load.n).histograms, 0)}-series batch (${bytes(results.get('collector-load')![0]!.payloadBytes)}, protobuf, uncompressed; ${num(p.load.senders * (referenceLayout(p.load.n).counters + referenceLayout(p.load.n).histograms), 0)} live series in all) back to back for ${p.load.seconds} s, after one push each (checked on a scrape) and a ${LOAD_WARMUP_SECONDS} s warm-up window. Data points accepted per second (200s × points per batch); CPU: the server's user + system seconds over the window per million accepted points; RSS with every series live, and per 100,000 live series.`,
  ].join('\n');
}

export const scenario: Scenario<Params, Arg, Result> = {
  name: 'collector',
  title: 'OTLP in, Prometheus out: jobmeter ingest vs the OpenTelemetry Collector',
  params,
  jobs,
  measure,
  table,
};

if (isMain(import.meta.url)) await cli(import.meta.url, scenario);
