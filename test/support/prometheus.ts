/**
 * A real Prometheus server for tests: started by the test itself on loopback, with its own temp
 * config and TSDB, and stopped (and cleaned up) by `stop()`.
 *
 * Two releases: the Debian package `prometheus` 2.42 (/usr/bin/prometheus, the default) and the
 * pinned Prometheus 3 built from its Go module (`major: 3`, test/support/peers.ts). Prometheus 3
 * asks for OpenMetrics/text 1.0.0 with `escaping=allow-utf-8` first, honours `scrape_protocols`,
 * and stores a text `le="1"` as `le="1.0"`. Facts about 2.42 the harness relies on, checked by
 * experiment:
 * - Its scrape `Accept` is fixed: `application/openmetrics-text;version=1.0.0,
 *   application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5` and then
 *   any type at q=0.1.
 *   `scrape_protocols` does not exist in 2.42 (config load fails: "field scrape_protocols not
 *   found"), so a scrape in text 0.0.4 can only be had by the target answering in text whatever
 *   the Accept (a listener option), or by a `params` switch the target honours. Prometheus picks
 *   the parser from the response `Content-Type`.
 * - Targets appear in `/api/v1/targets` only after the first discovery sync, ~5 s after start,
 *   whatever the scrape interval; until then the active list is empty (so "all targets up" must
 *   also count them).
 * - A target's `health` is set from the HTTP scrape before the samples are committed, so
 *   {@link PrometheusHandle.waitForTargetsUp} also waits for each target's `up` sample, which is
 *   committed with them.
 *
 * Nothing here skips: a missing binary throws, with the command that installs it.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { killAndWait, logTail, supervise } from './child-process.ts';
import { freePort } from './free-port.ts';
import { prometheus3Binary } from './peers.ts';

/** The command that installs both binaries, quoted in every not-found error. */
export const PROMETHEUS_INSTALL_COMMAND =
  'apt-get update && apt-get install -y --no-install-recommends prometheus';

export interface ScrapeJob {
  /** `job_name`; also the `job` label of the scraped series. Must be unique. */
  name: string;
  /** `host:port` of the target, e.g. `127.0.0.1:9464`. */
  target: string;
  /** @default '/metrics' (Prometheus' own default) */
  metricsPath?: string;
  /** URL query parameters sent with every scrape (`params` in prometheus.yml). @default none */
  params?: Record<string, string[]>;
  /**
   * This job's scrape interval, a Prometheus duration (`'500ms'`, `'2s'`). Its scrape timeout is
   * set to the same value, so it may be shorter than the global interval.
   * @default the global {@link PrometheusOptions.scrapeInterval}
   */
  scrapeInterval?: string;
  /** Sent as `Authorization: Bearer <token>` (`authorization` in prometheus.yml). @default none */
  bearerToken?: string;
  /**
   * `scrape_protocols`, Prometheus 3 only (2.42 has no such key): the formats asked for, in order,
   * e.g. `['PrometheusText0.0.4']` to force text. @default Prometheus' own default
   */
  scrapeProtocols?: string[];
  /**
   * `scrape_native_histograms`, Prometheus 3 only (3.15 scrapes native histograms only when this
   * is true; its `native-histograms` feature flag is a no-op). @default Prometheus' own (false)
   */
  scrapeNativeHistograms?: boolean;
  /**
   * `metric_name_escaping_scheme`, Prometheus 3 only: the `escaping` its Accept asks for
   * (`allow-utf-8`, `underscores`, `dots`, `values`). @default Prometheus' own (allow-utf-8)
   */
  metricNameEscapingScheme?: string;
}

/** The real Prometheus releases the tests run against: 2 is Debian's 2.42, 3 the pinned 3.x build. */
export type PrometheusMajor = 2 | 3;
export const PROMETHEUS_MAJORS: readonly PrometheusMajor[] = [2, 3];

export interface PrometheusOptions {
  /** Scrape jobs, one static target each. May be empty (then nothing is scraped). */
  jobs: ScrapeJob[];
  /** Global scrape interval (and timeout). @default '1s' */
  scrapeInterval?: string;
  /** How long to wait for `/-/ready` after spawning, in ms. @default 20000 */
  readyTimeoutMs?: number;
  /** Which release: 2 (Debian's 2.42 on PATH) or 3 (test/peers/versions.env, built). @default 2 */
  major?: PrometheusMajor;
  /** More command-line flags, e.g. `--web.enable-otlp-receiver` (3). @default none */
  extraArgs?: string[];
  /** More top-level prometheus.yml sections, e.g. `{ otlp: { translation_strategy: … } }`. */
  extraConfig?: Record<string, unknown>;
}

/** One element of an instant-vector result. */
export interface Sample {
  metric: Record<string, string>;
  /** `[unix seconds, value as Prometheus formats it]`. */
  value: [number, string];
}

/** `/api/v1/metadata` entry. */
export interface MetricMetadata {
  type: string;
  help: string;
  unit: string;
}

/** An element of `activeTargets` in `/api/v1/targets`. */
export interface ActiveTarget {
  discoveredLabels: Record<string, string>;
  labels: Record<string, string>;
  scrapePool: string;
  scrapeUrl: string;
  globalUrl: string;
  lastError: string;
  lastScrape: string;
  lastScrapeDuration: number;
  health: 'up' | 'down' | 'unknown';
  scrapeInterval: string;
  scrapeTimeout: string;
}

export interface TargetsResult {
  activeTargets: ActiveTarget[];
  droppedTargets: Array<{ discoveredLabels: Record<string, string> }>;
}

export interface PrometheusHandle {
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  readonly url: string;
  readonly pid: number;
  /** The generated prometheus.yml (inside the temp dir removed by `stop()`). */
  readonly configFile: string;
  /** Instant query (`/api/v1/query`). A scalar result comes back as one sample with no labels. */
  query(expr: string): Promise<Sample[]>;
  /** `/api/v1/series` over all stored time; each element is one series' full label set. */
  series(match: string | string[]): Promise<Array<Record<string, string>>>;
  /** `/api/v1/metadata`, from the targets' current scrape caches. */
  metadata(metric?: string): Promise<Record<string, MetricMetadata[]>>;
  /** `/api/v1/targets`. */
  targets(): Promise<TargetsResult>;
  /**
   * Waits until every configured job has an active target whose health is `up` and whose `up`
   * sample is queryable. On timeout throws with each target's `lastError`.
   */
  waitForTargetsUp(timeoutMs?: number): Promise<ActiveTarget[]>;
  /** Polls `query(expr)` until `predicate` holds and returns that result; throws on timeout. */
  waitFor(
    expr: string,
    predicate: (result: Sample[]) => boolean,
    timeoutMs?: number,
  ): Promise<Sample[]>;
  /** The last lines Prometheus logged (stderr), for diagnostics. */
  logs(): string;
  /** SIGTERM, SIGKILL after 5 s, then removes the temp dir. Safe to call twice. */
  stop(): Promise<void>;
}

const DEFAULT_SCRAPE_INTERVAL = '1s';
// Generous: on a loaded 2-core machine a test process busy with its own setup can miss many polls.
const DEFAULT_READY_TIMEOUT_MS = 60_000;
const DEFAULT_TARGETS_TIMEOUT_MS = 30_000;
const DEFAULT_WAIT_FOR_TIMEOUT_MS = 15_000;
const POLL_MS = 200;
const REQUEST_TIMEOUT_MS = 5_000;
const STDERR_KEEP_CHARS = 16_384;
const LOG_TAIL_LINES = 30;
const SPAWN_ATTEMPTS = 3;

/**
 * Absolute path of a Prometheus binary: the first executable `name` on PATH, else /usr/bin/name.
 * Throws the install hint when there is none.
 */
export function findPrometheusBinary(name: 'prometheus' | 'promtool'): string {
  const dirs = (process.env['PATH'] ?? '').split(delimiter).filter((d) => d !== '');
  for (const dir of [...dirs, '/usr/bin']) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, fsConstants.X_OK);
      return candidate;
    } catch {
      // not here; try the next one
    }
  }
  throw new Error(`${name} not found: run '${PROMETHEUS_INSTALL_COMMAND}' (as root)`);
}

/** The server or promtool of one release: Debian's 2.42 on PATH, or the pinned 3.x build. */
export function prometheusBinaryOf(
  major: PrometheusMajor,
  name: 'prometheus' | 'promtool',
): string {
  return major === 3 ? prometheus3Binary(name) : findPrometheusBinary(name);
}

/** The jobs of {@link startPrometheusReadingStarts}: each scrapes in a format that carries start times. */
export const START_READING_JOBS = ['proto', 'om'] as const;

/**
 * Prometheus 3 reading start times (`--enable-feature=created-timestamp-zero-ingestion`: a 0
 * stored at a series' start when it is newer than the series' last sample), scraping `target`
 * twice: job `proto` in protobuf (`created_timestamp`), job `om` in OpenMetrics 1 (`_created`).
 */
export function startPrometheusReadingStarts(target: string): Promise<PrometheusHandle> {
  return startPrometheus({
    major: 3,
    extraArgs: ['--enable-feature=created-timestamp-zero-ingestion'],
    jobs: [
      { name: 'proto', target, scrapeProtocols: ['PrometheusProto'] },
      { name: 'om', target, scrapeProtocols: ['OpenMetricsText1.0.0'] },
    ],
  });
}

export async function startPrometheus(opts: PrometheusOptions): Promise<PrometheusHandle> {
  const binary = prometheusBinaryOf(opts.major ?? 2, 'prometheus');
  validate(opts);
  const dir = await mkdtemp(join(tmpdir(), 'jobmeter-prometheus-'));
  const configFile = join(dir, 'prometheus.yml');
  // JSON is YAML: no quoting rules to get wrong for paths, tokens or params.
  await writeFile(configFile, JSON.stringify(renderConfig(opts), null, 2) + '\n');

  let lastError: Error | undefined;
  for (let attempt = 1; attempt <= SPAWN_ATTEMPTS; attempt++) {
    const port = await freePort();
    const started = await spawnAndWaitReady(
      binary,
      opts.extraArgs ?? [],
      dir,
      configFile,
      port,
      opts.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS,
    );
    if (started.ok) return makeHandle(started.proc, configFile, opts.jobs.length);
    lastError = started.error;
    // Only losing the freePort race is worth another try; anything else is a real failure.
    if (!started.addressInUse) break;
  }
  await rm(dir, { recursive: true, force: true });
  throw lastError ?? new Error('startPrometheus: failed to start');
}

/**
 * One server of each release in {@link PROMETHEUS_MAJORS}, started side by side with the same
 * options (so the same targets), for tests that assert the same things against both. If one fails
 * to start, the others are stopped and the error is thrown.
 */
export async function startEachPrometheus(
  opts: Omit<PrometheusOptions, 'major'>,
): Promise<Map<PrometheusMajor, PrometheusHandle>> {
  const started = await Promise.allSettled(
    PROMETHEUS_MAJORS.map((major) => startPrometheus({ ...opts, major })),
  );
  const failed = started.find((s) => s.status === 'rejected');
  if (failed !== undefined) {
    await Promise.allSettled(
      started.flatMap((s) => (s.status === 'fulfilled' ? [s.value.stop()] : [])),
    );
    throw failed.reason;
  }
  return new Map(
    PROMETHEUS_MAJORS.map((major, i) => [
      major,
      (started[i] as PromiseFulfilledResult<PrometheusHandle>).value,
    ]),
  );
}

function validate(opts: PrometheusOptions): void {
  if (!Array.isArray(opts.jobs)) throw new TypeError('startPrometheus: jobs must be an array');
  const names = new Set<string>();
  for (const [i, job] of opts.jobs.entries()) {
    if (typeof job.name !== 'string' || job.name === '') {
      throw new TypeError(`startPrometheus: jobs[${i}].name must be a non-empty string`);
    }
    if (names.has(job.name))
      throw new TypeError(`startPrometheus: jobs[${i}].name '${job.name}' is used twice`);
    names.add(job.name);
    if (!/^[^\s/]+:\d+$/.test(job.target)) {
      throw new TypeError(
        `startPrometheus: jobs[${i}].target must be host:port, got '${job.target}'`,
      );
    }
  }
}

function renderConfig(opts: PrometheusOptions): object {
  const interval = opts.scrapeInterval ?? DEFAULT_SCRAPE_INTERVAL;
  return {
    ...opts.extraConfig,
    global: { scrape_interval: interval, scrape_timeout: interval, evaluation_interval: interval },
    scrape_configs: opts.jobs.map((job) => ({
      job_name: job.name,
      ...(job.metricsPath !== undefined && { metrics_path: job.metricsPath }),
      ...(job.params !== undefined && { params: job.params }),
      // A job interval below the global timeout is a config error unless its timeout follows.
      ...(job.scrapeInterval !== undefined && {
        scrape_interval: job.scrapeInterval,
        scrape_timeout: job.scrapeInterval,
      }),
      ...(job.bearerToken !== undefined && {
        authorization: { type: 'Bearer', credentials: job.bearerToken },
      }),
      ...(job.scrapeProtocols !== undefined && { scrape_protocols: job.scrapeProtocols }),
      ...(job.scrapeNativeHistograms !== undefined && {
        scrape_native_histograms: job.scrapeNativeHistograms,
      }),
      ...(job.metricNameEscapingScheme !== undefined && {
        metric_name_escaping_scheme: job.metricNameEscapingScheme,
      }),
      static_configs: [{ targets: [job.target] }],
    })),
  };
}

interface Proc {
  child: ChildProcess;
  dir: string;
  url: string;
  stderr: () => string;
  exited: Promise<void>;
  /** Stops tracking it (child-process.ts); called once it is stopped and its dir removed. */
  forget: () => void;
}

type SpawnResult = { ok: true; proc: Proc } | { ok: false; error: Error; addressInUse: boolean };

async function spawnAndWaitReady(
  binary: string,
  extraArgs: readonly string[],
  dir: string,
  configFile: string,
  port: number,
  readyTimeoutMs: number,
): Promise<SpawnResult> {
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(
    binary,
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=info',
      ...extraArgs,
    ],
    { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const sup = supervise(child, dir, STDERR_KEEP_CHARS);
  const { exited, forget } = sup;
  const proc: Proc = { child, dir, url, stderr: sup.stderr, exited, forget };

  const deadline = Date.now() + readyTimeoutMs;
  let hasExited = false;
  void exited.then(() => {
    hasExited = true;
  });
  const maxPolls = Math.ceil(readyTimeoutMs / 100) + 1;
  for (let poll = 0; poll < maxPolls && Date.now() < deadline && !hasExited; poll++) {
    try {
      const res = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1_000) });
      await res.arrayBuffer();
      if (res.status === 200) {
        // Ours, not whoever else won the race for the port between freePort() and our bind.
        const ours = await servesConfig(url, configFile);
        if (ours === true) return { ok: true, proc };
        if (ours === false) break;
      }
    } catch {
      // not listening yet
    }
    await Promise.race([sleep(100), exited]);
  }
  // Whether it stopped by itself: after the kill below it has exited too, by our hand.
  const exitedByItself = hasExited;
  if (!hasExited) await killAndWait(child, exited);
  forget();
  const stderr = sup.stderr();
  const spawnError = sup.spawnError();
  const addressInUse =
    /address already in use/i.test(stderr) || (await servesConfig(url, configFile)) === false;
  const why = spawnError
    ? `failed to spawn ${binary}: ${spawnError.message}`
    : exitedByItself
      ? `exited (code ${child.exitCode}, signal ${child.signalCode}) before /-/ready`
      : `not ready at ${url}/-/ready within ${readyTimeoutMs} ms`;
  return { ok: false, addressInUse, error: new Error(`prometheus ${why}\n${tail(stderr)}`) };
}

/** Whether the server at `url` runs with `configFile`; undefined if it cannot be asked. */
async function servesConfig(url: string, configFile: string): Promise<boolean | undefined> {
  try {
    const res = await fetch(`${url}/api/v1/status/flags`, { signal: AbortSignal.timeout(1_000) });
    const body = (await res.json()) as { data?: Record<string, string> };
    return body.data?.['config.file'] === configFile;
  } catch {
    return undefined;
  }
}

function tail(text: string): string {
  return logTail('prometheus stderr', text, LOG_TAIL_LINES);
}

function makeHandle(proc: Proc, configFile: string, jobCount: number): PrometheusHandle {
  const { url } = proc;

  async function api<T>(path: string, params: URLSearchParams): Promise<T> {
    const full = `${url}${path}?${params.toString()}`;
    const res = await fetch(full, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    const body = await res.text();
    let parsed: { status?: string; data?: T; errorType?: string; error?: string };
    try {
      parsed = JSON.parse(body) as typeof parsed;
    } catch {
      throw new Error(`prometheus ${path}: HTTP ${res.status}, not JSON: ${body.slice(0, 500)}`);
    }
    if (parsed.status !== 'success' || parsed.data === undefined) {
      throw new Error(
        `prometheus ${path} (${params.toString()}): ${parsed.errorType ?? res.status}: ${parsed.error ?? body.slice(0, 500)}`,
      );
    }
    return parsed.data;
  }

  async function query(expr: string): Promise<Sample[]> {
    const data = await api<{ resultType: string; result: unknown }>(
      '/api/v1/query',
      new URLSearchParams({ query: expr }),
    );
    switch (data.resultType) {
      case 'vector':
        return data.result as Sample[];
      case 'scalar':
      case 'string':
        return [{ metric: {}, value: data.result as [number, string] }];
      default:
        throw new Error(
          `prometheus query '${expr}' returned a ${data.resultType}; query() takes instant-vector expressions`,
        );
    }
  }

  async function series(match: string | string[]): Promise<Array<Record<string, string>>> {
    const params = new URLSearchParams();
    for (const m of Array.isArray(match) ? match : [match]) params.append('match[]', m);
    return api<Array<Record<string, string>>>('/api/v1/series', params);
  }

  async function metadata(metric?: string): Promise<Record<string, MetricMetadata[]>> {
    const params = new URLSearchParams();
    if (metric !== undefined) params.set('metric', metric);
    return api<Record<string, MetricMetadata[]>>('/api/v1/metadata', params);
  }

  async function targets(): Promise<TargetsResult> {
    return api<TargetsResult>('/api/v1/targets', new URLSearchParams({ state: 'any' }));
  }

  async function waitForTargetsUp(timeoutMs = DEFAULT_TARGETS_TIMEOUT_MS): Promise<ActiveTarget[]> {
    const deadline = Date.now() + timeoutMs;
    let last: ActiveTarget[] = [];
    let lastProblem = 'no answer yet';
    for (let i = 0; i < Math.ceil(timeoutMs / POLL_MS) + 1 && Date.now() < deadline; i++) {
      assertRunning();
      try {
        last = (await targets()).activeTargets;
        if (last.length < jobCount) {
          lastProblem = `${last.length} of ${jobCount} targets discovered`;
        } else if (!last.every((t) => t.health === 'up')) {
          lastProblem = 'not all targets up';
        } else {
          // health flips before the scrape's samples are committed; `up` is committed with them.
          const up = await query('up == 1');
          const committed = last.every((t) =>
            up.some(
              (s) =>
                s.metric['job'] === t.labels['job'] &&
                s.metric['instance'] === t.labels['instance'],
            ),
          );
          if (committed) return last;
          lastProblem = 'targets up but their samples are not committed yet';
        }
      } catch (err) {
        lastProblem = (err as Error).message;
      }
      await sleep(POLL_MS);
    }
    const detail =
      last.length === 0
        ? '  (no active targets)'
        : last
            .map(
              (t) =>
                `  ${t.scrapePool} ${t.scrapeUrl}: health=${t.health} lastError=${JSON.stringify(t.lastError)}`,
            )
            .join('\n');
    throw new Error(
      `prometheus targets not up within ${timeoutMs} ms (${lastProblem}):\n${detail}\n${tail(proc.stderr())}`,
    );
  }

  async function waitFor(
    expr: string,
    predicate: (result: Sample[]) => boolean,
    timeoutMs = DEFAULT_WAIT_FOR_TIMEOUT_MS,
  ): Promise<Sample[]> {
    const deadline = Date.now() + timeoutMs;
    let last: Sample[] | undefined;
    let lastError: Error | undefined;
    for (let i = 0; i < Math.ceil(timeoutMs / POLL_MS) + 1 && Date.now() < deadline; i++) {
      assertRunning();
      try {
        last = await query(expr);
        lastError = undefined;
        if (predicate(last)) return last;
      } catch (err) {
        lastError = err as Error;
      }
      await sleep(POLL_MS);
    }
    const got = lastError
      ? `last error: ${lastError.message}`
      : `last result: ${JSON.stringify(last)}`;
    throw new Error(`prometheus waitFor('${expr}') timed out after ${timeoutMs} ms; ${got}`);
  }

  function assertRunning(): void {
    const { child } = proc;
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `prometheus exited (code ${child.exitCode}, signal ${child.signalCode})\n${tail(proc.stderr())}`,
      );
    }
  }

  let stopping: Promise<void> | undefined;
  function stop(): Promise<void> {
    stopping ??= (async () => {
      await killAndWait(proc.child, proc.exited);
      await rm(proc.dir, { recursive: true, force: true });
      proc.forget();
    })();
    return stopping;
  }

  return {
    url,
    pid: proc.child.pid ?? -1,
    configFile,
    query,
    series,
    metadata,
    targets,
    waitForTargetsUp,
    waitFor,
    logs: () => proc.stderr(),
    stop,
  };
}

/**
 * `evaluate()` until `ok` holds, for up to `ms`, then its last result (for the caller to assert).
 * A query can miss a series for a moment: one scrape timing out on a loaded machine marks the
 * target's series stale until its next scrape, and a push may land after the query.
 */
export async function settled<T>(
  evaluate: () => Promise<T>,
  ok: (result: T) => boolean,
  ms: number,
): Promise<T> {
  const deadline = Date.now() + ms;
  let result = await evaluate();
  while (!ok(result) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    result = await evaluate();
  }
  return result;
}
