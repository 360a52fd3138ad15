/**
 * SIGTERM while clients hold connections open — idle ones, and ones in the middle
 * of a request (half-sent headers, a stalled body) on every listener — closes them and exits 0
 * within the documented bound (10 s). Every listener's close is bounded (server-limits.ts) rather
 * than left to what Node and fastify happen to close.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { afterEach, test } from 'node:test';
import { EXIT_MS, killChildren } from './harness.ts';
import { serveWithIngest } from '../support/serve.ts';
import { tempFiles } from '../support/temp-files.ts';

const files = tempFiles('jobmeter-serve-shutdown-');
afterEach(killChildren);

function hold(port: number, send: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      if (send !== '') socket.write(send);
      resolve(socket);
    });
    socket.on('error', () => {});
    socket.once('error', reject);
  });
}

test('SIGTERM with idle and unfinished connections on every listener exits 0 within 10 s', async () => {
  const { child, ingestPort } = await serveWithIngest(files, {
    lines: ['[metrics]', 'listen = "127.0.0.1:0"'],
  });
  // The telemetry listener's line comes after the ingest's, which is all serveWithIngest waits for.
  await child.stderrMatches(/serving jobmeter's own telemetry on /, 10_000);
  const ports = [Number(ingestPort)];
  for (const m of child.stderr().matchAll(/http:\/\/127\.0\.0\.1:(\d+)/g)) ports.push(Number(m[1]));
  const unique = [...new Set(ports)];
  // The main server, the ingest, the dedicated metrics listener and the telemetry listener.
  assert.equal(unique.length, 4, child.stderr());
  const sockets: Socket[] = [];
  for (const port of unique) {
    sockets.push(await hold(port, ''));
    sockets.push(await hold(port, 'GET /metrics HTTP/1.1\r\nHost: x\r\n'));
  }
  sockets.push(
    await hold(
      Number(ingestPort),
      'POST /v1/metrics HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"res',
    ),
  );
  // Let the server register them.
  await new Promise((resolve) => setTimeout(resolve, 300));
  const t0 = Date.now();
  child.child.kill('SIGTERM');
  const code = await child.exited(EXIT_MS);
  const took = Date.now() - t0;
  for (const s of sockets) s.destroy();
  assert.equal(code, 0, child.stderr());
  assert.ok(took < 10_000, `exited after ${took} ms`);
  assert.doesNotMatch(child.stderr(), /did not finish/);
});
