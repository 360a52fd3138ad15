/**
 * `jobmeter serve` with each posture, as a child process: the main server, the metrics route
 * under the posture, the dedicated listener, the access log on stderr, and config errors.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';

import { EXIT_MS, killChildren, run, start, START_MS, type Running } from './harness.ts';

const KEY = 'wk-91c2d7f04ab3e8d5';
const TOKEN = 'rm-4f0e6b2a9d7c1358';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'jobmeter-cli-postures-'));
});
afterEach(killChildren);
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

const SERVING = /^jobmeter: serving (\S+) metrics on (http:\/\/\S+)$/m;
const MAIN = /^jobmeter: main server on (http:\/\/\S+) /m;

async function stop(r: Running): Promise<void> {
  r.child.kill('SIGTERM');
  assert.equal(await r.exited(EXIT_MS), 0, r.stderr());
}

function get(url: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { headers, signal: AbortSignal.timeout(5_000) });
}

describe('jobmeter serve: postures', () => {
  it('wasmrun --auth -v: API keys named as such at startup, 401 counted, access lines agreeing with X-Request-Id, no key in stderr', async () => {
    const keys = await file('keys.txt', `acme:${KEY}\n`);
    const config = await file(
      'wasmrun.toml',
      `profile = "wasmrun"\n[metrics]\napi_keys_file = "${keys}"\n`,
    );
    const r = start(['serve', '--config', config, '--listen', '127.0.0.1:0', '--auth', '-v']);
    const [, profile, url] = await r.stderrMatches(SERVING, START_MS);
    assert.equal(profile, 'wasmrun');
    assert.match(url!, /^http:\/\/127\.0\.0\.1:\d+\/api\/v1\/metrics$/);
    await r.stderrMatches(/^jobmeter: wasmrun posture: API key \(1 key\)$/m, START_MS);

    const refused = await get(url!);
    assert.equal(refused.status, 401);
    const refusedId = refused.headers.get('x-request-id');
    const ok = await get(url!, { authorization: `Bearer ${KEY}` });
    assert.equal(ok.status, 200);
    assert.match(
      await ok.text(),
      /^wasmrun_agent_exec_rejected_total\{reason="unauthorized"\} 1$/m,
    );
    const okId = ok.headers.get('x-request-id');

    await r.stderrMatches(
      new RegExp(`id=${okId} .*status=200 dur_ms=\\d+ tenant=acme$`, 'm'),
      START_MS,
    );
    await r.stderrMatches(
      new RegExp(`^→ GET /api/v1/metrics \\(id=${refusedId}\\)$`, 'm'),
      START_MS,
    );
    await r.stderrMatches(
      new RegExp(
        `^ts=\\S+\\+00:00 id=${refusedId} method=GET path=/api/v1/metrics status=401 dur_ms=\\d+ tenant=-$`,
        'm',
      ),
      START_MS,
    );
    await stop(r);
    assert.ok(!r.stderr().includes(KEY), 'no key on stderr');
  });

  it('rm with RM_METRICS_TOKEN_FILE: token gate; no gate at all: route not registered', async () => {
    const tokenFile = await file('rm_token', `${TOKEN}\n`);
    const r = start(['serve', '--profile', 'rm', '--listen', '127.0.0.1:0'], {
      RM_METRICS_TOKEN_FILE: tokenFile,
    });
    const [, , url] = await r.stderrMatches(SERVING, START_MS);
    await r.stderrMatches(/^jobmeter: rm posture: bearer token$/m, START_MS);
    assert.equal((await get(url!)).status, 401);
    const ok = await get(url!, { authorization: `Bearer ${TOKEN}` });
    assert.equal(ok.status, 200);
    assert.match(await ok.text(), /^# TYPE rm_hosts_total gauge$/m);
    await stop(r);
    assert.ok(!r.stderr().includes(TOKEN));

    const bare = start(['serve', '--profile', 'rm', '--listen', '127.0.0.1:0']);
    const [, base] = await bare.stderrMatches(MAIN, START_MS);
    await bare.stderrMatches(
      /^jobmeter: rm metrics route not registered: the rm posture needs a token and\/or trusted CIDRs$/m,
      START_MS,
    );
    assert.equal((await get(`${base}/metrics`)).status, 404);
    assert.equal((await get(`${base}/health`)).status, 200);
    await stop(bare);
  });

  it('crewshipd with CREWSHIP_METRICS_TOKEN: loopback needs no token', async () => {
    const r = start(['serve', '--profile', 'crewshipd', '--listen', '127.0.0.1:0'], {
      CREWSHIP_METRICS_TOKEN: TOKEN,
    });
    const [, , url] = await r.stderrMatches(SERVING, START_MS);
    await r.stderrMatches(
      /^jobmeter: crewshipd posture: loopback client or bearer token$/m,
      START_MS,
    );
    assert.equal((await get(url!)).status, 200);
    assert.equal(
      (await get(url!, { 'x-forwarded-for': '203.0.113.9' })).status,
      401,
      'a remote client behind a local proxy',
    );
    await stop(r);
  });

  it('runwisp: off unless enabled; metrics_listen moves /metrics to the dedicated loopback listener', async () => {
    const off = start(['serve', '--profile', 'runwisp', '--listen', '127.0.0.1:0']);
    const [, base] = await off.stderrMatches(MAIN, START_MS);
    await off.stderrMatches(
      /^jobmeter: runwisp metrics are off \(metrics\.enabled = false; runwisp: \[daemon\] metrics_enabled = true turns them on\)$/m,
      START_MS,
    );
    assert.equal((await get(`${base}/metrics`)).status, 404);
    await stop(off);

    const config = await file(
      'runwisp.toml',
      'profile = "runwisp"\n[daemon]\nmetrics_enabled = true\nmetrics_listen = "127.0.0.1:0"\n',
    );
    const r = start(['serve', '--config', config, '--listen', '127.0.0.1:0']);
    const [, , url] = await r.stderrMatches(SERVING, START_MS);
    const [, mainBase] = await r.stderrMatches(MAIN, START_MS);
    const dedicated = await get(url!, { accept: 'application/openmetrics-text;version=1.0.0' });
    assert.equal(dedicated.status, 200);
    assert.match(await dedicated.text(), /^# EOF$/m);
    for (const path of ['/health', '/ready'])
      assert.equal(
        (await get(url!.replace(/\/metrics$/, path))).status,
        200,
        `the dedicated listener answers health as every listener of serve does: ${path}`,
      );
    assert.equal((await get(`${mainBase}/metrics`)).status, 404, 'not on the main server any more');
    assert.equal((await get(`${mainBase}/health`)).status, 200);
    assert.equal(
      (await get(`${mainBase}/ready`)).status,
      200,
      'readiness beside it: the main server',
    );
    await stop(r);

    const enabled = await file(
      'runwisp-on.toml',
      'profile = "runwisp"\n[daemon]\nmetrics_enabled = true\n',
    );
    const on = start(['serve', '--config', enabled, '--listen', '127.0.0.1:0']);
    const [, , onUrl] = await on.stderrMatches(SERVING, START_MS);
    await on.stderrMatches(/^jobmeter: runwisp posture: open \(no gate configured\)$/m, START_MS);
    assert.equal((await get(onUrl!)).status, 200);
    await stop(on);
  });
});

describe('jobmeter serve: posture config errors exit 2', () => {
  it('names the file, the key, the value and what was expected', async () => {
    const path = await file('bad.yaml', 'profile: rm\nmetrics_trusted_cidrs: ["10.0.0.0/33"]\n');
    const { code, stderr } = await run(['serve', '--config', path]);
    assert.equal(code, 2);
    assert.equal(
      stderr,
      `jobmeter: ${path}: invalid metrics_trusted_cidrs[0]=10.0.0.0/33: expected an IP address or CIDR, e.g. 10.0.0.0/8 or ::1\n`,
    );
  });

  it('an unknown key names the closest valid one', async () => {
    const path = await file('typo.toml', '[daemon]\nmetrics_enable = true\n');
    const { code, stderr } = await run(['serve', '--config', path]);
    assert.equal(code, 2);
    assert.equal(
      stderr,
      `jobmeter: ${path}: invalid daemon.metrics_enable=<redacted>: expected a key of [daemon]: metrics_enabled, metrics_listen (did you mean daemon.metrics_enabled?)\n`,
    );
  });

  it('an environment variable names itself; a token never appears', async () => {
    const { code, stderr } = await run(['serve', '--profile', 'crewshipd'], {
      CREWSHIP_METRICS_TOKEN: `${TOKEN} ${TOKEN}`,
    });
    assert.equal(code, 2);
    assert.equal(
      stderr,
      'jobmeter: invalid CREWSHIP_METRICS_TOKEN=<redacted>: expected a non-empty token without whitespace\n',
    );
  });

  it('--auth without keys', async () => {
    const { code, stderr } = await run(['serve', '--profile', 'wasmrun', '--auth']);
    assert.equal(code, 2);
    assert.match(stderr, /^jobmeter: invalid --auth=true: expected API keys or a token to check/);
  });

  it('a non-loopback --host without --allow-non-loopback exits 2 naming --host', async () => {
    const { code, stderr } = await run(['serve', '--host', '0.0.0.0', '--listen', ':0']);
    assert.equal(code, 2);
    assert.equal(
      stderr,
      'jobmeter: invalid --host=0.0.0.0: expected a loopback address (127.0.0.0/8, ::1 or localhost), or --allow-non-loopback (listener.allow_non_loopback = true) to expose it\n',
    );
  });
});
