/**
 * `[telemetry] token`: every route of serve's telemetry listener but /health and /ready asks for
 * the bearer token (its metrics, /status, /status.json, POST /-/reload), refused 401 with
 * `WWW-Authenticate: Bearer`; a SIGHUP with a new token file applies it at once (the old one is
 * refused from then on); the token is never printed. A child serve read over HTTP.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { afterEach, it } from 'node:test';

import { killChildren, start, START_MS } from './harness.ts';
import { tempFiles } from '../support/temp-files.ts';

const files = tempFiles('jobmeter-telemetry-token-');
afterEach(killChildren);

const FIRST = 'first-telemetry-token-0123';
const SECOND = 'second-telemetry-token-4567';

it(
  'the telemetry token gates metrics, status and reload (not /health or /ready), a SIGHUP rotates it, and it is never printed',
  { timeout: 120_000 },
  async () => {
    const tokenPath = await files.file('telemetry.token', `${FIRST}\n`);
    const path = await files.file(
      'jobmeter.toml',
      [
        'profile = "otel"',
        '[listener]',
        'port = 0',
        '[telemetry]',
        'listen = "127.0.0.1:0"',
        'enable_reload = true',
        `token_file = ${JSON.stringify(tokenPath)}`,
        '',
      ].join('\n'),
    );
    const child = start(['serve', '--config', path]);
    const [, url] = await child.stderrMatches(
      /serving jobmeter's own telemetry on (http:\/\/\S+)\/metrics\n/,
      START_MS,
    );
    const get = (route: string, token?: string, method = 'GET') =>
      fetch(`${url}${route}`, {
        method,
        headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
      });

    for (const route of ['/metrics', '/status', '/status.json']) {
      const refused = await get(route);
      assert.equal(refused.status, 401, `${route} without a token`);
      assert.equal(refused.headers.get('www-authenticate'), 'Bearer');
      assert.equal(await refused.text(), 'unauthorized\n', 'nothing of the route in the answer');
      assert.equal(
        (await get(route, 'wrong-token-0000000000')).status,
        401,
        `${route}, a wrong one`,
      );
      const served = await get(route, FIRST);
      assert.equal(served.status, 200, route);
      await served.arrayBuffer();
    }
    assert.equal((await get('/-/reload', undefined, 'POST')).status, 401, 'no reload without it');
    for (const route of ['/health', '/ready']) {
      const probe = await get(route);
      assert.notEqual(probe.status, 401, `${route} answers a probe without a token`);
      await probe.arrayBuffer();
    }

    await writeFile(tokenPath, `${SECOND}\n`);
    child.child.kill('SIGHUP');
    const [line] = await child.stderrMatches(/^jobmeter: SIGHUP: .*\n/m, START_MS);
    assert.match(line, /applied now: \[telemetry\] token/, line);
    assert.equal((await get('/metrics', FIRST)).status, 401, 'the old token, refused');
    const rotated = await get('/metrics', SECOND);
    assert.equal(rotated.status, 200);
    assert.match(await rotated.text(), /jobmeter_build_info/);

    for (const secret of [FIRST, SECOND])
      assert.ok(!child.stderr().includes(secret), `the token was printed:\n${child.stderr()}`);
  },
);
