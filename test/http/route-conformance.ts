/**
 * What every way of mounting the metrics route on a host's server must do alike (the fastify
 * plugin, the node:http handler, the Express middleware), through real loopback sockets: serving
 * and negotiation, the postures, scrape protection, the access log. Distinct peer addresses come
 * from binding the client socket to 127.0.0.2, 127.0.0.3… (all loopback on Linux), which is
 * enough for CIDR gates and trusted-proxy walks; a genuinely remote peer is
 * auth-matrix-netns.test.ts's job.
 *
 * Each mount runs a host with its own `GET /healthz` (`ok\n`) and its own not-found answer.
 */
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';

import type { Family } from '../../src/exposition/types.ts';
import type { JobmeterMetricsOptions, MetricsSource } from '../../src/http/route-options.ts';
import { createJobmeter, type Jobmeter } from '../../src/index.ts';
import type { ProfileName } from '../../src/options.ts';
import { checkExposition } from '../support/exposition-parser.ts';
import { checkMetrics } from '../support/promtool.ts';

export const TOKEN = 'plugin-test-token-7f3a9c';

export interface Res {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  text: string;
}

/** One request over a fresh socket, from `from` (a 127.0.0.0/8 address) when given. */
export function get(
  port: number,
  path: string,
  headers: Record<string, string> = {},
  from?: string,
  method = 'GET',
): Promise<Res> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        path,
        method,
        headers,
        agent: false,
        ...(from !== undefined ? { localAddress: from } : {}),
        signal: AbortSignal.timeout(10_000),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body,
            text: body.toString('utf8'),
          });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** A host server with the route mounted. */
export interface MountedHost {
  readonly port: number;
  /** The host's own answer to `GET path` where it has no route (what a refused 404 must be). */
  notFound(path: string): Promise<string>;
  /** Tells the route the host is closing (`close()`); the plugin learns it from fastify's preClose, tested on its own. */
  startClosing?: () => Promise<void>;
  close(): Promise<void>;
}

/** Mounts the route with `options` on a fresh host; throws (or rejects) as the mount does on bad options. */
export type Mount = (options: JobmeterMetricsOptions) => Promise<MountedHost>;

const jobmeters = new Map<ProfileName, Jobmeter>();
/** One jobmeter per profile, shared by every suite of the file, with a run and a wasmrun session. */
export async function jm(profile: ProfileName): Promise<Jobmeter> {
  let j = jobmeters.get(profile);
  if (j === undefined) {
    j = await createJobmeter({
      profile,
      listener: false,
      processMetrics: false,
      hostname: 'plugin-host',
      otelScopeInfo: false,
    });
    j.recordRun({
      task: 'backup',
      kind: 'backup',
      runner: 'subprocess',
      outcome: 'success',
      durationSeconds: 2,
    });
    j.setSnapshotSource(() => ({
      sessions: {
        active: 1,
        tracked: 1,
        diskBytes: 4096,
        list: [{ id: 'sess-1', diskBytes: 4096, memoryCapPages: null }],
      },
    }));
    jobmeters.set(profile, j);
  }
  return j;
}

/** Shuts the shared jobmeters down; call once from the file's `after`. */
export async function shutdownJobmeters(): Promise<void> {
  for (const j of jobmeters.values()) await j.shutdown();
  jobmeters.clear();
}

/** The access line (wasmrun's format). */
export const ACCESS_LINE =
  /^ts=(\S+) id=([0-9a-f]{16}) method=(\S+) path=(\S+) status=(\d{3}) dur_ms=(\d+) tenant=(\S+)$/;

/** The access line of request `id` in `out`, waited for: it is written once the response is done. */
export async function accessLineOf(out: readonly string[], id: string): Promise<RegExpExecArray> {
  for (let i = 0; i < 200; i++) {
    const line = out
      .join('')
      .split('\n')
      .find((l) => l.startsWith('ts=') && l.includes(` id=${id} `));
    if (line !== undefined) return ACCESS_LINE.exec(line)!;
    await new Promise((r) => setImmediate(r));
  }
  throw new Error(`no access line for ${id}:\n${out.join('')}`);
}

/** The options that must be refused when the route is mounted, and the message naming the option. */
export const BAD_OPTIONS: readonly [string, Partial<JobmeterMetricsOptions>, RegExp][] = [
  [
    'no jobmeter',
    { jobmeter: undefined },
    /^ConfigError: invalid jobmeter=undefined: expected a jobmeter \(createJobmeter result\)$/,
  ],
  [
    'unknown posture',
    { posture: 'nginx' as never },
    /^ConfigError: invalid posture=nginx: expected one of otel, runwisp, wasmrun, crewshipd, rm, solti or a posture object$/,
  ],
  [
    'bad path',
    { path: 'metrics' },
    /^ConfigError: invalid path=metrics: expected a path starting with \/ \(no spaces, \? or #\)$/,
  ],
  [
    'empty token',
    { token: '' },
    /^ConfigError: invalid token=<redacted>: expected a non-empty token without whitespace$/,
  ],
  [
    'token with a space',
    { token: 'a b' },
    /^ConfigError: invalid token=<redacted>: expected a non-empty token without whitespace$/,
  ],
  [
    'bad api key',
    { posture: 'wasmrun', apiKeys: [{ key: '', tenant: 'a' }] },
    /^ConfigError: invalid apiKeys\[0\]\.key=<redacted>: expected a non-empty token/,
  ],
  [
    // The key itself where the list belongs: the error must not show it.
    'API keys not a list',
    { posture: 'wasmrun', apiKeys: 's3cret-key' as never },
    /^ConfigError: invalid apiKeys=<redacted>: expected an array of \{ key, tenant \}$/,
  ],
  [
    'bad tenant',
    { posture: 'wasmrun', apiKeys: [{ key: 'k', tenant: 'a b' }] },
    /^ConfigError: invalid apiKeys\[0\]\.tenant=a b: expected a tenant id of 1 to 128 printable ASCII characters/,
  ],
  [
    'bad CIDR',
    { posture: 'rm', trustedCidrs: ['10.0.0.0/40'] },
    /^ConfigError: invalid trustedCidrs\[0\]=10\.0\.0\.0\/40: expected an IP address or CIDR/,
  ],
  [
    'bad proxy',
    { trustProxy: ['proxy.local'] },
    /^ConfigError: invalid trustProxy\[0\]=proxy\.local: expected an IP address or CIDR/,
  ],
  [
    'CIDR under crewshipd',
    { posture: 'crewshipd', trustedCidrs: ['10.0.0.0/8'] },
    /^ConfigError: invalid trustedCidrs=\["10\.0\.0\.0\/8"\]: expected nothing under the crewshipd posture, which checks no client network/,
  ],
  [
    'token under solti',
    { posture: 'solti', token: TOKEN },
    /^ConfigError: invalid token=<redacted>: expected nothing under the solti posture, which checks no token/,
  ],
  [
    'negative limit',
    { maxInflightScrapes: -1 },
    /^ConfigError: invalid maxInflightScrapes=-1: expected an integer from 0 \(no limit\) to 1000000$/,
  ],
  [
    'bad format',
    { format: 'json' as never },
    /^ConfigError: invalid format=json: expected one of negotiate, text, openmetrics$/,
  ],
  [
    'bad enabled',
    { enabled: 'no' as never },
    /^ConfigError: invalid enabled=no: expected true or false$/,
  ],
  [
    'bad selfMetrics',
    { selfMetrics: 1 as never },
    /^ConfigError: invalid selfMetrics=1: expected true or false$/,
  ],
  [
    'bad accessLog',
    { accessLog: 'yes' as never },
    /^ConfigError: invalid accessLog=yes: expected a boolean or/,
  ],
  [
    'bad custom posture',
    { posture: { name: 'x' } as never },
    /^ConfigError: invalid posture\.path=undefined: expected a path starting with \//,
  ],
];

/** A source over a real jobmeter whose scrape can be made to fail or wait. */
function controllable(
  base: Jobmeter,
): MetricsSource & { fail: boolean; hold: Promise<void> | undefined; calls: number } {
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

/** The shared suites, run against `mount`. */
export function routeConformance(mount: Mount): void {
  const hosts: MountedHost[] = [];
  const open = async (options: JobmeterMetricsOptions): Promise<MountedHost> => {
    const h = await mount(options);
    hosts.push(h);
    return h;
  };
  after(async () => {
    for (const h of hosts.splice(0)) await h.close();
  });

  describe('serving', () => {
    let h: MountedHost;
    before(async () => {
      h = await open({ jobmeter: await jm('otel') });
    });

    it('negotiates OpenMetrics and text like the dedicated listener', async () => {
      const om = await get(h.port, '/metrics', {
        accept: 'application/openmetrics-text;version=1.0.0',
      });
      assert.equal(om.status, 200);
      assert.equal(
        om.headers['content-type'],
        'application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=underscores',
      );
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
      assert.equal(Number(gz.headers['content-length']), gz.body.length);
      assert.match(gunzipSync(gz.body).toString('utf8'), /jobmeter_run_finished_total/);
      const json = await get(h.port, '/metrics?format=json');
      assert.equal(json.headers['content-type'], 'application/json; charset=utf-8');
      const names = (JSON.parse(json.text) as { families: { name: string }[] }).families.map(
        (f) => f.name,
      );
      assert.ok(names.includes('jobmeter_run_finished_total'), names.join(','));
      const head = await get(h.port, '/metrics', {}, undefined, 'HEAD');
      assert.equal(head.status, 200);
      assert.equal(head.body.length, 0);
    });

    it('leaves the rest of the host alone', async () => {
      assert.equal((await get(h.port, '/healthz')).text, 'ok\n');
      const missing = await get(h.port, '/nope');
      assert.equal(missing.text, await h.notFound('/nope'));
      const post = await get(h.port, '/metrics', {}, undefined, 'POST');
      assert.equal(post.status, 404, 'no POST route');
    });

    it('native profile: serves jobmeter_scrape_errors_total{cause}', async () => {
      const res = await get(h.port, '/metrics', { accept: '*/*' });
      assert.match(res.text, /^# TYPE jobmeter_scrape_errors_total counter$/m);
      assert.match(res.text, /^jobmeter_scrape_errors_total\{cause="collection"\} 0$/m);
      assert.match(res.text, /^jobmeter_scrape_errors_total\{cause="encoding"\} 0$/m);
    });

    it('legacy profiles do not grow the self-metric', async () => {
      for (const profile of ['runwisp', 'wasmrun', 'crewshipd', 'solti'] as const) {
        const legacy = await open({ jobmeter: await jm(profile), accessLog: false });
        const res = await get(legacy.port, profile === 'wasmrun' ? '/api/v1/metrics' : '/metrics');
        assert.equal(res.status, 200, profile);
        assert.doesNotMatch(res.text, /jobmeter_scrape_errors/, profile);
      }
    });
  });

  describe('postures through real loopback sockets', () => {
    it('rm, neither gate: no route; the host 404 answers', async () => {
      const h = await open({ jobmeter: await jm('rm') });
      const res = await get(h.port, '/metrics');
      assert.equal(res.status, 404);
      assert.equal(res.text, await h.notFound('/metrics'));
    });

    it('rm, token only: 401 for every bad credential, 200 for the right one, from loopback too', async () => {
      const h = await open({ jobmeter: await jm('rm'), token: TOKEN });
      assert.equal(
        (await get(h.port, '/metrics', { authorization: `Bearer ${TOKEN}` })).status,
        200,
      );
      for (const auth of [
        undefined,
        `Bearer ${TOKEN.slice(0, -1)}x`,
        `Bearer ${TOKEN}extra`,
        'Bearer',
        `Basic ${TOKEN}`,
        TOKEN,
      ]) {
        const res = await get(
          h.port,
          '/metrics',
          auth === undefined ? {} : { authorization: auth },
        );
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
      assert.equal(outside.text, await h.notFound('/metrics'), 'a refused 404 is the host 404');
      assert.equal(
        (await get(h.port, '/metrics', { 'x-forwarded-for': '127.0.0.2' }, '127.0.0.3')).status,
        404,
        'spoofed',
      );
    });

    it('rm, CIDR and RM_TRUSTED_PROXY: a trusted proxy forwarding an allowed client', async () => {
      const h = await open({
        jobmeter: await jm('rm'),
        trustedCidrs: ['127.0.0.2/32'],
        trustProxy: ['127.0.0.5'],
      });
      assert.equal(
        (await get(h.port, '/metrics', { 'x-forwarded-for': '127.0.0.2' }, '127.0.0.5')).status,
        200,
      );
      assert.equal(
        (await get(h.port, '/metrics', { 'x-forwarded-for': '127.0.0.9' }, '127.0.0.5')).status,
        404,
      );
      assert.equal(
        (await get(h.port, '/metrics', { 'x-forwarded-for': '127.0.0.2, 127.0.0.9' }, '127.0.0.5'))
          .status,
        404,
        'client-written left hop',
      );
      assert.equal(
        (await get(h.port, '/metrics', {}, '127.0.0.5')).status,
        404,
        'the proxy itself is not in the list',
      );
    });

    it('rm, both: both must pass', async () => {
      const h = await open({
        jobmeter: await jm('rm'),
        token: TOKEN,
        trustedCidrs: ['127.0.0.2/32'],
      });
      const auth = { authorization: `Bearer ${TOKEN}` };
      assert.equal((await get(h.port, '/metrics', auth, '127.0.0.2')).status, 200);
      assert.equal((await get(h.port, '/metrics', auth, '127.0.0.3')).status, 401);
      assert.equal((await get(h.port, '/metrics', {}, '127.0.0.2')).status, 401);
    });

    it('crewshipd: loopback always; through a local proxy, a remote client needs the token', async () => {
      const none = await open({ jobmeter: await jm('crewshipd') });
      assert.equal((await get(none.port, '/metrics')).status, 200);
      assert.equal(
        (await get(none.port, '/metrics', { 'x-forwarded-for': '203.0.113.9' })).status,
        404,
      );
      const withToken = await open({ jobmeter: await jm('crewshipd'), token: TOKEN });
      assert.equal(
        (await get(withToken.port, '/metrics', { 'x-forwarded-for': '203.0.113.9' })).status,
        401,
      );
      assert.equal(
        (
          await get(withToken.port, '/metrics', {
            'x-forwarded-for': '203.0.113.9',
            authorization: `Bearer ${TOKEN}`,
          })
        ).status,
        200,
      );
      assert.equal(
        (await get(withToken.port, '/metrics', { authorization: 'Bearer wrong' })).status,
        200,
        'loopback needs no token',
      );
    });

    it('wasmrun --auth: 401 counted as unauthorized; JSON sessions withheld; open mode keeps them', async () => {
      const j = await jm('wasmrun');
      const authed = await open({
        jobmeter: j,
        apiKeys: [{ key: TOKEN, tenant: 'acme' }],
        accessLog: false,
      });
      const auth = { authorization: `Bearer ${TOKEN}` };
      const count = async (): Promise<number> => {
        const body = (await get(authed.port, '/api/v1/metrics', auth)).text;
        return Number(
          /^wasmrun_agent_exec_rejected_total\{reason="unauthorized"\} (\d+)$/m.exec(body)?.[1],
        );
      };
      const before = await count();
      assert.equal((await get(authed.port, '/api/v1/metrics')).status, 401);
      assert.equal(
        (await get(authed.port, '/api/v1/metrics', { authorization: 'Bearer nope' })).status,
        401,
      );
      assert.equal(await count(), before + 2);
      const withheld = JSON.parse(
        (await get(authed.port, '/api/v1/metrics?format=json', auth)).text,
      ) as Record<string, unknown>;
      assert.equal('sessions' in withheld, false);
      assert.equal(withheld.sessions_disk_bytes, 4096);

      const openMode = await open({ jobmeter: j, accessLog: false });
      const full = JSON.parse((await get(openMode.port, '/api/v1/metrics?format=json')).text) as {
        sessions?: { id: string }[];
      };
      assert.deepEqual(
        full.sessions?.map((s) => s.id),
        ['sess-1'],
      );
      assert.equal(
        (await get(openMode.port, '/metrics')).status,
        404,
        'wasmrun mounts /api/v1/metrics',
      );
    });

    it('runwisp: enabled false mounts nothing; enabled, unauthenticated', async () => {
      const off = await open({ jobmeter: await jm('runwisp'), enabled: false });
      assert.equal((await get(off.port, '/metrics')).status, 404);
      const on = await open({ jobmeter: await jm('runwisp'), trustProxy: ['127.0.0.1'] });
      const res = await get(on.port, '/metrics', {
        accept: 'application/openmetrics-text;version=1.0.0',
        'x-forwarded-for': '203.0.113.9',
      });
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
      const h = await open({
        jobmeter: await jm('otel'),
        posture: 'rm',
        token: TOKEN,
        path: '/internal/metrics',
      });
      assert.equal(
        (await get(h.port, '/internal/metrics', { authorization: `Bearer ${TOKEN}` })).status,
        200,
      );
      assert.equal((await get(h.port, '/internal/metrics')).status, 401);
      assert.equal((await get(h.port, '/metrics')).status, 404);
    });
  });

  describe('scrape protection', () => {
    it('a failed collection answers 500 with a short reason, is counted, and the host keeps serving', async () => {
      const source = controllable(await jm('otel'));
      const h = await open({ jobmeter: source });
      source.fail = true;
      const failed = await get(h.port, '/metrics', { 'accept-encoding': 'gzip' });
      assert.equal(failed.status, 500);
      assert.equal(failed.text, 'metric collection failed\n');
      assert.equal(
        failed.headers['content-encoding'],
        undefined,
        'no Content-Encoding on an error body',
      );
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
        scrape: async () =>
          broken
            ? [{ name: 'x', type: 'gauge', help: '', unit: '', series: null } as unknown as Family]
            : base.scrape(),
      };
      const h = await open({ jobmeter: source });
      const res = await get(h.port, '/metrics');
      assert.equal(res.status, 500);
      assert.equal(res.text, 'metric encoding failed\n');
      broken = false;
      assert.match(
        (await get(h.port, '/metrics')).text,
        /^jobmeter_scrape_errors_total\{cause="encoding"\} 1$/m,
      );
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

    it('once the host is closing, a scrape gets 503 and collects nothing', async (t) => {
      const source = controllable(await jm('otel'));
      const h = await open({ jobmeter: source });
      assert.equal((await get(h.port, '/metrics')).status, 200);
      if (h.startClosing === undefined)
        return t.diagnostic('closing is told by the host framework: tested with it');
      await h.startClosing();
      const res = await get(h.port, '/metrics');
      assert.equal(res.status, 503);
      assert.equal(res.text, 'shutting down\n');
      assert.equal(res.headers['retry-after'], '1');
      assert.equal(source.calls, 1);
    });
  });

  describe('access log (wasmrun posture)', () => {
    const out: string[] = [];
    let h: MountedHost;
    before(async () => {
      h = await open({
        jobmeter: await jm('wasmrun'),
        apiKeys: [{ key: TOKEN, tenant: 'acme' }],
        accessLog: { stream: { write: (s) => out.push(s) }, verbose: true },
      });
    });

    it('every request gets one line whose id is its X-Request-Id, with the tenant its key authenticated', async () => {
      const cases: [string, Record<string, string>, number, string][] = [
        ['/api/v1/metrics', { authorization: `Bearer ${TOKEN}` }, 200, 'acme'],
        ['/api/v1/metrics', {}, 401, '-'],
        ['/api/v1/metrics?format=json', { authorization: `Bearer ${TOKEN}x` }, 401, '-'],
        ['/healthz', {}, 200, '-'],
        ['/nowhere', {}, 404, '-'],
      ];
      for (const [path, headers, status, tenant] of cases) {
        const res = await get(h.port, path, headers);
        assert.equal(res.status, status, path);
        assert.match(String(res.headers['x-request-id']), /^[0-9a-f]{16}$/);
        const m = await accessLineOf(out, String(res.headers['x-request-id']));
        assert.deepEqual(
          [m[3], m[4], Number(m[5]), m[7]],
          ['GET', path.split('?')[0], status, tenant],
          path,
        );
        assert.ok(m[1]!.endsWith('+00:00'));
        assert.equal(
          out
            .join('')
            .split('\n')
            .filter((l) => l.includes(`id=${String(res.headers['x-request-id'])}`)).length,
          2,
          'the verbose line and one access line',
        );
      }
      assert.ok(!out.join('').includes(TOKEN), 'no key in any line');
    });

    it('off by default outside wasmrun: no X-Request-Id', async () => {
      const quiet = await open({ jobmeter: await jm('crewshipd') });
      const res = await get(quiet.port, '/metrics');
      assert.equal(res.status, 200);
      assert.equal(res.headers['x-request-id'], undefined);
    });
  });
}
