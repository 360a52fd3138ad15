/**
 * Inside a network namespace of its own (test/docs/code-blocks.test.ts starts it under
 * `unshare -rn`, so the programs' default ports never meet another test's): runs one docs program,
 * waits until its top-level code has finished, then scrapes its pull endpoint until every promised
 * line is served (or the program exits, or 30 s pass), stops it and its children, and prints what
 * happened as one JSON line.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface BlockRun {
  /** Files of the program, by name, written to `dir`; `entry` is the one node runs. */
  dir: string;
  entry: string;
  nodeArgs: string[];
  env: Record<string, string>;
  promised: string[];
  scrapeUrl: string;
}

export interface BlockOutcome {
  settled: boolean;
  /** Exit code or signal, when the program ended before it was stopped. */
  exitedOnItsOwn?: number | string;
  stdout: string;
  stderr: string;
  /** The last scrape's lines that are promised ones. */
  served: string[];
  lastBody: string;
}

const WRAPPER = fileURLToPath(new URL('./block-entry.ts', import.meta.url));
const DEADLINE_MS = 30_000;

const run = JSON.parse(process.argv[2]!) as BlockRun;
const child = spawn(process.execPath, [...run.nodeArgs, WRAPPER, run.entry], {
  cwd: run.dir,
  env: run.env,
  detached: true, // its own process group: stopping it stops the workers it forked
  stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
});
let stdout = '';
let stderr = '';
child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
let exited: number | string | undefined;
const exit = new Promise<void>((resolve) =>
  child.once('exit', (code, signal) => ((exited = code ?? signal ?? 'unknown'), resolve())),
);
const settled = await Promise.race([
  new Promise<boolean>((resolve) =>
    (child.stdio[3] as NodeJS.ReadableStream).on('data', () => resolve(true)),
  ),
  exit.then(() => false),
]);

let served: string[] = [];
let lastBody = '';
if (settled && run.promised.length > 0) {
  const deadline = Date.now() + DEADLINE_MS;
  while (exited === undefined && Date.now() < deadline) {
    lastBody = await fetch(run.scrapeUrl, { signal: AbortSignal.timeout(5_000) }).then(
      (r) => r.text(),
      (err: unknown) => `(scrape failed: ${(err as Error).message})`,
    );
    const lines = new Set(lastBody.split('\n'));
    served = run.promised.filter((p) => lines.has(p));
    if (served.length === run.promised.length) break;
    await new Promise((r) => setTimeout(r, 100));
  }
}
const exitedOnItsOwn = exited;
if (exited === undefined) {
  process.kill(-child.pid!, 'SIGTERM');
  const killer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 5_000);
  await exit;
  clearTimeout(killer);
}
process.stdout.write(
  `${JSON.stringify({ settled, exitedOnItsOwn, stdout, stderr, served, lastBody } satisfies BlockOutcome)}\n`,
);
