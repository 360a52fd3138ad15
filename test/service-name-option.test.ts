// The library's side of the one service name (the config file's: test/config/service-name.test.ts):
// `resourceAttributes['service.name']` is what target_info serves, never replaced by the default.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createJobmeter } from '../src/index.ts';
import { ConfigError } from '../src/errors.ts';

async function targetInfo(options: Parameters<typeof createJobmeter>[0]): Promise<string> {
  const jm = await createJobmeter({
    listener: false,
    global: false,
    processMetrics: false,
    ...options,
  });
  try {
    const family = (await jm.scrape()).find((f) => f.name === 'target_info');
    assert.ok(family, 'target_info served');
    return family.series[0]!.labels;
  } finally {
    await jm.shutdown();
  }
}

describe("createJobmeter: resourceAttributes['service.name']", () => {
  it('is the service name when serviceName is not given', async () => {
    assert.match(
      await targetInfo({ resourceAttributes: { 'service.name': 'billing', 'host.name': 'ci-7' } }),
      /service_name="billing"/,
    );
  });

  it('agrees with serviceName when both say the same', async () => {
    assert.match(
      await targetInfo({
        serviceName: 'billing',
        resourceAttributes: { 'service.name': 'billing' },
      }),
      /service_name="billing"/,
    );
  });

  it('beside a different serviceName is a ConfigError naming both', async () => {
    await assert.rejects(
      createJobmeter({
        listener: false,
        global: false,
        serviceName: 'billing',
        resourceAttributes: { 'service.name': 'payments' },
      }),
      (e: unknown) =>
        e instanceof ConfigError &&
        e.key === "resourceAttributes['service.name']" &&
        e.value === 'payments' &&
        /billing/.test(e.message),
    );
  });
});
