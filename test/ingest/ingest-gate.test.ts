/**
 * The ingest gate. With a token (or API keys) and/or trusted networks, `POST
 * /v1/metrics` is answered 401 UNAUTHENTICATED / 403 PERMISSION_DENIED in the request's encoding,
 * before its body is read, and counted as jobmeter's own; the right token lets the points in. The token never
 * appears in an answer or an error. (test/e2e/collector-ingest-gate.test.ts: the real Collector as
 * the sender.)
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseServiceConfig } from '../../src/config/file-layer.ts';
import { parseConfigText } from '../../src/config/file-parser.ts';
import { resolveServeConfig } from '../../src/config/resolve-layers.ts';
import { ConfigError } from '../../src/errors.ts';
import { startIngestListener } from '../../src/ingest/ingest-listener.ts';
import type { GateConfig } from '../../src/http/gate.ts';
import { resolveIngest } from '../../src/resolve-options.ts';
import { IngestStore } from '../../src/ingest/ingest-store.ts';
import { selfTelemetryOf, servedJobmeter } from '../support/served-jobmeter.ts';
import { decodeStatus } from '../support/otlp-response.ts';
import { otlpMetricsSchema } from '../support/otlp-receiver.ts';
import { heldNames } from './helpers.ts';

const TOKEN = 'ingest-SECRET-7c1f';
const KEY = 'api-KEY-SECRET-91a0';
const PB = 'application/x-protobuf';
const JSON_TYPE = 'application/json';

function jsonRequest(name: string): string {
  const time = String(BigInt(Date.now()) * 1_000_000n);
  return JSON.stringify({
    resourceMetrics: [
      {
        scopeMetrics: [
          {
            scope: { name: 'daemon' },
            metrics: [{ name, gauge: { dataPoints: [{ asDouble: 1, timeUnixNano: time }] } }],
          },
        ],
      },
    ],
  });
}

function protobufRequest(name: string): Buffer {
  const { request } = otlpMetricsSchema();
  return Buffer.from(request.encode(request.fromObject(JSON.parse(jsonRequest(name)))).finish());
}

interface Answer {
  status: number;
  headers: Headers;
  body: Buffer;
}

async function post(
  url: string,
  body: Uint8Array | string,
  headers: Record<string, string>,
): Promise<Answer> {
  const res = await fetch(url, {
    method: 'POST',
    headers,
    body,
    signal: AbortSignal.timeout(10_000),
  });
  return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
}

/** A listener on a fresh store with `gate`, the names it holds, and the answers it reported. */
async function gated(gate: GateConfig) {
  const store = new IngestStore();
  const answered: string[] = [];
  const listener = await startIngestListener({
    sink: store,
    ...resolveIngest({ port: 0, ...gate }),
    onAnswered: (a) => answered.push(a),
  });
  const url = `http://127.0.0.1:${listener.address.port}/v1/metrics`;
  const names = (): Promise<string[]> => heldNames(store);
  return { listener, url, names, answered };
}

/** Asserts `text` holds no secret of this file. */
function noSecret(text: string, what: string): void {
  for (const secret of [TOKEN, KEY, 'SECRET'])
    assert.ok(!text.includes(secret), `${what} shows a secret: ${text}`);
}

describe('a token on the ingest', () => {
  let g: Awaited<ReturnType<typeof gated>>;
  before(async () => {
    g = await gated({ token: TOKEN });
  });
  after(async () => {
    await g.listener.close();
  });

  it('no credentials: 401, WWW-Authenticate: Bearer, google.rpc.Status UNAUTHENTICATED in the request encoding; nothing ingested', async () => {
    const pb = await post(g.url, protobufRequest('none.pb'), { 'content-type': PB });
    assert.equal(pb.status, 401);
    assert.equal(pb.headers.get('www-authenticate'), 'Bearer');
    assert.equal(pb.headers.get('content-type'), PB);
    assert.deepEqual(decodeStatus(pb.body, 'protobuf'), {
      code: 16,
      message: 'unauthenticated: a valid bearer token is required',
    });
    const json = await post(g.url, jsonRequest('none.json'), { 'content-type': JSON_TYPE });
    assert.equal(json.status, 401);
    assert.equal(json.headers.get('content-type'), JSON_TYPE);
    assert.deepEqual(JSON.parse(json.body.toString()), {
      code: 16,
      message: 'unauthenticated: a valid bearer token is required',
    });
    assert.deepEqual(await g.names(), []);
  });

  it('a wrong token, a token of another length, a malformed header, another scheme: 401 each', async () => {
    const wrong = TOKEN.slice(0, -1) + (TOKEN.endsWith('f') ? 'e' : 'f');
    for (const authorization of [
      `Bearer ${wrong}`,
      `Bearer ${TOKEN}x`,
      `Bearer`,
      TOKEN,
      `Basic ${Buffer.from(`u:${TOKEN}`).toString('base64')}`,
      `Bearer  ${TOKEN} extra`,
    ]) {
      const res = await post(g.url, jsonRequest('wrong.depth'), {
        'content-type': JSON_TYPE,
        authorization,
      });
      assert.equal(res.status, 401, authorization);
      noSecret(res.body.toString('latin1') + JSON.stringify([...res.headers]), 'the answer');
    }
    assert.deepEqual(await g.names(), []);
  });

  it('the right token: 200 and the points are in', async () => {
    const res = await post(g.url, protobufRequest('right.depth'), {
      'content-type': PB,
      authorization: `Bearer ${TOKEN}`,
    });
    assert.equal(res.status, 200);
    const lower = await post(g.url, jsonRequest('scheme.depth'), {
      'content-type': JSON_TYPE,
      authorization: `bearer ${TOKEN}`,
    });
    assert.equal(lower.status, 200, 'the scheme is case-insensitive (RFC 7235)');
    assert.deepEqual((await g.names()).sort(), ['right.depth', 'scheme.depth']);
  });

  it('is checked before the body is read: a body still arriving is answered at once, with Connection: close', async () => {
    const { status, connection } = await new Promise<{
      status: number;
      connection: string | undefined;
    }>((resolve, reject) => {
      const req = httpRequest(
        g.url,
        {
          method: 'POST',
          headers: { 'content-type': PB, 'content-length': String(10 * 1024 * 1024) },
        },
        (res) => {
          res.resume();
          resolve({ status: res.statusCode!, connection: res.headers.connection });
          req.destroy();
        },
      );
      req.on('error', reject);
      // A first part of a body that never ends: an answer that waited for it would never come.
      req.write(Buffer.alloc(1024));
    });
    assert.equal(status, 401);
    assert.equal(connection, 'close');
  });

  it('comes before the media type: an unauthenticated request of another type learns nothing more', async () => {
    const res = await post(g.url, 'x', { 'content-type': 'text/plain' });
    assert.equal(res.status, 401);
    assert.equal(res.body.toString(), 'unauthenticated: a valid bearer token is required\n');
    const authed = await post(g.url, 'x', {
      'content-type': 'text/plain',
      authorization: `Bearer ${TOKEN}`,
    });
    assert.equal(authed.status, 415);
  });

  it('every refusal is reported for counting', () => {
    assert.ok(g.answered.filter((a) => a === 'unauthorized').length >= 9, g.answered.join(' '));
  });
});

describe('API keys and trusted networks', () => {
  it('an API key is a token: any configured one passes, alone or beside a token', async () => {
    const g = await gated({ token: TOKEN, apiKeys: [{ tenant: 'team-a', key: KEY }] });
    try {
      assert.equal(
        (
          await post(g.url, jsonRequest('key.depth'), {
            'content-type': JSON_TYPE,
            authorization: `Bearer ${KEY}`,
          })
        ).status,
        200,
      );
      assert.equal(
        (
          await post(g.url, jsonRequest('token.depth'), {
            'content-type': JSON_TYPE,
            authorization: `Bearer ${TOKEN}`,
          })
        ).status,
        200,
      );
      assert.equal(
        (
          await post(g.url, jsonRequest('none.depth'), {
            'content-type': JSON_TYPE,
            authorization: `Bearer team-a`,
          })
        ).status,
        401,
      );
    } finally {
      await g.listener.close();
    }
  });

  it('a client outside the trusted networks: 403 PERMISSION_DENIED; inside: 200', async () => {
    const outside = await gated({ trustedCidrs: ['10.0.0.0/8'] });
    try {
      const res = await post(outside.url, protobufRequest('out.depth'), { 'content-type': PB });
      assert.equal(res.status, 403);
      assert.equal(res.headers.get('www-authenticate'), null, 'no token would help');
      assert.deepEqual(decodeStatus(res.body, 'protobuf'), {
        code: 7,
        message: 'permission denied',
      });
      assert.deepEqual(outside.answered, ['forbidden']);
      assert.deepEqual(await outside.names(), []);
    } finally {
      await outside.listener.close();
    }
    const inside = await gated({ trustedCidrs: ['127.0.0.0/8'] });
    try {
      assert.equal(
        (await post(inside.url, protobufRequest('in.depth'), { 'content-type': PB })).status,
        200,
      );
    } finally {
      await inside.listener.close();
    }
  });

  it('token and networks both set: both must pass', async () => {
    const g = await gated({ token: TOKEN, trustedCidrs: ['10.0.0.0/8'] });
    try {
      // The right token from outside: refused, as the metrics route's otel and rm postures do.
      assert.equal(
        (
          await post(g.url, jsonRequest('a.depth'), {
            'content-type': JSON_TYPE,
            authorization: `Bearer ${TOKEN}`,
          })
        ).status,
        401,
      );
    } finally {
      await g.listener.close();
    }
    const both = await gated({ token: TOKEN, trustedCidrs: ['127.0.0.1'] });
    try {
      assert.equal(
        (await post(both.url, jsonRequest('b.depth'), { 'content-type': JSON_TYPE })).status,
        401,
      );
      assert.equal(
        (
          await post(both.url, jsonRequest('b.depth'), {
            'content-type': JSON_TYPE,
            authorization: `Bearer ${TOKEN}`,
          })
        ).status,
        200,
      );
    } finally {
      await both.listener.close();
    }
  });

  it('no gate key: open, as before', async () => {
    const g = await gated({});
    try {
      assert.equal(
        (await post(g.url, jsonRequest('open.depth'), { 'content-type': JSON_TYPE })).status,
        200,
      );
    } finally {
      await g.listener.close();
    }
  });
});

describe('bad gate options are refused when the options are resolved, before any listener', () => {
  const cases: Array<[string, GateConfig, string]> = [
    [
      'a token with a space',
      { token: `${TOKEN} x` },
      'invalid ingest.token=<redacted>: expected a non-empty token without whitespace',
    ],
    ['an empty token', { token: '' }, 'invalid ingest.token=<redacted>'],
    [
      'an API key with a space',
      { apiKeys: [{ tenant: 't', key: `${KEY} x` }] },
      'invalid ingest.apiKeys[0].key=<redacted>',
    ],
    ['API keys not a list', { apiKeys: KEY as never }, 'invalid ingest.apiKeys=<redacted>'],
    [
      'a bad network',
      { token: TOKEN, trustedCidrs: ['10.0.0.0/33'] },
      'invalid ingest.trustedCidrs',
    ],
  ];
  for (const [what, options, message] of cases) {
    it(`${what}: a ConfigError naming the option, no secret in it`, () => {
      let err: unknown;
      try {
        resolveIngest({ port: 0, ...options });
      } catch (e) {
        err = e;
      }
      assert.ok(err instanceof ConfigError, String(err));
      assert.ok(err.message.startsWith(message), err.message);
      noSecret(err.message, 'the error');
    });
  }
});

describe('createJobmeter({ ingest: { token } })', () => {
  it("refuses without the token, counts the refusal as jobmeter's own ingest request, not in jobmeter.request.rejected, ingests with it", async () => {
    const jm = await servedJobmeter({
      listener: false,
      processMetrics: false,
      global: false,
      ingest: { port: 0, token: TOKEN },
    });
    try {
      const url = `http://127.0.0.1:${jm.ingestAddress!.port}/v1/metrics`;
      assert.equal(
        (await post(url, jsonRequest('lib.depth'), { 'content-type': JSON_TYPE })).status,
        401,
      );
      assert.equal(
        (
          await post(url, jsonRequest('lib.depth'), {
            'content-type': JSON_TYPE,
            authorization: 'Bearer nope',
          })
        ).status,
        401,
      );
      assert.equal(
        (
          await post(url, jsonRequest('lib.depth'), {
            'content-type': JSON_TYPE,
            authorization: `Bearer ${TOKEN}`,
          })
        ).status,
        200,
      );
      const families = await jm.scrape();
      // The profile's rejection series is the host's own API's; the ingest's refusals are jobmeter's.
      const rejected =
        families
          .find((f) => f.name.startsWith('jobmeter_request_rejected'))
          ?.series.map((s) => `${s.labels} ${'value' in s ? s.value : ''}`) ?? [];
      assert.deepEqual(
        rejected.filter((l) => l.includes('reason="unauthorized"') && !l.endsWith(' 0')),
        [],
        JSON.stringify(rejected),
      );
      const requests = (await selfTelemetryOf(jm)!.families()).find(
        (f) => f.name === 'jobmeter_ingest_requests_total',
      )!.series;
      const value = (labels: string): number | undefined =>
        (requests.find((s) => s.labels === labels) as { value: number } | undefined)?.value;
      assert.equal(value('code="401",protocol="http",reason="unauthorized"'), 2);
      assert.equal(value('code="200",protocol="http",reason="accepted"'), 1);
      assert.ok(
        families.some((f) => f.name.startsWith('lib_depth')),
        families.map((f) => f.name).join(' '),
      );
    } finally {
      await jm.shutdown();
    }
  });
});

describe('[ingest] gate keys in a config file', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jobmeter-ingest-gate-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function serveConfig(toml: string) {
    const file = join(dir, `c${Math.random().toString(36).slice(2)}.toml`);
    await writeFile(file, toml);
    return resolveServeConfig({ argv: ['--config', file], env: {} });
  }

  it('token, api_keys and trusted_cidrs become the library options', async () => {
    const { options } = await serveConfig(
      `[ingest]\nenabled = true\ntoken = "${TOKEN}"\napi_keys = [{ tenant = "a", key = "${KEY}" }]\ntrusted_cidrs = [" 10.0.0.0/8 "]\n`,
    );
    const { token, apiKeys, trustedCidrs } = options.ingest || {};
    assert.deepEqual(
      { token, apiKeys, trustedCidrs },
      { token: TOKEN, apiKeys: [{ tenant: 'a', key: KEY }], trustedCidrs: ['10.0.0.0/8'] },
    );
  });

  it('token_file and api_keys_file are read (the trailing newline dropped)', async () => {
    const tokenFile = join(dir, 'token');
    const keysFile = join(dir, 'keys');
    await writeFile(tokenFile, `${TOKEN}\n`);
    await writeFile(keysFile, `# tenants\nteam-a:${KEY}\n`);
    const { options } = await serveConfig(
      `[ingest]\nenabled = true\ntoken_file = "${tokenFile}"\napi_keys_file = "${keysFile}"\n`,
    );
    assert.ok(options.ingest);
    assert.equal(options.ingest.token, TOKEN);
    assert.deepEqual(options.ingest.apiKeys, [{ tenant: 'team-a', key: KEY }]);
    assert.ok(
      !('tokenFile' in options.ingest) && !('apiKeysFile' in options.ingest),
      'the file keys are not library options',
    );
  });

  it('errors name the key and the file, never the secret', async () => {
    const empty = join(dir, 'empty');
    await writeFile(empty, '\n');
    const spaced = join(dir, 'spaced');
    await writeFile(spaced, `${TOKEN} ${TOKEN}\n`);
    const cases: Array<[string, RegExp]> = [
      [`[ingest]\ntoken = "${TOKEN} x"\n`, /ingest\.token=<redacted>/],
      [`[ingest]\ntoken = "${TOKEN}"\ntoken_file = "${empty}"\n`, /ingest\.token_file/],
      [`[ingest]\ntoken_file = "${empty}"\n`, /ingest\.token_file=.*empty.*it is empty/],
      [`[ingest]\ntoken_file = "${spaced}"\n`, /ingest\.token_file=.*one token without whitespace/],
      [
        `[ingest]\napi_keys = [{ tenant = "a", key = "${KEY}" }, { tenant = "b", key = "${KEY}" }]\n`,
        /ingest\.api_keys\[1\]\.key=<redacted>/,
      ],
      [`[ingest]\ntrusted_cidrs = ["nowhere"]\n`, /ingest\.trusted_cidrs/],
      [`[ingest]\ntokne = "${TOKEN}"\n`, /ingest\.tokne.*did you mean ingest\.token/],
    ];
    for (const [toml, expected] of cases) {
      const err = await serveConfig(toml).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(err instanceof ConfigError, `${toml}: ${String(err)}`);
      assert.match(err.message, expected);
      if (!toml.includes('tokne')) noSecret(err.message, 'the error');
    }
  });
});

describe('docs/collector.md "The ingest gate"', () => {
  it('its config block is a valid config with a token file and networks', async () => {
    const doc = await readFile(new URL('../../docs/collector.md', import.meta.url), 'utf8');
    const section = doc.slice(
      doc.indexOf('\n### The ingest gate'),
      doc.indexOf('\n### What it answers'),
    );
    const block = /^```toml\n([\s\S]*?)^```$/m.exec(section)?.[1];
    assert.ok(block !== undefined, 'a toml block');
    const config = parseServiceConfig(
      parseConfigText(block, 'toml', 'docs/collector.md'),
      'docs/collector.md',
    );
    assert.equal(config.ingest?.tokenFile, '/run/secrets/ingest_token');
    assert.deepEqual(config.ingest?.trustedCidrs, ['127.0.0.1/32', '10.0.0.0/8']);
  });
});
