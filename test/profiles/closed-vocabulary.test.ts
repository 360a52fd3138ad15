// Closed vocabularies stay closed: where an original's document gives a closed
// set of values, a value outside it is neither passed through nor folded into an `other` the
// original never emits: the record (or observation) is dropped, warned about once, and counted in
// jobmeter.records.dropped{reason="vocabulary"}. Where the document itself names `other`
// (crewshipd's statuses, its provider cap) the fold stays.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { diag, DiagLogLevel } from '@opentelemetry/api';
import type { Family } from '../../src/exposition/types.ts';
import type { Jobmeter } from '../../src/jobmeter.ts';
import type { LegacyProfileName } from '../../src/common/option-values.ts';
import { numberSeries, scrapeByName, testJobmeter } from './helpers.ts';

const warnings: string[] = [];

/** A jobmeter under `profile`, with a host rule that shows jobmeter.records.dropped (a legacy profile serves none of jobmeter's own). */
function withDropCount(profile: LegacyProfileName): Promise<Jobmeter> {
  return testJobmeter(profile, {
    profile: {
      name: profile,
      rules: [
        {
          instrument: 'jobmeter.records.dropped',
          name: 'test_records_dropped_total',
          type: 'counter',
          help: 'Dropped.',
          labels: [['reason', 'reason']],
        },
      ],
    },
  });
}

/** jobmeter.records.dropped{reason="vocabulary"} in one scrape's families. */
function vocabularyDropsIn(families: Map<string, Family>): number | undefined {
  return numberSeries(families.get('test_records_dropped_total')).find(([labels]) =>
    labels.startsWith('reason="vocabulary"'),
  )?.[1];
}

async function vocabularyDrops(jm: Jobmeter): Promise<number | undefined> {
  return vocabularyDropsIn(await scrapeByName(jm));
}

describe('closed vocabularies stay closed', () => {
  let jm: Jobmeter | undefined;
  before(() =>
    diag.setLogger(
      {
        error() {},
        warn: (m: string) => void warnings.push(m),
        info() {},
        debug() {},
        verbose() {},
      },
      { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
    ),
  );
  after(() => diag.disable());
  beforeEach(async () => {
    warnings.length = 0;
    await jm?.shutdown();
    jm = undefined;
  });

  test('runwisp: kind is task or service; a run of kind "batch" is dropped, warned once, counted', async () => {
    jm = await withDropCount('runwisp');
    jm.startRun({ task: 'deploy', kind: 'service' });
    jm.startRun({ task: 'nightly', kind: 'batch' });
    jm.startRun({ task: 'nightly', kind: 'batch' });
    jm.recordRun({ task: 'nightly', kind: 'batch', outcome: 'success', durationSeconds: 1 });
    const f = await scrapeByName(jm);
    assert.deepEqual(numberSeries(f.get('runwisp_task_active_runs')), [
      ['task="deploy",kind="service"', 1],
    ]);
    assert.deepEqual(
      numberSeries(f.get('runwisp_runs_total')),
      [
        ['status="success"', 0],
        ['status="failed"', 0],
      ],
      'the finished batch run is not counted either',
    );
    assert.equal(await vocabularyDrops(jm), 3);
    const about = warnings.filter((w) => w.includes('"batch"'));
    assert.equal(
      about.length,
      2,
      `one warning per instrument (started, finished): ${warnings.join('\n')}`,
    );
    assert.match(about[0]!, /reason="vocabulary"/);
  });

  test('rm: job kind is one of its nine words; another kind is dropped, not served as-is', async () => {
    jm = await withDropCount('rm');
    jm.recordRun({ task: 'a', kind: 'backup', outcome: 'success', durationSeconds: 2 });
    jm.recordRun({ task: 'a', kind: 'compact', outcome: 'success', durationSeconds: 2 });
    const f = await scrapeByName(jm);
    const kinds = f.get('rm_job_duration_seconds')!.series.map((s) => s.labels);
    assert.deepEqual(kinds, ['kind="backup",status="succeeded"']);
    assert.equal(await vocabularyDrops(jm), 1);
  });

  test('solti: runner and error are its enums; others are dropped, never folded into other', async () => {
    jm = await withDropCount('solti');
    jm.runnerError('wasm', 'module_load_failed');
    jm.runnerError('wasm', 'disk_full');
    jm.runnerError('firecracker', 'spawn_failed');
    jm.recordRun({ task: 't', runner: 'firecracker', outcome: 'success', durationSeconds: 1 });
    const f = await scrapeByName(jm);
    assert.deepEqual(numberSeries(f.get('solti_runner_errors_total')), [
      ['error="module_load_failed",runner="wasm"', 1],
    ]);
    assert.equal(f.get('solti_runner_tasks_completed_total'), undefined);
    assert.equal(await vocabularyDrops(jm), 3);
  });

  test('crewshipd event and rm severity / repo status (host snapshots): outside values dropped at each collection; crewshipd statuses keep their documented other', async () => {
    jm = await withDropCount('crewshipd');
    jm.setSnapshotSource(() => ({
      agentRunEvents: { started: 4, paused: 2 },
      assignments: { running: 1, parked: 5 },
    }));
    const f = await scrapeByName(jm);
    const events = numberSeries(f.get('crewshipd_agent_run_events_total'));
    assert.ok(
      !events.some(([labels]) => labels.includes('event="other"') || labels.includes('paused')),
      JSON.stringify(events),
    );
    assert.deepEqual(events.find(([labels]) => labels.startsWith('event="started"'))?.[1], 4);
    const assignments = numberSeries(f.get('crewshipd_assignments'));
    assert.deepEqual(
      assignments.find(([labels]) => labels.startsWith('status="other"'))?.[1],
      5,
      'the document names other for statuses',
    );
    assert.equal(vocabularyDropsIn(f), 1, 'counted in the collection that dropped it');
    await jm.shutdown();

    jm = await withDropCount('rm');
    jm.setSnapshotSource(() => ({
      alerts: { warning: 1, fatal: 3 },
      hosts: [
        {
          id: 'H1',
          name: 'alpha',
          online: true,
          snapshotCount: 1,
          openAlerts: 0,
          repoStatus: 'ready',
        },
        {
          id: 'H2',
          name: 'beta',
          online: true,
          snapshotCount: 1,
          openAlerts: 0,
          repoStatus: 'locked',
        },
      ],
    }));
    const rm = await scrapeByName(jm);
    assert.ok(
      !numberSeries(rm.get('rm_alerts_open')).some(([labels]) => /other|fatal/.test(labels)),
    );
    assert.deepEqual(
      numberSeries(rm.get('rm_host_repo_status')).map(([labels]) => labels),
      ['host_id="H1",host="alpha",status="ready"'],
    );
    assert.equal(vocabularyDropsIn(rm), 2);
    assert.equal(await vocabularyDrops(jm), 4, 'counted at each collection');
  });
});
