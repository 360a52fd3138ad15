/**
 * A profile's demo scenario (src/demo/scenarios.ts) kept moving: `runDemo` gives every series a
 * value; this adds a steady trickle of runs, rejections, runner errors and sessions, and a host
 * snapshot whose counters grow with time. Rates and quantiles then have data in any window, as on
 * a real daemon. Used by the dashboard tests and the picture renderer.
 */
import { demoSnapshot, runDemo } from '../../src/demo/scenarios.ts';
import type { FinishedRun, Jobmeter } from '../../src/index.ts';
import type { HostSnapshot } from '../../src/domain/snapshot.ts';
import type { ProfileName } from '../../src/options.ts';

/** Runs recorded in turn, one per tick: `kind` and `runner` mean what each original means. */
const LIVE_RUNS: Readonly<Record<ProfileName, readonly FinishedRun[]>> = {
  otel: [
    { task: 'nightly-backup', kind: 'task', runner: 'subprocess', outcome: 'success', durationSeconds: 40 },
    { task: 'lint', kind: 'task', runner: 'subprocess', outcome: 'success', durationSeconds: 3 },
    { task: 'lint', kind: 'task', runner: 'subprocess', outcome: 'failure', durationSeconds: 2 },
    { task: 'deploy', kind: 'task', runner: 'subprocess', outcome: 'success', durationSeconds: 12 },
    { task: 'lint', kind: 'task', runner: 'subprocess', outcome: 'timeout', durationSeconds: 30 },
  ],
  runwisp: [
    { task: 'nightly-backup', kind: 'task', outcome: 'success', durationSeconds: 40 },
    { task: 'nightly-backup', kind: 'task', outcome: 'success', durationSeconds: 44 },
    { task: 'report', kind: 'task', outcome: 'failure', durationSeconds: 2 },
  ],
  wasmrun: [
    { task: 'exec', runner: 'wasm', outcome: 'success', durationSeconds: 0.3 },
    { task: 'exec', runner: 'wasm', outcome: 'success', durationSeconds: 0.6, outputTruncated: true },
    { task: 'exec', runner: 'wasm', outcome: 'failure', durationSeconds: 0.05 },
    { task: 'exec', runner: 'wasm', outcome: 'success', durationSeconds: 1.2 },
    { task: 'exec', runner: 'wasm', outcome: 'timeout', durationSeconds: 3 },
  ],
  crewshipd: [{ task: 'crew-run', kind: 'agent', outcome: 'success', durationSeconds: 12 }],
  rm: [
    { task: 'alpha', kind: 'backup', outcome: 'success', durationSeconds: 240 },
    { task: 'alpha', kind: 'check', outcome: 'success', durationSeconds: 20 },
    { task: 'beta', kind: 'prune', outcome: 'success', durationSeconds: 900 },
    { task: 'alpha', kind: 'backup', outcome: 'failure', durationSeconds: 45 },
  ],
  solti: [
    { task: 't1', runner: 'subprocess', outcome: 'success', durationSeconds: 0.2 },
    { task: 't2', runner: 'wasm', outcome: 'success', durationSeconds: 1.5 },
    { task: 't3', runner: 'container', outcome: 'success', durationSeconds: 20 },
    { task: 't4', runner: 'subprocess', outcome: 'failure', durationSeconds: 0.4 },
    { task: 't5', runner: 'container', outcome: 'cancelled', durationSeconds: 8 },
    { task: 't6', runner: 'wasm', outcome: 'timeout', durationSeconds: 60 },
  ],
};

export interface LiveDemo {
  /** Stops the timer (the jobmeter itself is the caller's to shut down). */
  stop(): void;
}

export interface LiveDemoOptions {
  /** Milliseconds between two recorded runs. @default 250 */
  readonly tickMs?: number;
  /** The clock (ms), for the snapshot's growth and last-failure time. @default Date.now */
  readonly now?: () => number;
}

/**
 * Feeds `jm` its profile's demo scenario, then keeps recording. The snapshot grows with elapsed
 * time, not per call, so any number of scrapes sees the same story; it is re-read on every
 * collection (TTL 0: the crewshipd profile's 15 s cache would flatten short rate windows).
 */
export function startLiveDemo(jm: Jobmeter, profile: ProfileName, options: LiveDemoOptions = {}): LiveDemo {
  const now = options.now ?? Date.now;
  runDemo(jm, profile);
  const t0 = now();
  const base = demoSnapshot();
  let tick = 0;
  let lastFailureMs = t0;

  const timer = setInterval(() => {
    const runs = LIVE_RUNS[profile];
    const run = runs[tick % runs.length]!;
    jm.recordRun(run);
    if (run.outcome === 'failure') lastFailureMs = now();
    if (tick % 3 === 0) jm.reject('concurrency');
    if (tick % 7 === 0) jm.reject('unauthorized');
    if (tick % 5 === 0) jm.sessionCreated();
    if (tick % 6 === 0) jm.runnerError(tick % 12 === 0 ? 'container' : 'wasm', tick % 12 === 0 ? 'cgroup_prepare_failed' : 'module_load_failed');
    tick++;
  }, options.tickMs ?? 250);
  timer.unref();

  let calls = 0;
  jm.setSnapshotSource(
    () => {
      // One hiccup of the host's database early on: jobmeter serves the last good snapshot and
      // counts the failure (jobmeter_snapshot_failures_total under the otel profile).
      if (++calls === 3) throw new Error('live demo: database busy');
      return grownSnapshot(base, (now() - t0) / 1000, lastFailureMs / 1000);
    },
    { ttlMillis: 0 },
  );
  return { stop: () => clearInterval(timer) };
}

/** The demo snapshot `s` seconds later: journals and ledgers grown, queues and repos moving. */
function grownSnapshot(base: HostSnapshot, s: number, lastFailureSeconds: number): HostSnapshot {
  const grow = (value: number, perSecond: number): number => value + Math.floor(perSecond * s);
  const events = base.agentRunEvents!;
  // A crew that is not consuming: the biggest crew's backlog climbs while the total stays near
  // flat (the other crews drain): the wedged-crew picture.
  const depth = 44 + Math.round(2 * Math.sin(s / 10));
  const wedged = Math.min(36, Math.floor(s / 6));
  return {
    ...base,
    runsByOutcome: { success: grow(118, 3), failure: grow(3, 0.5), cancelled: grow(1, 0.1), timeout: 0 },
    lastFailureSeconds,
    agentRunEvents: {
      started: grow(events['started']!, 2),
      completed: grow(events['completed']!, 1.4),
      failed: grow(events['failed']!, 0.5),
      cancelled: grow(events['cancelled']!, 0.05),
      timeout: grow(events['timeout']!, 0.05),
    },
    // About $5.6 an hour across the twelve providers: just over crewshipd's $5/h alert.
    llm: base.llm!.map((l, i) => ({ ...l, calls: grow(l.calls, 0.02 * (i + 1)), costUsd: l.costUsd + 0.00002 * (i + 1) * s })),
    queue: { depth, groups: 5, depthMax: 3 + wedged },
    assignments: { ...base.assignments, queued: depth, completed: grow(40, 1.5), failed: grow(3, 0.5) },
    hosts: base.hosts!.map((h) => (h.repoSizeBytes === undefined ? h : { ...h, repoSizeBytes: h.repoSizeBytes + Math.floor(2_000_000 * s) })),
  };
}
