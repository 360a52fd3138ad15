/**
 * `createMetricsMiddleware` in a real Express 5 app: the same suites as the fastify plugin
 * (route-conformance.ts), and mounting under a prefix.
 */
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';

import express from 'express';

import { createMetricsMiddleware } from '../../src/http/node-handler.ts';
import {
  accessLineOf,
  get,
  jm,
  routeConformance,
  shutdownJobmeters,
  type MountedHost,
} from './route-conformance.ts';

async function listen(app: express.Express): Promise<{ server: Server; port: number }> {
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return { server, port: (server.address() as AddressInfo).port };
}

function closeServer(server: Server): Promise<void> {
  return new Promise<void>((resolve) => server.close(() => resolve()).closeAllConnections());
}

/** Express's own 404 page for `path` (what a refused 404 must be). */
async function expressNotFound(path: string): Promise<string> {
  const { server, port } = await listen(express());
  const res = await get(port, path);
  await closeServer(server);
  return res.text;
}

after(shutdownJobmeters);

routeConformance(async (options): Promise<MountedHost> => {
  const metrics = createMetricsMiddleware(options);
  const app = express();
  app.use(metrics);
  app.get('/healthz', (_req, res) => {
    res.type('text/plain').send('ok\n');
  });
  const { server, port } = await listen(app);
  return {
    port,
    notFound: expressNotFound,
    startClosing: async () => metrics.close(),
    close: () => closeServer(server),
  };
});

describe('mounted under a prefix', () => {
  it('serves below the mount point and logs the full path', async () => {
    const lines: string[] = [];
    const metrics = createMetricsMiddleware({
      jobmeter: await jm('otel'),
      path: '/metrics',
      accessLog: { stream: { write: (s) => lines.push(s) } },
    });
    const app = express();
    app.use('/ops', metrics);
    const { server, port } = await listen(app);
    try {
      const res = await get(port, '/ops/metrics', { accept: '*/*' });
      assert.equal(res.status, 200);
      assert.match(res.text, /^jobmeter_run_finished_total\{/m);
      assert.equal((await get(port, '/metrics')).status, 404);
      assert.equal(
        (await accessLineOf(lines, String(res.headers['x-request-id'])))[4],
        '/ops/metrics',
      );
    } finally {
      await closeServer(server);
    }
  });
});
