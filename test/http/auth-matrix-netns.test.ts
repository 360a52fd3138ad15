/**
 * The remote half of the auth matrix: the five postures of `jobmeterMetrics` (src/http/plugin.ts)
 * and of `createMetricsHandler` (src/http/node-handler.ts, on a plain node:http server) through
 * real sockets. Each setup (a mount, a posture and what the operator configured) runs two servers
 * sharing one jobmeter: one bound to the veth pair's host end, reached from a network
 * namespace (`test/support/netns.ts`), so `socket.remoteAddress` is a genuinely remote address;
 * one bound to 127.0.0.1, reached from this process. `inject()` tests fake the peer address;
 * these do not.
 *
 * Every row is `side · case → status`, the status the spec (the seeds in /work/shared/seeds and
 * the issue) gives. After every refusal the same server must still answer `/healthz`, the refusal
 * must carry no metrics and echo no credential, a 404 must be indistinguishable from "no route"
 * (the body the host gives for a path nothing is registered at), and wasmrun must count it in
 * `wasmrun_agent_exec_rejected_total{reason="unauthorized"}`. At the end, no token or key may
 * appear in anything logged (fastify's logger at trace, wasmrun's access log, stderr).
 *
 * Addresses: the remote peer is IPv6 ULA (see netns.ts for why not 192.0.2.0/24 on this host), so
 * "remote" here means an IPv6 client; forwarded client addresses are the IPv4 documentation
 * addresses 203.0.113.9 and 198.51.100.7 (header values only: no traffic goes to them).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, request as httpRequest } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import Fastify from 'fastify';
import { createJobmeter } from '../../src/index.ts';
import type { Jobmeter } from '../../src/index.ts';
import { createMetricsHandler } from '../../src/http/node-handler.ts';
import { jobmeterMetrics } from '../../src/http/plugin.ts';
import type { JobmeterMetricsOptions } from '../../src/http/route-options.ts';
import type { PostureName } from '../../src/common/postures.ts';
import { createRemotePeer, peerResources } from '../support/netns.ts';
import type { PeerResponse, RemotePeer } from '../support/netns.ts';

/** Per-request budget; a refusal is an answer, so nothing here should come close. */
const TIMEOUT_MS = 3_000;

// Fresh per run, so "not in any log" means something. Hex: no whitespace, as the plugin requires.
const CREW_TOKEN = `crew-${randomBytes(16).toString('hex')}`;
const RM_TOKEN = `rm-${randomBytes(16).toString('hex')}`;
const WASM_KEY = `wk-${randomBytes(16).toString('hex')}`;
const SECRETS = [CREW_TOKEN, RM_TOKEN, WASM_KEY];

const REMOTE_CLIENT = '203.0.113.9';
const OTHER_CLIENT = '198.51.100.7';

type Side = 'remote' | 'loopback';
type Headers = Record<string, string | string[]>;

interface Case {
  readonly side: Side;
  readonly name: string;
  readonly headers?: Headers;
  /** @default the posture's metrics path */
  readonly path?: string;
  readonly status: number;
  /** Extra checks on the answer. */
  readonly check?: (res: PeerResponse) => void;
}

interface Ctx {
  readonly peer: RemotePeer;
}

interface Setup {
  readonly posture: PostureName;
  readonly name: string;
  /** The plugin options besides `jobmeter` and `accessLog` (the test routes the log to its sink). */
  readonly options: (ctx: Ctx) => Omit<JobmeterMetricsOptions, 'jobmeter' | 'accessLog'>;
  readonly cases: readonly Case[];
}

// ---------------------------------------------------------------------------------------------
// Headers

const bearer = (token: string): Headers => ({ authorization: `Bearer ${token}` });
const xff = (value: string, extra: Headers = {}): Headers => ({
  'x-forwarded-for': value,
  ...extra,
});
/** Same length, last character changed. */
const wrong = (token: string): string => `${token.slice(0, -1)}${token.endsWith('0') ? '1' : '0'}`;

/** Every way of not presenting `token` properly, each refused with `status` (from `side`). */
function badCredentials(side: Side, token: string, status: number): Case[] {
  return [
    { side, name: 'no Authorization header', status },
    { side, name: 'wrong token, same length', headers: bearer(wrong(token)), status },
    {
      side,
      name: 'token of another length (one more character)',
      headers: bearer(`${token}0`),
      status,
    },
    {
      side,
      name: 'token of another length (a prefix)',
      headers: bearer(token.slice(0, 8)),
      status,
    },
    { side, name: 'malformed: `Bearer` alone', headers: { authorization: 'Bearer' }, status },
    {
      side,
      name: 'malformed: `Basic` with the token as password',
      headers: { authorization: `Basic ${Buffer.from(`prometheus:${token}`).toString('base64')}` },
      status,
    },
    { side, name: 'malformed: bare token, no scheme', headers: { authorization: token }, status },
  ];
}

/**
 * Spellings RFC 7235 allows for the right credential (the scheme is case-insensitive, 1*SP may
 * follow it). jobmeter accepts them deliberately, so a scraper that writes `bearer` still works;
 * without the right token they are refused like any other (covered by badCredentials).
 */
function rfcSpellings(side: Side, token: string): Case[] {
  return [
    {
      side,
      name: 'right token, two spaces after `Bearer` (RFC 7235: 1*SP)',
      headers: { authorization: `Bearer  ${token}` },
      status: 200,
    },
    {
      side,
      name: 'right token, lowercase `bearer` (RFC 7235: case-insensitive scheme)',
      headers: { authorization: `bearer ${token}` },
      status: 200,
    },
  ];
}

// ---------------------------------------------------------------------------------------------
// The matrix

const SETUPS: readonly Setup[] = [
  // crewshipd: loopback (true client IP, XFF aware) always; remote needs the token; no token → 404.
  {
    posture: 'crewshipd',
    name: 'no token configured',
    options: () => ({ posture: 'crewshipd' }),
    cases: [
      { side: 'remote', name: 'no header', status: 404 },
      { side: 'remote', name: 'some bearer token', headers: bearer(CREW_TOKEN), status: 404 },
      {
        side: 'remote',
        name: 'spoofed X-Forwarded-For: 127.0.0.1 (untrusted hop)',
        headers: xff('127.0.0.1'),
        status: 404,
      },
      {
        side: 'remote',
        name: 'spoofed X-Forwarded-For: ::1 (untrusted hop)',
        headers: xff('::1'),
        status: 404,
      },
      {
        side: 'remote',
        name: 'spoofed X-Forwarded-For: ::ffff:127.0.0.1 (untrusted hop)',
        headers: xff('::ffff:127.0.0.1'),
        status: 404,
      },
      {
        side: 'remote',
        name: 'spoofed Forwarded: for=127.0.0.1',
        headers: { forwarded: 'for=127.0.0.1' },
        status: 404,
      },
      {
        side: 'remote',
        name: 'spoofed X-Real-IP: 127.0.0.1',
        headers: { 'x-real-ip': '127.0.0.1' },
        status: 404,
      },
      { side: 'loopback', name: 'no header', status: 200 },
      {
        side: 'loopback',
        name: `local proxy forwarding ${REMOTE_CLIENT}`,
        headers: xff(REMOTE_CLIENT),
        status: 404,
      },
      {
        side: 'loopback',
        name: 'local proxy forwarding 127.0.0.1',
        headers: xff('127.0.0.1'),
        status: 200,
      },
      {
        side: 'loopback',
        name: `local proxy chain "${REMOTE_CLIENT}, 127.0.0.1"`,
        headers: xff(`${REMOTE_CLIENT}, 127.0.0.1`),
        status: 404,
      },
    ],
  },
  {
    posture: 'crewshipd',
    name: 'CREWSHIP_METRICS_TOKEN set',
    options: () => ({ posture: 'crewshipd', token: CREW_TOKEN }),
    cases: [
      { side: 'remote', name: 'right token', headers: bearer(CREW_TOKEN), status: 200 },
      ...badCredentials('remote', CREW_TOKEN, 401),
      ...rfcSpellings('remote', CREW_TOKEN),
      {
        side: 'remote',
        name: 'spoofed X-Forwarded-For: 127.0.0.1, no token',
        headers: xff('127.0.0.1'),
        status: 401,
      },
      {
        side: 'remote',
        name: 'spoofed X-Forwarded-For: 127.0.0.1, right token',
        headers: xff('127.0.0.1', bearer(CREW_TOKEN)),
        status: 200,
      },
      { side: 'loopback', name: 'no header', status: 200 },
      { side: 'loopback', name: 'wrong token', headers: bearer(wrong(CREW_TOKEN)), status: 200 },
      {
        side: 'loopback',
        name: `local proxy forwarding ${REMOTE_CLIENT}, no token`,
        headers: xff(REMOTE_CLIENT),
        status: 401,
      },
      {
        side: 'loopback',
        name: `local proxy forwarding ${REMOTE_CLIENT}, right token`,
        headers: xff(REMOTE_CLIENT, bearer(CREW_TOKEN)),
        status: 200,
      },
    ],
  },
  {
    posture: 'crewshipd',
    name: 'token set, the peer is a trusted proxy',
    options: ({ peer }) => ({
      posture: 'crewshipd',
      token: CREW_TOKEN,
      trustProxy: [peer.peerAddress],
    }),
    cases: [
      {
        side: 'remote',
        name: 'proxy forwarding 127.0.0.1 (judged loopback)',
        headers: xff('127.0.0.1'),
        status: 200,
      },
      {
        side: 'remote',
        name: `proxy forwarding ${REMOTE_CLIENT}, no token`,
        headers: xff(REMOTE_CLIENT),
        status: 401,
      },
      {
        side: 'remote',
        name: `proxy forwarding ${REMOTE_CLIENT}, right token`,
        headers: xff(REMOTE_CLIENT, bearer(CREW_TOKEN)),
        status: 200,
      },
      { side: 'remote', name: 'proxy forwarding nothing (the proxy is the client)', status: 401 },
      {
        side: 'remote',
        name: 'proxy forwarding a non-address (fail closed)',
        headers: xff('unknown'),
        status: 401,
      },
    ],
  },
  {
    posture: 'crewshipd',
    name: 'no token, the peer is a trusted proxy',
    options: ({ peer }) => ({ posture: 'crewshipd', trustProxy: [peer.peerAddress] }),
    cases: [
      {
        side: 'remote',
        name: 'proxy forwarding 127.0.0.1 (judged loopback)',
        headers: xff('127.0.0.1'),
        status: 200,
      },
      {
        side: 'remote',
        name: `proxy forwarding ${REMOTE_CLIENT}`,
        headers: xff(REMOTE_CLIENT),
        status: 404,
      },
      {
        side: 'remote',
        name: `proxy chain "127.0.0.1, ${REMOTE_CLIENT}" (a client-written loopback hop)`,
        headers: xff(`127.0.0.1, ${REMOTE_CLIENT}`),
        status: 404,
      },
    ],
  },

  // rm: token (constant time) and/or trusted CIDR; both → both must pass; neither → no route.
  // XFF only from RM_TRUSTED_PROXY.
  {
    posture: 'rm',
    name: 'neither token nor CIDR (route not registered)',
    options: () => ({ posture: 'rm' }),
    cases: [
      { side: 'remote', name: 'no header', status: 404 },
      { side: 'remote', name: 'some bearer token', headers: bearer(RM_TOKEN), status: 404 },
      { side: 'loopback', name: 'no header', status: 404 },
    ],
  },
  {
    posture: 'rm',
    name: 'RM_METRICS_TOKEN only',
    options: () => ({ posture: 'rm', token: RM_TOKEN }),
    cases: [
      { side: 'remote', name: 'right token', headers: bearer(RM_TOKEN), status: 200 },
      ...badCredentials('remote', RM_TOKEN, 401),
      ...rfcSpellings('remote', RM_TOKEN),
      {
        side: 'remote',
        name: 'spoofed X-Forwarded-For: 127.0.0.1, no token',
        headers: xff('127.0.0.1'),
        status: 401,
      },
      { side: 'loopback', name: 'no header (no loopback exemption)', status: 401 },
      { side: 'loopback', name: 'right token', headers: bearer(RM_TOKEN), status: 200 },
    ],
  },
  {
    posture: 'rm',
    name: "RM_METRICS_TRUSTED_CIDR only, the pair's /126",
    options: ({ peer }) => ({ posture: 'rm', trustedCidrs: [peer.cidr] }),
    cases: [
      { side: 'remote', name: 'no header', status: 200 },
      {
        side: 'remote',
        name: 'a bearer token nobody configured (ignored)',
        headers: bearer(wrong(RM_TOKEN)),
        status: 200,
      },
      {
        side: 'remote',
        name: `X-Forwarded-For: ${REMOTE_CLIENT} from an untrusted hop (ignored)`,
        headers: xff(REMOTE_CLIENT),
        status: 200,
      },
      { side: 'loopback', name: 'no header (127.0.0.1 not in the list)', status: 404 },
    ],
  },
  {
    posture: 'rm',
    name: `CIDR only, ${REMOTE_CLIENT.replace(/\d+$/, '0')}/24 (not the peer)`,
    options: () => ({ posture: 'rm', trustedCidrs: ['203.0.113.0/24'] }),
    cases: [
      { side: 'remote', name: 'no header', status: 404 },
      {
        side: 'remote',
        name: `spoofed X-Forwarded-For: ${REMOTE_CLIENT} (untrusted hop)`,
        headers: xff(REMOTE_CLIENT),
        status: 404,
      },
      { side: 'loopback', name: 'no header', status: 404 },
    ],
  },
  {
    posture: 'rm',
    name: 'CIDR only, 127.0.0.0/8',
    options: () => ({ posture: 'rm', trustedCidrs: ['127.0.0.0/8'] }),
    cases: [
      {
        side: 'remote',
        name: 'spoofed X-Forwarded-For: 127.0.0.1 (untrusted hop)',
        headers: xff('127.0.0.1'),
        status: 404,
      },
      { side: 'loopback', name: 'no header', status: 200 },
    ],
  },
  {
    posture: 'rm',
    name: "token and CIDR (the pair's /126)",
    options: ({ peer }) => ({ posture: 'rm', token: RM_TOKEN, trustedCidrs: [peer.cidr] }),
    cases: [
      { side: 'remote', name: 'right token', headers: bearer(RM_TOKEN), status: 200 },
      ...badCredentials('remote', RM_TOKEN, 401),
      ...rfcSpellings('remote', RM_TOKEN),
      {
        side: 'loopback',
        name: 'right token, address not in the list',
        headers: bearer(RM_TOKEN),
        status: 401,
      },
    ],
  },
  {
    posture: 'rm',
    name: 'token and CIDR 203.0.113.0/24 (not the peer)',
    options: () => ({ posture: 'rm', token: RM_TOKEN, trustedCidrs: ['203.0.113.0/24'] }),
    cases: [
      {
        side: 'remote',
        name: 'right token, address not in the list',
        headers: bearer(RM_TOKEN),
        status: 401,
      },
      {
        side: 'remote',
        name: `right token, spoofed X-Forwarded-For: ${REMOTE_CLIENT} (untrusted hop)`,
        headers: xff(REMOTE_CLIENT, bearer(RM_TOKEN)),
        status: 401,
      },
    ],
  },
  {
    posture: 'rm',
    name: 'CIDR 203.0.113.0/24, RM_TRUSTED_PROXY = the peer',
    options: ({ peer }) => ({
      posture: 'rm',
      trustedCidrs: ['203.0.113.0/24'],
      trustProxy: [peer.peerAddress],
    }),
    cases: [
      {
        side: 'remote',
        name: `proxy forwarding ${REMOTE_CLIENT}`,
        headers: xff(REMOTE_CLIENT),
        status: 200,
      },
      {
        side: 'remote',
        name: `proxy forwarding ${OTHER_CLIENT}`,
        headers: xff(OTHER_CLIENT),
        status: 404,
      },
      {
        side: 'remote',
        name: 'proxy forwarding 127.0.0.1',
        headers: xff('127.0.0.1'),
        status: 404,
      },
      { side: 'remote', name: 'proxy forwarding nothing (the proxy is the client)', status: 404 },
      {
        side: 'remote',
        name: `chain "${REMOTE_CLIENT}, ${OTHER_CLIENT}" (client-written left hop)`,
        headers: xff(`${REMOTE_CLIENT}, ${OTHER_CLIENT}`),
        status: 404,
      },
      {
        side: 'remote',
        name: `chain "${OTHER_CLIENT}, ${REMOTE_CLIENT}"`,
        headers: xff(`${OTHER_CLIENT}, ${REMOTE_CLIENT}`),
        status: 200,
      },
      {
        side: 'remote',
        name: 'proxy forwarding a non-address (fail closed)',
        headers: xff('unknown'),
        status: 404,
      },
    ],
  },
  {
    posture: 'rm',
    name: 'token and CIDR 203.0.113.0/24, RM_TRUSTED_PROXY = the peer',
    options: ({ peer }) => ({
      posture: 'rm',
      token: RM_TOKEN,
      trustedCidrs: ['203.0.113.0/24'],
      trustProxy: [peer.peerAddress],
    }),
    cases: [
      {
        side: 'remote',
        name: `proxy forwarding ${REMOTE_CLIENT}, right token`,
        headers: xff(REMOTE_CLIENT, bearer(RM_TOKEN)),
        status: 200,
      },
      {
        side: 'remote',
        name: `proxy forwarding ${REMOTE_CLIENT}, no token`,
        headers: xff(REMOTE_CLIENT),
        status: 401,
      },
      {
        side: 'remote',
        name: `proxy forwarding ${OTHER_CLIENT}, right token`,
        headers: xff(OTHER_CLIENT, bearer(RM_TOKEN)),
        status: 401,
      },
    ],
  },

  // wasmrun: with --auth a valid API key, 401 + exec_rejected_total{reason="unauthorized"}
  // otherwise; JSON sessions only in open mode.
  {
    posture: 'wasmrun',
    name: 'open mode (no --auth)',
    options: () => ({ posture: 'wasmrun' }),
    cases: [
      { side: 'remote', name: 'no header', status: 200 },
      { side: 'remote', name: 'some bearer key (ignored)', headers: bearer(WASM_KEY), status: 200 },
      {
        side: 'remote',
        name: '?format=json has the per-session breakdown',
        path: '/api/v1/metrics?format=json',
        status: 200,
        check: (res) => assert.deepEqual(sessionsOf(res), ['sess-one']),
      },
      {
        side: 'remote',
        name: 'GET /metrics (not the wasmrun path)',
        path: '/metrics',
        status: 404,
      },
      { side: 'loopback', name: 'no header', status: 200 },
    ],
  },
  {
    posture: 'wasmrun',
    name: '--auth with one API key',
    options: () => ({ posture: 'wasmrun', apiKeys: [{ key: WASM_KEY, tenant: 'acme' }] }),
    cases: [
      { side: 'remote', name: 'right key', headers: bearer(WASM_KEY), status: 200 },
      {
        side: 'remote',
        name: 'right key, ?format=json withholds the sessions',
        path: '/api/v1/metrics?format=json',
        headers: bearer(WASM_KEY),
        status: 200,
        check: (res) => {
          const json = JSON.parse(res.body) as Record<string, unknown>;
          assert.equal('sessions' in json, false, 'sessions withheld when auth is on');
          assert.equal(json.sessions_disk_bytes, 8192, 'the aggregate stays');
        },
      },
      ...badCredentials('remote', WASM_KEY, 401),
      ...rfcSpellings('remote', WASM_KEY),
      {
        side: 'remote',
        name: 'spoofed X-Forwarded-For: 127.0.0.1, no key',
        headers: xff('127.0.0.1'),
        status: 401,
      },
      { side: 'loopback', name: 'no header (no loopback exemption)', status: 401 },
      { side: 'loopback', name: 'right key', headers: bearer(WASM_KEY), status: 200 },
    ],
  },

  // runwisp: off unless enabled; once on, unauthenticated.
  {
    posture: 'runwisp',
    name: 'metrics_enabled = false',
    options: () => ({ posture: 'runwisp', enabled: false }),
    cases: [
      { side: 'remote', name: 'no header', status: 404 },
      { side: 'loopback', name: 'no header', status: 404 },
    ],
  },
  {
    posture: 'runwisp',
    name: 'metrics_enabled = true',
    options: () => ({ posture: 'runwisp' }),
    cases: [
      { side: 'remote', name: 'no header', status: 200 },
      {
        side: 'remote',
        name: 'spoofed X-Forwarded-For: 127.0.0.1',
        headers: xff('127.0.0.1'),
        status: 200,
      },
      {
        side: 'remote',
        name: 'a bearer token nobody configured',
        headers: bearer(wrong(CREW_TOKEN)),
        status: 200,
      },
      { side: 'loopback', name: 'no header', status: 200 },
    ],
  },
  {
    posture: 'runwisp',
    name: 'metrics_enabled = true, RUNWISP_TRUST_PROXY = the peer',
    options: ({ peer }) => ({ posture: 'runwisp', trustProxy: [peer.peerAddress] }),
    cases: [
      {
        side: 'remote',
        name: `proxy forwarding ${REMOTE_CLIENT}`,
        headers: xff(REMOTE_CLIENT),
        status: 200,
      },
    ],
  },

  // solti: one unified /metrics, no auth.
  {
    posture: 'solti',
    name: 'unified /metrics',
    options: () => ({ posture: 'solti' }),
    cases: [
      { side: 'remote', name: 'no header', status: 200 },
      {
        side: 'remote',
        name: 'a bearer token nobody configured',
        headers: bearer(wrong(RM_TOKEN)),
        status: 200,
      },
      {
        side: 'remote',
        name: 'spoofed X-Forwarded-For: 127.0.0.1',
        headers: xff('127.0.0.1'),
        status: 200,
      },
      { side: 'loopback', name: 'no header', status: 200 },
    ],
  },
];

const PREFIX: Readonly<Record<PostureName, string>> = {
  otel: 'jobmeter_',
  crewshipd: 'crewshipd_',
  rm: 'rm_',
  wasmrun: 'wasmrun_agent_',
  runwisp: 'runwisp_',
  solti: 'solti_runner_',
};
const PATH: Readonly<Record<PostureName, string>> = {
  otel: '/metrics',
  crewshipd: '/metrics',
  rm: '/metrics',
  wasmrun: '/api/v1/metrics',
  runwisp: '/metrics',
  solti: '/metrics',
};

// ---------------------------------------------------------------------------------------------
// Servers, requests, logs

/** Everything written by fastify's logger, the access log, and stderr while the suite runs. */
const captured: string[] = [];
const sink = { write: (chunk: string): boolean => (captured.push(chunk), true) };

/** How the route is mounted: the fastify plugin, or the node:http handler on a plain server. */
type Mount = 'plugin' | 'node:http';
const MOUNTS: readonly Mount[] = ['plugin', 'node:http'];

interface Served {
  readonly port: number;
  /** The host's answer where nothing is registered (what a refused 404 must be). */
  noRoute(path: string): Promise<{ body: string; contentType: string }>;
  close(): Promise<void>;
}

const NODE_NOT_FOUND = 'host: no such page\n';

async function serve(
  mount: Mount,
  jobmeter: Jobmeter,
  options: Omit<JobmeterMetricsOptions, 'jobmeter' | 'accessLog'>,
  host: string,
): Promise<Served> {
  const posture = options.posture as PostureName;
  const route = {
    ...options,
    jobmeter,
    ...(posture === 'wasmrun' ? { accessLog: { stream: sink } } : {}),
  };
  if (mount === 'plugin') {
    const app = Fastify({ logger: { level: 'trace', stream: sink } });
    app.get('/healthz', async () => 'ok\n');
    await app.register(jobmeterMetrics, route);
    await app.listen({ host, port: 0 });
    return { port: (app.server.address() as AddressInfo).port, noRoute, close: () => app.close() };
  }
  const metrics = createMetricsHandler(route);
  const server = createServer((req, res) => {
    if (metrics(req, res)) return;
    const found = req.url === '/healthz';
    res
      .writeHead(found ? 200 : 404, { 'content-type': 'text/plain; charset=utf-8' })
      .end(found ? 'ok\n' : NODE_NOT_FOUND);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return {
    port: (server.address() as AddressInfo).port,
    noRoute: async () => ({ body: NODE_NOT_FOUND, contentType: 'text/plain; charset=utf-8' }),
    close: () =>
      new Promise<void>((resolve) => server.close(() => resolve()).closeAllConnections()),
  };
}

/** A request from this process (loopback), same shape and budget as the peer's. */
function localRequest(url: string, headers: Headers = {}): Promise<PeerResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      { headers, agent: false, signal: AbortSignal.timeout(TIMEOUT_MS) },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

function sessionsOf(res: PeerResponse): string[] | undefined {
  const json = JSON.parse(res.body) as { sessions?: { id: string }[] };
  return json.sessions?.map((s) => s.id);
}

function unauthorizedCount(body: string): number {
  const m = /^wasmrun_agent_exec_rejected_total\{reason="unauthorized"\} (\d+)$/m.exec(body);
  assert.ok(m !== null, 'wasmrun_agent_exec_rejected_total{reason="unauthorized"} is served');
  return Number(m[1]);
}

function isMetrics(headers: IncomingHttpHeaders): boolean {
  return /^(text\/plain; version=0\.0\.4|application\/openmetrics-text|application\/json)/.test(
    String(headers['content-type']),
  );
}

/** The 404 a fastify host gives for `path` when nothing is registered there. */
async function noRoute(path: string): Promise<{ body: string; contentType: string }> {
  const bare = Fastify();
  const res = await bare.inject({ method: 'GET', url: path });
  await bare.close();
  return { body: res.body, contentType: String(res.headers['content-type']) };
}

// ---------------------------------------------------------------------------------------------

let peer: RemotePeer;
const realStderrWrite = process.stderr.write.bind(process.stderr);

before(async () => {
  peer = await createRemotePeer();
  // Capture stderr too (and pass it on): a default-stream log would land there.
  process.stderr.write = (chunk: string | Uint8Array, ...rest: never[]) => {
    captured.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return realStderrWrite(chunk, ...rest);
  };
});

after(async () => {
  process.stderr.write = realStderrWrite;
  await peer?.close();
});

for (const mount of MOUNTS) {
  for (const setup of SETUPS) {
    describe(`${mount} · ${setup.posture} · ${setup.name}`, { timeout: 60_000 }, () => {
      let jobmeter: Jobmeter;
      let remote: Served;
      let local: Served;
      const url = (side: Side, path: string): string =>
        side === 'remote' ? peer.url(remote.port, path) : `http://127.0.0.1:${local.port}${path}`;
      const send = (side: Side, path: string, headers?: Headers): Promise<PeerResponse> =>
        side === 'remote'
          ? peer.request(url(side, path), {
              ...(headers !== undefined ? { headers } : {}),
              timeoutMs: TIMEOUT_MS,
            })
          : localRequest(url(side, path), headers);

      before(async () => {
        jobmeter = await createJobmeter({
          profile: setup.posture,
          listener: false,
          hostname: 'matrix-host',
        });
        jobmeter.recordRun({
          task: 'matrix',
          runner: 'subprocess',
          outcome: 'success',
          durationSeconds: 1,
        });
        jobmeter.setSnapshotSource(() => ({
          sessions: {
            active: 1,
            tracked: 1,
            diskBytes: 8192,
            list: [{ id: 'sess-one', diskBytes: 8192, memoryCapPages: 4096 }],
          },
        }));
        const options = setup.options({ peer });
        remote = await serve(mount, jobmeter, options, peer.hostAddress);
        local = await serve(mount, jobmeter, options, '127.0.0.1');
      });

      after(async () => {
        await remote?.close();
        await local?.close();
        await jobmeter?.shutdown();
      });

      for (const c of setup.cases) {
        test(`${c.side} · ${c.name} → ${c.status}`, async () => {
          const path = c.path ?? PATH[setup.posture];
          const counting = setup.posture === 'wasmrun' && c.status === 401;
          const before = counting
            ? unauthorizedCount(
                (await localRequest(url('loopback', PATH.wasmrun), bearer(WASM_KEY))).body,
              )
            : 0;

          const res = await send(c.side, path, c.headers);
          assert.equal(
            res.status,
            c.status,
            `${mount} · ${setup.posture} · ${setup.name} · ${c.side} · ${c.name}`,
          );
          const wire = JSON.stringify(res);
          for (const secret of SECRETS)
            assert.ok(!wire.includes(secret), 'the answer echoes no credential');

          if (c.status === 200) {
            assert.ok(
              isMetrics(res.headers),
              `metrics content type, got ${String(res.headers['content-type'])}`,
            );
            if (!path.includes('format=json'))
              assert.ok(
                res.body.includes(PREFIX[setup.posture]),
                `body has ${PREFIX[setup.posture]} series`,
              );
          } else {
            assert.ok(!res.body.includes(PREFIX[setup.posture]), 'a refusal carries no metrics');
            if (c.status === 404) {
              const expected = await local.noRoute(path);
              assert.equal(res.body, expected.body, 'a refused 404 is the host\'s "no route" 404');
              assert.equal(res.headers['content-type'], expected.contentType);
            }
            if (c.status === 401) {
              assert.equal(res.headers['www-authenticate'], 'Bearer');
            }
            // The process keeps serving after a refusal, on the same listener.
            const health = await send(c.side, '/healthz');
            assert.equal(health.status, 200);
            assert.equal(health.body, 'ok\n');
          }
          if (counting) {
            const after = unauthorizedCount(
              (await localRequest(url('loopback', PATH.wasmrun), bearer(WASM_KEY))).body,
            );
            assert.equal(
              after,
              before + 1,
              'wasmrun_agent_exec_rejected_total{reason="unauthorized"} +1',
            );
          }
          c.check?.(res);
        });
      }
    });
  }
}

describe('afterwards', () => {
  test('wasmrun access lines carry the tenant of the key, never the key', () => {
    const lines = captured
      .join('')
      .split('\n')
      .filter((l) => l.startsWith('ts=') && l.includes('path=/api/v1/metrics'));
    assert.ok(
      lines.some((l) => / status=200 .*tenant=acme$/.test(l)),
      'an authorized scrape is logged with tenant=acme',
    );
    assert.ok(
      lines.some((l) => / status=401 .*tenant=-$/.test(l)),
      'a refusal is logged with tenant=-',
    );
  });

  test('no token or key appears in any captured log output', () => {
    const all = captured.join('');
    assert.ok(all.length > 0, 'something was logged (the capture works)');
    for (const secret of SECRETS)
      assert.ok(!all.includes(secret), 'a credential leaked into the logs');
    // Not even a long piece of one (e.g. a prefix or a hex body logged on its own).
    for (const secret of SECRETS)
      assert.ok(!all.includes(secret.slice(-24)), 'part of a credential leaked into the logs');
  });

  test('a credential is refused under postures without a bearer gate', async () => {
    const jm = await createJobmeter({ profile: 'solti', listener: false });
    try {
      for (const posture of ['runwisp', 'solti'] as const) {
        const app = Fastify();
        await assert.rejects(async () => {
          await app.register(jobmeterMetrics, { jobmeter: jm, posture, token: RM_TOKEN });
          await app.ready();
        }, /token/);
        await app.close().catch(() => {});
      }
    } finally {
      await jm.shutdown();
    }
  });

  test('the namespace and veth pair are gone after close', async () => {
    await peer.close();
    assert.deepEqual(peerResources(), { namespaces: [], links: [] });
  });
});
