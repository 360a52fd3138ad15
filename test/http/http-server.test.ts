/**
 * startHttpServer, the node:http server under jobmeter's own listeners, over real sockets: a
 * request that arrives once closing has started gets 503 with `Connection: close` (fastify's
 * `return503OnClosing`, which these listeners ran on before), a request in flight still finishes
 * within the grace, and a handler that fails answers 500 without its cause.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { describe, it } from 'node:test';

import { startHttpServer } from '../../src/http/http-server.ts';
import { OPTION_DEFAULTS } from '../../src/common/option-defaults.ts';

/** A socket and everything it has received so far. */
function open(
  port: number,
): Promise<{ socket: Socket; received: () => string; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    socket.setEncoding('latin1').on('data', (d: string) => (data += d));
    const closed = new Promise<void>((done) => socket.once('close', () => done()));
    socket.once('error', reject);
    socket.once('connect', () => resolve({ socket, received: () => data, closed }));
  });
}

async function until(probe: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (probe()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.fail(`not within 2 s: ${what}`);
}

describe('startHttpServer', () => {
  it('a request arriving while closing gets 503 and Connection: close; the one in flight finishes', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let seen = 0;
    let closingCalled = 0;
    const server = await startHttpServer({
      host: '127.0.0.1',
      port: 0,
      limits: OPTION_DEFAULTS.serverLimits,
      handler: async (_request, response) => {
        seen++;
        await held;
        response.end('first\n');
      },
      onClosing: () => closingCalled++,
    });
    const client = await open(server.port);
    client.socket.write('GET /a HTTP/1.1\r\nHost: x\r\n\r\n');
    await until(() => seen === 1, 'the first request reached the handler');
    const closing = server.close();
    assert.equal(closingCalled, 1);
    // The connection is busy, so it stays open; a second request on it comes in while closing.
    client.socket.write('GET /b HTTP/1.1\r\nHost: x\r\n\r\n');
    await new Promise((r) => setTimeout(r, 100));
    release();
    await client.closed;
    await closing;
    const answers = client.received().split(/(?=HTTP\/1\.1 )/);
    assert.equal(answers.length, 2, client.received());
    assert.match(answers[0]!, /^HTTP\/1\.1 200 [^]*\r\n\r\nfirst\n$/);
    assert.match(answers[1]!, /^HTTP\/1\.1 503 /);
    assert.match(answers[1]!, /\r\nconnection: close\r\n/i);
    assert.match(
      answers[1]!,
      /\r\n\r\n\{"error":"Service Unavailable","message":"Service Unavailable","statusCode":503\}$/,
    );
    assert.equal(seen, 1, 'the handler never saw the request that came while closing');
    assert.equal(server.close(), closing, 'close is idempotent');
  });

  it('a handler that throws or rejects answers 500 with a fixed body, and the server keeps serving', async () => {
    const server = await startHttpServer({
      host: '127.0.0.1',
      port: 0,
      limits: OPTION_DEFAULTS.serverLimits,
      handler: (request, response) => {
        if (request.url === '/throw') throw new Error('secret cause');
        if (request.url === '/reject') return Promise.reject(new Error('secret cause'));
        response.end('ok\n');
        return undefined;
      },
    });
    try {
      for (const path of ['/throw', '/reject']) {
        const res = await fetch(`http://127.0.0.1:${server.port}${path}`);
        assert.equal(res.status, 500, path);
        assert.equal(await res.text(), 'internal error\n');
      }
      assert.equal(await (await fetch(`http://127.0.0.1:${server.port}/`)).text(), 'ok\n');
    } finally {
      await server.close();
    }
  });

  it('a failed bind rejects and calls onClosed', async () => {
    const first = await startHttpServer({
      host: '127.0.0.1',
      port: 0,
      limits: OPTION_DEFAULTS.serverLimits,
      handler: (_q, r) => void r.end(),
    });
    let closed = 0;
    try {
      await assert.rejects(
        startHttpServer({
          host: '127.0.0.1',
          port: first.port,
          limits: OPTION_DEFAULTS.serverLimits,
          handler: (_q, r) => void r.end(),
          onClosed: () => {
            closed++;
          },
        }),
        /EADDRINUSE/,
      );
      assert.equal(closed, 1);
    } finally {
      await first.close();
    }
  });
});
