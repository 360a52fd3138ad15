// What jobmeter takes from the OpenTelemetry SDK without loading it (src/common/otel-sdk.ts): the
// enums' values are the SDK's, the time conversion is core's, and the modules loaded on demand are
// the very ones a host's `import` gets (not the packages' CommonJS copies).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as core from '@opentelemetry/core';
import * as resources from '@opentelemetry/resources';
import * as sdk from '@opentelemetry/sdk-metrics';
import * as ours from '../../src/common/otel-sdk.ts';

/** A TypeScript enum's members, without the reverse entries a numeric enum also has. */
function members(e: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(e).filter(([key]) => !/^\d+$/.test(key)));
}

test("every enum value jobmeter writes MetricData with is the SDK's, member for member", () => {
  for (const name of [
    'AggregationTemporality',
    'DataPointType',
    'InstrumentType',
    'AggregationType',
  ] as const) {
    assert.deepEqual({ ...ours[name] }, members(sdk[name]), name);
  }
});

test("millisToHrTime is core's: whole, fractional, sub-nanosecond and pre-epoch milliseconds", () => {
  for (const ms of [
    0,
    1,
    999.9999996,
    1_700_000_000_123.456,
    1_700_000_000_999.75,
    -1.5,
    2 ** 41,
  ]) {
    assert.deepEqual(ours.millisToHrTime(ms), core.millisToHrTime(ms), String(ms));
  }
});

test('the modules loaded on demand are the ones a host imports: the same classes, not a CommonJS copy', () => {
  assert.equal(ours.sdkMetrics().MeterProvider, sdk.MeterProvider);
  assert.equal(ours.sdkMetrics().MetricReader, sdk.MetricReader);
  assert.equal(ours.sdkResources().resourceFromAttributes, resources.resourceFromAttributes);
});

test('loaded first on demand, the SDK is still the instance a later import gets', async () => {
  // A fresh process, where nothing imported the SDK before jobmeter's require of it.
  const url = new URL('../../src/common/otel-sdk.ts', import.meta.url).href;
  const script = `
    const { sdkMetrics } = await import(${JSON.stringify(url)});
    const required = sdkMetrics().MeterProvider;
    const imported = (await import('@opentelemetry/sdk-metrics')).MeterProvider;
    process.stdout.write(String(required === imported));
  `;
  const { stdout, stderr } = await promisify(execFile)(
    process.execPath,
    ['--input-type=module', '-e', script],
    { cwd: fileURLToPath(new URL('../..', import.meta.url)), timeout: 60_000 },
  );
  assert.equal(stdout, 'true');
  assert.equal(
    stderr,
    '',
    'no warning (require of an ES module is not experimental on the Node engines admits)',
  );
});

test("a host's observable instrument made while its own import() of the SDK is in flight is served", async () => {
  // Node refuses to require an ES module still loading (ERR_REQUIRE_ESM_RACE_CONDITION on Node 24).
  const url = new URL('../../src/index.ts', import.meta.url).href;
  const script = `
    const { createJobmeter } = await import(${JSON.stringify(url)});
    const jm = await createJobmeter({ listener: false, global: false, processMetrics: false });
    const inflight = import('@opentelemetry/sdk-metrics');
    jm.meterProvider.getMeter('host').createObservableGauge('pool.size').addCallback((r) => r.observe(4));
    await inflight;
    const families = await jm.scrape();
    await jm.shutdown();
    process.stdout.write(JSON.stringify(families.filter((f) => f.name === 'pool_size').length));
  `;
  const { stdout, stderr } = await promisify(execFile)(
    process.execPath,
    ['--input-type=module', '-e', script],
    { cwd: fileURLToPath(new URL('../..', import.meta.url)), timeout: 60_000 },
  );
  assert.equal(stdout, '1', stderr);
});
