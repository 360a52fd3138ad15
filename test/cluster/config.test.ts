// The cluster options: `[cluster]` in a config file (the preload and `jobmeter serve` read it)
// maps onto `cluster` of createJobmeter, and bad values are ConfigErrors naming the key.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../../src/errors.ts';
import { parseConfigText } from '../../src/config/file-parser.ts';
import { mergeServiceConfig } from '../../src/config/resolve-layers.ts';
import { DEFAULT_SERVICE_CONFIG } from '../../src/config/service-defaults.ts';
import { parseServiceConfig } from '../../src/config/file-layer.ts';
import { toJobmeterOptions } from '../../src/config/to-options.ts';
import { createJobmeter } from '../../src/index.ts';

const parse = (toml: string) =>
  parseServiceConfig(parseConfigText(toml, 'toml', 'c.toml'), 'c.toml');

test('[cluster] becomes the cluster option; enabled = false is cluster: false', () => {
  const cfg = mergeServiceConfig(
    DEFAULT_SERVICE_CONFIG,
    parse('[cluster]\ntimeout_ms = 250\n[cluster.merge]\n"app.queue.depth" = "max"\n'),
  );
  assert.deepEqual(toJobmeterOptions(cfg).cluster, {
    timeoutMillis: 250,
    merge: { 'app.queue.depth': 'max' },
  });
  assert.deepEqual(toJobmeterOptions(DEFAULT_SERVICE_CONFIG).cluster, { timeoutMillis: 1000 });
  assert.equal(toJobmeterOptions(parse('[cluster]\nenabled = false\n')).cluster, false);
});

test('a bad [cluster] value is a ConfigError naming its key', () => {
  assert.throws(
    () => parse('[cluster]\nmerge = { "app.x" = "avg" }\n'),
    (err: unknown) =>
      err instanceof ConfigError &&
      err.key === 'cluster.merge.app.x' &&
      /sum, max/.test(err.message),
  );
  assert.throws(
    () => parse('[cluster]\ntimeout_ms = 0\n'),
    (err: unknown) => err instanceof ConfigError && err.key === 'cluster.timeout_ms',
  );
});

test('bad cluster options in code are ConfigErrors too', async () => {
  await assert.rejects(
    createJobmeter({ listener: false, cluster: { timeoutMillis: -1 } }),
    (err: unknown) => err instanceof ConfigError && err.key === 'cluster.timeoutMillis',
  );
  await assert.rejects(
    createJobmeter({ listener: false, cluster: { merge: { 'app.x': 'avg' as 'sum' } } }),
    (err: unknown) => err instanceof ConfigError && err.key === 'cluster.merge.app.x',
  );
});
