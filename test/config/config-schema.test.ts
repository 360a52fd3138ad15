/**
 * The config JSON Schema: docs/config.schema.json is the schema jobmeter validates with, and it is
 * usable as it stands by another validator (an editor's). After a schema change, regenerate with
 * `node --test --test-update-snapshots test/config/config-schema.test.ts`.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { Ajv } from 'ajv';

import { CONFIG_SCHEMA } from '../../src/config/json-schema.ts';
import { ConfigError } from '../../src/errors.ts';
import { loadConfigFile, parseConfigText } from '../../src/config/file-parser.ts';
import { parseServiceConfig } from '../../src/config/file-layer.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const DOC = join(ROOT, 'docs', 'config.schema.json');

function message(raw: unknown): string {
  try {
    parseServiceConfig(raw, 'c.toml');
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.message;
  }
  assert.fail('expected a ConfigError');
}

describe('docs/config.schema.json', () => {
  it('is the schema in src/config/json-schema.ts', (t) => {
    t.assert.fileSnapshot(`${JSON.stringify(CONFIG_SCHEMA, null, 2)}\n`, DOC, {
      serializers: [(v: unknown) => v],
    });
  });

  it('compiles in a stock ajv that knows none of the jobmeter-* formats', async () => {
    const schema: unknown = JSON.parse(await readFile(DOC, 'utf8'));
    // What an editor does: validate shapes, treat unknown formats as annotations.
    const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });
    const validate = ajv.compile(schema as object);
    const example = await loadConfigFile(join(ROOT, 'examples', 'task-daemon', 'jobmeter.toml'));
    assert.equal(validate(example), true, JSON.stringify(validate.errors));
    assert.equal(validate({ listener: { port: '9464' } }), false);
    assert.equal(validate({ otlp: { intervalMillis: 1 } }), false);
  });
});

describe('the definitions', () => {
  it('are each referenced: no definition is dead', () => {
    const text = JSON.stringify(CONFIG_SCHEMA);
    for (const name of Object.keys(CONFIG_SCHEMA.definitions))
      assert.ok(text.includes(`"#/definitions/${name}"`), name);
  });

  it('word an error by the definition that failed, its parts, free-form tables and list items included', () => {
    assert.equal(
      message({ listener: { port: 'x' } }),
      'invalid listener.port=x: expected an integer from 0 to 65535 (got a string)',
    );
    assert.equal(
      message({ cluster: { merge: { 'app.x': 'avg' } } }),
      'invalid cluster.merge.app.x=avg: expected one of sum, max',
    );
    assert.equal(
      message({ metrics_trusted_cidrs: ['10.0.0.0/8', 'x'] }),
      'invalid metrics_trusted_cidrs[1]=x: expected an IP address or CIDR, e.g. 10.0.0.0/8 or ::1',
    );
    assert.equal(
      message({
        views: [
          { selector: { instrument_name: 'a' }, stream: { attribute_keys: { included: [' '] } } },
        ],
      }),
      'invalid views[0].stream.attribute_keys.included[0]= : expected a list of attribute keys, e.g. ["queue"]',
    );
    assert.equal(
      message({ profile: { name: 'x' } }),
      'invalid profile.name=x: expected one of otel, runwisp, wasmrun, crewshipd, rm, solti, semconv',
    );
    assert.equal(
      message({ profile: { nme: 'rm' } }),
      'invalid profile.nme=<redacted>: expected a key of [profile]: name, rules (did you mean profile.name?)',
    );
  });
});

describe('parseServiceConfig through the schema', () => {
  it('reports the first problem in schema order, whatever the order in the file', () => {
    const first =
      'invalid listener.host=a b: expected an IP address or host name (IPv6 without brackets)';
    assert.equal(message({ listener: { port: '1', host: 'a b' } }), first);
    assert.equal(message({ listener: { host: 'a b', port: '1' } }), first);
    // Unknown keys of the top level come before any value.
    assert.equal(
      message({ listener: { port: '1' }, zz: 1 }).startsWith('invalid zz=<redacted>'),
      true,
    );
  });

  it('takes a TOML date for no table', () => {
    const raw = parseConfigText('listener = 1979-05-27\n', 'toml', 'c.toml');
    assert.equal(message(raw), 'invalid listener="1979-05-27": expected a table');
  });

  it('answers a misspelt API key field before the field it leaves missing', () => {
    assert.equal(
      message({ metrics: { api_keys: [{ tennant: 'a', key: 'k' }] } }),
      'invalid metrics.api_keys[0].tennant=<redacted>: expected a key of an API key: tenant, key (did you mean metrics.api_keys[0].tenant?)',
    );
    assert.equal(
      message({ metrics: { api_keys: [{ key: 'k' }] } }),
      'invalid metrics.api_keys[0].tenant=undefined: expected a tenant id of 1 to 128 printable ASCII characters without spaces',
    );
  });

  it('refuses __proto__ and blank names in the free-form tables', () => {
    assert.equal(
      message({ resource_attributes: JSON.parse('{"__proto__":"x"}') }),
      'invalid resource_attributes.__proto__=x: expected a non-empty attribute name other than __proto__',
    );
    assert.equal(
      message({ resource_attributes: { ' ': 'x' } }),
      'invalid resource_attributes.""=x: expected a non-empty attribute name other than __proto__',
    );
    assert.equal(
      message({ otlp: { headers: JSON.parse('{"__proto__":"s3cret"}') } }),
      "invalid otlp.headers.__proto__=<redacted>: expected an HTTP header name (letters, digits and !#$%&'*+-.^_`|~)",
    );
  });
});
