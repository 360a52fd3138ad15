/**
 * Issue 60 point 4: the self-telemetry times the ingest's checkpoints as Prometheus times its own
 * writes (`prometheus_tsdb_compaction_duration_seconds`): a histogram of the successful writes,
 * the last one's duration (as `prometheus_rule_group_last_duration_seconds`) and the state file's
 * size, each read against the file a scrape of a real ingest wrote.
 */
import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { selfTelemetryOf, servedJobmeter } from '../support/served-jobmeter.ts';
import { pushAs } from '../status/serve-status.ts';
import { freePort } from '../support/free-port.ts';
import { tempFiles } from '../support/temp-files.ts';

const files = tempFiles('jobmeter-checkpoint-telemetry-');

test('each checkpoint is timed and the state file sized, from the first write on', async () => {
  const jm = await servedJobmeter({
    listener: false,
    global: false,
    log: () => {},
    ingest: { port: await freePort(), stateDir: files.dir },
  });
  try {
    const telemetry = selfTelemetryOf(jm)!;
    const checkpointFamilies = async () =>
      (await telemetry.families()).filter((f) => f.name.startsWith('jobmeter_ingest_checkpoint_'));
    // Nothing written or read yet: the histogram at 0, no size or last duration to tell.
    const before = await checkpointFamilies();
    assert.deepEqual(before.map((f) => f.name).sort(), [
      'jobmeter_ingest_checkpoint_duration_seconds',
      'jobmeter_ingest_checkpoint_failures_total',
    ]);
    const { host, port } = jm.ingestAddress!;
    for (const prefix of ['first', 'second']) {
      const answer = await pushAs(
        `http://${host}:${port}/v1/metrics`,
        { 'service.name': 'd' },
        1,
        prefix,
      );
      assert.equal(answer.status, 200, answer.body);
      // A scrape writes what it serves first.
      await jm.scrape();
    }
    const [file] = readdirSync(files.dir);
    const path = join(files.dir, file!);
    const families = new Map((await checkpointFamilies()).map((f) => [f.name, f]));
    const duration = families.get('jobmeter_ingest_checkpoint_duration_seconds')!;
    assert.equal(duration.type, 'histogram');
    assert.equal(duration.unit, 'seconds');
    const [histogram] = duration.series as readonly { count: number; sum: number }[];
    assert.equal(histogram!.count, 2);
    const gauge = (name: string) => {
      const family = families.get(name);
      assert.ok(family !== undefined && family.type === 'gauge', name);
      return (family.series[0] as { value: number }).value;
    };
    assert.equal(gauge('jobmeter_ingest_checkpoint_size_bytes'), statSync(path).size);
    const last = gauge('jobmeter_ingest_checkpoint_last_duration_seconds');
    assert.ok(last > 0 && last <= histogram!.sum, `${last} of ${histogram!.sum}`);
  } finally {
    await jm.shutdown();
  }
});
