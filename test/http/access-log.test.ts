/**
 * wasmrun's access log: the exact key=value line, X-Request-Id agreement, -v, and that no
 * credential reaches a line.
 */
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';

import Fastify, { type FastifyInstance } from 'fastify';

import { createAccessLog, requestId, rfc3339 } from '../../src/http/access-log.ts';
import { jobmeterMetrics } from '../../src/http/plugin.ts';
import { setAccessLogTenant } from '../../src/http/access-log.ts';
import { createJobmeter, type Jobmeter } from '../../src/index.ts';
import { ACCESS_LINE, accessLineOf } from './route-conformance.ts';

const KEY = 'wk-5d1c0e7a9b3f4e21';
/** 2026-06-13T11:18:55.354Z, the seed's example instant. */
const T0 = Date.UTC(2026, 5, 13, 11, 18, 55, 354);

describe('the line', () => {
  it('is the seed format exactly', () => {
    const out: string[] = [];
    const log = createAccessLog({ stream: { write: (s) => out.push(s) }, now: () => T0 });
    const entry = log.begin('POST', '/api/v1/sessions');
    log.end(entry, 200, 1.9);
    assert.equal(
      out.join(''),
      `ts=2026-06-13T11:18:55.354+00:00 id=${entry.id} method=POST path=/api/v1/sessions status=200 dur_ms=1 tenant=-\n`,
    );
  });

  it('-v adds the request-received line first', () => {
    const out: string[] = [];
    const log = createAccessLog({
      stream: { write: (s) => out.push(s) },
      verbose: true,
      now: () => T0,
    });
    const entry = log.begin('GET', '/api/v1/metrics?format=json');
    entry.tenant = 'acme';
    log.end(entry, 200, 0);
    assert.deepEqual(out, [
      `→ GET /api/v1/metrics (id=${entry.id})\n`,
      `ts=2026-06-13T11:18:55.354+00:00 id=${entry.id} method=GET path=/api/v1/metrics status=200 dur_ms=0 tenant=acme\n`,
    ]);
  });

  it('never writes the query string, and keeps each field one token', () => {
    const out: string[] = [];
    const log = createAccessLog({ stream: { write: (s) => out.push(s) }, now: () => T0 });
    log.end(log.begin('GET', `/metrics?token=${KEY}`), 200, 0);
    log.end(log.begin('GET', '/a b\nstatus=200 é'), 404, 0);
    const text = out.join('');
    assert.ok(!text.includes(KEY));
    const lines = text.trimEnd().split('\n');
    assert.equal(lines.length, 2);
    assert.match(lines[1]!, / path=\/a%20b%0Astatus=200%20%C3%A9 status=404 /);
    for (const line of lines) assert.match(line, ACCESS_LINE);
  });

  it('rfc3339 writes UTC as +00:00 with milliseconds', () => {
    assert.equal(rfc3339(0), '1970-01-01T00:00:00.000+00:00');
    assert.equal(rfc3339(T0), '2026-06-13T11:18:55.354+00:00');
  });

  it('request ids are 16 hex digits and do not repeat across pool refills', () => {
    const ids = new Set<string>();
    for (let i = 0; i < 5000; i++) {
      const id = requestId();
      assert.match(id, /^[0-9a-f]{16}$/);
      ids.add(id);
    }
    assert.equal(ids.size, 5000);
  });
});

describe('on a host server (wasmrun posture)', () => {
  let jm: Jobmeter;
  let app: FastifyInstance;
  let port: number;
  const out: string[] = [];

  before(async () => {
    jm = await createJobmeter({ profile: 'wasmrun', listener: false, processMetrics: false });
    app = Fastify({ logger: false });
    app.get('/api/v1/sessions', async (request) => {
      setAccessLogTenant(request, 'host-tenant');
      return { ok: true };
    });
    // Registered twice (two routes): one log, not two lines per request.
    await app.register(jobmeterMetrics, {
      jobmeter: jm,
      apiKeys: [{ key: KEY, tenant: 'acme' }],
      accessLog: { stream: { write: (s) => out.push(s) }, verbose: true },
    });
    await app.register(jobmeterMetrics, {
      jobmeter: jm,
      path: '/metrics',
      apiKeys: [{ key: KEY, tenant: 'acme' }],
      accessLog: { stream: { write: (s) => out.push(s) } },
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = (app.server.address() as AddressInfo).port;
  });
  after(async () => {
    await app.close();
    await jm.shutdown();
  });

  function get(
    path: string,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; id: string | undefined }> {
    return new Promise((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, path, headers, agent: false }, (res) => {
        res.resume();
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            id: res.headers['x-request-id'] as string | undefined,
          }),
        );
      });
      req.on('error', reject);
      req.end();
    });
  }

  it('every request gets one line whose id is its X-Request-Id', async () => {
    const cases: [string, Record<string, string>, number, string][] = [
      ['/api/v1/metrics', { authorization: `Bearer ${KEY}` }, 200, 'acme'],
      ['/api/v1/metrics', {}, 401, '-'],
      ['/api/v1/metrics?format=json', { authorization: `Bearer ${KEY}x` }, 401, '-'],
      ['/api/v1/sessions', {}, 200, 'host-tenant'],
      ['/nowhere', {}, 404, '-'],
    ];
    for (const [path, headers, status, tenant] of cases) {
      const res = await get(path, headers);
      assert.equal(res.status, status, path);
      assert.match(res.id ?? '', /^[0-9a-f]{16}$/);
      const m = await accessLineOf(out, res.id!);
      assert.equal(m[3], 'GET');
      assert.equal(m[4], path.split('?')[0]);
      assert.equal(Number(m[5]), status);
      assert.equal(m[7], tenant);
      assert.ok(Date.parse(m[1]!) > 0 && m[1]!.endsWith('+00:00'));
      assert.equal(
        out
          .join('')
          .split('\n')
          .filter((l) => l.includes(`id=${res.id}`)).length,
        2,
        'the verbose line and one access line',
      );
    }
  });

  it('no key in any line', () => {
    assert.ok(out.length > 0);
    assert.ok(!out.join('').includes(KEY));
  });
});

describe('off by default outside wasmrun', () => {
  it('no X-Request-Id and no lines for the other postures unless asked', async () => {
    const jm = await createJobmeter({
      profile: 'crewshipd',
      listener: false,
      processMetrics: false,
    });
    const app = Fastify();
    await app.register(jobmeterMetrics, { jobmeter: jm });
    const res = await app.inject({ url: '/metrics', remoteAddress: '127.0.0.1' });
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['x-request-id'], undefined);
    await app.close();
    const logged: string[] = [];
    const on = Fastify();
    await on.register(jobmeterMetrics, {
      jobmeter: jm,
      accessLog: { stream: { write: (s) => logged.push(s) } },
    });
    const res2 = await on.inject({ url: '/metrics', remoteAddress: '127.0.0.1' });
    assert.match(
      logged.join(''),
      new RegExp(`id=${String(res2.headers['x-request-id'])} method=GET path=/metrics status=200 `),
    );
    await on.close();
    await jm.shutdown();
  });
});
