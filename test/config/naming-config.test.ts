// `[naming]`: translation_strategy and start_timestamps in the config file, checked by
// the schema (a bad value names its dotted key) and mapped onto the library options.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../../src/errors.ts';
import { parseServiceConfig } from '../../src/config/file-layer.ts';
import { toJobmeterOptions } from '../../src/config/to-options.ts';

test('[naming] maps onto translationStrategy and startTimestamps', () => {
  const cfg = parseServiceConfig(
    { naming: { translation_strategy: 'NoUTF8EscapingWithSuffixes', start_timestamps: true } },
    'c.toml',
  );
  const options = toJobmeterOptions(cfg);
  assert.equal(options.translationStrategy, 'NoUTF8EscapingWithSuffixes');
  assert.equal(options.startTimestamps, true);
  assert.deepEqual(
    toJobmeterOptions(parseServiceConfig({}, 'c.toml')).translationStrategy,
    undefined,
  );
});

test('[naming] unit_suffixes = false maps onto unitSuffixes; a non-boolean names its key', () => {
  assert.equal(
    toJobmeterOptions(parseServiceConfig({ naming: { unit_suffixes: false } }, 'c.toml'))
      .unitSuffixes,
    false,
  );
  assert.throws(
    () => parseServiceConfig({ naming: { unit_suffixes: 'no' } }, 'c.toml'),
    (e: unknown) => e instanceof ConfigError && e.key === 'naming.unit_suffixes',
  );
});

test('a bad [naming] value or key is a ConfigError naming it', () => {
  assert.throws(
    () => parseServiceConfig({ naming: { translation_strategy: 'Dots' } }, 'c.toml'),
    (e: unknown) =>
      e instanceof ConfigError &&
      e.key === 'naming.translation_strategy' &&
      /one of UnderscoreEscapingWithSuffixes, UnderscoreEscapingWithoutSuffixes, NoUTF8EscapingWithSuffixes, NoTranslation/.test(
        e.message,
      ),
  );
  assert.throws(
    () => parseServiceConfig({ naming: { start_timestamp: true } }, 'c.toml'),
    (e: unknown) =>
      e instanceof ConfigError &&
      e.key === 'naming.start_timestamp' &&
      /did you mean naming\.start_timestamps/.test(e.message),
  );
});
