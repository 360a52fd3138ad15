/**
 * A real OpenTelemetry Collector for tests (the pinned OCB build, test/support/peers.ts): started
 * by the test itself on loopback with its own temp config, and stopped (and cleaned up) by `stop()`.
 *
 * The config is built by the test from the ports the harness picked (`ports` names them), so a
 * lost race for a port is retried with new ones. The Collector's own telemetry is switched off
 * (its default pull endpoint, :8888, would collide between Collectors running side by side).
 * Readiness is the Collector's own log line "Everything is ready".
 *
 * Nothing here skips: a missing binary throws, with the command that builds it.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { collectorConfigCommand } from '../../src/cli/collector-config-command.ts';
import { killAndWait, logTail, settlesWithin, supervise } from './child-process.ts';
import { freePort } from './free-port.ts';
import { counterRequest } from './otlp-counter.ts';
import { otelcolBinary } from './peers.ts';

const run = promisify(execFile);
const READY_LINE = 'Everything is ready';
const DEFAULT_READY_TIMEOUT_MS = 30_000;
const SPAWN_ATTEMPTS = 3;
const LOG_KEEP_CHARS = 1 << 20;
const POLL_MS = 100;

export interface CollectorOptions<P extends string> {
  /** Names of the loopback ports the config needs; each gets a free port. */
  ports: readonly P[];
  /**
   * The Collector config for those ports, as an object (written as JSON, which is YAML). `dir` is
   * the Collector's temp dir, for file outputs (e.g. the debug exporter's `output_paths`).
   * `service.telemetry` is added unless given.
   */
  config: (
    ports: Record<P, number>,
    dir: string,
  ) => Record<string, unknown> | Promise<Record<string, unknown>>;
  /** @default 30000 */
  readyTimeoutMs?: number;
  /** Ports to listen on instead of free ones: a Collector restarted where its peers expect it. */
  fixedPorts?: Partial<Record<P, number>>;
  /**
   * A test that sets a deprecated key on purpose (to show what the Collector does with it) says so;
   * otherwise a start-up log that warns of anything deprecated fails the start, so no test leans
   * on a name the Collector is about to drop. @default false
   */
  deprecatedOnPurpose?: boolean;
}

export interface CollectorHandle<P extends string> {
  readonly ports: Record<P, number>;
  readonly dir: string;
  readonly configFile: string;
  /** Everything the Collector wrote to stderr so far (its logs). */
  logs(): string;
  /** Everything it wrote to stdout so far (the debug exporter's default output). */
  stdout(): string;
  /** A file under its temp dir, e.g. a debug exporter output path; '' while it does not exist. */
  readOutput(name: string): Promise<string>;
  /** Polls `readOutput(name)` until `predicate` holds on a text read the same twice (no block cut mid-write); throws with the logs on timeout. */
  waitForOutput(
    name: string,
    predicate: (text: string) => boolean,
    timeoutMs?: number,
  ): Promise<string>;
  /** SIGTERM (the Collector flushes and stops), SIGKILL after 5 s; removes the temp dir. */
  stop(): Promise<void>;
  /** SIGKILL, as a crash: nothing is flushed. Removes the temp dir. */
  kill(): Promise<void>;
}

/**
 * The ports a configuration from `jobmeter collector-config` listens on besides its receiver and
 * exporter: its `health_check` extension and its own telemetry. Collectors run side by side in the
 * tests, so each gets free ones (`ports: [...GENERATED_PORTS, …]`, `...generatedPortFlags(p)`).
 */
export const GENERATED_PORTS = ['health', 'telemetry'] as const;

export function generatedPortFlags(p: Record<(typeof GENERATED_PORTS)[number], number>): string[] {
  return ['--health', `127.0.0.1:${p.health}`, '--telemetry', `127.0.0.1:${p.telemetry}`];
}

/**
 * `jobmeter collector-config --profile <profile>` for a Collector started on `p` (its receiver,
 * exporter and GENERATED_PORTS), with `own` flags after them: the text the command prints.
 */
export function generatedCollectorText(
  profile: string,
  p: Record<'otlp' | 'prom' | (typeof GENERATED_PORTS)[number], number>,
  own: readonly string[] = [],
): Promise<string> {
  return collectorConfigCommand([
    '--profile',
    profile,
    '--otlp',
    `127.0.0.1:${p.otlp}`,
    '--prometheus',
    `127.0.0.1:${p.prom}`,
    ...generatedPortFlags(p),
    ...own,
  ]);
}

/** {@link generatedCollectorText} as the object `startCollector` takes. */
export async function generatedCollectorConfig(
  profile: string,
  p: Record<'otlp' | 'prom' | (typeof GENERATED_PORTS)[number], number>,
  own: readonly string[] = [],
): Promise<Record<string, unknown>> {
  return parseYaml(await generatedCollectorText(profile, p, own)) as Record<string, unknown>;
}

/** `otelcol validate --config <file>`: its exit code and everything it printed. */
export async function validateCollectorConfig(
  configFile: string,
): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(otelcolBinary(), ['validate', `--config=${configFile}`], {
      timeout: 60_000,
    });
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string; message: string };
    if (typeof e.code !== 'number') throw err;
    return { code: e.code, output: (e.stdout ?? '') + (e.stderr ?? '') };
  }
}

export async function startCollector<P extends string>(
  opts: CollectorOptions<P>,
): Promise<CollectorHandle<P>> {
  const binary = otelcolBinary();
  let lastError: Error | undefined;
  for (let attempt = 1; attempt <= SPAWN_ATTEMPTS; attempt++) {
    const dir = await mkdtemp(join(tmpdir(), 'jobmeter-otelcol-'));
    const ports = {} as Record<P, number>;
    for (const name of opts.ports) ports[name] = opts.fixedPorts?.[name] ?? (await freePort());
    const config = await opts.config(ports, dir);
    config['service'] = {
      telemetry: { metrics: { level: 'none' } },
      ...(config['service'] as object),
    };
    const configFile = join(dir, 'config.yaml');
    await writeFile(configFile, JSON.stringify(config, null, 2) + '\n');
    const started = await spawnAndWaitReady(
      binary,
      dir,
      configFile,
      opts.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS,
    );
    if (started.ok) {
      const warned = started.proc
        .stderr()
        .split('\n')
        .filter((line) => /deprecat/i.test(line));
      if (warned.length === 0 || opts.deprecatedOnPurpose === true)
        return makeHandle(started.proc, ports, configFile);
      await killAndWait(started.proc.child, started.proc.exited);
      started.proc.forget();
      await rm(dir, { recursive: true, force: true });
      throw new Error(`otelcol warned of something deprecated at start:\n${warned.join('\n')}`);
    }
    await rm(dir, { recursive: true, force: true });
    lastError = started.error;
    if (!/address already in use/i.test(started.error.message)) break;
  }
  throw lastError ?? new Error('startCollector: failed to start');
}

/**
 * A Collector whose one pipeline is the `otlp` receiver (OTLP/HTTP on loopback) into the `debug`
 * exporter at `verbosity`, written to `debug.txt` in its directory (`waitForOutput('debug.txt', …)`).
 */
export function startDebugCollector(
  verbosity: 'normal' | 'detailed',
): Promise<CollectorHandle<'otlp'>> {
  return startCollector({
    ports: ['otlp'],
    config: (p, dir) => ({
      receivers: { otlp: { protocols: { http: { endpoint: `127.0.0.1:${p.otlp}` } } } },
      exporters: {
        debug: { verbosity, use_internal_logger: false, output_paths: [join(dir, 'debug.txt')] },
      },
      service: { pipelines: { metrics: { receivers: ['otlp'], exporters: ['debug'] } } },
    }),
  });
}

interface Proc {
  child: ChildProcess;
  dir: string;
  stderr: () => string;
  stdout: () => string;
  exited: Promise<void>;
  forget: () => void;
}

async function spawnAndWaitReady(
  binary: string,
  dir: string,
  configFile: string,
  readyTimeoutMs: number,
): Promise<{ ok: true; proc: Proc } | { ok: false; error: Error }> {
  const child = spawn(binary, [`--config=${configFile}`], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const sup = supervise(child, dir, LOG_KEEP_CHARS);
  const { exited, forget } = sup;
  const proc: Proc = { child, dir, stderr: sup.stderr, stdout: sup.stdout, exited, forget };
  const ready = (async () => {
    while (
      !sup.stderr().includes(READY_LINE) &&
      child.exitCode === null &&
      sup.spawnError() === undefined
    )
      await sleep(POLL_MS);
  })();
  if (
    (await settlesWithin(Promise.race([ready, exited]), readyTimeoutMs)) &&
    sup.stderr().includes(READY_LINE)
  ) {
    return { ok: true, proc };
  }
  await killAndWait(child, exited);
  forget();
  const spawnError = sup.spawnError();
  const why = spawnError
    ? `failed to spawn ${binary}: ${spawnError.message}`
    : child.exitCode !== null
      ? `exited (code ${child.exitCode}) before it was ready`
      : `not ready within ${readyTimeoutMs} ms`;
  return {
    ok: false,
    error: new Error(`otelcol ${why}\n${logTail('otelcol stderr', sup.stderr())}`),
  };
}

function makeHandle<P extends string>(
  proc: Proc,
  ports: Record<P, number>,
  configFile: string,
): CollectorHandle<P> {
  async function readOutput(name: string): Promise<string> {
    try {
      return await readFile(join(proc.dir, name), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
      throw err;
    }
  }

  async function waitForOutput(
    name: string,
    predicate: (text: string) => boolean,
    timeoutMs = 20_000,
  ): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let text = '';
    let before: string | undefined;
    for (let i = 0; i < Math.ceil(timeoutMs / POLL_MS) + 2 && Date.now() < deadline; i++) {
      text = await readOutput(name);
      // The exporter may be writing a block as it is read: a text is taken once it read the same
      // twice, so no block is judged cut.
      if (text === before && predicate(text)) return text;
      before = text;
      if (proc.child.exitCode !== null) break;
      await sleep(POLL_MS);
    }
    throw new Error(
      `otelcol output ${name}: condition not met within ${timeoutMs} ms (${text.length} chars so far)\n${logTail('otelcol stderr', proc.stderr())}`,
    );
  }

  let stopping: Promise<void> | undefined;
  return {
    ports,
    dir: proc.dir,
    configFile,
    logs: () => proc.stderr(),
    stdout: () => proc.stdout(),
    readOutput,
    waitForOutput,
    stop() {
      stopping ??= (async () => {
        await killAndWait(proc.child, proc.exited);
        await rm(proc.dir, { recursive: true, force: true });
        proc.forget();
      })();
      return stopping;
    },
    kill() {
      stopping ??= (async () => {
        if (proc.child.exitCode === null && proc.child.signalCode === null) {
          proc.child.kill('SIGKILL');
          await proc.exited;
        }
        await rm(proc.dir, { recursive: true, force: true });
        proc.forget();
      })();
      return stopping;
    },
  };
}

/**
 * A Collector as an operator runs one to compare with serve: OTLP/HTTP in, its `prometheus`
 * exporter out (`exporter`: that exporter's settings beside its endpoint).
 */
export function startPrometheusCollector(
  exporter: Readonly<Record<string, unknown>> = {},
): Promise<CollectorHandle<'otlp' | 'prom'>> {
  return startCollector({
    ports: ['otlp', 'prom'],
    config: (p) => ({
      receivers: { otlp: { protocols: { http: { endpoint: `127.0.0.1:${p.otlp}` } } } },
      exporters: { prometheus: { endpoint: `127.0.0.1:${p.prom}`, ...exporter } },
      service: { pipelines: { metrics: { receivers: ['otlp'], exporters: ['prometheus'] } } },
    }),
  });
}

/**
 * `name`'s counter at 7 (counterRequest) posted to a real Collector that forwards it with
 * `exporter` (`{ otlp_http: {...} }`, its target and headers), without a queue or retries, so its
 * sender is answered once the export has been delivered or has failed: that answer's status and
 * the Collector's log.
 */
export async function throughCollector(
  exporter: Readonly<Record<string, object>>,
  name: string,
): Promise<{ status: number; logs: string }> {
  const [[kind, target]] = Object.entries(exporter) as [[string, object]];
  const collector = await startCollector({
    ports: ['otlp'],
    config: (p) => ({
      receivers: { otlp: { protocols: { http: { endpoint: `127.0.0.1:${p.otlp}` } } } },
      exporters: {
        [kind]: {
          ...target,
          retry_on_failure: { enabled: false },
          sending_queue: { enabled: false },
        },
      },
      service: { pipelines: { metrics: { receivers: ['otlp'], exporters: [kind] } } },
    }),
  });
  try {
    const res = await fetch(`http://127.0.0.1:${collector.ports.otlp}/v1/metrics`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(counterRequest(name, 7)),
      signal: AbortSignal.timeout(20_000),
    });
    await res.arrayBuffer();
    return { status: res.status, logs: collector.logs() };
  } finally {
    await collector.stop();
  }
}
