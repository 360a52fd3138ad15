/**
 * `[listener]`'s timeouts and connection cap hold for every server `jobmeter serve` runs on its
 * behalf: the main server on its address and the dedicated metrics listener, never the defaults
 * (30 s, 256) when the file says otherwise.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { afterEach, test } from 'node:test';
import { killChildren, start, START_MS } from './harness.ts';
import { tempFiles } from '../support/temp-files.ts';

const files = tempFiles('jobmeter-serve-limits-');
afterEach(killChildren);

/** Far below the default idle timeout (30 s): only the configured one closes a connection this soon. */
const WITHIN_MS = 8_000;

/** A connection, and what the server wrote on it once it closed it ('timeout' if it did not within `ms`). */
function open(
  port: number,
  send: string,
  ms = WITHIN_MS,
): Promise<{ socket: Socket; closed: Promise<string> }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    socket.setEncoding('latin1').on('data', (d: string) => (data += d));
    const closed = new Promise<string>((done) => {
      const timer = setTimeout(() => done('timeout'), ms);
      socket.on('close', () => {
        clearTimeout(timer);
        done(data);
      });
    });
    socket.on('error', () => {});
    socket.once('connect', () => {
      if (send !== '') socket.write(send);
      resolve({ socket, closed });
    });
    socket.once('error', reject);
  });
}

test(
  "serve: [listener]'s idle timeout and connection cap hold on the main server and the dedicated metrics listener",
  { timeout: 60_000 },
  async () => {
    const config = await files.file(
      'jobmeter.toml',
      [
        'process_metrics = false',
        '[listener]',
        'port = 0',
        'idle_timeout_ms = 1000',
        'max_connections = 2',
        '[metrics]',
        'listen = "127.0.0.1:0"',
        '',
      ].join('\n'),
    );
    const child = start(['serve', '--config', config]);
    const [, mainPort] = await child.stderrMatches(
      /main server on http:\/\/127\.0\.0\.1:(\d+)/,
      START_MS,
    );
    const [, metricsPort] = await child.stderrMatches(
      /metrics on http:\/\/127\.0\.0\.1:(\d+)\/metrics/,
      START_MS,
    );
    const servers: Array<[string, number, string]> = [
      ['main server', Number(mainPort), 'GET /health HTTP/1.1\r\nHost: x\r\n\r\n'],
      ['metrics listener', Number(metricsPort), 'GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n'],
    ];
    for (const [name, port, request] of servers) {
      const idle = await open(port, request);
      assert.match(
        await idle.closed,
        /^HTTP\/1\.1 200 /,
        `${name}: an idle keep-alive connection is closed after 1 s, not 30`,
      );

      // A third connection makes room by evicting the oldest idle one (max_connections = 2).
      const held = await Promise.all([0, 1].map(() => open(port, '')));
      const extra = await open(port, request);
      assert.equal(
        await held[0]!.closed,
        '',
        `${name}: the oldest idle connection is evicted for a third`,
      );
      assert.match(
        await extra.closed,
        /^HTTP\/1\.1 200 /,
        `${name}: the third connection is answered`,
      );
      for (const h of held) h.socket.destroy();
    }
  },
);
