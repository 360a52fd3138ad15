/**
 * `npm start` is a process a supervisor can stop: SIGTERM to the npm process stops the jobmeter
 * server it started (npm forwards the signal to its script's process, which must be node itself,
 * not a `sh -c` that would swallow it) and npm exits 0.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { ANY_TELEMETRY_PORT, EXIT_MS, START_MS } from './harness.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
let group: number | undefined;
// npm runs in a process group of its own, so whatever it left behind is killed with the group.
after(() => {
  if (group === undefined) return;
  try {
    process.kill(-group, 'SIGKILL');
  } catch {
    // The group is gone: nothing was left behind.
  }
});

it('SIGTERM to `npm start` stops the server and npm exits 0', async () => {
  const npm = spawn('npm', ['start', '--silent', '--', '--listen', '127.0.0.1:0'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...ANY_TELEMETRY_PORT },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  group = npm.pid;
  let stderr = '';
  npm.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<number | string>((resolve) =>
    npm.once('close', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no serving line within ${START_MS} ms; stderr:\n${stderr}`)),
      START_MS,
    );
    const check = (): void => {
      const m = /^jobmeter: serving otel metrics on (\S+)$/m.exec(stderr);
      if (m !== null) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    npm.stderr.on('data', check);
    void exited.then(() => reject(new Error(`npm start exited early; stderr:\n${stderr}`)));
  });
  assert.equal((await fetch(url)).status, 200);

  npm.kill('SIGTERM'); // npm alone, as a supervisor signals its main process
  const code = await Promise.race([
    exited,
    new Promise((_, reject) =>
      setTimeout(() => reject(new Error(`npm did not exit within ${EXIT_MS} ms`)), EXIT_MS).unref(),
    ),
  ]);
  assert.equal(code, 0, stderr);
  assert.match(stderr, /^jobmeter: SIGTERM received, shutting down$/m);
  await assert.rejects(
    fetch(url),
    (err: Error) => (err.cause as { code?: string } | undefined)?.code === 'ECONNREFUSED',
    'the server is gone',
  );
});
