/**
 * No secret is ever printed, under any key — known, unknown or misspelled — and no config file,
 * however deeply nested, ends anything but a ConfigError (exit 2). Checked through the parser and
 * validator in process (the message and the error's inspected fields), and through `jobmeter serve`
 * as a child (what reaches its stderr).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, after, describe, it } from 'node:test';
import { inspect } from 'node:util';

import { parseConfigText, MAX_DEPTH } from '../../src/config/file-parser.ts';
import { parseServiceConfig } from '../../src/config/file-layer.ts';
import { isSecret, SECTIONS, type Section } from '../../src/common/option-table.ts';
import { ConfigError, secretKey } from '../../src/errors.ts';
import { killChildren, run } from '../cli/harness.ts';

const SECRET = 'SUPERSECRET1';
const dir = mkdtempSync(join(tmpdir(), 'jobmeter-secrets-'));
after(() => rmSync(dir, { recursive: true, force: true }));
afterEach(killChildren);

function errorOf(raw: unknown): ConfigError {
  try {
    parseServiceConfig(raw, 'test.toml');
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected the config to be refused');
}

/** Every place a secret could leak from an error: its message, and every field util.inspect prints. */
function assertNoSecret(err: ConfigError): void {
  assert.ok(!err.message.includes(SECRET), err.message);
  assert.ok(!inspect(err, { depth: 10 }).includes(SECRET), 'the secret is in a field of the error');
}

describe('config errors never print a secret', () => {
  // Each is refused; none may echo the value. Known secret keys with bad values, misspellings of
  // them, unknown keys in every table, and credentials put where they do not belong.
  const cases: Array<[string, unknown]> = [
    ['misspelled token', { metrics: { tokne: SECRET } }],
    // YAML's `metrics: token:<secret>` (no space after the colon) is a string, not a table.
    ['a table run together into a string', { metrics: `token:${SECRET}` }],
    ['a document run together into a string', `token:${SECRET}`],
    // A rejected endpoint shows neither its password, its scheme mistyped, nor its query's values.
    [
      'a password in an endpoint whose scheme is mistyped',
      { otlp: { endpoint: `http}//u:${SECRET}@h` } },
    ],
    ['a query value in a rejected endpoint', { otlp: { endpoint: `ftp://h/?key=${SECRET}` } }],
    ['a query token in a rejected endpoint', { otlp: { endpoint: `ftp://h/?${SECRET}` } }],
    ['a password with a slash in it', { otlp: { endpoint: `ftp://u:${SECRET}/x@h` } }],
    ['a password whose @ is missing', { otlp: { endpoint: `https://u:${SECRET}h/v1/metrics` } }],
    ['the same, with an IPv6 host', { otlp: { endpoint: `https://[::1]:${SECRET}/v1/metrics` } }],
    ['misspelled headers', { otlp: { header: { authorization: `Bearer ${SECRET}` } } }],
    ['a token at the top level', { token: SECRET }],
    ['an unknown key holding a token', { listener: { x: SECRET } }],
    ['an unknown table', { listner: { password: SECRET } }],
    ['an unknown key in [ingest]', { ingest: { secret: SECRET } }],
    ['an unknown key in a view', { views: [{ selector: { instrument_name: 'a', key: SECRET } }] }],
    [
      'an unknown key in a profile rule',
      {
        profile: {
          name: 'p',
          rules: [{ instrument: 'a', name: 'b', type: 'counter', help: 'h', auth: SECRET }],
        },
      },
    ],
    ['a token with whitespace', { metrics: { token: `${SECRET} x` } }],
    ['headers as a string', { otlp: { headers: `authorization=Bearer ${SECRET}` } }],
    [
      'a header value with a line break',
      { otlp: { headers: { authorization: `Bearer ${SECRET}\n` } } },
    ],
    ['api keys of the wrong shape', { metrics: { api_keys: [SECRET] } }],
    [
      'an api key table with an unknown key',
      { metrics: { api_keys: [{ tenant: 'a', key: 'k', kee: SECRET }] } },
    ],
  ];
  for (const [name, raw] of cases) {
    it(name, () => assertNoSecret(errorOf(raw)));
  }

  it('the secret values are the rows the table says are: tokens, API keys and headers', () => {
    const secret = Object.entries(SECTIONS).flatMap(([section, rows]) =>
      Object.entries(rows as Section)
        .filter(([, row]) => isSecret(row))
        .map(([key]) => `${section}.${key}`),
    );
    assert.deepEqual(secret.sort(), [
      'apiKey.key',
      'ingest.apiKeys',
      'ingest.token',
      'metrics.apiKeys',
      'metrics.token',
      'otlp.headers',
      'route.apiKeys',
      'route.token',
      'telemetry.token',
    ]);
  });

  it('besides the rows, a key whose name says credential is never shown, in any table or misspelled', () => {
    for (const key of [
      'metrics.token',
      'metrics.tokne',
      'otlp.header',
      'x.api_key',
      'a.password',
      'b.client_secret',
      'resource.attributes.token',
      'OTEL_EXPORTER_OTLP_HEADERS',
    ]) {
      assert.ok(secretKey(key), key);
      assertNoSecret(new ConfigError(key, SECRET, 'something else'));
    }
    for (const key of ['metrics.token_file', 'listener.port', 'otlp.endpoint', 'service_name'])
      assert.ok(!secretKey(key), key);
  });

  it('a known key that is not a credential still shows its value (the hint users need)', () => {
    const err = errorOf({ listener: { port: 'abc' } });
    assert.equal(
      err.message,
      'invalid listener.port=abc: expected an integer from 0 to 65535 (got a string)',
    );
  });

  it('serve prints neither a misspelled token nor a misspelled header, and exits 2', async () => {
    const path = join(dir, 'secrets.toml');
    writeFileSync(path, `[metrics]\ntokne = "${SECRET}"\n`);
    const first = await run(['serve', '--config', path]);
    assert.equal(first.code, 2);
    assert.match(
      first.stderr,
      /invalid metrics\.tokne=<redacted>: expected a key of \[metrics\]: .* \(did you mean metrics\.token\?\)/,
    );
    assert.ok(!first.stderr.includes(SECRET) && !first.stdout.includes(SECRET));
    writeFileSync(path, `[otlp]\nheader = { authorization = "Bearer ${SECRET}" }\n`);
    const second = await run(['serve', '--config', path]);
    assert.equal(second.code, 2);
    assert.match(
      second.stderr,
      /invalid otlp\.header=<redacted>: .*\(did you mean otlp\.headers\?\)/,
    );
    assert.ok(!second.stderr.includes(SECRET) && !second.stdout.includes(SECRET));
  });
});

describe('a config file that does not parse', () => {
  // An unquoted value is the likeliest typo in a token, and a parser's reason may quote the text
  // around where it stopped.
  const documents: Array<[string, 'toml' | 'yaml' | 'json']> = [
    [`[metrics]\ntoken = ${SECRET}x\n`, 'toml'],
    [`metrics:\n  token: '${SECRET}\n`, 'yaml'],
    [`metrics:\n  token: *${SECRET}\n`, 'yaml'],
    // A key that is a table would be read as its text, an error naming it.
    [`metrics:\n  ? { token: ${SECRET} }\n  : 1\n`, 'yaml'],
    [`a: &k { token: ${SECRET} }\n*k : 1\n`, 'yaml'],
    [`metrics:\n  token: !${SECRET} x\n`, 'yaml'],
    [`metrics:\n  token: "\\${SECRET}"\n`, 'yaml'],
    [`{\n  "metrics": {\n    "token": ${SECRET}"\n  }\n}\n`, 'json'],
    [`{"metrics":{"token":${SECRET}"}}`, 'json'],
    [`{"a":tru,"token":"${SECRET}"}`, 'json'],
  ];
  for (const [text, format] of documents)
    it(`is refused without the text around the error (${format}: ${JSON.stringify(text.slice(0, 24))}…)`, () => {
      const err = (() => {
        try {
          parseConfigText(text, format, `c.${format}`);
        } catch (caught) {
          assert.ok(caught instanceof ConfigError);
          return caught;
        }
        assert.fail('expected the file to be refused');
      })();
      assert.ok(!err.message.includes(SECRET.slice(0, 4)), err.message);
    });
});

describe('any nesting depth is a ConfigError', () => {
  const DEEP = 50_000;
  const documents: Array<[string, 'toml' | 'yaml' | 'json', string]> = [
    [
      'a dotted TOML table header',
      'toml',
      `[${Array.from({ length: DEEP }, () => 'a').join('.')}]\n`,
    ],
    ['nested TOML arrays', 'toml', `a = ${'['.repeat(DEEP)}${']'.repeat(DEEP)}\n`],
    ['nested JSON objects', 'json', `${'{"a":'.repeat(DEEP)}1${'}'.repeat(DEEP)}`],
    ['nested YAML flow sequences', 'yaml', `a: ${'['.repeat(DEEP)}${']'.repeat(DEEP)}\n`],
  ];
  for (const [name, format, text] of documents) {
    it(`${name}, ${DEEP} levels: parsed to a ConfigError on --config`, () => {
      assert.throws(
        () => parseConfigText(text, format, `deep.${format}`),
        (err: unknown) =>
          err instanceof ConfigError &&
          err.key === '--config' &&
          /nested|excessively/.test(err.expected),
      );
    });
  }

  it(`a document exactly ${MAX_DEPTH} levels deep is parsed; one more is refused`, () => {
    const nested = (levels: number): string => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;
    assert.doesNotThrow(() => parseConfigText(nested(MAX_DEPTH), 'json', 'ok.json'));
    assert.throws(() => parseConfigText(nested(MAX_DEPTH + 1), 'json', 'deep.json'), ConfigError);
  });

  it('serve exits 2 naming the file for a 50k-deep dotted table header', async () => {
    const path = join(dir, 'deep.toml');
    writeFileSync(path, documents[0]![2]);
    const result = await run(['serve', '--config', path]);
    assert.equal(result.code, 2, result.stderr);
    assert.equal(
      result.stderr,
      `jobmeter: invalid --config=${path}: expected valid TOML nested at most ${MAX_DEPTH} tables or lists deep\n`,
    );
  });
});
