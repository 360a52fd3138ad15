/**
 * `/health` stays liveness; `/ready` answers 503 with the reason while the
 * pipeline fails, 200 otherwise. Here the OTLP push points at a closed port (serve as a child
 * process): `/ready` turns 503 naming the failed exports while `/health` stays 200, and turns 200
 * again once something listens there and an export succeeds. The ingest's budget: test/http/ready.test.ts.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { afterEach, it } from 'node:test';

import { EXIT_MS, killChildren, start, START_MS } from './harness.ts';
import { freePort } from '../support/free-port.ts';
import { tempFiles } from '../support/temp-files.ts';

const files = tempFiles('jobmeter-ready-');
afterEach(killChildren);

/** Far more than the exports this waits for take (200 ms apart); only reached when /ready never turns. */
const TURN_MS = 60_000;

async function until(url: string, status: number): Promise<string> {
  const deadline = Date.now() + TURN_MS;
  for (;;) {
    const res = await fetch(url);
    const body = await res.text();
    if (res.status === status) return body;
    if (Date.now() > deadline)
      throw new Error(`${url} still ${res.status} after ${TURN_MS} ms: ${body}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

it(
  '/ready: 503 naming the failing push while /health stays 200; 200 again once the push succeeds',
  { timeout: 120_000 },
  async () => {
    const port = await freePort();
    const config = await files.file(
      'jobmeter.toml',
      [
        'profile = "otel"',
        '[listener]',
        'port = 0',
        '[otlp]',
        `endpoint = "http://127.0.0.1:${port}/v1/metrics"`,
        'interval_ms = 200',
        'timeout_ms = 100',
        '',
      ].join('\n'),
    );
    const child = start(['serve', '--config', config]);
    const [, base] = await child.stderrMatches(
      /serving otel metrics on (http:\/\/[^/\s]+)\/metrics/,
      START_MS,
    );

    const failing = await until(`${base}/ready`, 503);
    assert.match(failing, /^not ready: OTLP push failing: the last \d+ exports failed\n$/);
    assert.equal(Number(/the last (\d+)/.exec(failing)![1]) >= 3, true);
    const health = await fetch(`${base}/health`);
    assert.deepEqual([health.status, await health.text()], [200, 'ok\n']);

    // Something listens on the push's port now: the next export succeeds and /ready recovers.
    const receiver: Server = createServer((req, res) => {
      req
        .resume()
        .on('end', () => res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end());
    });
    await new Promise<void>((resolve) => receiver.listen(port, '127.0.0.1', resolve));
    try {
      assert.equal(await until(`${base}/ready`, 200), 'ready\n');
    } finally {
      receiver.closeAllConnections();
      await new Promise<void>((resolve) => receiver.close(() => resolve()));
    }
    child.child.kill('SIGTERM');
    assert.equal(await child.exited(EXIT_MS), 0, child.stderr());
  },
);
