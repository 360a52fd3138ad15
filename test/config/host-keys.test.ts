// The config keys for a host's own instruments: global registration, the series budget of host
// instruments, and what a legacy profile does with host instruments it has no rule for.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/errors.ts';
import { parseServiceConfig } from '../../src/config/file-layer.ts';
import { toJobmeterOptions } from '../../src/config/to-options.ts';
import { createJobmeter } from '../../src/jobmeter.ts';

describe('global, cardinality_limit, host_exemplars, host_instruments, [profile] rules', () => {
  it('a [profile] table with rules maps onto profile: { name, rules } (zero_fill → zeroFill)', () => {
    const rule = {
      instrument: 'a',
      name: 'b',
      type: 'gauge',
      help: 'h',
      labels: [['s', 'state']],
      zero_fill: { state: ['idle'] },
    };
    const cfg = parseServiceConfig({ profile: { name: 'solti', rules: [rule] } }, 'jobmeter.toml');
    assert.deepEqual(toJobmeterOptions(cfg), {
      profile: {
        name: 'solti',
        rules: [
          {
            instrument: 'a',
            name: 'b',
            type: 'gauge',
            help: 'h',
            labels: [['s', 'state']],
            zeroFill: { state: ['idle'] },
          },
        ],
      },
    });
  });

  it('map onto the library options', () => {
    const cfg = parseServiceConfig(
      { global: false, cardinality_limit: 500, host_exemplars: true, host_instruments: 'drop' },
      'jobmeter.toml',
    );
    assert.deepEqual(toJobmeterOptions(cfg), {
      global: false,
      cardinalityLimit: 500,
      hostExemplars: true,
      hostInstruments: 'drop',
    });
  });

  for (const [raw, message] of [
    [{ global: 'no' }, 'invalid global=no: expected true or false (got a string)'],
    [
      { cardinality_limit: 0 },
      'invalid cardinality_limit=0: expected an integer from 1 to 1000000 (series per instrument, overflow included)',
    ],
    [
      { cardinality_limit: '100' },
      'invalid cardinality_limit=100: expected an integer from 1 to 1000000 (series per instrument, overflow included) (got a string)',
    ],
    [
      { host_exemplars: 'yes' },
      'invalid host_exemplars=yes: expected true or false (got a string)',
    ],
    [
      { host_instruments: 'dorp' },
      'invalid host_instruments=dorp: expected one of native, drop (did you mean drop?)',
    ],
    [
      { profile: { name: 'sotli' } },
      'invalid profile.name=sotli: expected one of otel, runwisp, wasmrun, crewshipd, rm, solti, semconv (did you mean solti?)',
    ],
    [
      { profile: { rules: {} } },
      'invalid profile.rules={}: expected a list of [[profile.rules]] tables',
    ],
    [
      { profile: { rules: [{ instrument: 'a', name: 'b', type: 'gaug', help: '' }] } },
      'invalid profile.rules[0].type=gaug: expected one of counter, gauge, histogram, info (rule b) (did you mean gauge?)',
    ],
    [
      { profile: { rules: [{ instrument: 'a', name: 'b', type: 'gauge' }] } },
      'invalid profile.rules[0].help=undefined: expected a string (the # HELP text) (rule b)',
    ],
    [
      {
        profile: {
          rules: [{ instrument: 'a', name: 'b', type: 'gauge', help: '', labels: [['a']] }],
        },
      },
      'invalid profile.rules[0].labels=[["a"]]: expected a list of [attribute, label] pairs, label names [a-zA-Z_][a-zA-Z0-9_]* not starting with __, each once (rule b)',
    ],
    [
      {
        profile: {
          rules: [
            {
              instrument: 'a',
              name: 'b',
              type: 'gauge',
              help: '',
              labels: [['s', 'state']],
              zero_fill: { state: ['idle', 'idle'] },
            },
          ],
        },
      },
      'invalid profile.rules[0].zero_fill={"state":["idle","idle"]}: expected a table { <the family\'s one label> = [words…, each once] }, on a counter or gauge with exactly one label (rule b)',
    ],
    [
      {
        profile: {
          rules: [{ instrument: 'a', name: 'b', type: 'gauge', help: '', from: 'total' }],
        },
      },
      'invalid profile.rules[0].from=total: expected one of value, sum, count (rule b)',
    ],
    [
      {
        profile: { rules: [{ instrument: 'a', name: 'b', type: 'gauge', help: '', emit_zero: 1 }] },
      },
      'invalid profile.rules[0].emit_zero=1: expected true or false (rule b)',
    ],
    [
      {
        profile: { rules: [{ instrument: 'a', name: 'b', type: 'gauge', help: '', zerofill: {} }] },
      },
      'invalid profile.rules[0].zerofill=<redacted>: expected a key of a rule: instrument, name, type, help, unit, from, scale, labels, values, zero_fill, emit_zero (did you mean profile.rules[0].zero_fill?)',
    ],
    // A table is a plain object (option-rules.ts isTable): a Date is no vocabulary, never an empty one.
    [
      {
        profile: {
          rules: [{ instrument: 'a', name: 'b', type: 'gauge', help: '', values: new Date(0) }],
        },
      },
      'invalid profile.rules[0].values="1970-01-01T00:00:00.000Z": expected a table: attribute \u2192 { canonical value \u2192 the original\'s word } (rule b)',
    ],
    [
      { profile: { nme: 'solti' } },
      'invalid profile.nme=<redacted>: expected a key of [profile]: name, rules (did you mean profile.name?)',
    ],
  ] as const) {
    it(`rejects ${JSON.stringify(raw)}`, () => {
      assert.throws(
        () => parseServiceConfig(raw, 'jobmeter.toml'),
        (err: unknown) => err instanceof ConfigError && err.message === message,
      );
    });
  }
});

describe('a [[profile.rules]] rule and a rule of the options object have one validator', () => {
  const base = { instrument: 'a', name: 'b', type: 'gauge', help: '' };
  const BAD: readonly Record<string, unknown>[] = [
    { ...base, type: 'gaug' },
    { instrument: 'a', name: 'b', type: 'gauge' },
    { ...base, name: 'b-c' },
    { ...base, labels: [['a']] },
    { ...base, labels: [['s', 'state']], zero_fill: { state: ['idle', 'idle'] } },
    { ...base, labels: [['s', 'state']], zero_fill: { status: ['idle'] } },
    { ...base, values: { s: { a: 1 } } },
    { ...base, from: 'total' },
    { ...base, scale: -1 },
    { ...base, emit_zero: 'yes' },
    { ...base, zerofill: {} },
  ];
  const camel = (k: string) => k.replace(/_(\w)/g, (_, c: string) => c.toUpperCase());
  for (const rule of BAD) {
    it(`refuses ${JSON.stringify(rule)} from the file as from code, naming the key as each spells it`, async () => {
      let fromFile: ConfigError | undefined;
      try {
        parseServiceConfig({ profile: { rules: [rule] } }, 'jobmeter.toml');
      } catch (err) {
        if (err instanceof ConfigError) fromFile = err;
      }
      assert.ok(fromFile !== undefined, 'the file refuses it');
      const options = Object.fromEntries(
        Object.entries(rule).map(([k, v]) => [k === 'zerofill' ? k : camel(k), v]),
      );
      await assert.rejects(
        createJobmeter({
          profile: { name: 'otel', rules: [options as never] },
          listener: false,
          global: false,
        }),
        (err: unknown) =>
          err instanceof ConfigError &&
          err.key === camel(fromFile.key) &&
          err.message.replace(err.key, '') ===
            fromFile.message.replace(fromFile.key, '').replace(/zero_fill|emit_zero/g, camel),
      );
    });
  }
});
