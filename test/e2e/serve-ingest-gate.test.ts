/**
 * The ingest gate in `jobmeter serve` (a child process): `[ingest] token_file` and
 * `trusted_cidrs` from a config file, 401 / 403 / 200 as docs/collector.md says, and the token in
 * none of the process's output, refused or not, nor in its configuration errors.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { EXIT_MS, killChildren, run, start, START_MS } from '../cli/harness.ts';

const TOKEN = 'serve-ingest-SECRET-52c8';
const RECEIVING = /receiving OTLP\/HTTP metrics on (http:\/\/127\.0\.0\.1:\d+\/v1\/metrics)/;

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'jobmeter-serve-gate-'));
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

function post(url: string, authorization?: string): Promise<Response> {
  const body = JSON.stringify({
    resourceMetrics: [
      {
        scopeMetrics: [
          { metrics: [{ name: 'served.depth', gauge: { dataPoints: [{ asDouble: 1 }] } }] },
        ],
      },
    ],
  });
  return fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(authorization !== undefined && { authorization }),
    },
    body,
    signal: AbortSignal.timeout(5_000),
  });
}

describe('jobmeter serve: [ingest] gate keys', () => {
  it('token_file: 401 without it or with a wrong one, 200 with it; the token is never printed', async () => {
    const tokenFile = await file('token', `${TOKEN}\n`);
    const config = await file(
      'gate.toml',
      `[listener]\nport = 0\n[ingest]\nenabled = true\nport = 0\ntoken_file = "${tokenFile}"\n`,
    );
    const r = start(['serve', '--config', config, '--debug']);
    const [, url] = await r.stderrMatches(RECEIVING, START_MS);
    const none = await post(url!);
    assert.equal(none.status, 401);
    assert.equal(none.headers.get('www-authenticate'), 'Bearer');
    assert.deepEqual(await none.json(), {
      code: 16,
      message: 'unauthenticated: a valid bearer token is required',
    });
    assert.equal((await post(url!, 'Bearer wrong')).status, 401);
    const ok = await post(url!, `Bearer ${TOKEN}`);
    assert.equal(ok.status, 200);
    await ok.arrayBuffer();
    r.child.kill('SIGTERM');
    assert.equal(await r.exited(EXIT_MS), 0);
    const output = r.stdout() + r.stderr();
    assert.match(output, /served\.depth/, 'the debug printer saw the request that passed');
    assert.ok(!output.includes(TOKEN), output);
  });

  it('trusted_cidrs without a token: 403 PERMISSION_DENIED for a peer outside them', async () => {
    const config = await file(
      'cidr.toml',
      '[listener]\nport = 0\n[ingest]\nenabled = true\nport = 0\ntrusted_cidrs = ["10.0.0.0/8"]\n',
    );
    const r = start(['serve', '--config', config]);
    const [, url] = await r.stderrMatches(RECEIVING, START_MS);
    const res = await post(url!, `Bearer ${TOKEN}`);
    assert.equal(res.status, 403);
    assert.deepEqual(await res.json(), { code: 7, message: 'permission denied' });
    r.child.kill('SIGTERM');
    assert.equal(await r.exited(EXIT_MS), 0);
  });

  it('a bad token exits 2 naming the key, never the token', async () => {
    const config = await file('bad.toml', `[ingest]\nenabled = true\ntoken = "${TOKEN} x"\n`);
    const { code, stdout, stderr } = await run(['serve', '--config', config]);
    assert.equal(code, 2);
    assert.match(stderr, /invalid ingest\.token=<redacted>/);
    assert.ok(!(stdout + stderr).includes(TOKEN), stderr);
  });
});
