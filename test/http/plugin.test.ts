/**
 * `jobmeterMetrics` on a host's fastify server, through real loopback sockets. Distinct peer
 * addresses come from binding the client socket to 127.0.0.2, 127.0.0.3… (all loopback on
 * Linux), which is enough for CIDR gates and trusted-proxy walks; a genuinely remote peer is
 * auth-matrix-netns.test.ts's job.
 */
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';

import Fastify, { type FastifyInstance } from 'fastify';

import type { Family } from '../../src/exposition/types.ts';
import { jobmeterMetrics, describeMetricsRoute, setAccessLogTenant, type JobmeterMetricsOptions, type MetricsSource } from '../../src/http/plugin.ts';
import * as pluginModule from '../../src/http/plugin.ts';
import { createJobmeter, type Jobmeter } from '../../src/index.ts';
import type { ProfileName } from '../../src/options.ts';
import { checkExposition } from '../support/exposition-parser.ts';
import { checkMetrics } from '../support/promtool.ts';

const TOKEN = 'plugin-test-token-7f3a9c';

interface Res {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  text: string;
}

/** One request over a fresh socket, from `from` (a 127.0.0.0/8 address) when given. */
function get(port: number, path: string, headers: Record<string, string> = {}, from?: string, method = 'GET'): Promise<Res> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port, path, method, headers, agent: false, ...(from !== undefined ? { localAddress: from } : {}), signal: AbortSignal.timeout(10_000) },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text: body.toString('utf8') });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

interface Host {
  app: FastifyInstance;
  port: number;
}

async function host(options: JobmeterMetricsOptions, configure?: (app: FastifyInstance) => void): Promise<Host> {
  const app = Fastify({ logger: false });
  app.get('/healthz', async () => 'ok\n');
  configure?.(app);
  await app.register(jobmeterMetrics, options);
  await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, port: (app.server.address() as AddressInfo).port };
}

/** The 404 a bare fastify host gives for `path`. */
async function noRoute(path: string): Promise<string> {
  const bare = Fastify();
  const res = await bare.inject({ url: path });
  await bare.close();
  return res.body;
}

const jobmeters = new Map<ProfileName, Jobmeter>();
async function jm(profile: ProfileName): Promise<Jobmeter> {
  let j = jobmeters.get(profile);
  if (j === undefined) {
    j = await createJobmeter({ profile, listener: false, processMetrics: false, hostname: 'plugin-host', otelScopeInfo: false });
    j.recordRun({ task: 'backup', kind: 'backup', runner: 'subprocess', outcome: 'success', durationSeconds: 2 });
    j.setSnapshotSource(() => ({ sessions: { active: 1, tracked: 1, diskBytes: 4096, list: [{ id: 'sess-1', diskBytes: 4096, memoryCapPages: null }] } }));
    jobmeters.set(profile, j);
  }
  return j;
}

const hosts: Host[] = [];
async function open(options: JobmeterMetricsOptions, configure?: (app: FastifyInstance) => void): Promise<Host> {
  const h = await host(options, configure);
  hosts.push(h);
  return h;
}

after(async () => {
  for (const h of hosts) await h.app.close();
  for (const j of jobmeters.values()) await j.shutdown();
});

describe('serving', () => {
  let h: Host;
  before(async () => {
    h = await open({ jobmeter: await jm('otel') });
  });

  it('negotiates OpenMetrics and text like the dedicated listener', async () => {
    const om = await get(h.port, '/metrics', { accept: 'application/openmetrics-text;version=1.0.0' });
    assert.equal(om.status, 200);
    assert.equal(om.headers['content-type'], 'application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=underscores');
    assert.ok(om.text.endsWith('# EOF\n'));
    assert.deepEqual(checkExposition(om.text, 'openmetrics'), []);
    const text = await get(h.port, '/metrics', { accept: '*/*' });
    assert.equal(text.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
    assert.equal(text.headers.vary, 'Accept, Accept-Encoding');
    assert.deepEqual(checkExposition(text.text, 'text'), []);
    const promtool = await checkMetrics(text.text);
    assert.equal(promtool.code, 0, promtool.output);
  });

  it('gzips when asked, serves ?format=json, answers HEAD', async () => {
    const gz = await get(h.port, '/metrics', { 'accept-encoding': 'gzip' });
    assert.equal(gz.headers['content-encoding'], 'gzip');
    assert.match(gunzipSync(gz.body).toString('utf8'), /jobmeter_run_finished_total/);
    const json = await get(h.port, '/metrics?format=json');
    assert.equal(json.headers['content-type'], 'application/json; charset=utf-8');
    const names = (JSON.parse(json.text) as { families: { name: string }[] }).families.map((f) => f.name);
    assert.ok(names.includes('jobmeter_run_finished_total'), names.join(','));
    const head = await get(h.port, '/metrics', {}, undefined, 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.body.length, 0);
  });

  it('leaves the rest of the host alone', async () => {
    assert.equal((await get(h.port, '/healthz')).text, 'ok\n');
    const missing = await get(h.port, '/nope');
    assert.equal(missing.text, await noRoute('/nope'));
  });

  it('native profile: serves jobmeter_scrape_errors_total{cause}', async () => {
    const res = await get(h.port, '/metrics', { accept: '*/*' });
    assert.match(res.text, /^# TYPE jobmeter_scrape_errors_total counter$/m);
    assert.match(res.text, /^jobmeter_scrape_errors_total\{cause="collection"\} 0$/m);
    assert.match(res.text, /^jobmeter_scrape_errors_total\{cause="encoding"\} 0$/m);
  });

  it('legacy profiles do not grow the self-metric', async () => {
    for (const profile of ['runwisp', 'wasmrun', 'crewshipd', 'solti'] as const) {
      const app = Fastify();
      await app.register(jobmeterMetrics, { jobmeter: await jm(profile) });
      const res = await app.inject({ url: profile === 'wasmrun' ? '/api/v1/metrics' : '/metrics', remoteAddress: '127.0.0.1' });
      assert.equal(res.statusCode, 200, profile);
      assert.doesNotMatch(res.body, /jobmeter_scrape_errors/, profile);
      await app.close();
    }
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
});

describe('postures through real loopback sockets', () => {
  it('rm, neither gate: no route; the host 404 answers', async () => {
    const h = await open({ jobmeter: await jm('rm') });
    assert.equal(h.app.hasRoute({ method: 'GET', url: '/metrics' }), false);
    const res = await get(h.port, '/metrics');
    assert.equal(res.status, 404);
    assert.equal(res.text, await noRoute('/metrics'));
  });

  it('rm, token only: 401 for every bad credential, 200 for the right one, from loopback too', async () => {
    const h = await open({ jobmeter: await jm('rm'), token: TOKEN });
    assert.equal((await get(h.port, '/metrics', { authorization: `Bearer ${TOKEN}` })).status, 200);
    for (const auth of [undefined, `Bearer ${TOKEN.slice(0, -1)}x`, `Bearer ${TOKEN}extra`, 'Bearer', `Basic ${TOKEN}`, TOKEN]) {
      const res = await get(h.port, '/metrics', auth === undefined ? {} : { authorization: auth });
      assert.equal(res.status, 401, String(auth));
      assert.equal(res.headers['www-authenticate'], 'Bearer');
      assert.equal(res.text, 'unauthorized\n');
      assert.ok(!res.text.includes(TOKEN));
    }
  });

  it('rm, CIDR only: the peer address decides; X-Forwarded-For from an untrusted hop is ignored', async () => {
    const h = await open({ jobmeter: await jm('rm'), trustedCidrs: ['127.0.0.2/32'] });
    assert.equal((await get(h.port, '/metrics', {}, '127.0.0.2')).status, 200);
    const outside = await get(h.port, '/metrics', {}, '127.0.0.3');
    assert.equal(outside.status, 404);
    assert.equal(outside.text, await noRoute('/metrics'), 'a refused 404 is the host 404');
    assert.equal((await get(h.port, '/metrics', { 'x-forwarded-for': '127.0.0.2' }, '127.0.0.3')).status, 404, 'spoofed');
  });

  it('rm, CIDR and RM_TRUSTED_PROXY: a trusted proxy forwarding an allowed client', async () => {
    const h = await open({ jobmeter: await jm('rm'), trustedCidrs: ['127.0.0.2/32'], trustProxy: ['127.0.0.5'] });
    assert.equal((await get(h.port, '/metrics', { 'x-forwarded-for': '127.0.0.2' }, '127.0.0.5')).status, 200);
    assert.equal((await get(h.port, '/metrics', { 'x-forwarded-for': '127.0.0.9' }, '127.0.0.5')).status, 404);
    assert.equal((await get(h.port, '/metrics', { 'x-forwarded-for': '127.0.0.2, 127.0.0.9' }, '127.0.0.5')).status, 404, 'client-written left hop');
    assert.equal((await get(h.port, '/metrics', {}, '127.0.0.5')).status, 404, 'the proxy itself is not in the list');
  });

  it('rm, both: both must pass', async () => {
    const h = await open({ jobmeter: await jm('rm'), token: TOKEN, trustedCidrs: ['127.0.0.2/32'] });
    const auth = { authorization: `Bearer ${TOKEN}` };
    assert.equal((await get(h.port, '/metrics', auth, '127.0.0.2')).status, 200);
    assert.equal((await get(h.port, '/metrics', auth, '127.0.0.3')).status, 401);
    assert.equal((await get(h.port, '/metrics', {}, '127.0.0.2')).status, 401);
  });

  it('crewshipd: loopback always; through a local proxy, a remote client needs the token', async () => {
    const none = await open({ jobmeter: await jm('crewshipd') });
    assert.equal((await get(none.port, '/metrics')).status, 200);
    assert.equal((await get(none.port, '/metrics', { 'x-forwarded-for': '203.0.113.9' })).status, 404);
    const withToken = await open({ jobmeter: await jm('crewshipd'), token: TOKEN });
    assert.equal((await get(withToken.port, '/metrics', { 'x-forwarded-for': '203.0.113.9' })).status, 401);
    assert.equal((await get(withToken.port, '/metrics', { 'x-forwarded-for': '203.0.113.9', authorization: `Bearer ${TOKEN}` })).status, 200);
    assert.equal((await get(withToken.port, '/metrics', { authorization: 'Bearer wrong' })).status, 200, 'loopback needs no token');
  });

  it('crewshipd: a remote peer (fastify inject) needs the token; no token configured → 404', async () => {
    const app = Fastify();
    await app.register(jobmeterMetrics, { jobmeter: await jm('crewshipd'), token: TOKEN });
    const remote = { remoteAddress: '203.0.113.9' };
    assert.equal((await app.inject({ url: '/metrics', ...remote })).statusCode, 401);
    assert.equal((await app.inject({ url: '/metrics', ...remote, headers: { 'x-forwarded-for': '127.0.0.1' } })).statusCode, 401, 'spoofed');
    assert.equal((await app.inject({ url: '/metrics', ...remote, headers: { authorization: `Bearer ${TOKEN}` } })).statusCode, 200);
    await app.close();
    const bare = Fastify();
    await bare.register(jobmeterMetrics, { jobmeter: await jm('crewshipd') });
    assert.equal((await bare.inject({ url: '/metrics', ...remote, headers: { authorization: `Bearer ${TOKEN}` } })).statusCode, 404);
    await bare.close();
  });

  it('wasmrun --auth: 401 counted as unauthorized; JSON sessions withheld; open mode keeps them', async () => {
    const j = await jm('wasmrun');
    const authed = await open({ jobmeter: j, apiKeys: [{ key: TOKEN, tenant: 'acme' }], accessLog: false });
    const auth = { authorization: `Bearer ${TOKEN}` };
    const count = async (): Promise<number> => {
      const body = (await get(authed.port, '/api/v1/metrics', auth)).text;
      return Number(/^wasmrun_agent_exec_rejected_total\{reason="unauthorized"\} (\d+)$/m.exec(body)?.[1]);
    };
    const before = await count();
    assert.equal((await get(authed.port, '/api/v1/metrics')).status, 401);
    assert.equal((await get(authed.port, '/api/v1/metrics', { authorization: 'Bearer nope' })).status, 401);
    assert.equal(await count(), before + 2);
    const withheld = JSON.parse((await get(authed.port, '/api/v1/metrics?format=json', auth)).text) as Record<string, unknown>;
    assert.equal('sessions' in withheld, false);
    assert.equal(withheld.sessions_disk_bytes, 4096);

    const openMode = await open({ jobmeter: j, accessLog: false });
    const full = JSON.parse((await get(openMode.port, '/api/v1/metrics?format=json')).text) as { sessions?: { id: string }[] };
    assert.deepEqual(full.sessions?.map((s) => s.id), ['sess-1']);
    assert.equal((await get(openMode.port, '/metrics')).status, 404, 'wasmrun mounts /api/v1/metrics');
  });

  it('runwisp: enabled false registers nothing; enabled, unauthenticated', async () => {
    const off = await open({ jobmeter: await jm('runwisp'), enabled: false });
    assert.equal((await get(off.port, '/metrics')).status, 404);
    const on = await open({ jobmeter: await jm('runwisp'), trustProxy: ['127.0.0.1'] });
    const res = await get(on.port, '/metrics', { accept: 'application/openmetrics-text;version=1.0.0', 'x-forwarded-for': '203.0.113.9' });
    assert.equal(res.status, 200);
    assert.match(res.text, /^runwisp_build_info/m);
  });

  it('solti: one unified /metrics', async () => {
    const h = await open({ jobmeter: await jm('solti') });
    const res = await get(h.port, '/metrics');
    assert.equal(res.status, 200);
    assert.match(res.text, /^solti_runner_/m);
  });

  it('a custom path and a posture other than the profile', async () => {
    const h = await open({ jobmeter: await jm('otel'), posture: 'rm', token: TOKEN, path: '/internal/metrics' });
    assert.equal((await get(h.port, '/internal/metrics', { authorization: `Bearer ${TOKEN}` })).status, 200);
    assert.equal((await get(h.port, '/internal/metrics')).status, 401);
    assert.equal((await get(h.port, '/metrics')).status, 404);
  });
});

describe('scrape protection', () => {
  /** A source over a real jobmeter whose scrape can be made to fail or wait. */
  function controllable(base: Jobmeter): MetricsSource & { fail: boolean; hold: Promise<void> | undefined; calls: number } {
    const source = {
      fail: false,
      hold: undefined as Promise<void> | undefined,
      calls: 0,
      format: base.format,
      jsonView: base.jsonView,
      profile: base.profile,
      reject: (reason: string) => base.reject(reason),
      async scrape(): Promise<readonly Family[]> {
        source.calls++;
        if (source.hold !== undefined) await source.hold;
        if (source.fail) throw new Error('database is on fire: password=hunter2');
        return base.scrape();
      },
    };
    return source;
  }

  it('a failed collection answers 500 with a short reason, is counted, and the host keeps serving', async () => {
    const source = controllable(await jm('otel'));
    const h = await open({ jobmeter: source });
    source.fail = true;
    const failed = await get(h.port, '/metrics', { 'accept-encoding': 'gzip' });
    assert.equal(failed.status, 500);
    assert.equal(failed.text, 'metric collection failed\n');
    assert.equal(failed.headers['content-encoding'], undefined, 'no Content-Encoding on an error body');
    assert.ok(!failed.text.includes('hunter2'));
    source.fail = false;
    const ok = await get(h.port, '/metrics', { accept: '*/*' });
    assert.equal(ok.status, 200);
    assert.match(ok.text, /^jobmeter_scrape_errors_total\{cause="collection"\} 1$/m);
    assert.equal((await get(h.port, '/healthz')).status, 200);
  });

  it('a family that cannot be encoded answers 500 counted as encoding', async () => {
    const base = await jm('otel');
    let broken = true;
    const source: MetricsSource = {
      format: base.format,
      jsonView: base.jsonView,
      profile: base.profile,
      reject: () => {},
      scrape: async () => (broken ? [{ name: 'x', type: 'gauge', help: '', unit: '', series: null } as unknown as Family] : base.scrape()),
    };
    const h = await open({ jobmeter: source });
    const res = await get(h.port, '/metrics');
    assert.equal(res.status, 500);
    assert.equal(res.text, 'metric encoding failed\n');
    broken = false;
    assert.match((await get(h.port, '/metrics')).text, /^jobmeter_scrape_errors_total\{cause="encoding"\} 1$/m);
  });

  it('past maxInflightScrapes, 503 with Retry-After; the others complete', async () => {
    const source = controllable(await jm('otel'));
    let release!: () => void;
    source.hold = new Promise((r) => (release = r));
    const h = await open({ jobmeter: source, maxInflightScrapes: 2 });
    const first = get(h.port, '/metrics');
    const second = get(h.port, '/metrics');
    // Wait until both are inside the scrape (deterministic: the source counts them).
    while (source.calls < 2) await new Promise((r) => setImmediate(r));
    const third = await get(h.port, '/metrics');
    assert.equal(third.status, 503);
    assert.equal(third.headers['retry-after'], '1');
    release();
    assert.deepEqual([(await first).status, (await second).status], [200, 200]);
    assert.equal((await get(h.port, '/metrics')).status, 200, 'the slots are free again');
    assert.equal(source.calls, 3, 'the refused scrape never reached the source');
  });
});

describe('closing', () => {
  it('a scrape that reaches the route after the host started closing gets 503, and collects nothing', async () => {
    // The request is held in a host hook (say, a slow auth lookup) while the host starts closing.
    const base = await jm('otel');
    let scrapes = 0;
    const source: MetricsSource = { format: base.format, jsonView: base.jsonView, profile: base.profile, reject: () => {}, scrape: () => (scrapes++, base.scrape()) };
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
  const cases: [string, Partial<JobmeterMetricsOptions>, RegExp][] = [
    ['no jobmeter', { jobmeter: undefined as never }, /option "jobmeter" must be a jobmeter/],
    ['unknown posture', { posture: 'nginx' as never }, /option "posture" must be one of otel, runwisp, wasmrun, crewshipd, rm, solti or a posture object \(got "nginx"\)/],
    ['bad path', { path: 'metrics' }, /option "path" must be a path starting with \//],
    ['empty token', { token: '' }, /option "token" must be a non-empty string without whitespace/],
    ['token with a space', { token: 'a b' }, /option "token" must be/],
    ['bad api key', { posture: 'wasmrun', apiKeys: [{ key: '', tenant: 'a' }] }, /option "apiKeys\[0\]\.key"/],
    ['bad tenant', { posture: 'wasmrun', apiKeys: [{ key: 'k', tenant: 'a b' }] }, /option "apiKeys\[0\]\.tenant"/],
    ['bad CIDR', { posture: 'rm', trustedCidrs: ['10.0.0.0/40'] }, /option trustedCidrs: "10\.0\.0\.0\/40" is not an IP address or CIDR/],
    ['bad proxy', { trustProxy: ['proxy.local'] }, /option trustProxy: "proxy\.local"/],
    ['CIDR under crewshipd', { posture: 'crewshipd', trustedCidrs: ['10.0.0.0/8'] }, /option trustedCidrs: the crewshipd posture has no cidr gate/],
    ['token under solti', { posture: 'solti', token: TOKEN }, /option token\/apiKeys: the solti posture has no bearer gate/],
    ['negative limit', { maxInflightScrapes: -1 }, /option "maxInflightScrapes" must be an integer >= 0 \(0: no limit\) \(got -1\)/],
    ['bad format', { format: 'json' as never }, /option "format" must be negotiate, text or openmetrics/],
    ['bad accessLog', { accessLog: 'yes' as never }, /option "accessLog"/],
    ['bad custom posture', { posture: { name: 'x' } as never }, /option "posture" must be posture\.path: expected/],
  ];
  for (const [name, options, message] of cases) {
    it(name, async () => {
      const app = Fastify();
      await assert.rejects(async () => {
        await app.register(jobmeterMetrics, { jobmeter: await jm('otel'), ...options } as JobmeterMetricsOptions);
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
  it('exports the plugin and its helpers, nothing else', () => {
    assert.deepEqual(Object.keys(pluginModule).sort(), ['describeMetricsRoute', 'jobmeterMetrics', 'setAccessLogTenant']);
    assert.equal(typeof setAccessLogTenant, 'function');
  });

  it('marks itself as fastify-plugin does', () => {
    const p = jobmeterMetrics as unknown as Record<symbol, unknown>;
    assert.equal(p[Symbol.for('skip-override')], true);
    assert.equal(p[Symbol.for('fastify.display-name')], 'jobmeter-metrics');
    assert.deepEqual(p[Symbol.for('plugin-meta')], { fastify: '5.x', name: 'jobmeter-metrics' });
  });

  it('describeMetricsRoute says what registration would do, without secrets', async () => {
    const info = describeMetricsRoute({ jobmeter: await jm('wasmrun'), apiKeys: [{ key: TOKEN, tenant: 'a' }, { key: `${TOKEN}2`, tenant: 'b' }] });
    assert.deepEqual(info, { path: '/api/v1/metrics', posture: 'wasmrun', mode: 'gated', description: 'bearer token (2 keys)' });
    assert.equal(describeMetricsRoute({ jobmeter: await jm('rm') }).mode, 'unmounted');
  });
});
