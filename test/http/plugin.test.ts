/**
 * `jobmeterMetrics` on a host's fastify server: the suites every mount shares
 * (route-conformance.ts), and what is the plugin's own: fastify's inject for a remote peer, no
 * route registered, nothing decorated, preClose, registration errors, the plugin's markings.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { after, describe, it } from 'node:test';

import Fastify from 'fastify';

import { jobmeterMetrics } from '../../src/http/plugin.ts';
import { setAccessLogTenant } from '../../src/http/access-log.ts';
import { describeMetricsRoute, type MetricsSource } from '../../src/http/route-options.ts';
import * as pluginModule from '../../src/http/plugin.ts';
import {
  BAD_OPTIONS,
  get,
  jm,
  routeConformance,
  shutdownJobmeters,
  TOKEN,
  type MountedHost,
} from './route-conformance.ts';

/** The 404 a bare fastify host gives for `path`. */
async function noRoute(path: string): Promise<string> {
  const bare = Fastify();
  const res = await bare.inject({ url: path });
  await bare.close();
  return res.body;
}

after(shutdownJobmeters);

routeConformance(async (options): Promise<MountedHost> => {
  const app = Fastify({ logger: false });
  app.get('/healthz', async () => 'ok\n');
  await app.register(jobmeterMetrics, options);
  await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    port: (app.server.address() as AddressInfo).port,
    notFound: noRoute,
    close: () => app.close(),
  };
});

describe('the plugin on fastify', () => {
  it('rm, neither gate: no route registered', async () => {
    const app = Fastify();
    await app.register(jobmeterMetrics, { jobmeter: await jm('rm') });
    await app.ready();
    assert.equal(app.hasRoute({ method: 'GET', url: '/metrics' }), false);
    await app.close();
  });

  it('decorates nothing', async () => {
    const app = Fastify();
    const before = Object.getOwnPropertyNames(app).sort();
    await app.register(jobmeterMetrics, { jobmeter: await jm('otel') });
    await app.ready();
    assert.deepEqual(Object.getOwnPropertyNames(app).sort(), before);
    assert.equal(app.hasRequestDecorator('jobmeter'), false);
    assert.equal(app.hasReplyDecorator('jobmeter'), false);
    await app.close();
  });

  it('crewshipd: a remote peer (fastify inject) needs the token; no token configured → 404', async () => {
    const app = Fastify();
    await app.register(jobmeterMetrics, { jobmeter: await jm('crewshipd'), token: TOKEN });
    const remote = { remoteAddress: '203.0.113.9' };
    assert.equal((await app.inject({ url: '/metrics', ...remote })).statusCode, 401);
    assert.equal(
      (
        await app.inject({
          url: '/metrics',
          ...remote,
          headers: { 'x-forwarded-for': '127.0.0.1' },
        })
      ).statusCode,
      401,
      'spoofed',
    );
    assert.equal(
      (
        await app.inject({
          url: '/metrics',
          ...remote,
          headers: { authorization: `Bearer ${TOKEN}` },
        })
      ).statusCode,
      200,
    );
    await app.close();
    const bare = Fastify();
    await bare.register(jobmeterMetrics, { jobmeter: await jm('crewshipd') });
    assert.equal(
      (
        await bare.inject({
          url: '/metrics',
          ...remote,
          headers: { authorization: `Bearer ${TOKEN}` },
        })
      ).statusCode,
      404,
    );
    await bare.close();
  });
});

describe('closing', () => {
  it('a scrape that reaches the route after the host started closing gets 503, and collects nothing', async () => {
    // The request is held in a host hook (say, a slow auth lookup) while the host starts closing.
    const base = await jm('otel');
    let scrapes = 0;
    const source: MetricsSource = {
      format: base.format,
      jsonView: base.jsonView,
      profile: base.profile,
      reject: () => {},
      scrape: () => (scrapes++, base.scrape()),
    };
    let inHook!: () => void;
    const reachedHook = new Promise<void>((resolve) => (inHook = resolve));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const app = Fastify({ return503OnClosing: false });
    app.addHook('onRequest', async () => {
      inHook();
      await released;
    });
    await app.register(jobmeterMetrics, { jobmeter: source });
    // Runs after the plugin's preClose (hooks run in registration order).
    let preClosed!: () => void;
    const afterPreClose = new Promise<void>((resolve) => (preClosed = resolve));
    app.addHook('preClose', async () => preClosed());
    await app.listen({ host: '127.0.0.1', port: 0 });
    const answer = get((app.server.address() as AddressInfo).port, '/metrics');
    await reachedHook;
    const closing = app.close();
    await afterPreClose;
    release();
    const res = await answer;
    await closing;
    assert.equal(res.status, 503);
    assert.equal(res.text, 'shutting down\n');
    assert.equal(res.headers['retry-after'], '1');
    assert.equal(scrapes, 0);
  });
});

describe('options are checked at registration, naming the option', () => {
  for (const [name, options, message] of BAD_OPTIONS) {
    it(name, async () => {
      const app = Fastify();
      await assert.rejects(async () => {
        await app.register(jobmeterMetrics, { jobmeter: await jm('otel'), ...options });
        await app.ready();
      }, message);
      await app.close().catch(() => {});
    });
  }

  it('a bad token is never echoed in the error', async () => {
    const app = Fastify();
    await assert.rejects(
      async () => {
        await app.register(jobmeterMetrics, { jobmeter: await jm('otel'), token: `${TOKEN} oops` });
        await app.ready();
      },
      (err: Error) => !err.message.includes(TOKEN),
    );
    await app.close().catch(() => {});
  });
});

describe('module surface', () => {
  it('exports the plugin, nothing else; jobmeter/http exports its helpers', async () => {
    assert.deepEqual(Object.keys(pluginModule), ['jobmeterMetrics']);
    const http = await import('../../src/index-http.ts');
    assert.equal(http.jobmeterMetrics, jobmeterMetrics);
    assert.equal(http.setAccessLogTenant, setAccessLogTenant);
    assert.equal(http.describeMetricsRoute, describeMetricsRoute);
  });

  it('importing jobmeter/http loads no fastify (an optional peer): the plugin uses its types only', async () => {
    // A child whose resolver fails any fastify import, as in a host that never installed it.
    const script = [
      "import { registerHooks } from 'node:module';",
      'registerHooks({ resolve(specifier, context, next) {',
      "  if (specifier === 'fastify' || specifier.startsWith('fastify/') || specifier.startsWith('@fastify/')) throw new Error(`fastify loaded: ${specifier}`);",
      '  return next(specifier, context);',
      '} });',
      `const root = await import(${JSON.stringify(new URL('../../src/index-http.ts', import.meta.url).href)});`,
      "process.stdout.write(typeof root.jobmeterMetrics + ' ' + typeof root.createMetricsHandler);",
    ].join('\n');
    const { stdout } = await promisify(execFile)(process.execPath, [
      '--input-type=module',
      '-e',
      script,
    ]);
    assert.equal(stdout, 'function function');
  });

  it('marks itself as fastify-plugin does', () => {
    const p = jobmeterMetrics as unknown as Record<symbol, unknown>;
    assert.equal(p[Symbol.for('skip-override')], true);
    assert.equal(p[Symbol.for('fastify.display-name')], 'jobmeter-metrics');
    assert.deepEqual(p[Symbol.for('plugin-meta')], { fastify: '5.x', name: 'jobmeter-metrics' });
  });

  it('describeMetricsRoute says what registration would do, without secrets', async () => {
    const info = describeMetricsRoute({
      jobmeter: await jm('wasmrun'),
      apiKeys: [
        { key: TOKEN, tenant: 'a' },
        { key: `${TOKEN}2`, tenant: 'b' },
      ],
    });
    assert.deepEqual(info, {
      path: '/api/v1/metrics',
      posture: 'wasmrun',
      mode: 'gated',
      description: 'API key (2 keys)',
    });
    assert.equal(describeMetricsRoute({ jobmeter: await jm('rm') }).mode, 'unmounted');
  });
});
