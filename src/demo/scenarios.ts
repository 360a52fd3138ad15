/**
 * The built-in scenario per profile that exercises every series of that profile, so a user can
 * see a profile's whole surface before wiring a host: `runDemo` records it once, at a fixed
 * instant (the golden renders use it; only process/host figures vary between runs);
 * `jobmeter serve --demo` keeps it moving on the real clock (live.ts).
 *
 * The figures agree with each other as the originals' would: wasmrun lists as many sessions as
 * are active, their disk footprints add up to `sessions_disk_bytes`, and it created at least as
 * many sessions as it tracks.
 */
import { LLM_PROVIDER_CAP } from '../domain/catalog.ts';
import type { Recorder, RunAttributes } from '../domain/recorder.ts';
import type { HostSnapshot } from '../domain/snapshot.ts';
import type { Outcome } from '../domain/types.ts';
import type { ProfileName } from '../options.ts';

/** Fixed "now" of the scenario's snapshot timestamps: 2026-06-13T11:18:55Z. */
export const DEMO_NOW_SECONDS = 1_781_349_535;

export interface DemoRun extends RunAttributes {
  readonly outcome: Outcome;
  readonly durationSeconds: number;
  readonly outputTruncated?: boolean;
}

/** The native profiles' runs; kind: the domain's default, task. */
const NATIVE_RUNS: readonly DemoRun[] = [
  { task: 'nightly-backup', runner: 'subprocess', outcome: 'success', durationSeconds: 42 },
  { task: 'nightly-backup', runner: 'subprocess', outcome: 'failure', durationSeconds: 3.5 },
  { task: 'lint', runner: 'subprocess', outcome: 'timeout', durationSeconds: 30 },
];

/** Per-profile runs, because `kind` and `runner` mean what each original means by them. */
export const DEMO_RUNS: Readonly<Record<ProfileName, readonly DemoRun[]>> = {
  otel: NATIVE_RUNS,
  // Every outcome, so each of the convention's results (and `error.type` on both failures) shows.
  semconv: [
    ...NATIVE_RUNS,
    { task: 'deploy', runner: 'container', outcome: 'cancelled', durationSeconds: 12 },
  ],
  runwisp: [
    { task: 'nightly-backup', kind: 'task', outcome: 'success', durationSeconds: 42 },
    { task: 'nightly-backup', kind: 'task', outcome: 'failure', durationSeconds: 3.5 },
    { task: 'web', kind: 'service', outcome: 'cancelled', durationSeconds: 600 },
  ],
  wasmrun: [
    { task: 'exec', runner: 'wasm', outcome: 'success', durationSeconds: 0.3 },
    {
      task: 'exec',
      runner: 'wasm',
      outcome: 'success',
      durationSeconds: 0.9,
      outputTruncated: true,
    },
    { task: 'exec', runner: 'wasm', outcome: 'failure', durationSeconds: 0.05 },
    { task: 'exec', runner: 'wasm', outcome: 'timeout', durationSeconds: 3 },
  ],
  crewshipd: [{ task: 'crew-run', kind: 'agent', outcome: 'success', durationSeconds: 12 }],
  rm: [
    { task: 'alpha', kind: 'backup', outcome: 'success', durationSeconds: 300 },
    { task: 'alpha', kind: 'backup', outcome: 'failure', durationSeconds: 5 },
    { task: 'beta', kind: 'prune', outcome: 'success', durationSeconds: 1800 },
    { task: 'beta', kind: 'check', outcome: 'cancelled', durationSeconds: 1 },
  ],
  solti: [
    { task: 't1', runner: 'subprocess', outcome: 'success', durationSeconds: 0.25 },
    { task: 't2', runner: 'wasm', outcome: 'failure', durationSeconds: 2.5 },
    { task: 't3', runner: 'container', outcome: 'cancelled', durationSeconds: 60 },
    { task: 't4', runner: 'subprocess', outcome: 'timeout', durationSeconds: 3600 },
  ],
};

/** In flight while the demo serves. */
const ACTIVE: Readonly<Record<ProfileName, readonly RunAttributes[]>> = {
  otel: [{ task: 'deploy', runner: 'subprocess' }],
  semconv: [{ task: 'deploy', runner: 'container' }],
  runwisp: [
    { task: 'web', kind: 'service' },
    { task: 'nightly-backup', kind: 'task' },
  ],
  wasmrun: [{ task: 'exec', runner: 'wasm' }],
  crewshipd: [],
  rm: [],
  solti: [{ task: 't5', runner: 'container' }],
};

/** wasmrun's sessions: three active (listed), one expired but not yet cleaned. */
const DEMO_SESSIONS = [
  { id: 'a1b2c3', diskBytes: 8192, memoryCapPages: 4096 },
  { id: 'd4e5f6', diskBytes: 4096, memoryCapPages: null },
  { id: '0a9b8c', diskBytes: 4096, memoryCapPages: 1024 },
] as const;
/** Sessions tracked: the active ones and one expired. The scenario creates as many. */
export const DEMO_SESSIONS_TRACKED = DEMO_SESSIONS.length + 1;

/**
 * The host snapshot every profile's demo serves (each profile renders the parts it knows), its
 * timestamps relative to `nowSeconds`.
 */
export function demoSnapshot(nowSeconds: number = DEMO_NOW_SECONDS): HostSnapshot {
  return {
    runsByOutcome: { success: 118, failure: 3, cancelled: 1, timeout: 0 },
    lastFailureSeconds: nowSeconds - 120,
    sessions: {
      active: DEMO_SESSIONS.length,
      tracked: DEMO_SESSIONS_TRACKED,
      diskBytes: DEMO_SESSIONS.reduce((sum, s) => sum + s.diskBytes, 0),
      list: DEMO_SESSIONS,
    },
    // `archived` is not a crewshipd status: it folds into `other`.
    assignments: {
      pending: 1,
      queued: 4,
      running: 2,
      completed: 40,
      failed: 3,
      cancelled: 1,
      archived: 2,
    },
    pipelineRuns: { queued: 1, running: 1, completed: 12, failed: 1, dry_run: 2 },
    queue: { depth: 4, groups: 2, depthMax: 3 },
    agentRunEvents: { started: 50, completed: 44, failed: 4, cancelled: 1, timeout: 1 },
    // More providers than the cap: the last ones fold into provider="other".
    llm: Array.from({ length: LLM_PROVIDER_CAP + 2 }, (_, i) => ({
      provider: `provider-${String(i + 1).padStart(2, '0')}`,
      calls: 10 * (i + 1),
      costUsd: 0.25 * (i + 1),
    })),
    containers: { tracked: 3, reporting: 2 },
    dbMigrationVersion: 42,
    websocketConnections: 2,
    alerts: { warning: 1, critical: 1 },
    hosts: [
      {
        id: '01HZX8K2M3N4P5Q6R7S8T9V0W1',
        name: 'alpha',
        online: true,
        lastBackup: { timeSeconds: nowSeconds - 3600, success: false },
        repoSizeBytes: 5_368_709_120,
        snapshotCount: 48,
        openAlerts: 2,
        repoStatus: 'ready',
      },
      // No backup yet and an unknown repo size: those series are omitted for this host.
      {
        id: '01HZX8K2M3N4P5Q6R7S8T9V0W2',
        name: 'beta',
        online: false,
        snapshotCount: 0,
        openAlerts: 0,
        repoStatus: 'init_failed',
      },
    ],
  };
}

/** Feeds `recorder` with `profile`'s scenario. Deterministic apart from the in-flight handles' clocks. */
export function runDemo(recorder: Recorder, profile: ProfileName): void {
  for (const run of DEMO_RUNS[profile]) recorder.recordRun(run);
  for (const run of ACTIVE[profile]) recorder.startRun(run);
  recorder.reject('concurrency');
  recorder.reject('unauthorized');
  for (let i = 0; i < DEMO_SESSIONS_TRACKED; i++) recorder.sessionCreated();
  recorder.runnerError('wasm', 'module_load_failed');
  recorder.runnerError('container', 'cgroup_prepare_failed');
  const snapshot = demoSnapshot();
  recorder.setSnapshotSource(() => snapshot);
}
