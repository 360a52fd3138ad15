// Series the originals omit rather than write as 0 (a 0 timestamp would read as 1970).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HostRecord } from '../../src/domain/snapshot.ts';
import { numberSeries, scrapeByName, testJobmeter } from './helpers.ts';

const LAST_FAILURE = 'runwisp_runs_last_failure_timestamp_seconds';

test('runwisp: last-failure timestamp absent until a run fails, then the failure time', async () => {
  const jm = await testJobmeter('runwisp');
  try {
    assert.equal((await scrapeByName(jm)).has(LAST_FAILURE), false, 'absent before any run');
    jm.recordRun({ task: 't', outcome: 'success', durationSeconds: 1 });
    jm.recordRun({ task: 't', outcome: 'cancelled', durationSeconds: 1 });
    jm.recordRun({ task: 't', outcome: 'timeout', durationSeconds: 1 });
    const before = await scrapeByName(jm);
    assert.equal(
      before.has(LAST_FAILURE),
      false,
      'success, cancelled and timeout are not failures of record',
    );
    assert.equal(
      before.get('runwisp_runs_total')?.series.length,
      2,
      'the run counter is there all along',
    );

    const t0 = Date.now() / 1000;
    jm.recordRun({ task: 't', outcome: 'failure', durationSeconds: 1 });
    const t1 = Date.now() / 1000;
    const after = numberSeries((await scrapeByName(jm)).get(LAST_FAILURE));
    assert.equal(after.length, 1);
    const [labels, value] = after[0]!;
    assert.equal(labels, '', 'a label-less gauge');
    assert.ok(
      value >= t0 && value <= t1,
      `unix seconds of the failure: ${value} within [${t0}, ${t1}]`,
    );
  } finally {
    await jm.shutdown();
  }
});

test("runwisp: a host snapshot's last failure is used; without one on record, still omitted", async () => {
  const jm = await testJobmeter('runwisp');
  try {
    jm.setSnapshotSource(() => ({ runsByOutcome: { success: 5 } }));
    assert.equal((await scrapeByName(jm)).has(LAST_FAILURE), false);
    jm.setSnapshotSource(() => ({
      runsByOutcome: { success: 5, failure: 1 },
      lastFailureSeconds: 1_700_000_000,
    }));
    assert.deepEqual(numberSeries((await scrapeByName(jm)).get(LAST_FAILURE)), [
      ['', 1_700_000_000],
    ]);
  } finally {
    await jm.shutdown();
  }
});

const WITH_BACKUP: HostRecord = {
  id: 'H1',
  name: 'alpha',
  online: true,
  lastBackup: { timeSeconds: 1_700_000_000, success: true },
  repoSizeBytes: 1024,
  snapshotCount: 3,
  openAlerts: 0,
  repoStatus: 'ready',
};
const NEVER_BACKED_UP: HostRecord = {
  id: 'H2',
  name: 'beta',
  online: false,
  snapshotCount: 0,
  openAlerts: 1,
  repoStatus: 'unknown',
};

test('rm: last-backup and repo-size series are omitted per host when unknown, present for the other host', async () => {
  const jm = await testJobmeter('rm');
  try {
    jm.setSnapshotSource(() => ({ hosts: [WITH_BACKUP, NEVER_BACKED_UP] }));
    const f = await scrapeByName(jm);
    const alpha = 'host_id="H1",host="alpha"';
    const beta = 'host_id="H2",host="beta"';
    assert.deepEqual(numberSeries(f.get('rm_host_last_backup_timestamp_seconds')), [
      [alpha, 1_700_000_000],
    ]);
    assert.deepEqual(numberSeries(f.get('rm_host_last_backup_success')), [[alpha, 1]]);
    assert.deepEqual(numberSeries(f.get('rm_host_repo_size_bytes')), [[alpha, 1024]]);
    // Known figures are reported for both hosts, 0 included.
    assert.deepEqual(numberSeries(f.get('rm_host_agent_online')), [
      [alpha, 1],
      [beta, 0],
    ]);
    assert.deepEqual(numberSeries(f.get('rm_host_snapshot_count')), [
      [alpha, 3],
      [beta, 0],
    ]);
    assert.deepEqual(numberSeries(f.get('rm_host_open_alerts')), [
      [alpha, 0],
      [beta, 1],
    ]);
    assert.deepEqual(numberSeries(f.get('rm_host_repo_status')), [
      [alpha + ',status="ready"', 1],
      [beta + ',status="unknown"', 1],
    ]);
  } finally {
    await jm.shutdown();
  }
});

test('rm: a failed last backup is 0, not omitted', async () => {
  const jm = await testJobmeter('rm');
  try {
    jm.setSnapshotSource(() => ({
      hosts: [{ ...WITH_BACKUP, lastBackup: { timeSeconds: 1_700_000_100, success: false } }],
    }));
    assert.deepEqual(numberSeries((await scrapeByName(jm)).get('rm_host_last_backup_success')), [
      ['host_id="H1",host="alpha"', 0],
    ]);
  } finally {
    await jm.shutdown();
  }
});

test('rm: only hosts that never backed up → the per-host backup families are absent altogether', async () => {
  const jm = await testJobmeter('rm');
  try {
    jm.setSnapshotSource(() => ({ hosts: [NEVER_BACKED_UP] }));
    const f = await scrapeByName(jm);
    for (const name of [
      'rm_host_last_backup_timestamp_seconds',
      'rm_host_last_backup_success',
      'rm_host_repo_size_bytes',
    ]) {
      assert.equal(f.has(name), false, `${name} has no sample, so no family either`);
    }
    assert.deepEqual(numberSeries(f.get('rm_hosts_total')), [['', 1]]);
  } finally {
    await jm.shutdown();
  }
});
