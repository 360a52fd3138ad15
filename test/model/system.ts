/**
 * The real side of the model-based fault test: a `jobmeter serve` child with its ingest on, at fixed
 * ports and a state directory on a small tmpfs of its own (so a restart finds its state, and the
 * disk can be made read-only), its wall clock under libfaketime; and senders that push as an SDK
 * would (cumulative totals kept in the sender, delta windows, levels), each over its transport:
 * OTLP/HTTP with a JSON body, or OTLP/gRPC with the same request as protobuf. Nothing here knows
 * what serve should answer: that is model.ts.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { request } from 'node:http';
import { existsSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { Metadata, status as GrpcStatus } from '@grpc/grpc-js';
import { start, START_MS, EXIT_MS, type Running } from '../cli/harness.ts';
import { steppedClockEnv, stepTo } from '../support/faketime.ts';
import { freePort } from '../support/free-port.ts';
import { unaryCall } from '../support/grpc-call.ts';
import { otlpMetricsSchema } from '../support/otlp-receiver.ts';
import { decodeExportResponse } from '../support/otlp-response.ts';
import { fillDisk, mountSmallDisk, unmountSmallDisk } from '../support/small-disk.ts';
import {
  emptyBuckets,
  INSTRUMENTS,
  KEYS,
  type Buckets,
  type Key,
  type Point,
  type Temporality,
} from './model.ts';

export const EXPIRY_MS = 6000;
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FLOOD = join(ROOT, 'test/e2e/slow-body-flood.ts');

/** How a sender exports: OTLP/HTTP (JSON) to the ingest's port, or OTLP/gRPC to its `grpc_port`. */
export const TRANSPORTS = ['http', 'grpc'] as const;
export type Transport = (typeof TRANSPORTS)[number];

/**
 * An export's answer: the code serve's telemetry counts it under (`jobmeter_ingest_requests_total`'s
 * `code`: the HTTP status, or the gRPC status code), and the points its `partial_success` refused.
 */
export interface PushAnswer {
  readonly code: string;
  readonly rejected: number;
}

/** The codes of the answers the model predicts, by transport. */
export const ANSWER_CODES = {
  http: { accepted: '200', unauthorized: '401', shed: '503' },
  grpc: {
    accepted: String(GrpcStatus.OK),
    unauthorized: String(GrpcStatus.UNAUTHENTICATED),
    shed: String(GrpcStatus.UNAVAILABLE),
  },
} as const satisfies Record<Transport, Record<string, string>>;

export interface ServeSettings {
  readonly token: string;
  /** The naming profile (`otel` by default); the senders' instruments are served natively under each. */
  readonly profile?: string;
  /** Where `[otlp]` pushes (a Collector's OTLP/HTTP port), and under which naming. */
  readonly push?: { readonly port: number; readonly naming: 'profile' | 'canonical' };
  /** `otel_scope_info = false`: the scope labels left out, one instrument's scopes served as one. */
  readonly scopeLabels?: false;
}

/** serve's push interval: a step's check waits for a push or two. */
export const PUSH_INTERVAL_MS = 500;

/** One `jobmeter serve` across restarts: same ports, same state directory. */
export class Serve {
  readonly dir: string;
  private readonly config: string;
  private readonly clockFile: string;
  running: Running | undefined;
  private reloads = 0;
  private clockEnv: Record<string, string> | undefined;

  readonly ingestPort: number;
  readonly grpcPort: number;
  readonly pullPort: number;
  readonly telemetryPort: number;

  private constructor(
    ingestPort: number,
    grpcPort: number,
    pullPort: number,
    telemetryPort: number,
  ) {
    this.ingestPort = ingestPort;
    this.grpcPort = grpcPort;
    this.pullPort = pullPort;
    this.telemetryPort = telemetryPort;
    this.dir = mountSmallDisk('64m');
    this.config = join(this.dir, '..', `${this.dir.split('/').pop()!}.toml`);
    this.clockFile = join(this.dir, '..', `${this.dir.split('/').pop()!}.clock`);
  }

  private settings: ServeSettings = { token: '' };

  /**
   * A serve on four free ports. Another process may take a port between freePort() and serve's
   * bind: that start is tried again on new ports (three times at most), as startCollector does.
   */
  static async create(settings: ServeSettings): Promise<Serve> {
    for (let attempt = 1; ; attempt++) {
      const serve = new Serve(
        await freePort(),
        await freePort(),
        await freePort(),
        await freePort(),
      );
      serve.writeConfig(settings);
      try {
        await serve.start();
        return serve;
      } catch (err) {
        await serve.stop();
        if (attempt >= 3 || !/EADDRINUSE|address already in use/i.test(String(err))) throw err;
      }
    }
  }

  writeConfig(settings: ServeSettings): void {
    this.settings = settings;
    const { token, profile = 'otel', push, scopeLabels } = settings;
    writeFileSync(
      this.config,
      [
        'process_metrics = false',
        `profile = "${profile}"`,
        ...(scopeLabels === false ? ['otel_scope_info = false'] : []),
        '[listener]',
        `port = ${this.pullPort}`,
        '[ingest]',
        'enabled = true',
        `port = ${this.ingestPort}`,
        `grpc_port = ${this.grpcPort}`,
        `state_dir = "${join(this.dir, 'state')}"`,
        `expiry_ms = ${EXPIRY_MS}`,
        `token = "${token}"`,
        '[telemetry]',
        `listen = "127.0.0.1:${this.telemetryPort}"`,
        'enable_reload = true',
        ...(push === undefined
          ? []
          : [
              '[otlp]',
              `endpoint = "http://127.0.0.1:${push.port}"`,
              `interval_ms = ${PUSH_INTERVAL_MS}`,
              `naming = "${push.naming}"`,
            ]),
        '',
      ].join('\n'),
    );
  }

  async start(): Promise<void> {
    // The clock's offset is the world's: a restart keeps it (steppedClockEnv would set it to 0).
    this.clockEnv ??= steppedClockEnv(this.clockFile);
    const child = start(['serve', '--config', this.config], this.clockEnv);
    this.running = child;
    this.reloads = 0;
    await child.stderrMatches(/receiving OTLP\/HTTP metrics on/, START_MS);
    await child.stderrMatches(/receiving OTLP\/gRPC metrics on/, START_MS);
    await child.stderrMatches(/serving jobmeter's own telemetry on/, START_MS);
    await child.stderrMatches(/metrics on http:\/\/127\.0\.0\.1:\d+\/metrics/, START_MS);
  }

  /**
   * What this run of serve said it restored: its source series and how many of them are dormant
   * (state-keeper.ts's start-up line); undefined when it said neither (a file it could not use).
   */
  restored(): { streams: number; dormant: number } | undefined {
    const line = this.running!.stderr()
      .split('\n')
      .find((l) => l.includes('ingest state: '));
    if (line?.includes('none yet') === true) return { streams: 0, dormant: 0 };
    const streams = /restored \d+ series \((\d+) source series/.exec(line ?? '')?.[1];
    if (streams === undefined) return undefined;
    const dormant = /; (\d+) source series dormant/.exec(line!)?.[1] ?? '0';
    return { streams: Number(streams), dormant: Number(dormant) };
  }

  /** What the run {@link restart} stopped wrote on stderr. */
  stoppedStderr = '';

  /** Stops serve by `signal` and starts it again on the same ports and state. */
  async restart(
    signal: 'SIGTERM' | 'SIGKILL',
    whileDown: () => Promise<void> = () => Promise.resolve(),
  ): Promise<number | string> {
    const running = this.running!;
    running.child.kill(signal);
    const code = await running.exited(EXIT_MS);
    this.stoppedStderr = running.stderr();
    await whileDown();
    await this.start();
    return code;
  }

  /**
   * Rewrites the configuration with `token` and has serve re-read it, by SIGHUP or by
   * `POST /-/reload`: resolves with the re-read's line once serve has said it.
   */
  async reload(token: string, via: 'SIGHUP' | 'endpoint'): Promise<string> {
    this.writeConfig({ ...this.settings, token });
    const running = this.running!;
    const n = ++this.reloads;
    if (via === 'SIGHUP') running.child.kill('SIGHUP');
    else {
      const res = await fetch(`http://127.0.0.1:${this.telemetryPort}/-/reload`, {
        method: 'POST',
      });
      assert.equal(res.status, 200, `POST /-/reload: ${res.status} ${await res.text()}`);
    }
    const line = new RegExp(`(?:[^\\n]*configuration re-read[^\\n]*\\n[\\s\\S]*?){${n}}`);
    await running.stderrMatches(line, START_MS);
    const lines = running
      .stderr()
      .split('\n')
      .filter((l) => l.includes('configuration re-read'));
    return lines[n - 1] ?? '';
  }

  /** When the state file was last written (its mtime, ms; 0: none yet). */
  stateWritten(): number {
    const dir = join(this.dir, 'state');
    let newest = 0;
    for (const name of existsSync(dir) ? readdirSync(dir) : [])
      if (name.endsWith('.state'))
        newest = Math.max(
          newest,
          statSync(join(dir, name), { throwIfNoEntry: false })?.mtimeMs ?? 0,
        );
    return newest;
  }

  /** The state disk read-only, or full (a file fills it), or as it was. */
  failDisk(how: 'read-only' | 'full'): void {
    if (how === 'full') fillDisk(this.dir);
    else this.remount('ro');
  }

  healDisk(): void {
    this.remount('rw');
    rmSync(join(this.dir, 'filler'), { force: true });
  }

  /** serve's wall clock, `seconds` from the real one (the monotonic clock is untouched). */
  stepClock(seconds: number): void {
    stepTo(this.clockFile, seconds);
  }

  /** The state disk read-only, or writable again. */
  remount(mode: 'ro' | 'rw'): void {
    execFileSync('mount', ['-o', `remount,${mode}`, this.dir]);
  }

  async stop(): Promise<void> {
    const running = this.running;
    if (
      running !== undefined &&
      running.child.exitCode === null &&
      running.child.signalCode === null
    ) {
      running.child.kill('SIGKILL');
      await running.exited(EXIT_MS).catch(() => undefined);
    }
    try {
      this.remount('rw');
    } catch {
      // already writable, or never mounted
    }
    unmountSmallDisk(this.dir);
  }

  /**
   * One scrape of the pull endpoint (text format): the ingested series, `name{k="…"}` → value, and
   * the refused points it counts (`jobmeter_ingest_refused_total`), reason → value.
   */
  async scrape(): Promise<{ series: Map<string, number>; refused: Map<string, number> }> {
    const url = `http://127.0.0.1:${this.pullPort}/metrics`;
    const text = await scrapeText(url);
    const refused = new Map<string, number>();
    for (const [, labels, value] of text.matchAll(
      /^jobmeter_ingest_refused_total\{([^}]*)\} (\S+)$/gm,
    )) {
      const reason = /(?:^|,)reason="([^"]*)"/.exec(labels!)?.[1] ?? '';
      assert.ok(
        !refused.has(reason),
        `jobmeter_ingest_refused_total{reason="${reason}"} served twice`,
      );
      refused.set(reason, Number(value));
    }
    return { series: modelSeries(text, url), refused };
  }

  /** serve's own telemetry: series text → value. */
  async telemetry(): Promise<Map<string, number>> {
    const res = await get(`http://127.0.0.1:${this.telemetryPort}/metrics`, {
      headers: { accept: 'text/plain' },
    });
    const out = new Map<string, number>();
    for (const line of (await res.text()).split('\n')) {
      const m = /^(jobmeter_ingest_\S+) (\S+)$/.exec(line);
      if (m !== null) out.set(m[1]!, Number(m[2]));
    }
    return out;
  }

  /**
   * A slow-body flood on the ingest (test/e2e/slow-body-flood.ts, a process of its own): `count`
   * connections that send headers (with the token in force: senders the gate admits, stalled) and
   * one body byte, from 127.0.0.1 (`addresses` 0) or from `addresses` other loopback addresses. Resolves once they are all holding; call the result to end it.
   */
  async flood(count: number, addresses: number, token: string): Promise<() => Promise<void>> {
    const flood = spawn(
      join(ROOT, 'node_modules/.bin/node'),
      [FLOOD, String(this.ingestPort), String(count), String(addresses), '/v1/metrics', token],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    flood.stdout.setEncoding('utf8');
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`the flood did not hold ${count} connections`)),
        START_MS,
      );
      flood.stdout.on('data', (d: string) => {
        out += d;
        if (out.includes('holding')) {
          clearTimeout(timer);
          resolve();
        }
      });
      flood.once('exit', () => reject(new Error(`the flood exited: ${out}`)));
    });
    return async () => {
      const exited = new Promise((resolve) => flood.once('exit', resolve));
      flood.kill('SIGTERM');
      await exited;
      // Connections the flood opened that serve has not accepted yet wait in the listen backlog,
      // their headers sent: serve reads them when it accepts them, by the token then in force, so
      // a reload after this would refuse them (401s no sender made). One more connection, behind
      // them in the backlog, answered: serve has taken them all (shed, it is sent again).
      for (let attempt = 0; ; attempt++)
        try {
          await this.#behindBacklog(token);
          return;
        } catch (err) {
          if (attempt === 2) throw err;
        }
    };
  }

  /** An empty push over a connection of its own (see flood). */
  #behindBacklog(token: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const req = request(
        {
          port: this.ingestPort,
          host: '127.0.0.1',
          path: '/v1/metrics',
          method: 'POST',
          agent: false,
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        },
        (res) => res.resume().once('end', resolve),
      );
      req.once('error', reject);
      req.end('{"resourceMetrics":[]}');
    });
  }

  async ready(): Promise<{ status: number; body: string }> {
    const res = await get(`http://127.0.0.1:${this.pullPort}/ready`);
    return { status: res.status, body: await res.text() };
  }

  /**
   * Exports an OTLP/JSON request over `transport`: POSTed as it is, or as protobuf in a gRPC call.
   * A connection the listener closed before answering, or a shed export (503, UNAVAILABLE), is
   * retried as an SDK's exporter retries: twice at most.
   */
  async push(body: string, token: string, transport: Transport = 'http'): Promise<PushAnswer> {
    for (let attempt = 0; ; attempt++) {
      let answer: PushAnswer;
      try {
        answer = await (transport === 'http' ? this.#post(body, token) : this.#call(body, token));
      } catch (err) {
        if (attempt < 2) continue;
        throw err;
      }
      if (answer.code === ANSWER_CODES[transport].shed && attempt < 2) {
        await sleep(200);
        continue;
      }
      return answer;
    }
  }

  async #post(body: string, token: string): Promise<PushAnswer> {
    const res = await fetch(`http://127.0.0.1:${this.ingestPort}/v1/metrics`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body,
    });
    const text = await res.text();
    const rejected =
      res.status === 200 && text.length > 0
        ? (decodeExportResponse(Buffer.from(text), 'json')?.rejectedDataPoints ?? 0)
        : 0;
    return { code: String(res.status), rejected };
  }

  /** A unary `MetricsService/Export` on a connection of its own, as a new exporter opens one. */
  async #call(body: string, token: string): Promise<PushAnswer> {
    const { request } = otlpMetricsSchema();
    const message = request.encode(request.fromObject(JSON.parse(body))).finish();
    const metadata = new Metadata();
    metadata.set('authorization', `Bearer ${token}`);
    const { response, error } = await unaryCall(this.grpcPort, message, {
      metadata,
      deadlineMs: START_MS,
    });
    return error === undefined
      ? {
          code: ANSWER_CODES.grpc.accepted,
          rejected: decodeExportResponse(response!, 'protobuf')?.rejectedDataPoints ?? 0,
        }
      : { code: String(error.code), rejected: 0 };
  }
}

/**
 * A GET, as a scraper makes it: a kept-alive connection the server closed (a restarted serve is
 * a new process on the same port) fails the first try; a second on a new connection must answer.
 */
async function get(url: string, init: RequestInit = {}): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch {
    return fetch(url, init);
  }
}

/** The senders' series at a Prometheus endpoint (serve's or a Collector's), `name{k="…"}` → value. */
export async function scrapeModelSeries(url: string): Promise<Map<string, number>> {
  return modelSeries(await scrapeText(url), url);
}

async function scrapeText(url: string): Promise<string> {
  const res = await get(url, { headers: { accept: 'text/plain' } });
  assert.equal(res.status, 200, `${url} answered ${res.status}`);
  return res.text();
}

/**
 * A scrape of `url` held to the model: each serves what `expected()` says (what every source
 * counted, once), and no counter went back from the scrape before.
 */
export function modelScrapes(
  url: string,
  expected: () => Map<string, number>,
): (when: string) => Promise<void> {
  let last: Map<string, number> | undefined;
  return async (when) => {
    const read = await scrapeModelSeries(url);
    assert.deepEqual(
      Object.fromEntries(read),
      Object.fromEntries(expected()),
      `${when}: what every source counted, once`,
    );
    for (const [series, was] of last ?? [])
      assert.ok(
        (read.get(series) ?? was) >= was,
        `${when}: ${series} went back, ${was} then ${read.get(series)}`,
      );
    last = read;
  };
}

/** The senders' series in the text `url` served. */
function modelSeries(text: string, url: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^(model_[a-z_]+)\{([^}]*)\} (\S+)/.exec(line);
    if (m === null) continue;
    const k = /(?:^|,)k="([^"]*)"/.exec(m[2]!)?.[1];
    const le = /(?:^|,)le="([^"]*)"/.exec(m[2]!)?.[1];
    // `le` as a number reads it ("1.0" in OpenMetrics and Prometheus 3 is "1").
    const bound = le === undefined ? '' : `,le="${le === '+Inf' ? le : String(Number(le))}"`;
    const label = `${m[1]!}{k="${k ?? ''}"${bound}}`;
    assert.ok(!out.has(label), `${label} served twice at ${url}`);
    out.set(label, Number(m[3]));
  }
  return out;
}

const nowNanos = (): bigint => BigInt(Date.now()) * 1_000_000n;

/** A daemon that records with an OTel SDK and exports OTLP: its own totals, its own start time. */
/** The histogram's two bucket layouts: a sender reconfigured at a restart takes the other. */
export const LAYOUTS: readonly (readonly number[])[] = [
  [1, 5],
  [1, 2, 5],
];

export class Sender {
  instanceId: string;
  private start = nowNanos();
  private totals = new Map<Key, number>(KEYS.map((k) => [k, 0]));
  private histograms = new Map<Key, Buckets>();
  private windowEnd = this.start;
  private restarts = 0;
  /** How it exports `model.events` and `model.latency`, its histogram's layout and its transport: a restart may change each. */
  private temporality: Temporality;
  private layout = 0;
  transport: Transport;
  /** The last delta export, to send again as a retrying exporter would. */
  lastDelta: { body: string; points: Point[]; start: bigint; end: bigint } | undefined;

  readonly slot: number;
  /** The instrumentation scope it exports under. */
  readonly scope: string;

  constructor(
    slot: number,
    transport: Transport = 'http',
    temporality: Temporality = 'cumulative',
    scope = 'model',
  ) {
    this.slot = slot;
    this.scope = scope;
    this.instanceId = `sender-${slot}`;
    this.transport = transport;
    this.temporality = temporality;
  }

  get resource(): string {
    return `modeld/${this.instanceId}`;
  }

  /**
   * The process restarts: its counters start from zero, with a new start time; `reconfigured`, it
   * comes back exporting `model.events` and its histogram with the other temporality (one exporter
   * setting), over the other transport; `relayout`, its histogram in the other layout (a view's).
   */
  restart(newInstanceId: boolean, reconfigured = false, relayout = reconfigured): void {
    this.restarts++;
    if (newInstanceId) this.instanceId = `sender-${this.slot}-r${this.restarts}`;
    if (reconfigured) {
      this.temporality = this.temporality === 'cumulative' ? 'delta' : 'cumulative';
      this.transport = this.transport === 'http' ? 'grpc' : 'http';
    }
    if (relayout) this.layout = 1 - this.layout;
    this.start = nowNanos();
    this.totals = new Map(KEYS.map((k) => [k, 0]));
    this.histograms = new Map();
    this.windowEnd = this.start;
  }

  /**
   * One export: for each key in `keys`, `add` more events (the counter's total or window, the delta
   * window), the level `level`, and `add` observations of `level % 7` in the histogram (its totals
   * or the window's, as the counter).
   */
  async export(
    keys: readonly Key[],
    add: number,
    level: number,
  ): Promise<{ body: string; points: Point[] }> {
    await sleep(2); // a window has a length
    const time = nowNanos();
    const points: Point[] = [];
    const window = { startTimeUnixNano: String(this.windowEnd), timeUnixNano: String(time) };
    const since = { startTimeUnixNano: String(this.start), timeUnixNano: String(time) };
    const metrics = INSTRUMENTS.map((instrument) => {
      const dataPoints = keys.map((key) => {
        const attributes = [{ key: 'k', value: { stringValue: key } }];
        if (instrument.kind === 'counter' && this.temporality === 'cumulative') {
          const total = this.totals.get(key)! + add;
          this.totals.set(key, total);
          points.push({ instrument, key, value: total, temporality: 'cumulative' });
          return { attributes, ...since, asInt: String(total) };
        }
        if (instrument.kind === 'counter' || instrument.kind === 'delta') {
          points.push({ instrument, key, value: add, temporality: 'delta' });
          return { attributes, ...window, asInt: String(add) };
        }
        if (instrument.kind === 'histogram') {
          const bounds = LAYOUTS[this.layout]!;
          const delta = this.temporality === 'delta';
          // A window's observations; a cumulative sender adds them to its totals.
          const before = delta
            ? emptyBuckets(bounds)
            : (this.histograms.get(key) ?? emptyBuckets(bounds));
          const observed = level % 7;
          const at = bounds.findIndex((b) => observed <= b);
          const counts = before.counts.map(
            (c, i) => c + (i === (at === -1 ? bounds.length : at) ? add : 0),
          );
          const buckets = { bounds, counts, sum: before.sum + add * observed };
          this.histograms.set(key, buckets);
          points.push({ instrument, key, value: 0, temporality: this.temporality, buckets });
          return {
            attributes,
            ...(delta ? window : since),
            count: String(counts.reduce((x, y) => x + y, 0)),
            sum: buckets.sum,
            bucketCounts: counts.map(String),
            explicitBounds: bounds,
          };
        }
        points.push({ instrument, key, value: level });
        return { attributes, timeUnixNano: String(time), asDouble: level };
      });
      if (instrument.kind === 'gauge') return { name: instrument.name, gauge: { dataPoints } };
      const delta = instrument.kind === 'delta' || this.temporality === 'delta';
      if (instrument.kind === 'histogram')
        return {
          name: instrument.name,
          histogram: { aggregationTemporality: delta ? 1 : 2, dataPoints },
        };
      return {
        name: instrument.name,
        sum: { aggregationTemporality: delta ? 1 : 2, isMonotonic: true, dataPoints },
      };
    });
    const start = this.windowEnd;
    this.windowEnd = time;
    const body = this.body(metrics);
    const deltaMetrics = metrics.filter((m) => m.name === 'model.delta_events');
    this.lastDelta = {
      body: this.body(deltaMetrics),
      points: points.filter((p) => p.instrument.kind === 'delta'),
      start,
      end: time,
    };
    return { body, points };
  }

  /** Two delta windows, the later one's body first (an exporter's queue drained after an outage). */
  async lateDeltas(
    keys: readonly Key[],
    first: number,
    second: number,
  ): Promise<{ body: string; points: Point[] }[]> {
    await sleep(2);
    const from = this.windowEnd;
    const middle = nowNanos();
    await sleep(2);
    const to = nowNanos();
    const window = (start: bigint, end: bigint, add: number) =>
      this.deltaWindow(keys, start, end, add);
    this.windowEnd = to;
    return [window(middle, to, second), window(from, middle, first)];
  }

  /**
   * Two delta windows, as an exporter that lost a window and then sent one it should not have: the
   * first starts a while after the last one ends (the span between stays open for a late window),
   * the second covers the later half of that span and the start of the first (it would count some
   * increments twice). Their bodies and points, in the order sent; the windows go on after the first.
   */
  async overlapping(
    keys: readonly Key[],
    add: number,
  ): Promise<{ body: string; points: Point[] }[]> {
    const from = this.windowEnd;
    await sleep(4);
    const skipped = nowNanos();
    await sleep(4);
    const to = nowNanos();
    this.windowEnd = to;
    const window = (start: bigint, end: bigint) => this.deltaWindow(keys, start, end, add);
    return [window(skipped, to), window((from + skipped) / 2n, (skipped + to) / 2n)];
  }

  private deltaWindow(
    keys: readonly Key[],
    start: bigint,
    end: bigint,
    add: number,
  ): { body: string; points: Point[] } {
    const instrument = INSTRUMENTS.find((i) => i.kind === 'delta')!;
    return {
      body: this.body([
        {
          name: instrument.name,
          sum: {
            aggregationTemporality: 1,
            isMonotonic: true,
            dataPoints: keys.map((key) => ({
              attributes: [{ key: 'k', value: { stringValue: key } }],
              startTimeUnixNano: String(start),
              timeUnixNano: String(end),
              asInt: String(add),
            })),
          },
        },
      ]),
      points: keys.map((key) => ({ instrument, key, value: add, temporality: 'delta' as const })),
    };
  }

  private body(metrics: unknown[]): string {
    return JSON.stringify({
      resourceMetrics: [
        {
          resource: {
            attributes: [
              { key: 'service.name', value: { stringValue: 'modeld' } },
              { key: 'service.instance.id', value: { stringValue: this.instanceId } },
            ],
          },
          scopeMetrics: [{ scope: { name: this.scope }, metrics }],
        },
      ],
    });
  }
}
