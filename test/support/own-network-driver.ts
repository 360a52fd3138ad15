/**
 * Inside the network namespace own-network.ts makes: holds a port if asked, runs `jobmeter` with
 * the given arguments, waits for its stderr to say what was asked (or for it to exit, or 15 s),
 * fetches a URL, stops it with SIGTERM and prints the outcome as one JSON line.
 */
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { fileURLToPath } from 'node:url';

import type { OwnNetworkOutcome, OwnNetworkRun } from './own-network.ts';

const BIN = fileURLToPath(new URL('../../src/cli/bin.ts', import.meta.url));
const WAIT_MS = 15_000;
const EXIT_MS = 12_000;

const run = JSON.parse(process.argv[2]!) as OwnNetworkRun & { env: Record<string, string> };

let held: Server | undefined;
if (run.hold !== undefined) {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: run.hold, exclusive: true }, resolve);
  });
  held = server;
}

const child = spawn(process.execPath, [BIN, ...run.args], {
  env: run.env,
  stdio: ['ignore', 'ignore', 'pipe'],
});
let stderr = '';
const exited = new Promise<number | string>((resolve) =>
  child.once('close', (code, signal) => resolve(code ?? signal ?? 'unknown')),
);
const waitFor = new RegExp(run.waitFor, 'm');
const matched = await new Promise<boolean>((resolve) => {
  const timer = setTimeout(() => resolve(false), WAIT_MS);
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
    if (waitFor.test(stderr)) {
      clearTimeout(timer);
      resolve(true);
    }
  });
  void exited.then(() => {
    clearTimeout(timer);
    resolve(waitFor.test(stderr));
  });
});

let fetched: OwnNetworkOutcome['fetched'];
if (matched && run.fetch !== undefined) {
  const res = await fetch(run.fetch, { signal: AbortSignal.timeout(5_000) });
  fetched = { status: res.status, body: await res.text() };
}
if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
const kill = setTimeout(() => child.kill('SIGKILL'), EXIT_MS);
const code = await exited;
clearTimeout(kill);
held?.close();
const outcome: OwnNetworkOutcome = { matched, code, stderr, ...(fetched && { fetched }) };
process.stdout.write(`${JSON.stringify(outcome)}\n`);
