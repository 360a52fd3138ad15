/**
 * `jobmeter` as a child process: `node src/cli/bin.ts …` with the repository's Node 24.
 * Every wait is bounded; {@link killChildren} (from an `afterEach`) kills what is still running.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const NODE = join(ROOT, 'node_modules/.bin/node');
const MAIN = join(ROOT, 'src/cli/bin.ts');

/**
 * What moves serve's telemetry listener (on by default, at 127.0.0.1:9465) to a free port: the
 * environment of every serve a test starts, so that none depends on 9465 being free.
 */
export const ANY_TELEMETRY_PORT = { JOBMETER_TELEMETRY_LISTEN: '127.0.0.1:0' } as const;

/**
 * Upper bound for startup and for one-shot commands: a bound, never a speed claim. A cold start
 * loads every module from TypeScript source; on the 2-core test machine under load (the full
 * suite, a bench, parallel sessions) that has taken longer than 15 s.
 */
export const START_MS = 45_000;
/** Upper bound for exit after SIGTERM (the CLI itself gives up after 10 s). */
export const EXIT_MS = 12_000;

/**
 * A clean environment: no ambient OTEL_* (or RM_*, CREWSHIP_*, RUNWISP_*) variables, and the
 * ingest state serve keeps by default (under $XDG_STATE_HOME) in a folder of this test process's,
 * so that no run reads another's state or writes under the runner's home. serve's telemetry
 * listener, on by default at 127.0.0.1:9465, takes a free port instead, so serves run in parallel
 * never meet there (a config file's `[telemetry] listen` still wins; a test of the default itself
 * passes `JOBMETER_TELEMETRY_LISTEN: ''`, which is unset).
 */
const BASE_ENV = {
  PATH: process.env.PATH ?? '',
  HOME: process.env.HOME ?? '',
  XDG_STATE_HOME: mkdtempSync(join(tmpdir(), 'jobmeter-harness-state-')),
  ...ANY_TELEMETRY_PORT,
};
process.once('exit', () => rmSync(BASE_ENV.XDG_STATE_HOME, { recursive: true, force: true }));

const children = new Set<ChildProcess>();

/** Kills every child still running (SIGKILL). */
export function killChildren(): void {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  children.clear();
}

export interface Running {
  child: ChildProcess;
  stderr(): string;
  stdout(): string;
  /** Resolves with the exit code (or the signal name), rejects after `ms`. */
  exited(ms: number): Promise<number | string>;
  /** Resolves with stderr once it matches `pattern`, rejects after `ms` or on exit. */
  stderrMatches(pattern: RegExp, ms: number): Promise<RegExpExecArray>;
}

export function start(args: readonly string[], env: Record<string, string> = {}): Running {
  const child = spawn(NODE, [MAIN, ...args], {
    env: { ...BASE_ENV, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exit = new Promise<number | string>((resolve) => {
    child.once('close', (code, signal) => resolve(code ?? signal ?? 'unknown'));
  });
  return {
    child,
    stderr: () => err,
    stdout: () => out,
    exited: (ms) =>
      withTimeout(exit, ms, () => `child did not exit within ${ms} ms; stderr:\n${err}`),
    stderrMatches: (pattern, ms) =>
      withTimeout(
        new Promise<RegExpExecArray>((resolve, reject) => {
          // Off once matched: a long-lived child (the model's serve) is asked many times.
          const check = (): void => {
            const m = pattern.exec(err);
            if (m === null) return;
            child.stderr.off('data', check);
            resolve(m);
          };
          child.stderr.on('data', check);
          check();
          void exit.then((code) =>
            reject(new Error(`child exited (${code}) before ${pattern}; stderr:\n${err}`)),
          );
        }),
        ms,
        () => `stderr did not match ${pattern} within ${ms} ms; stderr:\n${err}`,
      ),
  };
}

export async function run(
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<{ code: number | string; stdout: string; stderr: string }> {
  const r = start(args, env);
  const code = await r.exited(START_MS);
  return { code, stdout: r.stdout(), stderr: r.stderr() };
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message())), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
