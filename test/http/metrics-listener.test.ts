import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, test } from 'node:test';
import { gunzipSync, zstdDecompressSync } from 'node:zlib';
import { createJobmeter, type Jobmeter } from '../../src/index.ts';
import { isLoopbackHost } from '../../src/common/loopback.ts';

let jm: Jobmeter;
let base: string;

before(async () => {
  jm = await createJobmeter({ listener: { port: 0 }, otelScopeInfo: false });
  base = `http://127.0.0.1:${jm.pullAddress!.port}`;
  jm.recordRun({ task: 'nightly "db" \\ dump\nnow', outcome: 'success', durationSeconds: 1 });
});
after(() => jm.shutdown());

test('GET /metrics negotiates OpenMetrics for a Prometheus Accept header', async () => {
  const res = await fetch(`${base}/metrics`, {
    headers: {
      accept:
        'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1',
    },
  });
  assert.equal(res.status, 200);
  assert.equal(
    res.headers.get('content-type'),
    'application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=underscores',
  );
  const body = await res.text();
  assert.ok(body.endsWith('# EOF\n'));
  assert.match(body, /^# TYPE jobmeter_run_finished counter$/m);
  assert.match(
    body,
    /^jobmeter_run_finished_total\{task="nightly \\"db\\" \\\\ dump\\nnow",kind="task",runner="default",outcome="success"\} 1$/m,
  );
});

test('GET /metrics defaults to text 0.0.4', async () => {
  const res = await fetch(`${base}/metrics`, {
    headers: { accept: '*/*', 'accept-encoding': 'identity' },
  });
  assert.equal(res.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
  const body = await res.text();
  assert.ok(!body.includes('# EOF'));
  assert.match(body, /^# TYPE jobmeter_run_finished_total counter$/m);
  assert.match(body, /^process_uptime_seconds [0-9.e+-]+$/m);
});

function rawGet(
  path: string,
  headers: Record<string, string>,
  method = 'GET',
): Promise<{
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

test('gzip when Accept-Encoding allows it, not when q=0', async () => {
  const gz = await rawGet('/metrics', { 'accept-encoding': 'gzip' });
  assert.equal(gz.headers['content-encoding'], 'gzip');
  assert.match(gunzipSync(gz.body).toString('utf8'), /jobmeter_run_finished_total/);
  const plain = await rawGet('/metrics', { 'accept-encoding': 'gzip;q=0' });
  assert.equal(plain.headers['content-encoding'], undefined);
  assert.match(plain.body.toString('utf8'), /jobmeter_run_finished_total/);
});

/** A body without the process, runtime and host figures, which move between two scrapes. */
const stable = (body: Buffer | string): string =>
  body
    .toString()
    .split('\n')
    .filter((l) => !/process_|v8js_|system_|nodejs_/.test(l))
    .join('\n');

test('zstd when Accept-Encoding prefers it; the same body as uncompressed, as gzip', async () => {
  const plain = await rawGet('/metrics', { 'accept-encoding': 'identity' });
  const zs = await rawGet('/metrics', { 'accept-encoding': 'gzip;q=0.5, zstd' });
  assert.equal(zs.headers['content-encoding'], 'zstd');
  assert.equal(zs.headers['vary'], 'Accept, Accept-Encoding');
  assert.equal(stable(zstdDecompressSync(zs.body)), stable(plain.body));
  assert.match(stable(plain.body), /jobmeter_run_finished_total/);
  const gz = await rawGet('/metrics', { 'accept-encoding': 'gzip, zstd' });
  assert.equal(gz.headers['content-encoding'], 'gzip', 'a tie goes to the first named');
  assert.equal(stable(gunzipSync(gz.body)), stable(plain.body));
});

test('text 1.0.0 and the escaping asked for are answered in the Content-Type; the body is the 0.0.4 body', async () => {
  const v1 = await rawGet('/metrics', { accept: 'text/plain;version=1.0.0;escaping=allow-utf-8' });
  assert.equal(
    v1.headers['content-type'],
    'text/plain; version=1.0.0; charset=utf-8; escaping=allow-utf-8',
  );
  const v004 = await rawGet('/metrics', { accept: 'text/plain;version=0.0.4' });
  assert.equal(v004.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
  assert.equal(stable(v1.body), stable(v004.body));
});

test('HEAD /metrics answers headers only', async () => {
  const res = await rawGet('/metrics', {}, 'HEAD');
  assert.equal(res.status, 200);
  assert.equal(res.body.length, 0);
  assert.match(String(res.headers['content-type']), /^text\/plain; version=0\.0\.4/);
});

test('health answers beside /metrics; other paths 404, other methods 405 with Allow', async () => {
  assert.equal((await fetch(`${base}/health`)).status, 200);
  assert.equal((await fetch(`${base}/ready`)).status, 200);
  assert.equal((await fetch(`${base}/`)).status, 404);
  const post = await fetch(`${base}/metrics`, { method: 'POST', body: 'x' });
  assert.equal(post.status, 405);
  assert.equal(post.headers.get('allow'), 'GET, HEAD');
  const del = await fetch(`${base}/metrics`, { method: 'DELETE' });
  assert.equal(del.status, 405);
  // and the listener still serves afterwards
  assert.equal((await fetch(`${base}/metrics`)).status, 200);
});

test('a non-loopback bind is refused without the explicit opt-in', async () => {
  await assert.rejects(
    createJobmeter({ listener: { host: '0.0.0.0', port: 0 } }),
    /^ConfigError: invalid listener\.host=0\.0\.0\.0: expected a loopback address .*allow_non_loopback/,
  );
  const open = await createJobmeter({
    listener: { host: '0.0.0.0', port: 0, allowNonLoopback: true },
    processMetrics: false,
  });
  assert.ok(open.pullAddress!.port > 0);
  await open.shutdown();
});

test('loopback detection', () => {
  for (const h of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', '::ffff:127.0.0.1'])
    assert.ok(isLoopbackHost(h), h);
  for (const h of ['0.0.0.0', '10.0.0.1', '::', 'example.com', '192.168.1.1'])
    assert.ok(!isLoopbackHost(h), h);
});

test('concurrent scrapes share one collection', async () => {
  const [a, b] = await Promise.all([jm.scrape(), jm.scrape()]);
  assert.equal(a, b, 'the same families array is handed to both');
});

test('shutdown is idempotent and closes the listener', async () => {
  const other = await createJobmeter({ listener: { port: 0 }, processMetrics: false });
  const url = `http://127.0.0.1:${other.pullAddress!.port}/metrics`;
  assert.equal((await fetch(url)).status, 200);
  await Promise.all([other.shutdown(), other.shutdown()]);
  await assert.rejects(fetch(url));
});
