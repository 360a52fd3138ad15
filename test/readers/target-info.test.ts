// target_info in reader mode: the host's resource is served as `target_info`
// under the otel profile; a legacy profile serves its original's surface, which has none, in
// reader mode exactly as createJobmeter does (docs/host-apps.md says so; these tests hold it).
import assert from 'node:assert/strict';
import { isNativeProfileName } from '../../src/common/option-values.ts';
import { afterEach, test } from 'node:test';
import { metrics } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { createJobmeter, JobmeterReader } from '../../src/index.ts';
import { PROFILE_NAMES } from '../../src/index-catalog.ts';

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
  metrics.disable();
});

async function body(port: number): Promise<string> {
  return (
    await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { accept: 'text/plain' } })
  ).text();
}

const TARGET_INFO = /^target_info\{service_name="host-app"/m;

for (const profile of PROFILE_NAMES) {
  // The native profiles name OTel instruments: the resource is their target_info.
  const served = isNativeProfileName(profile);
  test(`${profile}: target_info ${served ? 'served' : 'not served'}, in reader mode as with createJobmeter`, async () => {
    const reader = new JobmeterReader({ profile, listener: { port: 0 } });
    const provider = new MeterProvider({
      resource: resourceFromAttributes({ 'service.name': 'host-app' }),
      readers: [reader],
    });
    closers.push(() => provider.shutdown());
    provider.getMeter('host').createCounter('host.jobs').add(1);
    await reader.ready;
    const jm = await createJobmeter({
      profile,
      serviceName: 'host-app',
      listener: { port: 0 },
      processMetrics: false,
      global: false,
    });
    closers.push(() => jm.shutdown());
    const [inReader, inJobmeter] = [
      await body(reader.pullAddress!.port),
      await body(jm.pullAddress!.port),
    ];
    assert.equal(TARGET_INFO.test(inReader), served, inReader);
    assert.equal(TARGET_INFO.test(inJobmeter), served, inJobmeter);
  });
}
