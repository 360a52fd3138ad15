// `?format=json` through a real listener: wasmrun's flat document (its observability page's
// example, keys and shapes exactly, plus `sessions` in open mode) and the generic document every
// other profile serves (src/exposition/json.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { demoSnapshot } from '../../src/demo/scenarios.ts';
import { serveOnce } from './helpers.ts';

/** The keys of the seed's JSON example, in its order. */
const WASMRUN_KEYS = [
  'exec_total',
  'exec_duration_ms_sum',
  'exec_duration_ms_count',
  'output_truncated_total',
  'sessions_created_total',
  'exec_rejected_total',
  'sessions_active',
  'sessions_total',
  'exec_in_flight',
  'sessions_disk_bytes',
];

test('wasmrun: the seed example, number for number', async () => {
  // The seed's figures: 12 successes, 1 error, 4 200 ms over 13 runs, 20 sessions created, 3 active…
  // (durations whose float sum is exact: the ms sum is seconds × 1000, see the report)
  const served = await serveOnce('wasmrun', {
    json: true,
    feed: (jm) => {
      for (let i = 0; i < 12; i++)
        jm.recordRun({ task: 'exec', runner: 'wasm', outcome: 'success', durationSeconds: 0.25 });
      jm.recordRun({ task: 'exec', runner: 'wasm', outcome: 'failure', durationSeconds: 1.2 });
      for (let i = 0; i < 20; i++) jm.sessionCreated();
      jm.startRun({ task: 'exec', runner: 'wasm' });
      jm.setSnapshotSource(() => ({ sessions: { active: 3, tracked: 3, diskBytes: 16384 } }));
    },
  });
  assert.equal(served.status, 200);
  assert.equal(served.contentType, 'application/json; charset=utf-8');
  assert.deepEqual(JSON.parse(served.body), {
    exec_total: { success: 12, error: 1, timeout: 0 },
    exec_duration_ms_sum: 4200,
    exec_duration_ms_count: 13,
    output_truncated_total: 0,
    sessions_created_total: 20,
    exec_rejected_total: { concurrency: 0, payload: 0, unauthorized: 0 },
    sessions_active: 3,
    sessions_total: 3,
    exec_in_flight: 1,
    sessions_disk_bytes: 16384,
    // Open mode: the array is always there; the host listed no sessions.
    sessions: [],
  });
  assert.deepEqual(
    Object.keys(JSON.parse(served.body)),
    [...WASMRUN_KEYS, 'sessions'],
    'the seed order',
  );
});

test("wasmrun: the flat keys are all there before anything happened, and open mode's sessions array, empty", async () => {
  const doc = JSON.parse(
    (await serveOnce('wasmrun', { json: true, feed: () => {} })).body,
  ) as Record<string, unknown>;
  assert.deepEqual(Object.keys(doc), [...WASMRUN_KEYS, 'sessions']);
  assert.deepEqual(doc.sessions, []);
  assert.deepEqual(doc.exec_total, { success: 0, error: 0, timeout: 0 });
  assert.deepEqual(doc.exec_rejected_total, { concurrency: 0, payload: 0, unauthorized: 0 });
});

test('wasmrun: open mode adds the per-session breakdown (id, disk_bytes, memory_cap_pages; null = unlimited)', async () => {
  const snapshot = demoSnapshot();
  const doc = JSON.parse(
    (await serveOnce('wasmrun', { json: true, feed: (jm) => jm.setSnapshotSource(() => snapshot) }))
      .body,
  ) as Record<string, unknown>;
  assert.deepEqual(Object.keys(doc), [...WASMRUN_KEYS, 'sessions']);
  assert.deepEqual(doc.sessions, [
    { id: 'a1b2c3', disk_bytes: 8192, memory_cap_pages: 4096 },
    { id: 'd4e5f6', disk_bytes: 4096, memory_cap_pages: null },
    { id: '0a9b8c', disk_bytes: 4096, memory_cap_pages: 1024 },
  ]);
  // The demo's figures agree: as many listed as active, their disk bytes the aggregate.
  const sessions = doc.sessions as { disk_bytes: number }[];
  assert.equal(sessions.length, doc.sessions_active);
  assert.equal(
    sessions.reduce((sum, x) => sum + x.disk_bytes, 0),
    doc.sessions_disk_bytes,
  );
  const text = (await serveOnce('wasmrun', { feed: (jm) => jm.setSnapshotSource(() => snapshot) }))
    .body;
  assert.doesNotMatch(
    text,
    /a1b2c3|d4e5f6|0a9b8c/,
    'session ids never reach the Prometheus format',
  );
});

test('rm: the generic shape — families with name, type, help, unit and series; histograms with cumulative buckets', async () => {
  const served = await serveOnce('rm', {
    json: true,
    feed: (jm) => {
      jm.recordRun({ task: 'a', kind: 'backup', outcome: 'success', durationSeconds: 300 });
      jm.recordRun({ task: 'a', kind: 'backup', outcome: 'success', durationSeconds: 2 });
      jm.setSnapshotSource(() => ({
        hosts: [
          {
            id: 'H1',
            name: 'alpha',
            online: true,
            snapshotCount: 4,
            openAlerts: 0,
            repoStatus: 'ready',
          },
        ],
      }));
    },
  });
  assert.equal(served.contentType, 'application/json; charset=utf-8');
  const doc = JSON.parse(served.body) as {
    families: Array<{ name: string; type: string; help: string; unit: string; series: unknown[] }>;
  };
  assert.deepEqual(Object.keys(doc), ['families']);
  for (const f of doc.families)
    assert.deepEqual(Object.keys(f), ['name', 'type', 'help', 'unit', 'series'], f.name);
  const byName = new Map(doc.families.map((f) => [f.name, f]));
  assert.deepEqual(byName.get('rm_hosts_total'), {
    name: 'rm_hosts_total',
    type: 'gauge',
    help: 'Total number of enrolled hosts (excludes pending announces).',
    unit: '',
    series: [{ labels: {}, value: 1 }],
  });
  assert.deepEqual(byName.get('rm_host_snapshot_count')!.series, [
    { labels: { host_id: 'H1', host: 'alpha' }, value: 4 },
  ]);
  const h = byName.get('rm_job_duration_seconds')!;
  assert.equal(h.type, 'histogram');
  assert.equal(h.unit, 'seconds');
  assert.deepEqual(h.series, [
    {
      labels: { kind: 'backup', status: 'succeeded' },
      buckets: [
        [1, 0],
        [5, 1],
        [30, 1],
        [60, 1],
        [300, 2],
        [1800, 2],
        [3600, 2],
        [21600, 2],
        [86400, 2],
        ['+Inf', 2],
      ],
      sum: 302,
      count: 2,
    },
  ]);
  assert.ok(!('sessions' in doc), 'the sessions breakdown is wasmrun-only');
});

test('crewshipd: the generic shape keeps the hostname label on every series', async () => {
  const doc = JSON.parse((await serveOnce('crewshipd', { json: true, feed: () => {} })).body) as {
    families: Array<{ name: string; series: Array<{ labels: Record<string, string> }> }>;
  };
  assert.ok(doc.families.length > 0);
  for (const f of doc.families)
    for (const s of f.series) assert.equal(s.labels.hostname, 'demo-host', f.name);
  const assignments = doc.families.find((f) => f.name === 'crewshipd_assignments')!;
  assert.deepEqual(
    assignments.series.map((s) => s.labels.status),
    ['pending', 'queued', 'running', 'completed', 'failed', 'cancelled', 'other'],
  );
});
