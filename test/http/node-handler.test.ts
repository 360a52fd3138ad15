/**
 * `createMetricsHandler` on a plain node:http server: the same suites as the fastify plugin
 * (route-conformance.ts), and what is the handler's own: its surface and when it takes a request.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';

import * as handlerModule from '../../src/http/node-handler.ts';
import { createMetricsHandler } from '../../src/http/node-handler.ts';
import { setAccessLogTenant } from '../../src/index-http.ts';
import {
  accessLineOf,
  BAD_OPTIONS,
  get,
  jm,
  routeConformance,
  shutdownJobmeters,
  TOKEN,
  type MountedHost,
} from './route-conformance.ts';

const NOT_FOUND = 'host: no such page\n';

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

after(shutdownJobmeters);

routeConformance(async (options): Promise<MountedHost> => {
  const metrics = createMetricsHandler(options);
  const server = createServer((req, res) => {
    if (metrics(req, res)) return;
    if (req.url === '/healthz') res.end('ok\n');
    else res.writeHead(404, { 'content-type': 'text/plain' }).end(NOT_FOUND);
  });
  const port = await listen(server);
  return {
    port,
    notFound: async () => NOT_FOUND,
    startClosing: async () => metrics.close(),
    close: () =>
      new Promise<void>((resolve) => server.close(() => resolve()).closeAllConnections()),
  };
});

describe('the handler itself', () => {
  it('options are checked when it is made, naming the option, never echoing a token', async () => {
    const base = await jm('otel');
    for (const [name, options, message] of BAD_OPTIONS)
      assert.throws(() => createMetricsHandler({ jobmeter: base, ...options }), message, name);
    assert.throws(
      () => createMetricsHandler({ jobmeter: base, token: `${TOKEN} oops` }),
      (err: Error) => !err.message.includes(TOKEN),
    );
  });

  it('says what it serves, and takes only GET/HEAD of its path', async () => {
    const metrics = createMetricsHandler({
      jobmeter: await jm('wasmrun'),
      apiKeys: [{ key: TOKEN, tenant: 'a' }],
      accessLog: false,
    });
    assert.deepEqual(metrics.route, {
      path: '/api/v1/metrics',
      posture: 'wasmrun',
      mode: 'gated',
      description: 'API key (1 key)',
    });
    const taken: string[] = [];
    const server = createServer((req, res) => {
      taken.push(`${req.method} ${req.url} ${metrics(req, res)}`);
      if (!res.headersSent && !res.writableEnded) res.writeHead(404).end();
    });
    const port = await listen(server);
    for (const [method, path] of [
      ['GET', '/api/v1/metrics'],
      ['HEAD', '/api/v1/metrics?x=1'],
      ['POST', '/api/v1/metrics'],
      ['GET', '/api/v1/metrics/'],
      ['GET', '/metrics'],
    ]) {
      await get(port, path!, {}, undefined, method);
    }
    server.close();
    assert.deepEqual(taken, [
      'GET /api/v1/metrics true',
      'HEAD /api/v1/metrics?x=1 true',
      'POST /api/v1/metrics false',
      'GET /api/v1/metrics/ false',
      'GET /metrics false',
    ]);
  });

  it('a host naming the tenant of its own request with setAccessLogTenant(req) gets it in the line', async () => {
    const out: string[] = [];
    const metrics = createMetricsHandler({
      jobmeter: await jm('wasmrun'),
      accessLog: { stream: { write: (s) => out.push(s) } },
    });
    const server = createServer((req, res) => {
      if (metrics(req, res)) return;
      setAccessLogTenant(req, 'host-tenant');
      res.end('{}');
    });
    const port = await listen(server);
    const res = await get(port, '/api/v1/sessions');
    server.close();
    assert.equal((await accessLineOf(out, String(res.headers['x-request-id'])))[7], 'host-tenant');
  });

  it('exports the handler and its middleware form, nothing else', () => {
    assert.deepEqual(Object.keys(handlerModule), [
      'createMetricsHandler',
      'createMetricsMiddleware',
    ]);
  });
});
