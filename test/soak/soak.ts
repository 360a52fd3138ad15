/**
 * The soak run (issue 13): `jobmeter serve` with the ingest on, a real Prometheus scraping it every
 * second, an OTLP sender on the official SDK pushing every second with label churn
 * (churn-sender.ts) and a hostile sender cycling through issue 13's cases (hostile-sender.ts), for
 * 30 minutes, restarting `serve` every `--restart-every-s` (SIGTERM and SIGKILL in turn, same ports
 * and state directory: issue 26). RSS (every second, from /proc), scrape latency and `up` (Prometheus' own
 * `scrape_duration_seconds` and `up`, every sample) are recorded and drawn; a summary, the chart
 * (soak.svg) and the samples (samples.csv: RSS and load each second; scrapes.csv: every scrape as
 * Prometheus stored it) are written to the output folder. Not part of `npm test`.
 *
 *   npm run soak                                   30 minutes, Prometheus 2.42, into docs/soak/
 *   npm run soak -- --minutes 2 --out /tmp/soak    a short run elsewhere
 *   npm run soak -- --prometheus 3                 the pinned Prometheus 3 instead
 *
 * Exits 1 when the run failed: `up` was 0 in any scrape outside a restart, `serve` died or did not
 * exit 0 on SIGTERM, a sender got a 5xx other than 503 or a connection error outside a restart,
 * the well-behaved sender had an export fail outside a restart, or Prometheus saw a counter of the
 * well-behaved sender go backwards (`resets()` > 0: a restart lost state).
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
import { startPrometheus, type PrometheusMajor } from '../support/prometheus.ts';
import { chart } from './chart.ts';
import { DEFAULT_TASKS, startChurnSender } from './churn-sender.ts';
import { startHostileSender } from './hostile-sender.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'src/cli/bin.ts');
const START_TIMEOUT_MS = 20_000;
const SHUTDOWN_TIMEOUT_MS = 15_000;
/** When RSS is read after a max-size request's answer: past the decoding thread's retirement and V8's unmapping of its pages (~8 s). */
const AFTER_BIG_S = 20;

const { values: flags } = parseArgs({
  options: {
    minutes: { type: 'string', default: '30' },
    prometheus: { type: 'string', default: '2' },
    out: { type: 'string', default: join(ROOT, 'docs/soak') },
    'hostile-interval-ms': { type: 'string', default: '1000' },
    'max-size-every-s': { type: 'string', default: '60' },
    'restart-every-s': { type: 'string', default: '300' },
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
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
}

/** A port free now (the kernel's pick), so that every restart of `serve` listens where Prometheus and the senders look. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const { port } = server.address() as { port: number };
  await new Promise<void>((res) => server.close(() => res()));
  return port;
}

async function startServe(dir: string, fixed: { pull: number; ingest: number }): Promise<Serve> {
  const config = join(dir, 'jobmeter.toml');
  writeFileSync(config, ['[listener]', `port = ${fixed.pull}`, '[ingest]', 'enabled = true', `port = ${fixed.ingest}`, ''].join('\n'));
  // The state file (issue 26) lives where systemd would put it, so restarts keep the counters.
  const env = { ...process.env, STATE_DIRECTORY: join(dir, 'state') };
  const child = spawn(process.execPath, [BIN, 'serve', '--config', config], { stdio: ['ignore', 'ignore', 'pipe'], env });
  let tail = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => child.once('exit', (code, signal) => res({ code, signal })));
  const ports = new Promise<[number, number]>((res, rej) => {
    let pull: number | undefined;
    let ingest: number | undefined;
    createInterface({ input: child.stderr }).on('line', (line) => {
      tail = (tail + line + '\n').slice(-8192);
      pull ??= Number(/serving \S+ metrics on http:\/\/127\.0\.0\.1:(\d+)\/metrics/.exec(line)?.[1] ?? NaN) || undefined;
      ingest ??= Number(/receiving OTLP\/HTTP metrics on http:\/\/127\.0\.0\.1:(\d+)\/v1\/metrics/.exec(line)?.[1] ?? NaN) || undefined;
      if (pull !== undefined && ingest !== undefined) res([pull, ingest]);
    });
    void exited.then(({ code }) => rej(new Error(`jobmeter serve exited (${code}) before listening:\n${tail}`)));
    setTimeout(() => rej(new Error(`jobmeter serve did not say where it listens within ${START_TIMEOUT_MS} ms:\n${tail}`)), START_TIMEOUT_MS).unref();
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

async function main(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'jobmeter-soak-'));
  const ports = { pull: await freePort(), ingest: await freePort() };
  let serve = await startServe(dir, ports);
  log(`jobmeter serve pid ${serve.pid}: pull 127.0.0.1:${serve.pullPort}, ingest 127.0.0.1:${serve.ingestPort}`);
  const prometheus = await startPrometheus({ major: major as PrometheusMajor, jobs: [{ name: 'jobmeter', target: `127.0.0.1:${serve.pullPort}`, scrapeInterval: '1s' }] });
  let died: string | undefined;
  const watch = (s: Serve): void =>
    void s.exited.then(({ code, signal }) => {
      if (!s.stopping()) died ??= `jobmeter serve exited (code ${code}, signal ${signal}) during the run`;
    });
  watch(serve);
  // Restarts on purpose: [stopped at, listening again at] (Date.now()), and how each was stopped.
  const restarts: Array<{ signal: NodeJS.Signals; from: number; to: number; exit: string }> = [];
  let restartingSince: number | undefined;
  const restarting = (): boolean => restartingSince !== undefined || restarts.some((r) => Date.now() <= r.to + RESTART_GRACE_MS);
  const inRestart = (t: number): boolean => restarts.some((r) => t >= r.from && t <= r.to + RESTART_GRACE_MS) || (restartingSince !== undefined && t >= restartingSince);
  const restart = async (signal: NodeJS.Signals): Promise<void> => {
    const from = Date.now();
    restartingSince = from;
    const end = await serve.stop(signal);
    serve = await startServe(dir, ports);
    watch(serve);
    restarts.push({ signal, from, to: Date.now(), exit: `${end.code ?? end.signal}` });
    restartingSince = undefined;
    log(`restarted serve (${signal}: exit ${end.code ?? end.signal} in ${(end.ms / 1000).toFixed(1)} s), down ${((Date.now() - from) / 1000).toFixed(1)} s; pid ${serve.pid}`);
  };
  try {
    await prometheus.waitForTargetsUp();
    log(`Prometheus ${major} at ${prometheus.url} scraping every 1 s; ${minutes} min from now (${new Date().toISOString()})`);

    const churn = startChurnSender({ url: `http://127.0.0.1:${serve.ingestPort}/v1/metrics`, excused: inRestart });
    const hostile = startHostileSender({ ingestPort: serve.ingestPort, pullPort: serve.pullPort, intervalMillis: hostileInterval, maxSizeEveryMillis: maxSizeEvery, restarting });
    const t0 = Date.now();
    let nextRestart = t0 + restartEvery;
    const end = t0 + minutes * 60_000;
    const samples: Array<{ s: number; rss: number; load: number }> = [];
    // Why scrapes failed, as Prometheus says it (each failed scrape counted once, by its error).
    const scrapeErrors = new Map<string, number>();
    let lastFailed = '';
    let nextLog = t0 + 60_000;
    while (Date.now() < end && died === undefined) {
      const now = Date.now();
      samples.push({ s: (now - t0) / 1000, rss: rssMiB(serve.pid), load: loadavg()[0]! });
      const target = (await prometheus.targets().catch(() => undefined))?.activeTargets[0];
      if (target !== undefined && target.lastError !== '' && target.lastScrape !== lastFailed) {
        lastFailed = target.lastScrape;
        const why = target.lastError.replace(/127\.0\.0\.1:\d+/g, '<target>');
        scrapeErrors.set(why, (scrapeErrors.get(why) ?? 0) + 1);
      }
      if (now >= nextLog) {
        nextLog += 60_000;
        log(
          `${((now - t0) / 60_000).toFixed(0)} min: RSS ${f1(samples.at(-1)!.rss)} MiB, load ${loadavg()[0]!.toFixed(2)}, ` +
            `churn ${churn.stats.exports} exports (${churn.stats.failedExports} failed), hostile failures ${hostile.stats.failures.length}, held open ${hostile.stats.heldOpen}`,
        );
      }
      if (now >= nextRestart && now + 60_000 < end) {
        nextRestart += restartEvery;
        await restart(restarts.length % 2 === 0 ? 'SIGTERM' : 'SIGKILL');
      }
      await sleep(1000 - ((Date.now() - t0) % 1000));
    }
    const tEnd = Date.now();
    await Promise.all([churn.stop(), hostile.stop()]);

    // What Prometheus stored: every raw sample of the run.
    const range = `${Math.ceil((tEnd - t0) / 1000) + 5}s`;
    const raw = async (expr: string): Promise<Array<[number, number]>> => {
      const params = new URLSearchParams({ query: `${expr}[${range}]`, time: String(tEnd / 1000) });
      const body = (await (await fetch(`${prometheus.url}/api/v1/query?${params}`)).json()) as { data: { result: Array<{ values: Array<[number, string]> }> } };
      // Several series (the heap's, one per space) are summed per scrape.
      const sums = new Map<number, number>();
      for (const series of body.data.result) for (const [t, v] of series.values) sums.set(t, (sums.get(t) ?? 0) + Number(v));
      return [...sums].sort(([a], [b]) => a - b).map(([t, v]) => [t * 1000 - t0, v] as [number, number]).filter(([t]) => t >= 0);
    };
    const up = (await raw('up{job="jobmeter"}')).filter(([t]) => !inRestart(t0 + t));
    const duration = await raw('scrape_duration_seconds{job="jobmeter"}');
    const scraped = (await raw('scrape_samples_scraped{job="jobmeter"}')).filter(([t]) => !inRestart(t0 + t));
    const heap = await raw('v8js_memory_heap_used_bytes{job="jobmeter"}');
    let lastScrape: string | undefined;
    const exposition =
      died === undefined
        ? await fetch(`http://127.0.0.1:${serve.pullPort}/metrics`)
            .then((r) => r.text())
            .catch((err: unknown) => ((lastScrape = `the last scrape failed: ${String((err as { cause?: unknown }).cause ?? err)}`), ''))
        : '';
    // A restart must not look like a counter reset to Prometheus (issue 26): the well-behaved
    // sender's counters, merged over its generations, never go backwards across the run.
    const counters = `{__name__=~"soak_jobs_completed.*",job="jobmeter"}[${range}]`;
    const resetCount = Number((await prometheus.query(`sum(resets(${counters}))`))[0]?.value[1] ?? NaN);
    const counterSeries = Number((await prometheus.query(`count(count_over_time(${counters}))`))[0]?.value[1] ?? 0);
    const refused = exposition.split('\n').filter((l) => l.startsWith('jobmeter_ingest_refused_total{') && !l.endsWith(' 0'));
    const shutdown = died === undefined ? await serve.stop() : undefined;

    // Outputs.
    mkdirSync(outDir, { recursive: true });
    const upZero = up.filter(([, v]) => v !== 1).length;
    const durMs = duration.map(([, v]) => v * 1000);
    const rss = samples.map((x) => x.rss);
    const firstMinutes = samples.filter((x) => x.s >= 60 && x.s < 600).map((x) => x.rss);
    const lastMinutes = samples.filter((x) => x.s >= (tEnd - t0) / 1000 - 300).map((x) => x.rss);
    const failures = [
      ...(died !== undefined ? [died] : []),
      ...(lastScrape !== undefined ? [lastScrape] : []),
      ...(shutdown !== undefined && shutdown.code !== 0 ? [`serve exited ${shutdown.code ?? shutdown.signal} on SIGTERM`] : []),
      ...(upZero > 0 ? [`up was not 1 in ${upZero} of ${up.length} scrapes outside restarts`] : []),
      ...(counterSeries === 0 || !Number.isFinite(resetCount) ? [`Prometheus holds no series of the well-behaved sender's counter to check resets() on`] : []),
      ...(resetCount > 0 ? [`Prometheus saw ${resetCount} counter resets of the well-behaved sender's counters`] : []),
      ...restarts.filter((r) => r.signal === 'SIGTERM' && r.exit !== '0').map((r) => `serve exited ${r.exit} on a restart's SIGTERM`),
      ...(churn.stats.failedExports > 0 ? [`${churn.stats.failedExports} SDK exports failed (last: ${churn.stats.lastError})`] : []),
      ...hostile.stats.failures.slice(0, 20),
    ];
    // RSS around each max-size request: the last sample before it was sent, the highest until
    // 5 s after its answer, and the one AFTER_BIG_S after its answer (memory given back or not).
    const rssAt = (t: number): number => samples.findLast((x) => t0 + x.s * 1000 <= t)?.rss ?? NaN;
    const around = hostile.stats.maxSizeRequests
      .filter(({ answered }) => answered + AFTER_BIG_S * 1000 <= tEnd)
      .map(({ sent, answered }) => ({
        before: rssAt(sent),
        peak: Math.max(...samples.filter((x) => t0 + x.s * 1000 >= sent && t0 + x.s * 1000 <= answered + 5000).map((x) => x.rss)),
        after: rssAt(answered + AFTER_BIG_S * 1000),
      }));
    const load = samples.map((x) => x.load);
    const started = new Date(t0).toISOString().slice(0, 16).replace('T', ' ');
    const subtitle = `${started} UTC, ${minutes} min, Prometheus ${major}, 1-min load average median ${median(load).toFixed(1)} (max ${Math.max(...load).toFixed(1)}) on ${cpus().length} cores`;
    writeFileSync(
      join(outDir, 'soak.svg'),
      chart('jobmeter serve soak: OTLP churn + hostile sender, Prometheus scraping every second', subtitle, Math.ceil(minutes), [
        { title: 'jobmeter serve RSS', unit: 'MiB', points: samples.map((x) => [x.s / 60, x.rss]), color: '#1f77b4' },
        { title: "main thread's V8 heap in use (jobmeter's v8js_memory_heap_used_bytes)", unit: 'MiB', points: heap.map(([t, v]) => [t / 60_000, v / 1048576]), color: '#17becf' },
        { title: 'scrape duration (Prometheus scrape_duration_seconds)', unit: 'ms', points: duration.map(([t, v]) => [t / 60_000, v * 1000]), color: '#d62728' },
        { title: 'up', unit: '0/1', points: up.map(([t, v]) => [t / 60_000, v]), max: 1, steps: true, color: '#2ca02c' },
        { title: 'samples per scrape (scrape_samples_scraped)', unit: 'samples', points: scraped.map(([t, v]) => [t / 60_000, v]), color: '#9467bd' },
        { title: 'machine 1-min load average (2 cores, shared)', unit: 'load', points: samples.map((x) => [x.s / 60, x.load]), color: '#7f7f7f' },
      ]),
    );
    const byTime = new Map<number, { up?: number; duration?: number; samples?: number }>();
    for (const [series, key] of [[up, 'up'], [duration, 'duration'], [scraped, 'samples']] as const) {
      for (const [t, v] of series) (byTime.get(t) ?? byTime.set(t, {}).get(t)!)[key] = v;
    }
    writeFileSync(
      join(outDir, 'scrapes.csv'),
      'seconds,up,scrape_duration_ms,samples_scraped\n' +
        [...byTime].sort(([a], [b]) => a - b).map(([t, x]) => `${(t / 1000).toFixed(3)},${x.up ?? ''},${x.duration === undefined ? '' : (x.duration * 1000).toFixed(1)},${x.samples ?? ''}`).join('\n') +
        '\n',
    );
    writeFileSync(join(outDir, 'samples.csv'), 'seconds,rss_mib,load1\n' + samples.map((x) => `${x.s.toFixed(1)},${x.rss.toFixed(1)},${x.load.toFixed(2)}`).join('\n') + '\n');
    const cases = Object.entries(hostile.stats.cases)
      .map(([name, c]) => `| ${name} | ${Object.entries(c.statuses).map(([s, k]) => `${s} × ${k}`).join(', ')} | ${c.maxMillis.toFixed(0)} |`)
      .join('\n');
    const summary = [
      `Soak: ${started} UTC, ${((tEnd - t0) / 60_000).toFixed(1)} min, Prometheus ${major} scraping every 1 s; ${subtitle.slice(subtitle.indexOf('1-min'))}.`,
      '',
      `- **up**: ${up.length - upZero} of ${up.length} scrapes up (${upZero} not).`,
      `- **scrape duration** (Prometheus): median ${f1(median(durMs))} ms, p99 ${f1(quantile(durMs, 0.99))} ms, max ${f1(Math.max(...durMs))} ms; samples per scrape ${Math.min(...scraped.map(([, v]) => v))}–${Math.max(...scraped.map(([, v]) => v))}.`,
      `- **RSS**: ${f1(median(firstMinutes))} MiB median over minutes 1–10, ${f1(median(lastMinutes))} MiB over the last 5, max ${f1(Math.max(...rss))} MiB; the main thread's V8 heap in use: median ${f1(median(heap.map(([, v]) => v / 1048576)))} MiB, max ${f1(Math.max(...heap.map(([, v]) => v / 1048576)))} MiB.`,
      `- **RSS around the ${around.length} max-size requests** (before → peak → ${AFTER_BIG_S} s after the answer, medians): ${f1(median(around.map((x) => x.before)))} → ${f1(median(around.map((x) => x.peak)))} → ${f1(median(around.map((x) => x.after)))} MiB; ${AFTER_BIG_S} s after, the highest was ${f1(Math.max(...around.map((x) => x.after)))} MiB.`,
      `- **restarts** (every ${restartEvery / 1000} s, SIGTERM and SIGKILL in turn): ${restarts.map((r) => `${r.signal} at ${((r.from - t0) / 60_000).toFixed(1)} min, down ${((r.to - r.from) / 1000).toFixed(1)} s`).join('; ') || 'none'}; Prometheus counted ${resetCount} resets over the ${counterSeries} series of the sender's counter (\`resets()\` over the run).`,
      `- **churn sender** (official SDK, a new generation of ${DEFAULT_TASKS} tasks every minute): ${churn.stats.generations} generations, ${churn.stats.exports} exports, ${churn.stats.failedExports} failed outside restarts (${churn.stats.excusedExports} during them).`,
      `- **held connections** (stalled bodies, idle sockets): ${hostile.stats.heldClosed} closed by jobmeter, the longest after ${(hostile.stats.heldMaxMillis / 1000).toFixed(1)} s; ${hostile.stats.heldOpen} open at the end.`,
      `- **shutdown**: ${shutdown === undefined ? 'serve had died' : `SIGTERM → exit ${shutdown.code ?? shutdown.signal} in ${(shutdown.ms / 1000).toFixed(1)} s`}.`,
      `- **refused** (jobmeter_ingest_refused_total at the end): ${refused.map((l) => l.replace(/^jobmeter_ingest_refused_total\{reason="([^"]+)".*\} (\S+)$/, '$1 $2')).join(', ') || 'none'}.`,
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
    log(`wrote ${join(outDir, 'soak.svg')}, samples.csv, summary.md`);
    return failures.length === 0 ? 0 : 1;
  } finally {
    await prometheus.stop();
    if (!serve.stopping()) await serve.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

process.exitCode = await main();
