/**
 * The soak run: `jobmeter serve` with the ingest on, a real Prometheus scraping it every
 * second, an OTLP sender on the official SDK pushing every second with label churn
 * (churn-sender.ts) and a hostile sender cycling through hostile cases (hostile-sender.ts), for
 * 30 minutes, restarting `serve` every `--restart-every-s` (SIGTERM and SIGKILL in turn, same ports
 * and state directory). RSS (every second, from /proc), scrape latency and `up` (Prometheus' own
 * `scrape_duration_seconds` and `up`, every sample) are recorded and drawn; a summary, the chart
 * (soak.svg) and the samples (samples.csv: RSS and load each second; scrapes.csv: every scrape as
 * Prometheus stored it) are written to the output folder. Not part of `npm test`.
 *
 *   npm run soak                                   30 minutes, Prometheus 2.42, into docs/soak/
 *   npm run soak -- --minutes 2 --out /tmp/soak    a short run elsewhere
 *   npm run soak -- --prometheus 3                 the pinned Prometheus 3 instead
 *   npm run soak -- --model --minutes 30 --seed S  the model-based fault soak (test/model/soak-model.ts)
 *
 * With `--faults` (or a fault's own `--…-at-s`), faults a host really has are injected while the
 * senders go on, each for a stretch: the state directory on a small tmpfs that is filled
 * (a full disk) and then freed (test/support/small-disk.ts); `serve`'s wall clock stepped by
 * `--clock-step-s` and back (libfaketime's offset file, test/support/faketime.ts); a flood of
 * `--flood-connections` slow bodies on the ingest (test/e2e/slow-body-flood.ts). A restart due
 * during a fault waits for its end. A bookkeeping sender (ledger-sender.ts) and the churn sender
 * write down every point acknowledged; after the run and a `--settle-s` pause without load (RSS
 * read through it), every acknowledged counter value must be served ("nothing lost"): what a
 * SIGKILL is documented to lose (increments acknowledged after the last scrape before it) is
 * counted apart.
 *
 *   npm run soak -- --minutes 12 --restart-every-s 300 --faults --prometheus 3 --out docs/soak/faults
 *
 * Exits 1 when the run failed: `up` was 0 in any scrape outside a restart, `serve` died or did not
 * exit 0 on SIGTERM, a sender got a 5xx other than 503 or a connection error outside a restart,
 * the well-behaved sender had an export fail outside a restart (under the flood: more than 10%),
 * Prometheus saw a counter of the well-behaved senders go backwards (`resets()` > 0: a restart lost
 * state), an acknowledged counter value was not served, or a fault did not take effect.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { steppedClockEnv, stepTo } from '../support/faketime.ts';
import { startPrometheus, type PrometheusMajor } from '../support/prometheus.ts';
import { fillDisk, mountSmallDisk, unmountSmallDisk } from '../support/small-disk.ts';
import { chart } from './chart.ts';
import { DEFAULT_TASKS, startChurnSender } from './churn-sender.ts';
import { startHostileSender } from './hostile-sender.ts';
import { startLedgerSender, type Ack } from './ledger-sender.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'src/cli/bin.ts');
const FLOOD = join(ROOT, 'test/e2e/slow-body-flood.ts');
const START_TIMEOUT_MS = 20_000;
const SHUTDOWN_TIMEOUT_MS = 15_000;
/** When RSS is read after a max-size request's answer: past the decoding thread's retirement and V8's unmapping of its pages (~8 s). */
const AFTER_BIG_S = 20;

// `--model`: the model-based fault soak instead (test/model/soak-model.ts, its own flags).
if (process.argv.includes('--model')) {
  await import('../model/soak-model.ts');
  process.exit();
}

const { values: flags } = parseArgs({
  options: {
    minutes: { type: 'string', default: '30' },
    prometheus: { type: 'string', default: '2' },
    out: { type: 'string', default: join(ROOT, 'docs/soak') },
    'hostile-interval-ms': { type: 'string', default: '1000' },
    'max-size-every-s': { type: 'string', default: '60' },
    'restart-every-s': { type: 'string', default: '300' },
    faults: { type: 'boolean', default: false },
    'full-disk-at-s': { type: 'string' },
    'full-disk-for-s': { type: 'string' },
    'disk-size': { type: 'string', default: '64m' },
    'clock-step-at-s': { type: 'string' },
    'clock-step-for-s': { type: 'string' },
    'clock-step-s': { type: 'string', default: '400' },
    'flood-at-s': { type: 'string' },
    'flood-for-s': { type: 'string' },
    'flood-connections': { type: 'string', default: '300' },
    'settle-s': { type: 'string', default: '60' },
  },
});

function positive(name: string, text: string): number {
  const v = Number(text);
  if (!(v > 0) || !Number.isFinite(v)) {
    console.error(`soak: --${name}=${text}: expected a positive number`);
    process.exit(2);
  }
  return v;
}

const minutes = positive('minutes', flags.minutes);
const major = Number(flags.prometheus);
if (major !== 2 && major !== 3) {
  console.error(`soak: --prometheus=${flags.prometheus}: expected 2 or 3`);
  process.exit(2);
}
const outDir = resolve(flags.out);
const hostileInterval = positive('hostile-interval-ms', flags['hostile-interval-ms']);
const maxSizeEvery = positive('max-size-every-s', flags['max-size-every-s']) * 1000;
const restartEvery = positive('restart-every-s', flags['restart-every-s']) * 1000;
const settleMs = positive('settle-s', flags['settle-s']) * 1000;

type FaultName = 'full-disk' | 'clock-step' | 'flood';
interface Fault {
  readonly name: FaultName;
  /** From the start of the load, and for how long (ms). */
  readonly at: number;
  readonly for: number;
  started?: number;
  ended?: number;
  /** What was seen of it, for the summary. */
  readonly notes: string[];
}
/**
 * The faults asked for: each one's own flags, else with `--faults` a stretch of the run (a
 * fraction of it), placed apart from one another: the full disk from 1/8 to 1/4, the clock step
 * from 0.45 for 0.08, the flood from 0.6 for 0.15 (for 12 minutes: 1.5–3.0, 5.4–6.4, 7.2–9.0).
 */
const faults: Fault[] = (
  [
    ['full-disk', 0.125, 0.125],
    ['clock-step', 0.45, 0.08],
    ['flood', 0.6, 0.15],
  ] as const
).flatMap(([name, at, length]) => {
  const atFlag = flags[`${name}-at-s`];
  if (atFlag === undefined && !flags.faults) return [];
  const forFlag = flags[`${name}-for-s`];
  return [
    {
      name,
      at: atFlag === undefined ? at * minutes * 60_000 : positive(`${name}-at-s`, atFlag) * 1000,
      for:
        forFlag === undefined
          ? length * minutes * 60_000
          : positive(`${name}-for-s`, forFlag) * 1000,
      notes: [],
    },
  ];
});
const fault = (name: FaultName): Fault | undefined => faults.find((f) => f.name === name);
const clockStep = positive('clock-step-s', flags['clock-step-s']);
const floodConnections = positive('flood-connections', flags['flood-connections']);

/** After a restart, the senders' errors and Prometheus' failed scrapes are excused this long past the new process's first line. */
const RESTART_GRACE_MS = 3_000;

const log = (m: string): void => void process.stderr.write(`soak: ${m}\n`);

// ---------------------------------------------------------------------------------------------
// jobmeter serve

interface Serve {
  pid: number;
  /** Whether `stop()` was called (an exit after that is not a death). */
  stopping(): boolean;
  pullPort: number;
  ingestPort: number;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr(): string;
  stop(
    signal?: NodeJS.Signals,
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
}

/** A port free now (the kernel's pick), so that every restart of `serve` listens where Prometheus and the senders look. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const { port } = server.address() as { port: number };
  await new Promise<void>((res) => server.close(() => res()));
  return port;
}

async function startServe(
  dir: string,
  fixed: { pull: number; ingest: number; telemetry: number },
  stateDir: string,
  clockEnv: Record<string, string>,
): Promise<Serve> {
  const config = join(dir, 'jobmeter.toml');
  writeFileSync(
    config,
    [
      '[listener]',
      `port = ${fixed.pull}`,
      '[ingest]',
      'enabled = true',
      `port = ${fixed.ingest}`,
      '[telemetry]',
      `listen = "127.0.0.1:${fixed.telemetry}"`,
      '',
    ].join('\n'),
  );
  // The state file lives where systemd would put it, so restarts keep the counters.
  const env = { ...process.env, STATE_DIRECTORY: stateDir, ...clockEnv };
  const child = spawn(process.execPath, [BIN, 'serve', '--config', config], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env,
  });
  let tail = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
    child.once('exit', (code, signal) => res({ code, signal })),
  );
  const ports = new Promise<[number, number]>((res, rej) => {
    let pull: number | undefined;
    let ingest: number | undefined;
    createInterface({ input: child.stderr }).on('line', (line) => {
      tail = (tail + line + '\n').slice(-8192);
      pull ??=
        Number(
          /serving \S+ metrics on http:\/\/127\.0\.0\.1:(\d+)\/metrics/.exec(line)?.[1] ?? NaN,
        ) || undefined;
      ingest ??=
        Number(
          /receiving OTLP\/HTTP metrics on http:\/\/127\.0\.0\.1:(\d+)\/v1\/metrics/.exec(
            line,
          )?.[1] ?? NaN,
        ) || undefined;
      if (pull !== undefined && ingest !== undefined) res([pull, ingest]);
    });
    void exited.then(({ code }) =>
      rej(new Error(`jobmeter serve exited (${code}) before listening:\n${tail}`)),
    );
    setTimeout(
      () =>
        rej(
          new Error(
            `jobmeter serve did not say where it listens within ${START_TIMEOUT_MS} ms:\n${tail}`,
          ),
        ),
      START_TIMEOUT_MS,
    ).unref();
  });
  const [pullPort, ingestPort] = await ports;
  let stopping = false;
  return {
    pid: child.pid!,
    stopping: () => stopping,
    pullPort,
    ingestPort,
    exited,
    stderr: () => tail,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      stopping = true;
      const t0 = performance.now();
      child.kill(signal);
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<{ code: null; signal: NodeJS.Signals }>((res) => {
        timer = setTimeout(() => {
          child.kill('SIGKILL');
          res({ code: null, signal: 'SIGKILL' });
        }, SHUTDOWN_TIMEOUT_MS);
      });
      const end = await Promise.race([exited, timeout]).finally(() => clearTimeout(timer));
      return { ...end, ms: performance.now() - t0 };
    },
  };
}

function rssMiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m === null ? NaN : Number(m[1]) / 1024;
  } catch {
    return NaN;
  }
}

/** CPU time `pid` has used (user + system), in seconds (`/proc/<pid>/stat`, at 100 ticks a second). */
function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

// ---------------------------------------------------------------------------------------------
// Statistics

function quantile(xs: readonly number[], q: number): number {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s[Math.min(s.length - 1, Math.floor(q * (s.length - 1) + 0.5))]!;
}
const median = (xs: readonly number[]): number => quantile(xs, 0.5);
const f1 = (v: number): string => v.toFixed(1);

// ---------------------------------------------------------------------------------------------
// The run

/** A fault's stretch, for classifying what happened then, runs this long past its end. */
const FAULT_GRACE_MS = 3_000;
/** Under the flood, the churn sender's exports accepted at least (as test/e2e/slow-body-flood.test.ts asks). */
const FLOOD_ACCEPTED_AT_LEAST = 0.9;

/** Samples of one series, `[ms since t0, value]`. */
type Samples = Array<[number, number]>;

async function main(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'jobmeter-soak-'));
  const disk = fault('full-disk') !== undefined ? mountSmallDisk(flags['disk-size']) : undefined;
  const stateDir = disk ?? join(dir, 'state');
  const offsetFile = join(dir, 'clock-offset');
  const clockEnv = fault('clock-step') !== undefined ? steppedClockEnv(offsetFile) : {};
  let prometheus: Awaited<ReturnType<typeof startPrometheus>> | undefined;
  let serve: Serve | undefined;
  try {
    const ports = { pull: await freePort(), ingest: await freePort(), telemetry: await freePort() };
    serve = await startServe(dir, ports, stateDir, clockEnv);
    log(
      `jobmeter serve pid ${serve.pid}: pull 127.0.0.1:${serve.pullPort}, ingest 127.0.0.1:${serve.ingestPort}, telemetry 127.0.0.1:${ports.telemetry}; state in ${stateDir}`,
    );
    prometheus = await startPrometheus({
      major: major as PrometheusMajor,
      jobs: [
        { name: 'jobmeter', target: `127.0.0.1:${serve.pullPort}`, scrapeInterval: '1s' },
        { name: 'telemetry', target: `127.0.0.1:${ports.telemetry}`, scrapeInterval: '1s' },
      ],
    });
    return await run(
      prometheus,
      () => serve!,
      (s) => (serve = s),
      dir,
      ports,
      stateDir,
      clockEnv,
      offsetFile,
    );
  } finally {
    await prometheus?.stop();
    if (serve !== undefined && !serve.stopping()) await serve.stop();
    if (disk !== undefined) unmountSmallDisk(disk);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function run(
  prometheus: Awaited<ReturnType<typeof startPrometheus>>,
  current: () => Serve,
  replace: (s: Serve) => void,
  dir: string,
  ports: { pull: number; ingest: number; telemetry: number },
  stateDir: string,
  clockEnv: Record<string, string>,
  offsetFile: string,
): Promise<number> {
  let serve = current();
  let died: string | undefined;
  const watch = (s: Serve): void =>
    void s.exited.then(({ code, signal }) => {
      if (!s.stopping())
        died ??= `jobmeter serve exited (code ${code}, signal ${signal}) during the run`;
    });
  watch(serve);
  // Restarts on purpose: [stopped at, listening again at] (Date.now()), and how each was stopped.
  const restarts: Array<{ signal: NodeJS.Signals; from: number; to: number; exit: string }> = [];
  let restartingSince: number | undefined;
  const restarting = (): boolean =>
    restartingSince !== undefined || restarts.some((r) => Date.now() <= r.to + RESTART_GRACE_MS);
  const inRestart = (t: number): boolean =>
    restarts.some((r) => t >= r.from && t <= r.to + RESTART_GRACE_MS) ||
    (restartingSince !== undefined && t >= restartingSince);
  const restart = async (signal: NodeJS.Signals): Promise<void> => {
    const from = Date.now();
    restartingSince = from;
    const end = await serve.stop(signal);
    serve = await startServe(dir, ports, stateDir, clockEnv);
    replace(serve);
    watch(serve);
    restarts.push({ signal, from, to: Date.now(), exit: `${end.code ?? end.signal}` });
    restartingSince = undefined;
    log(
      `restarted serve (${signal}: exit ${end.code ?? end.signal} in ${(end.ms / 1000).toFixed(1)} s), down ${((Date.now() - from) / 1000).toFixed(1)} s; pid ${serve.pid}`,
    );
  };
  /** The fault under way at `t` (Date.now()), if any. */
  const phaseAt = (t: number): FaultName | undefined =>
    faults.find(
      (f) =>
        f.started !== undefined && t >= f.started && t <= (f.ended ?? Infinity) + FAULT_GRACE_MS,
    )?.name;
  const faultUnderWay = (): boolean =>
    faults.some((f) => f.started !== undefined && f.ended === undefined);
  const base = `http://127.0.0.1:${ports.pull}`;
  /** serve's wall clock minus this process's, from its Date header (1 s resolution), in seconds. */
  const serveClockAhead = async (): Promise<number> => {
    const res = await fetch(`${base}/health`);
    await res.text();
    return Math.round((Date.parse(res.headers.get('date')!) - Date.now()) / 1000);
  };

  // The faults' own state.
  const ready = {
    statuses: {} as Record<string, number>,
    reason: '',
    freedAt: 0,
    readyAgainMs: NaN,
  };
  const clockSeen = { during: [] as number[], after: NaN };
  let flood:
    | { child: ReturnType<typeof spawn>; out: string; closed: Promise<void>; heldAfterMs: number }
    | undefined;
  let floodResult: { opened: number; closedByServer: number } | undefined;
  const startFault = async (f: Fault): Promise<void> => {
    f.started = Date.now();
    log(`fault ${f.name}: from now for ${(f.for / 1000).toFixed(0)} s`);
    if (f.name === 'full-disk') fillDisk(stateDir);
    else if (f.name === 'clock-step') stepTo(offsetFile, clockStep);
    else {
      const child = spawn(
        process.execPath,
        [FLOOD, String(ports.ingest), String(floodConnections)],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      const state = {
        child,
        out: '',
        closed: new Promise<void>((res) => child.once('close', () => res())),
        heldAfterMs: NaN,
      };
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        state.out += d;
        if (Number.isNaN(state.heldAfterMs) && state.out.includes('holding\n'))
          state.heldAfterMs = Date.now() - f.started!;
      });
      flood = state;
    }
  };
  const endFault = async (f: Fault): Promise<void> => {
    f.ended = Date.now();
    log(`fault ${f.name}: ended`);
    if (f.name === 'full-disk') {
      rmSync(join(stateDir, 'filler'), { force: true });
      ready.freedAt = f.ended;
    } else if (f.name === 'clock-step') {
      stepTo(offsetFile, 0);
      await sleep(2000);
      clockSeen.after = await serveClockAhead().catch(() => NaN);
    } else if (flood !== undefined) {
      flood.child.kill('SIGTERM');
      await flood.closed;
      const line = flood.out.split('\n').find((l) => l.startsWith('{'));
      floodResult =
        line === undefined
          ? undefined
          : (JSON.parse(line) as { opened: number; closedByServer: number });
    }
  };
  /** Each second while a fault is under way (or just after): what serve shows of it. */
  const watchFaults = async (): Promise<void> => {
    const disk = fault('full-disk');
    if (
      disk?.started !== undefined &&
      (disk.ended === undefined || Number.isNaN(ready.readyAgainMs))
    ) {
      const res = await fetch(`${base}/ready`).catch(() => undefined);
      const text = (await res?.text()) ?? '';
      const status = String(res?.status ?? 'error');
      if (disk.ended === undefined) {
        ready.statuses[status] = (ready.statuses[status] ?? 0) + 1;
        if (status === '503' && ready.reason === '')
          ready.reason = text.trim().replace(/\/\S+/g, '<path>').slice(0, 200);
      } else if (status === '200') ready.readyAgainMs = Date.now() - ready.freedAt;
    }
    const clock = fault('clock-step');
    // Node's HTTP server renews its Date header once a second: read from 2 s into the step.
    if (
      clock?.started !== undefined &&
      clock.ended === undefined &&
      Date.now() >= clock.started + 2000
    )
      clockSeen.during.push(await serveClockAhead().catch(() => NaN));
  };

  await prometheus.waitForTargetsUp();
  const preLoadRss = rssMiB(serve.pid);
  log(
    `Prometheus ${major} at ${prometheus.url} scraping every 1 s; ${minutes} min from now (${new Date().toISOString()}); faults: ${faults.map((f) => `${f.name} at ${(f.at / 60_000).toFixed(1)} min for ${(f.for / 1000).toFixed(0)} s`).join(', ') || 'none'}`,
  );

  const ingestUrl = `http://127.0.0.1:${serve.ingestPort}/v1/metrics`;
  // The ledger first, so its instruments are in before the hostile sender's scope churn fills the cap.
  const ledger = startLedgerSender({ url: ingestUrl, phase: phaseAt });
  const churn = startChurnSender({ url: ingestUrl, excused: inRestart, phase: phaseAt });
  const hostile = startHostileSender({
    ingestPort: serve.ingestPort,
    pullPort: serve.pullPort,
    intervalMillis: hostileInterval,
    maxSizeEveryMillis: maxSizeEvery,
    restarting,
  });
  const t0 = Date.now();
  let nextRestart = t0 + restartEvery;
  const end = t0 + minutes * 60_000;
  const samples: Array<{ s: number; rss: number; load: number; cpu: number }> = [];
  /** serve's CPU share since the last sample, in % of one core (NaN across a restart). */
  let lastCpu = { pid: serve.pid, at: performance.now(), seconds: cpuSeconds(serve.pid) };
  const cpuShare = (): number => {
    const now = { pid: serve.pid, at: performance.now(), seconds: cpuSeconds(serve.pid) };
    const share =
      now.pid === lastCpu.pid
        ? ((now.seconds - lastCpu.seconds) / ((now.at - lastCpu.at) / 1000)) * 100
        : NaN;
    lastCpu = now;
    return share;
  };
  // Why scrapes failed, as Prometheus says it (each failed scrape counted once, by its error).
  const scrapeErrors = new Map<string, number>();
  let lastFailed = '';
  let nextLog = t0 + 60_000;
  while (Date.now() < end && died === undefined) {
    const now = Date.now();
    samples.push({
      s: (now - t0) / 1000,
      rss: rssMiB(serve.pid),
      load: loadavg()[0]!,
      cpu: cpuShare(),
    });
    const target = (await prometheus.targets().catch(() => undefined))?.activeTargets.find(
      (t) => t.labels.job === 'jobmeter',
    );
    if (target !== undefined && target.lastError !== '' && target.lastScrape !== lastFailed) {
      lastFailed = target.lastScrape;
      const why = target.lastError.replace(/127\.0\.0\.1:\d+/g, '<target>');
      scrapeErrors.set(why, (scrapeErrors.get(why) ?? 0) + 1);
    }
    if (now >= nextLog) {
      nextLog += 60_000;
      log(
        `${((now - t0) / 60_000).toFixed(0)} min: RSS ${f1(samples.at(-1)!.rss)} MiB, load ${loadavg()[0]!.toFixed(2)}, ` +
          `churn ${churn.stats.exports} exports (${churn.stats.failedExports} failed), ledger ${JSON.stringify(ledger.stats.requests)} (${ledger.stats.queued} queued), hostile failures ${hostile.stats.failures.length}, held open ${hostile.stats.heldOpen}`,
      );
    }
    for (const f of faults) {
      if (f.started === undefined && now >= t0 + f.at && !restarting()) await startFault(f);
      else if (f.started !== undefined && f.ended === undefined && now >= f.started + f.for)
        await endFault(f);
    }
    await watchFaults();
    // A restart due during a fault waits for its end.
    if (now >= nextRestart && now + 60_000 < end && !faultUnderWay()) {
      nextRestart += restartEvery;
      await restart(restarts.length % 2 === 0 ? 'SIGTERM' : 'SIGKILL');
    }
    await sleep(Math.max(0, 1000 - ((Date.now() - t0) % 1000)));
  }
  for (const f of faults) if (f.started !== undefined && f.ended === undefined) await endFault(f);
  const tEnd = Date.now();
  await Promise.all([ledger.stop(), churn.stop(), hostile.stop()]);
  const loadEnd = Date.now();
  // The settle: no load, RSS read on (it is due back within a minute).
  log(`load ended; RSS ${f1(rssMiB(serve.pid))} MiB; ${settleMs / 1000} s without load`);
  while (Date.now() < loadEnd + settleMs && died === undefined) {
    await watchFaults();
    samples.push({
      s: (Date.now() - t0) / 1000,
      rss: rssMiB(serve.pid),
      load: loadavg()[0]!,
      cpu: cpuShare(),
    });
    await sleep(Math.max(0, 1000 - ((Date.now() - t0) % 1000)));
  }
  const settledRss = samples.at(-1)!.rss;
  const tQuery = Date.now();

  // What Prometheus stored: every raw sample of the run.
  const range = `${Math.ceil((tQuery - t0) / 1000) + 5}s`;
  const rawSeries = async (
    expr: string,
  ): Promise<Array<{ metric: Record<string, string>; values: Samples }>> => {
    const params = new URLSearchParams({ query: `${expr}[${range}]`, time: String(tQuery / 1000) });
    const body = (await (
      await fetch(`${prometheus.url}/api/v1/query?${params.toString()}`)
    ).json()) as {
      data: { result: Array<{ metric: Record<string, string>; values: Array<[number, string]> }> };
    };
    return body.data.result.map(({ metric, values }) => ({
      metric,
      values: values
        .map(([t, v]) => [t * 1000 - t0, Number(v)] as [number, number])
        .filter(([t]) => t >= 0),
    }));
  };
  const raw = async (expr: string): Promise<Samples> => {
    // Several series (the heap's, one per space) are summed per scrape.
    const sums = new Map<number, number>();
    for (const series of await rawSeries(expr))
      for (const [t, v] of series.values) sums.set(t, (sums.get(t) ?? 0) + v);
    return [...sums].sort(([a], [b]) => a - b);
  };
  /**
   * A telemetry counter over the whole run, by `label`: each process counts from 0, so the run's
   * total is the sum of each process's last value as Prometheus scraped it (a SIGKILL loses what
   * came after the last scrape).
   */
  const overRun = async (name: string, label: string): Promise<Map<string, number>> => {
    const totals = new Map<string, number>();
    for (const { metric, values } of await rawSeries(`${name}{job="telemetry"}`)) {
      const last = new Map<number, number>();
      for (const [t, v] of values) last.set(restarts.filter((r) => r.from < t0 + t).length, v);
      const key = metric[label] ?? '';
      totals.set(key, (totals.get(key) ?? 0) + [...last.values()].reduce((a, b) => a + b, 0));
    }
    return totals;
  };
  const upAll = await raw('up{job="jobmeter"}');
  const up = upAll.filter(([t]) => !inRestart(t0 + t) && t0 + t <= tEnd);
  const duration = await raw('scrape_duration_seconds{job="jobmeter"}');
  const scraped = (await raw('scrape_samples_scraped{job="jobmeter"}')).filter(
    ([t]) => !inRestart(t0 + t),
  );
  const heap = await raw('v8js_memory_heap_used_bytes{job="jobmeter"}');
  let lastScrape: string | undefined;
  const exposition =
    died === undefined
      ? await fetch(`${base}/metrics`, { headers: { accept: 'text/plain;version=0.0.4' } })
          .then((r) => r.text())
          .catch(
            (err: unknown) => (
              (lastScrape = `the last scrape failed: ${String((err as { cause?: unknown }).cause ?? err)}`),
              ''
            ),
          )
      : '';
  // A restart or a fault must not look like a counter reset to Prometheus: the
  // well-behaved senders' counters never go backwards across the run.
  const counters = `{__name__=~"soak_(jobs_completed|ledger_.*)_total",job="jobmeter"}[${range}]`;
  const resetCount = Number(
    (await prometheus.query(`sum(resets(${counters}))`))[0]?.value[1] ?? NaN,
  );
  const counterSeries = Number(
    (await prometheus.query(`count(count_over_time(${counters}))`))[0]?.value[1] ?? 0,
  );
  const refusedOverRun = await overRun('jobmeter_ingest_refused_points_total', 'reason');
  const shedOverRun = await overRun('jobmeter_ingest_connections_shed_total', 'reason');
  const checkpointFailures =
    (await overRun('jobmeter_ingest_checkpoint_failures_total', '')).get('') ?? 0;
  const acceptedPoints = (await overRun('jobmeter_ingest_accepted_points_total', '')).get('') ?? 0;

  // Nothing lost. A SIGKILL loses, as documented, the increments acknowledged after the last
  // scrape before it (a scrape writes the state first): those acknowledgements are in a window.
  const killWindows = restarts
    .filter((r) => r.signal === 'SIGKILL')
    .map(
      (r) =>
        [
          t0 + (upAll.filter(([t, v]) => v === 1 && t0 + t < r.from).at(-1)?.[0] ?? 0),
          r.from,
        ] as const,
    );
  const inKillWindow = (at: number): boolean => killWindows.some(([a, b]) => at > a && at <= b);
  /** The value that must be served: the last acknowledged outside a SIGKILL's window. */
  const required = (acks: readonly Ack[]): number =>
    acks.findLast(([at]) => !inKillWindow(at))?.[1] ?? 0;
  const servedLedger = new Map<string, number>();
  for (const m of exposition.matchAll(
    /^soak_ledger_(?:cumulative|delta)_total\{[^}]*\bstream="(\w+)"[^}]*\} (\S+)$/gm,
  ))
    servedLedger.set(m[1]!, Number(m[2]));
  const ledgerRows = [
    ...[...ledger.stats.cumulative].map(([stream, acks]) => ({
      stream,
      acked: acks.at(-1)?.[1] ?? 0,
      required: required(acks),
    })),
    ...[...ledger.stats.delta].map(([stream, acks]) => {
      const acked = acks.reduce((a, [, v]) => a + v, 0);
      return {
        stream,
        acked,
        required: acked - acks.filter(([at]) => inKillWindow(at)).reduce((a, [, v]) => a + v, 0),
      };
    }),
  ].map((row) => ({ ...row, served: servedLedger.get(row.stream) ?? 0 }));
  const ledgerLost = ledgerRows.filter((r) => r.served < r.required);
  const ledgerAhead = ledgerRows.filter((r) => r.served > r.acked);
  const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);
  // The churn sender's counter: the highest value Prometheus stored of each series (they go
  // quiet and expire, so the end holds few) against the last one acknowledged.
  const churnServed = new Map<string, number>();
  for (const { metric, value } of await prometheus.query(
    `max by (task, outcome) (max_over_time(soak_jobs_completed_total{job="jobmeter"}[${range}]))`,
  )) {
    churnServed.set(`${metric.task}|${metric.outcome}`, Number(value[1]));
  }
  const churnRows = [...churn.stats.acked].map(([key, acks]) => ({
    key,
    acked: acks.at(-1)![1],
    required: required(acks),
    served: churnServed.get(key) ?? 0,
  }));
  const churnLost = churnRows.filter((r) => r.served < r.required);
  const churnEqual = churnRows.filter((r) => r.served === r.acked).length;
  const churnExcused = churnRows.filter((r) => r.served < r.acked && r.served >= r.required).length;
  const shutdown = died === undefined ? await serve.stop() : undefined;

  // Outputs.
  mkdirSync(outDir, { recursive: true });
  const upZero = up.filter(([, v]) => v !== 1).length;
  const durMs = duration.map(([, v]) => v * 1000);
  const loadSamples = samples.filter((x) => t0 + x.s * 1000 <= tEnd);
  const rss = samples.map((x) => x.rss);
  const firstMinutes = loadSamples.filter((x) => x.s >= 60 && x.s < 600).map((x) => x.rss);
  const lastMinutes = loadSamples.filter((x) => x.s >= (tEnd - t0) / 1000 - 300).map((x) => x.rss);
  const floodChurn = churn.stats.byPhase.flood;
  const churnFailedInFaults = sum(Object.values(churn.stats.byPhase).map((p) => p.failed));
  const disk = fault('full-disk');
  const clock = fault('clock-step');
  const floodFault = fault('flood');
  const failures = [
    ...(died !== undefined ? [died] : []),
    ...(lastScrape !== undefined ? [lastScrape] : []),
    ...(shutdown !== undefined && shutdown.code !== 0
      ? [`serve exited ${shutdown.code ?? shutdown.signal} on SIGTERM`]
      : []),
    ...(upZero > 0 ? [`up was not 1 in ${upZero} of ${up.length} scrapes outside restarts`] : []),
    ...(counterSeries === 0 || !Number.isFinite(resetCount)
      ? [`Prometheus holds no series of the well-behaved senders' counters to check resets() on`]
      : []),
    ...(resetCount > 0
      ? [`Prometheus saw ${resetCount} counter resets of the well-behaved senders' counters`]
      : []),
    ...restarts
      .filter((r) => r.signal === 'SIGTERM' && r.exit !== '0')
      .map((r) => `serve exited ${r.exit} on a restart's SIGTERM`),
    ...(churn.stats.failedExports - churnFailedInFaults > 0
      ? [
          `${churn.stats.failedExports - churnFailedInFaults} SDK exports failed outside restarts and faults (last: ${churn.stats.lastError})`,
        ]
      : []),
    ...Object.entries(churn.stats.byPhase)
      .filter(([name, p]) =>
        name === 'flood'
          ? p.exports - p.failed < FLOOD_ACCEPTED_AT_LEAST * p.exports
          : p.failed > 0,
      )
      .map(([name, p]) => `${p.failed} of ${p.exports} SDK exports failed during the ${name}`),
    ...ledger.stats.failures.slice(0, 10),
    ...(ledger.stats.queued > 0
      ? [`${ledger.stats.queued} ledger delta windows never acknowledged`]
      : []),
    ...ledgerLost.map(
      (r) =>
        `ledger stream ${r.stream}: served ${r.served}, acknowledged ${r.acked} (at least ${r.required} due)`,
    ),
    ...ledgerAhead.map(
      (r) => `ledger stream ${r.stream}: served ${r.served}, more than the ${r.acked} acknowledged`,
    ),
    ...(churnLost.length > 0
      ? [
          `${churnLost.length} churn counter series served below their last acknowledged value, e.g. ${churnLost
            .slice(0, 3)
            .map((r) => `${r.key}: ${r.served} < ${r.required}`)
            .join(', ')}`,
        ]
      : []),
    ...(disk !== undefined && checkpointFailures === 0
      ? ['the full disk failed no checkpoint (the fault did not take)']
      : []),
    ...(disk !== undefined && !(ready.statuses['503']! > 0)
      ? [`/ready never answered 503 while the disk was full (${JSON.stringify(ready.statuses)})`]
      : []),
    ...(disk !== undefined && Number.isNaN(ready.readyAgainMs)
      ? ['/ready never answered 200 again after the disk was freed']
      : []),
    ...(clock !== undefined && !clockSeen.during.some((a) => Math.abs(a - clockStep) <= 2)
      ? [`serve's clock was never seen ${clockStep} s ahead (${clockSeen.during.join(', ')})`]
      : []),
    ...(clock !== undefined && !(Math.abs(clockSeen.after) <= 2)
      ? [`serve's clock was ${clockSeen.after} s off after the step back`]
      : []),
    ...(floodFault !== undefined && (flood === undefined || Number.isNaN(flood.heldAfterMs))
      ? [`the flood never held its ${floodConnections} connections`]
      : []),
    ...hostile.stats.failures.slice(0, 20),
  ];
  // RSS around each max-size request: the last sample before it was sent, the highest until
  // 5 s after its answer, and the one AFTER_BIG_S after its answer (memory given back or not).
  const rssAt = (t: number): number => samples.findLast((x) => t0 + x.s * 1000 <= t)?.rss ?? NaN;
  const around = hostile.stats.maxSizeRequests
    .filter(({ answered }) => answered + AFTER_BIG_S * 1000 <= tEnd)
    .map(({ sent, answered }) => ({
      before: rssAt(sent),
      peak: Math.max(
        ...samples
          .filter((x) => t0 + x.s * 1000 >= sent && t0 + x.s * 1000 <= answered + 5000)
          .map((x) => x.rss),
      ),
      after: rssAt(answered + AFTER_BIG_S * 1000),
    }));
  const load = samples.map((x) => x.load);
  const started = new Date(t0).toISOString().slice(0, 16).replace('T', ' ');
  const subtitle = `${started} UTC, ${minutes} min, Prometheus ${major}, 1-min load average median ${median(load).toFixed(1)} (max ${Math.max(...load).toFixed(1)}) on ${cpus().length} cores`;
  const FAULT_LEVEL: Record<FaultName, number> = { 'full-disk': 1, 'clock-step': 2, flood: 3 };
  writeFileSync(
    join(outDir, 'soak.svg'),
    chart(
      `jobmeter serve soak: OTLP churn + hostile sender${faults.length > 0 ? ' + faults' : ''}, Prometheus scraping every second`,
      subtitle,
      Math.ceil((tQuery - t0) / 60_000),
      [
        {
          title: 'jobmeter serve RSS',
          unit: 'MiB',
          points: samples.map((x) => [x.s / 60, x.rss]),
          color: '#1f77b4',
        },
        {
          title: "main thread's V8 heap in use (jobmeter's v8js_memory_heap_used_bytes)",
          unit: 'MiB',
          points: heap.map(([t, v]) => [t / 60_000, v / 1048576]),
          color: '#17becf',
        },
        {
          title: 'scrape duration (Prometheus scrape_duration_seconds)',
          unit: 'ms',
          points: duration.map(([t, v]) => [t / 60_000, v * 1000]),
          color: '#d62728',
        },
        {
          title: 'up',
          unit: '0/1',
          points: up.map(([t, v]) => [t / 60_000, v]),
          max: 1,
          steps: true,
          color: '#2ca02c',
        },
        {
          title: 'samples per scrape (scrape_samples_scraped)',
          unit: 'samples',
          points: scraped.map(([t, v]) => [t / 60_000, v]),
          color: '#9467bd',
        },
        ...(faults.length > 0
          ? [
              {
                title:
                  'fault under way: 1 full disk, 2 clock step, 3 slow-body flood; restarts at 4',
                unit: 'fault',
                points: samples.map((x): [number, number] => [
                  x.s / 60,
                  inRestart(t0 + x.s * 1000) ? 4 : (FAULT_LEVEL[phaseAt(t0 + x.s * 1000)!] ?? 0),
                ]),
                max: 4,
                steps: true,
                color: '#ff7f0e',
              },
            ]
          : []),
        {
          title: 'machine 1-min load average (2 cores, shared)',
          unit: 'load',
          points: samples.map((x) => [x.s / 60, x.load]),
          color: '#7f7f7f',
        },
      ],
    ),
  );
  const byTime = new Map<number, { up?: number; duration?: number; samples?: number }>();
  for (const [series, key] of [
    [up, 'up'],
    [duration, 'duration'],
    [scraped, 'samples'],
  ] as const) {
    for (const [t, v] of series) (byTime.get(t) ?? byTime.set(t, {}).get(t)!)[key] = v;
  }
  writeFileSync(
    join(outDir, 'scrapes.csv'),
    'seconds,up,scrape_duration_ms,samples_scraped\n' +
      [...byTime]
        .sort(([a], [b]) => a - b)
        .map(
          ([t, x]) =>
            `${(t / 1000).toFixed(3)},${x.up ?? ''},${x.duration === undefined ? '' : (x.duration * 1000).toFixed(1)},${x.samples ?? ''}`,
        )
        .join('\n') +
      '\n',
  );
  writeFileSync(
    join(outDir, 'samples.csv'),
    'seconds,rss_mib,load1,serve_cpu_percent\n' +
      samples
        .map(
          (x) =>
            `${x.s.toFixed(1)},${x.rss.toFixed(1)},${x.load.toFixed(2)},${Number.isNaN(x.cpu) ? '' : x.cpu.toFixed(0)}`,
        )
        .join('\n') +
      '\n',
  );
  const cases = Object.entries(hostile.stats.cases)
    .map(
      ([name, c]) =>
        `| ${name} | ${Object.entries(c.statuses)
          .map(([s, k]) => `${s} × ${k}`)
          .join(', ')} | ${c.maxMillis.toFixed(0)} |`,
    )
    .join('\n');
  const counts = (r: Record<string, number>): string =>
    Object.entries(r)
      .map(([s, k]) => `${s} × ${k}`)
      .join(', ');
  const byReason = (m: Map<string, number>): string =>
    [...m]
      .filter(([, v]) => v > 0)
      .sort(([, a], [, b]) => b - a)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ') || 'none';
  const minute = (t: number | undefined): string =>
    t === undefined ? '–' : ((t - t0) / 60_000).toFixed(1);
  const hostileRequests = sum(
    Object.values(hostile.stats.cases).map((c) => sum(Object.values(c.statuses))),
  );
  const ledgerRequests = sum(Object.values(ledger.stats.requests));
  /** During a fault (or outside every fault and restart): serve's CPU and Prometheus' scrapes. */
  const during = (f: Fault | undefined): string => {
    const inside = (t: number): boolean =>
      f === undefined
        ? phaseAt(t) === undefined && !inRestart(t) && t <= tEnd
        : t >= f.started! && t <= f.ended!;
    const cpu = samples.filter((x) => inside(t0 + x.s * 1000)).map((x) => x.cpu);
    const dur = duration.filter(([t]) => inside(t0 + t)).map(([, v]) => v * 1000);
    const down = up.filter(([t, v]) => v !== 1 && inside(t0 + t)).length;
    return `serve's CPU median ${median(cpu).toFixed(0)}% of a core; scrapes median ${f1(median(dur))} ms, p99 ${f1(quantile(dur, 0.99))} ms, ${down} of ${dur.length} not up`;
  };
  const faultLines = faults.map((f) => {
    const when = `${minute(f.started)}–${minute(f.ended)} min`;
    if (f.name === 'full-disk')
      return `- **full disk** (${when}, the state dir a ${flags['disk-size']} tmpfs filled to its last page, then the filler removed): \`/ready\` ${counts(ready.statuses)} (\`${ready.reason}\`), 200 again ${(ready.readyAgainMs / 1000).toFixed(1)} s after the space was freed; ${checkpointFailures} failed checkpoints (\`jobmeter_ingest_checkpoint_failures_total\`); churn exports ${churn.stats.byPhase['full-disk']?.exports ?? 0} (${churn.stats.byPhase['full-disk']?.failed ?? 0} failed), ledger ${counts(ledger.stats.byPhase['full-disk'] ?? {})}; ${during(f)}.`;
    if (f.name === 'clock-step')
      return `- **clock step** (${when}, serve's wall clock ${clockStep > 0 ? '+' : ''}${clockStep} s, then back; libfaketime, the monotonic clock untouched): serve's \`Date\` header ${Math.min(...clockSeen.during)}…${Math.max(...clockSeen.during)} s ahead during it, ${clockSeen.after} s after; churn exports ${churn.stats.byPhase['clock-step']?.exports ?? 0} (${churn.stats.byPhase['clock-step']?.failed ?? 0} failed), ledger ${counts(ledger.stats.byPhase['clock-step'] ?? {})}; ${during(f)}.`;
    return `- **slow-body flood** (${when}, ${floodConnections} connections each announcing 1 MB and sending 1 byte, reopened when closed): held after ${((flood?.heldAfterMs ?? NaN) / 1000).toFixed(1)} s; ${floodResult?.opened ?? '?'} connections opened, ${floodResult?.closedByServer ?? '?'} closed by jobmeter; churn exports ${floodChurn?.exports ?? 0} (${floodChurn?.failed ?? 0} failed), ledger ${counts(ledger.stats.byPhase.flood ?? {})}; ${during(f)}.`;
  });
  const summary = [
    `Soak: ${started} UTC, ${((tEnd - t0) / 60_000).toFixed(1)} min${faults.length > 0 ? ` with faults (${faults.map((f) => f.name).join(', ')})` : ''}, Prometheus ${major} scraping every 1 s; ${subtitle.slice(subtitle.indexOf('1-min'))}.`,
    '',
    `- **up**: ${up.length - upZero} of ${up.length} scrapes up (${upZero} not).${faults.length > 0 ? ` Outside faults and restarts: ${during(undefined)}.` : ''}`,
    `- **scrape duration** (Prometheus): median ${f1(median(durMs))} ms, p99 ${f1(quantile(durMs, 0.99))} ms, max ${f1(Math.max(...durMs))} ms; samples per scrape ${Math.min(...scraped.map(([, v]) => v))}–${Math.max(...scraped.map(([, v]) => v))}.`,
    `- **RSS**: ${f1(preLoadRss)} MiB before the load; ${f1(median(firstMinutes))} MiB median over minutes 1–10, ${f1(median(lastMinutes))} MiB over the last 5; peak ${f1(Math.max(...rss))} MiB; ${f1(rssAt(tEnd))} MiB when the load ended, ${f1(settledRss)} MiB ${(settleMs / 1000).toFixed(0)} s later (the settle; ${(settledRss / preLoadRss).toFixed(1)}× the pre-load RSS); the main thread's V8 heap in use: median ${f1(median(heap.map(([, v]) => v / 1048576)))} MiB, max ${f1(Math.max(...heap.map(([, v]) => v / 1048576)))} MiB.`,
    `- **RSS around the ${around.length} max-size requests** (before → peak → ${AFTER_BIG_S} s after the answer, medians): ${f1(median(around.map((x) => x.before)))} → ${f1(median(around.map((x) => x.peak)))} → ${f1(median(around.map((x) => x.after)))} MiB; ${AFTER_BIG_S} s after, the highest was ${f1(Math.max(...around.map((x) => x.after)))} MiB.`,
    `- **restarts** (every ${restartEvery / 1000} s, SIGTERM and SIGKILL in turn, none during a fault): ${restarts.map((r) => `${r.signal} at ${((r.from - t0) / 60_000).toFixed(1)} min, down ${((r.to - r.from) / 1000).toFixed(1)} s`).join('; ') || 'none'}; Prometheus counted ${resetCount} resets over the ${counterSeries} series of the well-behaved senders' counters (\`resets()\` over the run).`,
    ...faultLines,
    `- **requests**: ${ledgerRequests + churn.stats.exports + hostileRequests} to the ingest — ledger ${ledgerRequests} (${counts(ledger.stats.requests)}), churn ${churn.stats.exports} SDK exports (${churn.stats.failedExports} failed: ${churn.stats.excusedExports} during restarts, ${churnFailedInFaults} during faults), hostile ${hostileRequests}; ${acceptedPoints} points accepted (\`jobmeter_ingest_accepted_points_total\`, each process's last scrape, summed).`,
    `- **refused** (\`jobmeter_ingest_refused_points_total\` over the run, summed over the processes): ${byReason(refusedOverRun)}; connections shed (\`jobmeter_ingest_connections_shed_total\`): ${byReason(shedOverRun)}.`,
    `- **served = acked** (ledger, at the end): cumulative ${sum(ledgerRows.filter((r) => r.stream.startsWith('c')).map((r) => r.served))} served of ${sum(ledgerRows.filter((r) => r.stream.startsWith('c')).map((r) => r.acked))} acknowledged, delta ${sum(ledgerRows.filter((r) => r.stream.startsWith('d')).map((r) => r.served))} of ${sum(ledgerRows.filter((r) => r.stream.startsWith('d')).map((r) => r.acked))} (per stream: ${ledgerRows.map((r) => `${r.stream} ${r.served}/${r.acked}`).join(', ')}); SIGKILL windows (acknowledged after the last scrape before the kill: documented loss) ${killWindows.map(([a, b]) => `${((b - a) / 1000).toFixed(1)} s`).join(', ') || 'none'}, delta due at least ${sum(ledgerRows.filter((r) => r.stream.startsWith('d')).map((r) => r.required))}; ${ledgerLost.length} streams below what was due.`,
    `- **churn counter** (official SDK, cumulative; ${churn.stats.generations} generations of ${DEFAULT_TASKS} tasks, ${churnRows.length} series): the highest value Prometheus stored equals the last acknowledged in ${churnEqual}, below it within a SIGKILL's window in ${churnExcused}, below what was due in ${churnLost.length}.`,
    `- **held connections** (stalled bodies, idle sockets): ${hostile.stats.heldClosed} closed by jobmeter, the longest after ${(hostile.stats.heldMaxMillis / 1000).toFixed(1)} s; ${hostile.stats.heldOpen} open at the end.`,
    `- **shutdown**: ${shutdown === undefined ? 'serve had died' : `SIGTERM → exit ${shutdown.code ?? shutdown.signal} in ${(shutdown.ms / 1000).toFixed(1)} s`}.`,
    `- **failed scrapes, as Prometheus gave the reason** (polled every second, so a burst may be counted once): ${[...scrapeErrors].map(([why, k]) => `${k} × ${why}`).join('; ') || 'none'}.`,
    `- **failures**: ${failures.length === 0 ? 'none' : failures.join('; ')}.`,
    '',
    '| hostile case | answers | slowest answer (ms) |',
    '|---|---|---:|',
    cases,
    '',
  ].join('\n');
  writeFileSync(join(outDir, 'summary.md'), summary);
  console.log(summary);
  log(`wrote ${join(outDir, 'soak.svg')}, samples.csv, scrapes.csv, summary.md`);
  return failures.length === 0 ? 0 : 1;
}

process.exitCode = await main();
