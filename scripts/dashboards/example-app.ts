/**
 * Starts examples/task-daemon the way its README does (`node --import jobmeter/instrumentation`,
 * the built package, JOBMETER_CONFIG pointing at its jobmeter.toml) on a free loopback port, for
 * the tests and the picture renderer.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import type { ProfileName } from '../../src/options.ts';
import { ROOT } from './rules-file.ts';

export interface ExampleApp {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** `127.0.0.1:<port>`, for a scrape target. */
  readonly target: string;
  readonly child: ChildProcess;
  /** Everything the daemon wrote to stderr so far. */
  stderr(): string;
  /** SIGTERM; resolves with the exit code (SIGKILL after 10 s). Safe to call twice. */
  stop(): Promise<number | null>;
}

export interface ExampleAppOptions {
  /** JOBMETER_PROFILE. @default 'otel' */
  readonly profile?: ProfileName;
  /** Extra environment (METRICS_TOKEN…). */
  readonly env?: Readonly<Record<string, string>>;
  /** How long to wait for the "listening" line (a loaded machine starts six of them at once). @default 60000 */
  readonly startTimeoutMs?: number;
}

const STOP_GRACE_MS = 10_000;

export async function startExampleApp(options: ExampleAppOptions = {}): Promise<ExampleApp> {
  if (!existsSync(`${ROOT}dist/instrumentation/index.js`)) {
    throw new Error('dist/ is missing: run `npm run build` (npm test and npm pack build it)');
  }
  const child = spawn(
    process.execPath,
    ['--import', 'jobmeter/instrumentation', 'examples/task-daemon/main.ts'],
    {
      cwd: ROOT,
      env: {
        PATH: process.env['PATH'] ?? '/usr/bin:/bin',
        HOST: '127.0.0.1',
        PORT: '0',
        JOBMETER_CONFIG: 'examples/task-daemon/jobmeter.toml',
        JOBMETER_PROFILE: options.profile ?? 'otel',
        ...options.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;

  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      // Not handed to the caller, so nobody else would stop it: its pipes would keep the test
      // process alive after the test gave up.
      child.kill('SIGKILL');
      reject(new Error(`task-daemon: no "listening" line within the timeout; stderr:\n${stderr}`));
    }, options.startTimeoutMs ?? 60_000);
    const onData = (): void => {
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout);
      if (m) {
        clearTimeout(timer);
        child.stdout.off('data', onData);
        resolve(m[1]!);
      }
    };
    child.stdout.on('data', onData);
    void exited.then(([code]) => {
      clearTimeout(timer);
      reject(new Error(`task-daemon exited (${code}) before listening; stderr:\n${stderr}`));
    });
  });

  let stopping: Promise<number | null> | undefined;
  return {
    url,
    target: url.replace(/^http:\/\//, ''),
    child,
    stderr: () => stderr,
    stop() {
      stopping ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
        const [code] = await exited;
        clearTimeout(timer);
        return code;
      })();
      return stopping;
    },
  };
}
