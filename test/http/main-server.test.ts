import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { startMainServer } from '../../src/http/main-server.ts';
import { OPTION_DEFAULTS } from '../../src/common/option-defaults.ts';
import { createJobmeter, type Jobmeter } from '../../src/index.ts';

let jm: Jobmeter;
before(async () => {
  jm = await createJobmeter({ profile: 'rm', listener: false, processMetrics: false });
});
after(() => jm.shutdown());

describe('startMainServer', () => {
  it('serves /health, the metrics route under the posture, and 404 elsewhere', async () => {
    const server = await startMainServer({
      ...OPTION_DEFAULTS.serverLimits,
      host: '127.0.0.1',
      port: 0,
      metrics: { jobmeter: jm, token: 'main-server-token' },
    });
    try {
      const base = `http://127.0.0.1:${server.address.port}`;
      assert.ok(server.address.port > 0);
      const health = await fetch(`${base}/health`);
      assert.equal(health.status, 200);
      assert.equal(await health.text(), 'ok\n');
      assert.equal((await fetch(`${base}/metrics`)).status, 401);
      const ok = await fetch(`${base}/metrics`, {
        headers: { authorization: 'Bearer main-server-token' },
      });
      assert.equal(ok.status, 200);
      assert.match(await ok.text(), /^# TYPE rm_build_info gauge$/m);
      const missing = await fetch(`${base}/api`);
      assert.equal(missing.status, 404);
      assert.equal(await missing.text(), 'not found\n');
      assert.deepEqual(server.metrics, {
        path: '/metrics',
        posture: 'rm',
        mode: 'gated',
        description: 'bearer token',
      });
    } finally {
      await server.close();
    }
  });

  it('a denied 404 reads like any other 404 of the server', async () => {
    const server = await startMainServer({
      ...OPTION_DEFAULTS.serverLimits,
      host: '127.0.0.1',
      port: 0,
      metrics: { jobmeter: jm, trustedCidrs: ['10.0.0.0/8'] },
    });
    try {
      const res = await fetch(`http://127.0.0.1:${server.address.port}/metrics`);
      assert.equal(res.status, 404);
      assert.equal(await res.text(), 'not found\n');
    } finally {
      await server.close();
    }
  });

  it('reports an unmounted route and serves health only', async () => {
    const server = await startMainServer({
      ...OPTION_DEFAULTS.serverLimits,
      host: '127.0.0.1',
      port: 0,
      metrics: { jobmeter: jm },
    });
    try {
      assert.equal(server.metrics?.mode, 'unmounted');
      assert.equal((await fetch(`http://127.0.0.1:${server.address.port}/metrics`)).status, 404);
      assert.equal((await fetch(`http://127.0.0.1:${server.address.port}/health`)).status, 200);
    } finally {
      await server.close();
    }
  });

  it('without metrics options, no route and metrics undefined', async () => {
    const server = await startMainServer({
      ...OPTION_DEFAULTS.serverLimits,
      host: '127.0.0.1',
      port: 0,
    });
    try {
      assert.equal(server.metrics, undefined);
      assert.equal((await fetch(`http://127.0.0.1:${server.address.port}/metrics`)).status, 404);
    } finally {
      await server.close();
    }
  });

  // serve's configuration holds the host to loopback unless opted out (config/resolve-layers.ts;
  // test/cli/serve-postures.test.ts pins its refusal): the server binds the host it is given.
  it('binds the host it is given, judging nothing of it', async () => {
    const open = await startMainServer({
      ...OPTION_DEFAULTS.serverLimits,
      host: '0.0.0.0',
      port: 0,
    });
    assert.equal(open.address.host, '0.0.0.0');
    await open.close();
  });

  it('a bad plugin option fails the start, naming the option', async () => {
    await assert.rejects(
      startMainServer({
        ...OPTION_DEFAULTS.serverLimits,
        host: '127.0.0.1',
        port: 0,
        metrics: { jobmeter: jm, posture: 'crewshipd', trustedCidrs: ['10.0.0.0/8'] },
      }),
      /^ConfigError: invalid trustedCidrs=\["10\.0\.0\.0\/8"\]: expected nothing under the crewshipd posture/,
    );
  });
});
