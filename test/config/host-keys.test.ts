// The config keys for a host's own instruments: global registration, the series budget of host
// instruments, and what a legacy profile does with host instruments it has no rule for.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/config/errors.ts';
import { parseServiceConfig, toJobmeterOptions } from '../../src/config/schema.ts';

describe('global, cardinality_limit, host_instruments', () => {
  it('map onto the library options', () => {
    const cfg = parseServiceConfig({ global: false, cardinality_limit: 500, host_instruments: 'drop' }, 'jobmeter.toml');
    assert.deepEqual(toJobmeterOptions(cfg), { global: false, cardinalityLimit: 500, hostInstruments: 'drop' });
  });

  for (const [raw, message] of [
    [{ global: 'no' }, 'invalid global=no: expected true or false (got a string)'],
    [{ cardinality_limit: 0 }, 'invalid cardinality_limit=0: expected an integer from 1 to 1000000 (series per instrument, overflow included)'],
    [{ cardinality_limit: '100' }, 'invalid cardinality_limit=100: expected an integer from 1 to 1000000 (series per instrument, overflow included) (got a string)'],
    [{ host_instruments: 'dorp' }, 'invalid host_instruments=dorp: expected one of native, drop (did you mean drop?)'],
  ] as const) {
    it(`rejects ${JSON.stringify(raw)}`, () => {
      assert.throws(() => parseServiceConfig(raw, 'jobmeter.toml'), (err: unknown) => err instanceof ConfigError && err.message === message);
    });
  }
});
