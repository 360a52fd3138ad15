/**
 * The gate evaluator, posture by posture, over the whole auth matrix. Peers are plain strings
 * here (the evaluator reads nothing else of a connection); plugin.test.ts runs the same rows
 * through real loopback sockets, and auth-matrix-netns.test.ts through a remote namespace.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  checkPosture,
  compileGate,
  type GateConfig,
  type GateRequest,
} from '../../src/http/gate.ts';
import {
  INGEST_POSTURE,
  POSTURE_NAMES,
  POSTURES,
  postureForProfile,
  type PostureName,
} from '../../src/common/postures.ts';

const TOKEN = 'tok-0123456789abcdef';
const LOOP = '127.0.0.1';
const REMOTE = '203.0.113.9';
const PROXY = '10.0.0.2';
const NET = '203.0.113.0/24';

type Headers = GateRequest['headers'];
const bearer = (t: string): Headers => ({ authorization: `Bearer ${t}` });
const wrongSameLength = `${TOKEN.slice(0, -1)}x`;

/** [peer, headers, expected status (200 = allowed)] */
type Row = [name: string, peer: string, headers: Headers, status: number];

/** The rows every "bearer in force" setup must refuse with `status`. */
function badTokens(peer: string, status: number): Row[] {
  return [
    ['no header', peer, {}, status],
    ['wrong token, same length', peer, bearer(wrongSameLength), status],
    ['token of another length', peer, bearer(`${TOKEN}0`), status],
    ['a prefix of the token', peer, bearer(TOKEN.slice(0, 4)), status],
    ['malformed: Bearer alone', peer, { authorization: 'Bearer' }, status],
    [
      'malformed: Bearer and two tokens',
      peer,
      { authorization: `Bearer ${TOKEN} ${TOKEN}` },
      status,
    ],
    [
      'malformed: Basic',
      peer,
      { authorization: `Basic ${Buffer.from(`u:${TOKEN}`).toString('base64')}` },
      status,
    ],
    ['malformed: no scheme', peer, { authorization: TOKEN }, status],
    ['empty header', peer, { authorization: '' }, status],
  ];
}

interface Setup {
  posture: PostureName;
  name: string;
  config: GateConfig;
  mode: 'open' | 'unmounted' | 'gated';
  rows: Row[];
}

const SETUPS: Setup[] = [
  {
    posture: 'crewshipd',
    name: 'no token',
    config: {},
    mode: 'gated',
    rows: [
      ['loopback', LOOP, {}, 200],
      ['loopback (IPv6)', '::1', {}, 200],
      ['loopback (mapped)', '::ffff:127.0.0.1', {}, 200],
      ['remote', REMOTE, {}, 404],
      ['remote with some token', REMOTE, bearer(TOKEN), 404],
      [
        'remote, spoofed XFF 127.0.0.1 (untrusted hop)',
        REMOTE,
        { 'x-forwarded-for': '127.0.0.1' },
        404,
      ],
      ['local proxy forwarding a remote client', LOOP, { 'x-forwarded-for': REMOTE }, 404],
      ['local proxy forwarding a loopback client', LOOP, { 'x-forwarded-for': '127.0.0.1' }, 200],
    ],
  },
  {
    posture: 'crewshipd',
    name: 'token',
    config: { token: TOKEN },
    mode: 'gated',
    rows: [
      ['loopback, no token', LOOP, {}, 200],
      ['loopback, wrong token', LOOP, bearer(wrongSameLength), 200],
      ['remote, right token', REMOTE, bearer(TOKEN), 200],
      ...badTokens(REMOTE, 401),
      ['remote, spoofed XFF 127.0.0.1', REMOTE, { 'x-forwarded-for': '127.0.0.1' }, 401],
      [
        'local proxy forwarding a remote client, no token',
        LOOP,
        { 'x-forwarded-for': REMOTE },
        401,
      ],
      [
        'local proxy forwarding a remote client, right token',
        LOOP,
        { 'x-forwarded-for': REMOTE, ...bearer(TOKEN) },
        200,
      ],
      ['RFC 7235: lowercase scheme', REMOTE, { authorization: `bearer ${TOKEN}` }, 200],
      ['RFC 7235: two spaces', REMOTE, { authorization: `Bearer  ${TOKEN}` }, 200],
    ],
  },
  {
    posture: 'crewshipd',
    name: 'token, a remote trusted proxy',
    config: { token: TOKEN, trustProxy: [PROXY] },
    mode: 'gated',
    rows: [
      ['proxy forwarding 127.0.0.1', PROXY, { 'x-forwarded-for': '127.0.0.1' }, 200],
      ['proxy forwarding a remote client', PROXY, { 'x-forwarded-for': REMOTE }, 401],
      ['proxy forwarding junk (fail closed)', PROXY, { 'x-forwarded-for': 'unknown' }, 401],
      // trustedProxies replaces the posture's default (loopback proxies).
      [
        'loopback peer forwarding a remote client: loopback no longer a trusted proxy',
        LOOP,
        { 'x-forwarded-for': REMOTE },
        200,
      ],
    ],
  },
  {
    posture: 'rm',
    name: 'neither token nor CIDR',
    config: {},
    mode: 'unmounted',
    rows: [],
  },
  {
    posture: 'rm',
    name: 'token only',
    config: { token: TOKEN },
    mode: 'gated',
    rows: [
      ['remote, right token', REMOTE, bearer(TOKEN), 200],
      ['loopback, right token', LOOP, bearer(TOKEN), 200],
      ...badTokens(REMOTE, 401),
      ...badTokens(LOOP, 401),
    ],
  },
  {
    posture: 'rm',
    name: 'CIDR only',
    config: { trustedCidrs: [NET] },
    mode: 'gated',
    rows: [
      ['inside', REMOTE, {}, 200],
      ['inside, any header', REMOTE, bearer(wrongSameLength), 200],
      ['outside (loopback)', LOOP, {}, 404],
      [
        'outside, spoofed XFF from an untrusted hop',
        '198.51.100.7',
        { 'x-forwarded-for': REMOTE },
        404,
      ],
    ],
  },
  {
    posture: 'rm',
    name: 'both',
    config: { token: TOKEN, trustedCidrs: [NET] },
    mode: 'gated',
    rows: [
      ['inside, right token', REMOTE, bearer(TOKEN), 200],
      ...badTokens(REMOTE, 401),
      ['outside, right token', LOOP, bearer(TOKEN), 401],
      [
        'outside, spoofed XFF, right token',
        LOOP,
        { 'x-forwarded-for': REMOTE, ...bearer(TOKEN) },
        401,
      ],
    ],
  },
  {
    posture: 'rm',
    name: 'CIDR, RM_TRUSTED_PROXY',
    config: { trustedCidrs: [NET], trustProxy: [PROXY] },
    mode: 'gated',
    rows: [
      ['trusted proxy forwarding an inside client', PROXY, { 'x-forwarded-for': REMOTE }, 200],
      [
        'trusted proxy forwarding an outside client',
        PROXY,
        { 'x-forwarded-for': '198.51.100.7' },
        404,
      ],
      [
        'client-written inside hop on the left',
        PROXY,
        { 'x-forwarded-for': `${REMOTE}, 198.51.100.7` },
        404,
      ],
      ['the proxy itself', PROXY, {}, 404],
      [
        'an untrusted hop forwarding an inside client',
        '198.51.100.7',
        { 'x-forwarded-for': REMOTE },
        404,
      ],
    ],
  },
  {
    posture: 'wasmrun',
    name: 'open mode',
    config: {},
    mode: 'open',
    rows: [
      ['remote', REMOTE, {}, 200],
      ['remote with a key nobody configured', REMOTE, bearer(TOKEN), 200],
    ],
  },
  {
    posture: 'wasmrun',
    name: '--auth',
    config: {
      apiKeys: [
        { key: TOKEN, tenant: 'acme' },
        { key: 'other-key', tenant: 'globex' },
      ],
    },
    mode: 'gated',
    rows: [
      ['remote, right key', REMOTE, bearer(TOKEN), 200],
      ['loopback, no key (no exemption)', LOOP, {}, 401],
      ...badTokens(REMOTE, 401),
    ],
  },
  {
    posture: 'runwisp',
    name: 'enabled',
    config: {},
    mode: 'open',
    rows: [['remote', REMOTE, {}, 200]],
  },
  {
    posture: 'runwisp',
    name: 'RUNWISP_TRUST_PROXY',
    config: { trustProxy: [PROXY] },
    mode: 'open',
    rows: [['proxied', PROXY, { 'x-forwarded-for': REMOTE }, 200]],
  },
  {
    posture: 'solti',
    name: 'unified /metrics',
    config: {},
    mode: 'open',
    rows: [
      ['remote', REMOTE, {}, 200],
      ['loopback', LOOP, {}, 200],
    ],
  },
  {
    posture: 'otel',
    name: 'nothing configured',
    config: {},
    mode: 'open',
    rows: [['remote', REMOTE, {}, 200]],
  },
  {
    posture: 'otel',
    name: 'token and CIDR',
    config: { token: TOKEN, trustedCidrs: [NET] },
    mode: 'gated',
    rows: [
      ['inside, right token', REMOTE, bearer(TOKEN), 200],
      ['outside, right token', LOOP, bearer(TOKEN), 401],
      ...badTokens(REMOTE, 401),
    ],
  },
];

for (const setup of SETUPS) {
  describe(`${setup.posture} · ${setup.name}`, () => {
    const gate = compileGate(POSTURES[setup.posture], setup.config);
    it(`mode ${setup.mode}`, () => assert.equal(gate.mode, setup.mode));
    for (const [name, peer, headers, status] of setup.rows) {
      it(`${name} → ${status}`, () => {
        const d = gate.decide({ peer, headers });
        assert.equal(d.ok ? 200 : d.status, status);
      });
    }
  });
}

describe('gate details', () => {
  it('reports the tenant of the matching API key', () => {
    const gate = compileGate(POSTURES.wasmrun, {
      apiKeys: [
        { key: 'k1', tenant: 'acme' },
        { key: 'k2', tenant: 'globex' },
      ],
    });
    assert.deepEqual(gate.decide({ peer: REMOTE, headers: bearer('k2') }), {
      ok: true,
      tenant: 'globex',
    });
    assert.deepEqual(gate.decide({ peer: REMOTE, headers: bearer('k1') }), {
      ok: true,
      tenant: 'acme',
    });
    assert.equal(gate.authenticated, true);
  });

  it('a decision carries nothing but ok/status/tenant (no reason to leak)', () => {
    const gate = compileGate(POSTURES.rm, { token: TOKEN, trustedCidrs: [NET] });
    assert.deepEqual(Object.keys(gate.decide({ peer: LOOP, headers: {} })).sort(), [
      'ok',
      'status',
    ]);
  });

  it('the gates in force follow what is configured', () => {
    assert.deepEqual(compileGate(POSTURES.crewshipd).inForce, ['loopback']);
    assert.deepEqual(compileGate(POSTURES.crewshipd, { token: TOKEN }).inForce, [
      'loopback',
      'bearer',
    ]);
    assert.deepEqual(compileGate(POSTURES.rm, { trustedCidrs: [NET] }).inForce, ['cidr']);
    assert.deepEqual(compileGate(POSTURES.solti).inForce, []);
  });

  it('refuses configuration the posture cannot use', () => {
    assert.throws(
      () => compileGate(POSTURES.crewshipd, { trustedCidrs: [NET] }),
      /^ConfigError: invalid trustedCidrs=\["203\.0\.113\.0\/24"\]: expected nothing under the crewshipd posture, which checks no client network \(gates: loopback or bearer\)$/,
    );
    for (const name of ['runwisp', 'solti'] as const) {
      assert.throws(
        () => compileGate(POSTURES[name], { token: TOKEN }),
        new RegExp(
          `^ConfigError: invalid token=<redacted>: expected nothing under the ${name} posture, which checks no token`,
        ),
      );
    }
    assert.throws(
      () => compileGate(POSTURES.rm, { token: '' }),
      /^ConfigError: invalid token=<redacted>: expected a non-empty token without whitespace$/,
    );
    assert.throws(
      () => compileGate(POSTURES.rm, { apiKeys: [{ key: 'a b', tenant: 'ops' }] }),
      /^ConfigError: invalid apiKeys\[0\]\.key=<redacted>/,
    );
    assert.throws(() => compileGate(POSTURES.rm, { trustedCidrs: ['10.0.0.0/8', '10.0.0.0/40'] }), {
      name: 'ConfigError',
      message:
        'invalid trustedCidrs[1]=10.0.0.0/40: expected an IP address or CIDR, e.g. 10.0.0.0/8 or ::1',
    });
    assert.throws(
      () => compileGate(INGEST_POSTURE, { trustedCidrs: ['10.0.0.0/99'] }, 'ingest.'),
      /^ConfigError: invalid ingest\.trustedCidrs\[0\]=10\.0\.0\.0\/99: expected an IP address/,
    );
    assert.throws(
      () => compileGate(POSTURES.crewshipd, { trustProxy: ['proxy.local'] }),
      /^ConfigError: invalid trustProxy\[0\]=proxy\.local: expected an IP address/,
    );
    assert.throws(
      () => compileGate({ ...POSTURES.crewshipd, trustedProxies: ['::1/129'] }),
      /^ConfigError: invalid posture\.trustedProxies\[0\]=::1\/129: expected an IP address/,
    );
  });

  it('describes what it lets through without secrets', () => {
    assert.equal(compileGate(POSTURES.solti).description, 'open (no gate configured)');
    assert.equal(compileGate(POSTURES.rm).description, 'route not registered (no gate configured)');
    const crew = compileGate(POSTURES.crewshipd, { token: TOKEN });
    assert.equal(crew.description, 'loopback client or bearer token');
    const rm = compileGate(POSTURES.rm, {
      token: TOKEN,
      trustedCidrs: [NET, '10.0.0.0/8'],
    });
    const text = rm.description;
    assert.equal(text, 'bearer token and client in trusted CIDRs (2)');
    assert.ok(!text.includes(TOKEN));
  });

  it('names API keys as API keys, counted, never as a bearer token, and never the key', () => {
    const keys = [
      { key: TOKEN, tenant: 'acme' },
      { key: 'other-key', tenant: 'ops' },
    ];
    const wasmrun = compileGate(POSTURES.wasmrun, { apiKeys: keys.slice(0, 1) });
    assert.equal(wasmrun.description, 'API key (1 key)');
    const both = compileGate(POSTURES.rm, { token: 'the-token', apiKeys: keys });
    const text = both.description;
    assert.equal(text, 'bearer token or API key (2 keys)');
    assert.ok(!text.includes(TOKEN) && !text.includes('other-key'));
  });
});

describe('postures are data', () => {
  it('one frozen, valid object per original plus the native one', () => {
    assert.deepEqual(
      [...POSTURE_NAMES],
      ['otel', 'runwisp', 'wasmrun', 'crewshipd', 'rm', 'solti'],
    );
    for (const name of POSTURE_NAMES) {
      const p = POSTURES[name];
      assert.equal(p.name, name);
      assert.ok(Object.isFrozen(p) && Object.isFrozen(p.gates) && Object.isFrozen(p.env), name);
      checkPosture(p);
    }
  });

  it("carry each original's rules", () => {
    assert.equal(POSTURES.wasmrun.path, '/api/v1/metrics');
    assert.equal(POSTURES.wasmrun.rejectReason, 'unauthorized');
    assert.equal(POSTURES.wasmrun.accessLog, true);
    assert.equal(POSTURES.wasmrun.withholdJsonExtraWhenAuthenticated, true);
    assert.equal(POSTURES.runwisp.optIn, true);
    assert.equal(POSTURES.rm.unconfigured, 'unmounted');
    assert.equal(POSTURES.crewshipd.combine, 'any');
    assert.deepEqual(POSTURES.rm.env, {
      token: 'RM_METRICS_TOKEN',
      tokenFile: 'RM_METRICS_TOKEN_FILE',
      trustedCidrs: 'RM_METRICS_TRUSTED_CIDR',
      trustedProxies: 'RM_TRUSTED_PROXY',
    });
    assert.deepEqual(POSTURES.crewshipd.env, { token: 'CREWSHIP_METRICS_TOKEN' });
    assert.deepEqual(POSTURES.runwisp.env, { trustedProxies: 'RUNWISP_TRUST_PROXY' });
    for (const name of POSTURE_NAMES)
      if (name !== 'wasmrun') assert.equal(POSTURES[name].accessLog, false, name);
  });

  it("a profile's posture is its original's; unknown names fall back to the native one", () => {
    assert.equal(postureForProfile('rm'), POSTURES.rm);
    assert.equal(postureForProfile('otel'), POSTURES.otel);
    assert.equal(postureForProfile('nope'), POSTURES.otel);
  });

  it('checkPosture names the bad field of a host-made posture', () => {
    const base = POSTURES.rm;
    assert.throws(
      () => checkPosture({ ...base, gates: ['bearer', 'magic' as never] }),
      /^ConfigError: invalid posture\.gates=\["bearer","magic"\]: expected a list of loopback, bearer, cidr$/,
    );
    assert.throws(() => checkPosture({ ...base, combine: 'some' as never }), /posture\.combine/);
    assert.throws(
      () => checkPosture({ ...base, deny: { credential: 500 as never, network: 404 } }),
      /posture\.deny\.credential/,
    );
    assert.throws(() => checkPosture({ ...base, path: 'metrics' }), /posture\.path/);
  });

  it('a custom posture runs through the same evaluator', () => {
    const cidrOr403 = {
      ...POSTURES.rm,
      name: 'lab',
      deny: { credential: 401, network: 403 } as const,
    };
    const gate = compileGate(cidrOr403, { trustedCidrs: [NET] });
    assert.deepEqual(gate.decide({ peer: LOOP, headers: {} }), { ok: false, status: 403 });
  });
});
