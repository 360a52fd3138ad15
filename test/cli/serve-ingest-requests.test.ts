/**
 * Every request the ingest listener answers is counted as jobmeter's own, by status code and
 * reason, in `jobmeter_ingest_requests_total` on the `[telemetry]` listener, every reason at 0
 * from start; and refusals of the ingest are never added to a profile's series: under wasmrun,
 * `wasmrun_agent_exec_rejected_total{reason="unauthorized"}` counts the original's own API-key
 * refusals alone, so unauthenticated ingest POSTs leave it where it was. A child `jobmeter serve`
 * with a token on its ingest is sent each kind of request it can answer (a 403 needs a network
 * gate alone: test/ingest/ingest-gate.test.ts; a 503 a held thread pool: ingest-slots.test.ts);
 * promtool (the Prometheus 2.42 linter) accepts the telemetry body.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { afterEach, it } from 'node:test';

import { EXIT_MS, killChildren, start, START_MS } from './harness.ts';
import { checkMetrics } from '../support/promtool.ts';
import { tempFiles } from '../support/temp-files.ts';

const files = tempFiles('jobmeter-ingest-requests-');
afterEach(killChildren);

const TOKEN = 'ingest-token-0123456789abcdef';
const MAX_BODY = 4096;
const JSON_TYPE = 'application/json';

function sample(body: string, series: string): number | undefined {
  const line = body.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

interface Sent {
  readonly path?: string;
  readonly method?: string;
  readonly token?: boolean;
  readonly type?: string;
  readonly body?: string;
}

/** One request to the ingest, its status once answered. */
function send(
  base: URL,
  { path = '/v1/metrics', method = 'POST', token = true, type = JSON_TYPE, body = '' }: Sent,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {
      'content-type': type,
      'content-length': String(Buffer.byteLength(body)),
    };
    if (token) headers['authorization'] = `Bearer ${TOKEN}`;
    const req = request({ host: base.hostname, port: base.port, path, method, headers }, (res) => {
      res.resume().on('end', () => resolve(res.statusCode!));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const gauge = {
  name: 'queue.depth',
  gauge: { dataPoints: [{ asDouble: 1, timeUnixNano: `${Date.now()}000000` }] },
};
const summary = {
  name: 'latency',
  summary: { dataPoints: [{ count: '1', sum: 1, timeUnixNano: `${Date.now()}000000` }] },
};
const exportOf = (...metrics: object[]): string =>
  JSON.stringify({ resourceMetrics: [{ scopeMetrics: [{ scope: { name: 'daemon' }, metrics }] }] });

/** A child serve under the wasmrun profile, a token on its ingest, and its three URLs. */
async function serve() {
  const config = await files.file(
    'jobmeter.toml',
    [
      'profile = "wasmrun"',
      '[listener]',
      'port = 0',
      '[ingest]',
      'enabled = true',
      'port = 0',
      `token = "${TOKEN}"`,
      `max_body_bytes = ${MAX_BODY}`,
      '[telemetry]',
      'listen = "127.0.0.1:0"',
      '',
    ].join('\n'),
  );
  const child = start(['serve', '--config', config]);
  const [, telemetryUrl] = await child.stderrMatches(
    /serving jobmeter's own telemetry on (http:\/\/\S+\/metrics)\n/,
    START_MS,
  );
  const [, metricsUrl] = /serving wasmrun metrics on (http:\/\/\S+)\n/.exec(child.stderr())!;
  const [, ingestUrl] = /receiving OTLP\/HTTP metrics on (http:\/\/\S+)\n/.exec(child.stderr())!;
  return {
    child,
    ingest: new URL(ingestUrl!),
    profileBody: async (): Promise<string> => (await fetch(metricsUrl!)).text(),
    telemetry: async (): Promise<string> =>
      (await fetch(telemetryUrl!, { headers: { accept: 'text/plain;version=0.0.4' } })).text(),
    async stop(): Promise<void> {
      child.child.kill('SIGTERM');
      assert.equal(await child.exited(EXIT_MS), 0, child.stderr());
    },
  };
}

const UNAUTHORIZED = 'wasmrun_agent_exec_rejected_total{reason="unauthorized"}';

it(
  "the ingest's 401s leave wasmrun_agent_exec_rejected_total, the original's own API-key refusals, as it was",
  { timeout: 120_000 },
  async () => {
    const s = await serve();
    assert.equal(sample(await s.profileBody(), UNAUTHORIZED), 0);
    for (let i = 0; i < 5; i++)
      assert.equal(await send(s.ingest, { token: false, body: exportOf(gauge) }), 401);
    const profileBody = await s.profileBody();
    assert.equal(sample(profileBody, UNAUTHORIZED), 0, profileBody);
    await s.stop();
  },
);

it(
  'serve counts every ingest answer by code and reason on [telemetry], each reason at 0 from start, promtool-clean',
  { timeout: 120_000 },
  async () => {
    const s = await serve();
    const { ingest } = s;
    const before = await s.telemetry();
    for (const series of [
      'code="200",protocol="http",reason="accepted"',
      'code="401",protocol="http",reason="unauthorized"',
      'code="503",protocol="http",reason="unavailable"',
      'code="500",protocol="http",reason="internal"',
    ]) {
      assert.equal(sample(before, `jobmeter_ingest_requests_total{${series}}`), 0, before);
    }

    for (let i = 0; i < 5; i++)
      assert.equal(await send(ingest, { token: false, body: exportOf(gauge) }), 401);
    assert.equal(await send(ingest, { type: 'text/plain', body: 'x' }), 415);
    assert.equal(await send(ingest, { body: exportOf(gauge) }), 200);
    assert.equal(await send(ingest, { body: exportOf(summary) }), 200);
    assert.equal(await send(ingest, { body: '{"resourceMetrics": [' }), 400);
    assert.equal(await send(ingest, { body: ' '.repeat(MAX_BODY + 1) }), 413);
    assert.equal(await send(ingest, { method: 'GET' }), 405);
    assert.equal(await send(ingest, { path: '/v1/traces', body: exportOf(gauge) }), 404);

    const body = await s.telemetry();
    const counted = Object.fromEntries(
      body
        .split('\n')
        .filter((l) => l.startsWith('jobmeter_ingest_requests_total{'))
        .map((l) => [
          l.slice('jobmeter_ingest_requests_total'.length, l.lastIndexOf(' ')),
          Number(l.slice(l.lastIndexOf(' ') + 1)),
        ]),
    );
    assert.deepEqual(counted, {
      '{code="200",protocol="http",reason="accepted"}': 1,
      '{code="200",protocol="http",reason="partial"}': 1,
      '{code="400",protocol="http",reason="bad_request"}': 1,
      '{code="401",protocol="http",reason="unauthorized"}': 5,
      '{code="403",protocol="http",reason="forbidden"}': 0,
      '{code="404",protocol="http",reason="not_found"}': 1,
      '{code="405",protocol="http",reason="method_not_allowed"}': 1,
      '{code="413",protocol="http",reason="too_large"}': 1,
      '{code="415",protocol="http",reason="unsupported_media_type"}': 1,
      '{code="500",protocol="http",reason="internal"}': 0,
      '{code="503",protocol="http",reason="unavailable"}': 0,
    });
    const lint = await checkMetrics(body);
    assert.equal(lint.code, 0, lint.output);
    assert.doesNotMatch(await s.profileBody(), /jobmeter_ingest_requests/);
    await s.stop();
  },
);
