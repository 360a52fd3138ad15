/**
 * The resource jobmeter's own OTLP push carries: every resource attribute a profile's generated
 * Collector configuration reads a label from (crewshipd's `hostname` from `host.name`), valued as
 * the pull endpoint's label, with no resource attribute set by the host; a host's own attribute wins.
 */
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { after, afterEach, before, describe, it } from 'node:test';
import { compileCollectorConfig } from '../../src/cli/collector-config.ts';
import { renderOpenMetrics } from '../../src/exposition/openmetrics.ts';
import { createJobmeter, type Jobmeter } from '../../src/jobmeter.ts';
import { LEGACY_PROFILES } from '../../src/naming/profiles/index.ts';
import type { JobmeterOptions, ProfileName } from '../../src/options.ts';
import { startOtlpReceiver, type OtlpReceiver } from '../support/otlp-receiver.ts';

/** `[resource attribute, label]` pairs the generated Collector configuration of `profile` sets labels from. */
function labelsFromResource(
  profile: ProfileName & keyof typeof LEGACY_PROFILES,
): [attribute: string, label: string][] {
  const text = JSON.stringify(compileCollectorConfig(LEGACY_PROFILES[profile]).config);
  const pairs = [
    ...text.matchAll(
      /set\(attributes\[\\"([^\\]+)\\"\], resource\.attributes\[\\"([^\\]+)\\"\]\)/g,
    ),
  ].map((m) => `${m[2]}\n${m[1]}`);
  return [...new Set(pairs)].map((p) => p.split('\n') as [string, string]);
}

describe("jobmeter's push resource", () => {
  let receiver: OtlpReceiver;
  const started: Jobmeter[] = [];
  before(async () => {
    receiver = await startOtlpReceiver();
  });
  after(async () => {
    await receiver.close();
  });
  afterEach(async () => {
    await Promise.all(started.splice(0).map((jm) => jm.shutdown()));
    assert.deepEqual(receiver.errors, []);
    receiver.requests.length = 0;
  });

  /** The resource attributes of one export, and the pull's families rendered, from one jobmeter. */
  async function pushAndPull(
    options: JobmeterOptions,
  ): Promise<{ resource: Record<string, unknown>; pulled: string }> {
    const jm = await createJobmeter({
      listener: false,
      processMetrics: false,
      global: false,
      ...options,
      otlp: {
        endpoint: receiver.url,
        protocol: 'http/json',
        intervalMillis: 3_600_000,
        naming: 'canonical',
      },
    });
    started.push(jm);
    jm.recordRun({ task: 'a', outcome: 'success', durationSeconds: 1 });
    const before = receiver.requests.length;
    await jm.forceFlush();
    await receiver.waitForRequests(before + 1, 10_000);
    return {
      resource: receiver.requests.at(-1)!.resource,
      pulled: renderOpenMetrics(await jm.scrape()),
    };
  }

  for (const profile of Object.keys(LEGACY_PROFILES) as (keyof typeof LEGACY_PROFILES)[]) {
    it(`${profile}: carries each resource attribute its Collector configuration reads a label from, valued as the pull's label`, async () => {
      const pairs = labelsFromResource(profile);
      const { resource, pulled } = await pushAndPull({ profile, hostname: 'h-7' });
      for (const [attribute, label] of pairs) {
        assert.equal(resource[attribute], 'h-7', attribute);
        const samples = pulled.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
        assert.ok(samples.length > 0 && samples.every((l) => l.includes(`${label}="h-7"`)), pulled);
      }
      // Nothing the profile does not read: the resource is the service name and those attributes.
      assert.deepEqual(
        Object.keys(resource).sort(),
        ['service.name', ...pairs.map(([a]) => a)].sort(),
      );
    });
  }

  it('crewshipd reads its hostname label from the resource (the check above is not vacuous)', () => {
    assert.deepEqual(labelsFromResource('crewshipd'), [['host.name', 'hostname']]);
  });

  it("without a hostname option, host.name is the machine's name, as the pull's hostname label", async () => {
    const { resource, pulled } = await pushAndPull({ profile: 'crewshipd' });
    assert.equal(resource['host.name'], hostname());
    assert.ok(pulled.includes(`hostname="${hostname()}"`), pulled);
  });

  it("a host's own host.name resource attribute wins", async () => {
    const { resource } = await pushAndPull({
      profile: 'crewshipd',
      hostname: 'h-7',
      resourceAttributes: { 'host.name': 'from-host' },
    });
    assert.equal(resource['host.name'], 'from-host');
  });

  it('the otel profile reads no label from the resource, and its push adds none', async () => {
    const { resource } = await pushAndPull({ profile: 'otel', hostname: 'h-7' });
    assert.deepEqual(Object.keys(resource), ['service.name']);
  });
});
