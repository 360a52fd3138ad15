/**
 * `[build]` (and JOBMETER_BUILD_*): the daemon's own identity under `jobmeter serve`. Without it,
 * runwisp_build_info / rm_build_info show jobmeter's version and Node's as `go_version`; with it,
 * the daemon's; once the daemon pushes its own `jobmeter.build.info`, that wins.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { ConfigError } from '../../src/errors.ts';
import { resolveServiceConfig } from '../../src/config/resolve-layers.ts';
import { parseServiceConfig } from '../../src/config/file-layer.ts';
import { toJobmeterOptions } from '../../src/config/to-options.ts';
import { createJobmeter, type Jobmeter } from '../../src/jobmeter.ts';
import { VERSION } from '../../src/version.ts';
import { tempFiles } from '../support/temp-files.ts';

const temp = tempFiles('jobmeter-build-');
const started: Jobmeter[] = [];
after(async () => {
  await Promise.allSettled(started.map((jm) => jm.shutdown()));
});

async function buildInfoLine(
  options: Parameters<typeof createJobmeter>[0],
  name: string,
): Promise<string> {
  const jm = await createJobmeter({
    listener: false,
    processMetrics: false,
    global: false,
    ...options,
  });
  started.push(jm);
  const family = (await jm.scrape()).find((f) => f.name === name);
  assert.ok(family, `${name} served`);
  assert.equal(family.series.length, 1);
  return family.series[0]!.labels;
}

describe('[build]: the daemon identity under jobmeter serve', () => {
  it('maps onto the library build option', () => {
    const cfg = parseServiceConfig(
      { build: { version: '2.3.1', commit: 'abc123', runtime_version: 'go1.22.5' } },
      'jobmeter.toml',
    );
    assert.deepEqual(toJobmeterOptions(cfg), {
      build: { version: '2.3.1', commit: 'abc123', runtimeVersion: 'go1.22.5' },
    });
    const partial = parseServiceConfig({ build: { commit: 'abc123' } }, 'jobmeter.toml');
    assert.deepEqual(
      toJobmeterOptions(partial),
      { build: { version: 'unknown', commit: 'abc123' } },
      "never jobmeter's own version for a daemon",
    );
  });

  it('refuses unknown and empty keys, naming them', () => {
    assert.throws(
      () => parseServiceConfig({ build: { versoin: '1' } }, 'jobmeter.toml'),
      (e: unknown) => e instanceof ConfigError && /build\.versoin/.test(e.message),
    );
    assert.throws(
      () => parseServiceConfig({ build: { version: '' } }, 'jobmeter.toml'),
      (e: unknown) => e instanceof ConfigError && /build\.version/.test(e.message),
    );
  });

  it('file and JOBMETER_BUILD_* variables, merged per field, the file over the variables (as for OTEL_*)', async () => {
    const file = await temp.file(
      'jobmeter.toml',
      '[build]\nversion = "2.3.1"\ncommit = "abc123"\n',
    );
    const fromFile = await resolveServiceConfig({ argv: ['--config', file], env: {} });
    assert.deepEqual(fromFile.build, { version: '2.3.1', commit: 'abc123' });
    const both = await resolveServiceConfig({
      argv: ['--config', file],
      env: { JOBMETER_BUILD_COMMIT: 'def456', JOBMETER_BUILD_RUNTIME_VERSION: 'go1.22.5' },
    });
    assert.deepEqual(both.build, {
      version: '2.3.1',
      commit: 'abc123',
      runtimeVersion: 'go1.22.5',
    });
    const envOnly = await resolveServiceConfig({
      argv: [],
      env: { JOBMETER_BUILD_VERSION: ' 9.9.9 ' },
    });
    assert.deepEqual(envOnly.build, { version: '9.9.9' });
  });

  it('rm_build_info and runwisp_build_info carry the daemon identity, not jobmeter and Node', async () => {
    const build = { version: '2.3.1', commit: 'abc123', runtimeVersion: 'go1.22.5' };
    assert.equal(
      await buildInfoLine({ profile: 'rm', build }, 'rm_build_info'),
      'version="2.3.1",commit="abc123",go_version="go1.22.5"',
    );
    assert.equal(
      await buildInfoLine({ profile: 'runwisp', build }, 'runwisp_build_info'),
      'version="2.3.1"',
    );
    // Without [build]: jobmeter's own, as before.
    assert.equal(
      await buildInfoLine({ profile: 'rm' }, 'rm_build_info'),
      `version="${VERSION}",commit="unknown",go_version="${process.version}"`,
    );
  });

  it('a daemon that pushes its own build info replaces the configured one', async () => {
    const jm = await createJobmeter({
      profile: 'rm',
      listener: false,
      processMetrics: false,
      global: false,
      ingest: { port: 0 },
      build: { version: '2.3.1' },
    });
    started.push(jm);
    const body = JSON.stringify({
      resourceMetrics: [
        {
          scopeMetrics: [
            {
              metrics: [
                {
                  name: 'jobmeter.build.info',
                  gauge: {
                    dataPoints: [
                      {
                        asInt: '1',
                        timeUnixNano: String(BigInt(Date.now()) * 1_000_000n),
                        attributes: [
                          { key: 'version', value: { stringValue: '2.4.0' } },
                          { key: 'commit', value: { stringValue: 'fedcba' } },
                          { key: 'runtime.version', value: { stringValue: 'go1.23.1' } },
                        ],
                      },
                    ],
                  },
                },
              ],
            },
          ],
        },
      ],
    });
    const res = await fetch(`http://127.0.0.1:${jm.ingestAddress!.port}/v1/metrics`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    assert.equal(res.status, 200, await res.text());
    const family = (await jm.scrape()).find((f) => f.name === 'rm_build_info')!;
    assert.deepEqual(
      family.series.map((s) => s.labels),
      ['version="2.4.0",commit="fedcba",go_version="go1.23.1"'],
    );
  });
});
