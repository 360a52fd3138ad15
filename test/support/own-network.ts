/**
 * `jobmeter` run in a network namespace of its own (`unshare -rn`, its `lo` up), so a test can
 * hold serve to its real default ports (9464, 9465…) without meeting another test's serve or
 * anything else on the machine. The driver (own-network-driver.ts) runs inside it: it may first
 * hold a port, as another program would, then starts the command, waits until its stderr says
 * `waitFor` (or it exits), fetches a URL in the namespace, stops it with SIGTERM, and answers in
 * one JSON line. Nothing is skipped: without unshare or user namespaces this throws, saying so.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const NODE = join(ROOT, 'node_modules/.bin/node');
const DRIVER = fileURLToPath(new URL('./own-network-driver.ts', import.meta.url));

export interface OwnNetworkRun {
  /** `jobmeter`'s arguments (`['serve', …]`). */
  readonly args: readonly string[];
  /** Environment beyond PATH, HOME and a state directory of the run's own. */
  readonly env?: Readonly<Record<string, string>>;
  /** A loopback port held, before the command starts, by a listener of the driver's. */
  readonly hold?: number;
  /** A pattern (a RegExp's source) of the stderr to wait for before fetching and stopping. */
  readonly waitFor: string;
  /** A URL fetched in the namespace once `waitFor` matched. */
  readonly fetch?: string;
}

export interface OwnNetworkOutcome {
  /** Whether stderr matched `waitFor` before the command exited (or 15 s passed). */
  readonly matched: boolean;
  /** The exit code (or signal): after SIGTERM when it matched, on its own otherwise. */
  readonly code: number | string;
  readonly stderr: string;
  /** The fetched URL's status and body. */
  readonly fetched?: { readonly status: number; readonly body: string };
}

export async function inOwnNetwork(run: OwnNetworkRun): Promise<OwnNetworkOutcome> {
  const state = mkdtempSync(join(tmpdir(), 'jobmeter-own-network-'));
  try {
    const input = JSON.stringify({
      ...run,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        XDG_STATE_HOME: state,
        ...run.env,
      },
    });
    const stdout = await inNamespace(NODE, [DRIVER, input], { timeout: 60_000 });
    return JSON.parse(stdout) as OwnNetworkOutcome;
  } finally {
    rmSync(state, { recursive: true, force: true });
  }
}

/**
 * `command args` in a network namespace of its own, its `lo` up; its stdout.
 * @throws saying what is missing when unshare, user namespaces or `ip` are, or what failed.
 */
export async function inNamespace(
  command: string,
  args: readonly string[],
  options: { readonly timeout?: number } = {},
): Promise<string> {
  const { stdout } = await promisify(execFile)(
    'unshare',
    ['-rn', 'sh', '-c', 'ip link set lo up && exec "$0" "$@"', command, ...args],
    { maxBuffer: 64 << 20, ...options },
  ).catch((caught: unknown) => {
    const err = caught as NodeJS.ErrnoException & { stderr?: string };
    if (err.code === 'ENOENT')
      throw new Error('unshare is missing: apt-get install -y util-linux iproute2');
    throw new Error(
      `the namespace or its driver failed (unshare -rn needs unprivileged user namespaces, ip needs iproute2): ${err.message}\n${err.stderr ?? ''}`,
    );
  });
  return stdout;
}
