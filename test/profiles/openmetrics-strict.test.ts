// Every profile's OpenMetrics exposition passes a strict third-party parser:
// the official Python client's (prometheus_client.openmetrics.parser), on the live demo's
// scrape — exemplars on the duration buckets and finished counters, and with start timestamps
// (`_created` samples) where the native profile allows them.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { metrics } from '@opentelemetry/api';
import { startLiveDemo } from '../../src/demo/live.ts';
import { createJobmeter } from '../../src/jobmeter.ts';
import { PROFILE_NAMES, type JobmeterOptions, type ProfileName } from '../../src/options.ts';
import { startOpenMetricsParser, type OpenMetricsParser } from '../support/openmetrics-python.ts';

let parser: OpenMetricsParser;
before(async () => {
  parser = await startOpenMetricsParser();
});
after(async () => {
  await parser.close();
  metrics.disable();
});

const CASES: Array<[string, ProfileName, JobmeterOptions]> = [
  ...PROFILE_NAMES.map(
    (profile) => [profile, profile, {}] as [string, ProfileName, JobmeterOptions],
  ),
  ['otel with start timestamps', 'otel', { startTimestamps: true }],
];

for (const [label, profile, options] of CASES) {
  test(`${label}: the OpenMetrics body parses (exemplars where the profile has them)`, async () => {
    const jm = await createJobmeter({
      ...options,
      profile,
      listener: { port: 0, format: 'openmetrics' },
      global: false,
      hostname: 'demo-host',
    });
    const demo = startLiveDemo(jm, profile, { tickMs: 20 });
    try {
      await sleep(200);
      const body = await (
        await fetch(`http://127.0.0.1:${jm.pullAddress!.port}/metrics`, {
          headers: { accept: 'application/openmetrics-text;version=1.0.0' },
        })
      ).text();
      assert.match(body, /# EOF\n$/);
      // runwisp and crewshipd serve no run counter or duration histogram of jobmeter's (their run
      // counts come from the host's history): no exemplars there.
      if (!['runwisp', 'crewshipd'].includes(profile))
        assert.match(body, / # \{trace_id="/, 'the live demo records traced runs');
      const { error, families } = await parser.check(body);
      assert.equal(error, undefined, `${error}\n${body}`);
      assert.ok(families! > 0);
    } finally {
      demo.stop();
      await jm.shutdown();
    }
  });
}
