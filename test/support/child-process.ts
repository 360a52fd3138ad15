/**
 * Lifecycle of the real servers the tests start (Prometheus, the Collector): every child not yet
 * stopped is tracked, unref'd so a forgotten stop() cannot keep the test process alive, and killed
 * (its temp dir removed) synchronously when the test process exits — normally, or on
 * SIGTERM/SIGINT/SIGHUP, e.g. the test runner cancelling a file. Only SIGKILL of the test process
 * can orphan one (it is on loopback, in /tmp).
 */
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';

const STOP_GRACE_MS = 5_000;
const live = new Set<{ child: ChildProcess; dir: string }>();
let hooksInstalled = false;
const FORWARDED_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;

function killAllLive(): void {
  for (const { child, dir } of live) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
  live.clear();
}

function onSignal(signal: NodeJS.Signals): void {
  killAllLive();
  // Alone, our listener would swallow the signal: step aside and let it terminate as usual.
  // With other listeners (the test runner's own), they decide what happens next.
  if (process.listenerCount(signal) === 1) {
    for (const sig of FORWARDED_SIGNALS) process.removeListener(sig, onSignal);
    process.kill(process.pid, signal);
  }
}

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.once('exit', killAllLive);
  for (const sig of FORWARDED_SIGNALS) process.on(sig, onSignal);
}

/** A spawned server: its output so far (tails), whether and why it ended. */
export interface Supervised {
  stdout(): string;
  stderr(): string;
  /** Settles once the child has closed (its output drained) or could not be spawned. */
  readonly exited: Promise<void>;
  spawnError(): Error | undefined;
  /** Stops tracking it; call once it is stopped and its dir removed. */
  forget(): void;
}

/** Keeps the last `keepChars` of the child's stdout/stderr and tracks it (see {@link track}). */
export function supervise(child: ChildProcess, dir: string, keepChars: number): Supervised {
  const out = { stdout: '', stderr: '' };
  for (const name of ['stdout', 'stderr'] as const) {
    const stream = child[name];
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      out[name] = (out[name] + chunk).slice(-keepChars);
    });
  }
  let spawnError: Error | undefined;
  const exited = new Promise<void>((resolve) => {
    // 'close', not 'exit': the output is drained by then, so the tail has the last words.
    child.once('close', () => resolve());
    child.once('error', (err) => {
      spawnError = err;
      resolve();
    });
  });
  const forget = track(child, dir);
  return {
    stdout: () => out.stdout,
    stderr: () => out.stderr,
    exited,
    spawnError: () => spawnError,
    forget,
  };
}

/** Tracks `child` (and its temp `dir`) until the returned `forget` is called. */
export function track(child: ChildProcess, dir: string): () => void {
  const entry = { child, dir };
  live.add(entry);
  installHooks();
  child.unref();
  for (const stream of [child.stdout, child.stderr])
    (stream as { unref?: () => void } | null)?.unref?.();
  return () => void live.delete(entry);
}

/** Resolves whether `promise` settled within `ms`; its timer never outlives the call. */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(resolve, ms, false);
  });
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** SIGTERM, then SIGKILL if it has not exited within the grace period. */
export async function killAndWait(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  if (!(await settlesWithin(exited, STOP_GRACE_MS))) {
    child.kill('SIGKILL');
    await settlesWithin(exited, STOP_GRACE_MS);
  }
}

/** The last `lines` lines of a server's log, headed for a failure message. */
export function logTail(what: string, text: string, lines = 30): string {
  const kept = text.trimEnd().split('\n').slice(-lines);
  return `--- ${what} (last ${kept.length} lines) ---\n${kept.join('\n')}`;
}
