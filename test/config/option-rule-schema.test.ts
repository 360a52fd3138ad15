// An option's rule is written once (common/option-rules.ts `Rule`): the config file's definition
// for the row is the rule's own schema, and a value from code and the same value from the file get
// the same verdict and the same words. The file's validator (config/schema-validator.ts) reads the
// schema as a stock JSON Schema validator does: ajv, its peer, gives every definition the same
// verdict on every sample.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Ajv } from 'ajv';

import type { Rule } from '../../src/common/option-rules.ts';
import { SECTIONS, type OptionRow } from '../../src/common/option-table.ts';
import { ConfigError } from '../../src/errors.ts';
import { CONFIG_SCHEMA, FORMATS, type DefinitionName } from '../../src/config/json-schema.ts';
import { check } from '../../src/config/schema-validator.ts';

/** Edges of every rule's range and shape, and values of the wrong type. */
const SAMPLES: readonly unknown[] = [
  -1,
  0,
  0.5,
  1,
  1.5,
  8,
  65535,
  65536,
  2 ** 30,
  2 ** 30 + 1,
  10_000,
  10_001,
  65_536,
  65_537,
  1_000_000,
  1_000_001,
  2 ** 36,
  2 ** 36 + 1,
  2 ** 31 - 1,
  2 ** 31,
  Number.NaN,
  '',
  ' ',
  '\t',
  'x',
  ' x ',
  '/var/lib/jobmeter',
  'a\u0000b',
  '8',
  'true',
  'native',
  'drop',
  'Native',
  'keep',
  true,
  false,
  null,
];

/** Each row whose rule states a schema, with the file definition it is checked by. */
function ruleRows(): [string, Rule<unknown>, DefinitionName][] {
  const out: [string, Rule<unknown>, DefinitionName][] = [];
  for (const [section, rows] of Object.entries(SECTIONS)) {
    for (const [key, row] of Object.entries(rows as Readonly<Record<string, OptionRow>>)) {
      const rule = row.rule as Partial<Rule<unknown>> | undefined;
      if (rule?.schema !== undefined && row.schema !== undefined)
        out.push([`${section}.${key}`, rule as Rule<unknown>, row.schema as DefinitionName]);
    }
  }
  return out;
}

function verdict(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.message;
  }
}

test('every option with a rule and a file key has one rule: its schema is the file definition', () => {
  const checked = new Set(ruleRows().map(([name]) => name));
  const two: string[] = [];
  for (const [section, rows] of Object.entries(SECTIONS)) {
    for (const [key, row] of Object.entries(rows as Readonly<Record<string, OptionRow>>)) {
      const name = `${section}.${key}`;
      // A table of the host's names (headers) is checked by its rule after the file's shape.
      if (row.keys === 'open') continue;
      if (row.rule !== undefined && row.schema !== undefined && !checked.has(name)) two.push(name);
    }
  }
  assert.deepEqual(two, []);
  for (const definition of [
    'port',
    'millis',
    'bodyBytes',
    'concurrent',
    'memoryBytes',
    'connections',
    'cardinalityLimit',
    'attributeValueLengthLimit',
    'boolean',
    'nonEmptyString',
    'stateDir',
    'hostInstruments',
    'token',
    'tenant',
    'path',
    'filePath',
  ] as const) {
    assert.ok(
      ruleRows().some(([, , d]) => d === definition),
      `no option's rule states the ${definition} definition`,
    );
  }
});

for (const [name, rule, definition] of ruleRows()) {
  test(`${name}: the file's ${definition} definition is the row's rule, with its verdict and words`, () => {
    assert.equal(CONFIG_SCHEMA.definitions[definition], rule.schema);
    for (const value of SAMPLES) {
      const fromCode = verdict(() => rule(value, 'k'));
      const fromFile = verdict(() => check(value, 'k', definition));
      assert.equal(
        fromCode === undefined,
        fromFile === undefined,
        `${String(value)}: code ${fromCode ?? 'accepts'}, file ${fromFile ?? 'accepts'}`,
      );
      if (fromCode === undefined) continue;
      // A secret rule's value is shown by neither, under any key ('k' names no credential).
      if (rule.secret) assert.ok(fromCode.startsWith('invalid k=<redacted>'), fromCode);
      if (rule.secret) assert.ok(fromFile!.startsWith('invalid k=<redacted>'), fromFile);
      assert.ok(fromCode.endsWith(`: expected ${rule.expected}`), fromCode);
      // The file's words may add a hint ("(got a string)") after the rule's.
      assert.ok(fromFile!.includes(`: expected ${rule.expected}`), fromFile);
    }
  });
}

test('every definition has its words, its own or its rule’s', () => {
  for (const definition of Object.keys(CONFIG_SCHEMA.definitions) as DefinitionName[]) {
    // A TOML date is of no JSON type: every definition refuses it.
    const message = verdict(() => check(new Date(0), 'k', definition));
    assert.match(message ?? '', /: expected \S/, definition);
  }
});

/** Tables and lists of the file's shapes, right and wrong, beside the scalar samples. */
const SHAPES: readonly unknown[] = [
  {},
  [],
  [1],
  ['x'],
  ['10.0.0.0/8', ' ::1 '],
  ['10.0.0.0/33'],
  { port: 9464 },
  { port: '9464' },
  { prot: 1 },
  { host: '127.0.0.1', port: 0, allow_non_loopback: true },
  { endpoint: 'http://127.0.0.1:4318', headers: { a: 'b' } },
  { tenant: 'a', key: 'b' },
  { tenant: 'a' },
  { tennant: 'a', key: 'b' },
  [{ tenant: 'a', key: 'b' }],
  [{ key: 'b' }],
  { name: 'rm', rules: [] },
  { name: 'rm', rules: [{ instrument: 'a' }] },
  { name: 'x' },
  { nme: 'rm' },
  { app: 'sum' },
  { app: 'avg' },
  { ' ': 'sum' },
  { selector: { instrument_name: 'a' } },
  { selector: {} },
  { selector: { instrument_name: 'a' }, stream: { aggregation: { drop: {} } } },
  { selector: { instrument_type: 'histogram' }, stream: { aggregation: { sum: {}, drop: {} } } },
  { stream: {} },
  [{ selector: { meter_name: 'm' }, stream: { attribute_keys: { included: ['q', ' '] } } }],
  { explicit_bucket_histogram: { boundaries: [1, 10], record_min_max: false } },
  { base2_exponential_bucket_histogram: { max_size: 1 } },
  { included: ['a'], excluded: [] },
  { version: '1.2.3', commit: '' },
  { enabled: true, listen: '127.0.0.1:9465' },
  { enabled: false, listen: '0.0.0.0:9465' },
  { metrics_enabled: true, metrics_listen: '[::1]:1' },
  { service_name: 'a', listener: { port: 1 }, naming: { unit_suffixes: false } },
  { profile: { name: 'solti' }, otlp: { interval_ms: 0 } },
  { profile: 'sotli' },
  { metrics: { api_keys: [{ tenant: 't', key: 'k k' }] } },
  { cluster: { merge: { a: 'max' } }, ingest: { enabled: true, trusted_cidrs: ['::1'] } },
];

test('the file is validated as ajv, a stock JSON Schema validator, validates it: the same verdict for every definition and sample', () => {
  const ajv = new Ajv({ strict: false, allowUnionTypes: true, formats: FORMATS });
  ajv.addSchema(CONFIG_SCHEMA, 'config');
  const samples = [...SAMPLES, ...SHAPES];
  for (const definition of [undefined, ...Object.keys(CONFIG_SCHEMA.definitions)] as (
    DefinitionName | undefined
  )[]) {
    const validate = ajv.getSchema(
      definition === undefined ? 'config' : `config#/definitions/${definition}`,
    )!;
    for (const value of samples) {
      const ours = verdict(() => check(value, 'k', definition));
      assert.equal(
        ours === undefined,
        validate(value),
        `${definition ?? 'the file'} on ${JSON.stringify(value)}: ours ${ours ?? 'accepts'}`,
      );
    }
  }
});
