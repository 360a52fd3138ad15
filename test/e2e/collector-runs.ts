/**
 * Runs a foreign daemon and an embedded jobmeter both record, per legacy profile, for the tests
 * that compare them through the Collector (collector-views.test.ts, collector-daemon-gateway.test.ts):
 * kinds and runners inside each profile's closed sets, durations across its buckets. crewshipd
 * serves no run figure: its series are its records' (CREWSHIPD_RECORDS).
 */
import type { Recorder } from '../../src/domain/recorder.ts';
import type { HostSnapshot } from '../../src/domain/snapshot.ts';

export interface Run {
  task: string;
  kind: string;
  runner: string;
  outcome: 'success' | 'failure' | 'cancelled' | 'timeout';
  seconds: number;
  /** Seconds before its start the job was enqueued (the domain API's `enqueuedAt`). */
  enqueuedBefore?: number;
  /** Seconds before its start the run was due (`scheduledAt`). */
  dueBefore?: number;
  /** Which attempt it is (`attempt`; the daemon records its `attempt` attribute: 1, 2, 3, 4+). */
  attempt?: number;
}

/**
 * solti's runs again, each saying what it did before it ran: waits across the second-scale
 * buckets (0.5 s to 700 s), a late start, retries (6: `4+`). Times in whole milliseconds, so the
 * daemon's seconds and jobmeter's (from epoch milliseconds) are the same numbers.
 */
export const QUEUED_RUNS: readonly Run[] = [
  {
    task: 'build',
    kind: 'task',
    runner: 'subprocess',
    outcome: 'success',
    seconds: 0.3,
    enqueuedBefore: 3,
    attempt: 1,
  },
  {
    task: 'lint',
    kind: 'task',
    runner: 'subprocess',
    outcome: 'success',
    seconds: 0.04,
    enqueuedBefore: 2.5,
    dueBefore: 0.5,
    attempt: 2,
  },
  {
    task: 'test',
    kind: 'task',
    runner: 'wasm',
    outcome: 'cancelled',
    seconds: 12,
    dueBefore: 700,
    attempt: 6,
  },
  {
    task: 'deploy',
    kind: 'task',
    runner: 'container',
    outcome: 'failure',
    seconds: 700,
    enqueuedBefore: 0.5,
    attempt: 3,
  },
];

/** The queue wait jobmeter records for a run: from the later of its enqueue and due times. */
export function waitOf(run: Run): number | undefined {
  const before = [run.enqueuedBefore, run.dueBefore].filter((s) => s !== undefined);
  return before.length === 0 ? undefined : Math.min(...before);
}

/** The `attempt` attribute of attempt `n`. */
export const attemptOf = (n: number): string => (n >= 4 ? '4+' : String(n));

export const RUNS: Readonly<
  Record<'rm' | 'solti' | 'runwisp' | 'wasmrun' | 'crewshipd', readonly Run[]>
> = {
  crewshipd: [],
  rm: [
    { task: 'nightly', kind: 'backup', runner: 'subprocess', outcome: 'success', seconds: 20 },
    { task: 'weekly', kind: 'backup', runner: 'subprocess', outcome: 'success', seconds: 200 },
    { task: 'nightly', kind: 'prune', runner: 'subprocess', outcome: 'failure', seconds: 4000 },
    { task: 'nightly', kind: 'prune', runner: 'subprocess', outcome: 'timeout', seconds: 30000 },
  ],
  runwisp: [
    { task: 'nightly-backup', kind: 'task', runner: 'subprocess', outcome: 'success', seconds: 42 },
    {
      task: 'nightly-backup',
      kind: 'task',
      runner: 'subprocess',
      outcome: 'failure',
      seconds: 3.5,
    },
    { task: 'web', kind: 'service', runner: 'subprocess', outcome: 'cancelled', seconds: 600 },
  ],
  wasmrun: [
    { task: 'exec', kind: 'task', runner: 'wasm', outcome: 'success', seconds: 0.3 },
    { task: 'exec', kind: 'task', runner: 'wasm', outcome: 'failure', seconds: 0.05 },
    { task: 'exec', kind: 'task', runner: 'wasm', outcome: 'timeout', seconds: 30 },
  ],
  solti: [
    { task: 'build', kind: 'task', runner: 'subprocess', outcome: 'success', seconds: 0.3 },
    { task: 'lint', kind: 'task', runner: 'subprocess', outcome: 'success', seconds: 0.04 },
    { task: 'test', kind: 'task', runner: 'wasm', outcome: 'cancelled', seconds: 12 },
    { task: 'deploy', kind: 'task', runner: 'container', outcome: 'failure', seconds: 700 },
  ],
};

/** A figure the Go daemon observes (test/peers/go-daemon: `gauges`, `counters`). */
export interface ObservedPoint {
  name: string;
  value: number;
  attributes: Record<string, string>;
}

/**
 * crewshipd's records, twice: as the snapshot an embedded jobmeter reports (`snapshot`), and as a
 * Go daemon observes them on the canonical instruments (`gauges`, `counters`). Odd on purpose: a
 * status outside the closed set (`archived`, folded into `other` on both sides), a journal event
 * outside it (`paused`, dropped on both sides), and LLM figures the daemon keeps per model, an
 * attribute the profile has no label for (the views' allow-list drops it and the SDK sums).
 * Values are exact in binary, so sums in any order agree.
 */
export const CREWSHIPD_RECORDS: {
  snapshot: HostSnapshot;
  gauges: ObservedPoint[];
  counters: ObservedPoint[];
} = (() => {
  const assignments = { pending: 1, queued: 4, running: 2, completed: 40, failed: 3, archived: 2 };
  const pipelineRuns = { queued: 1, running: 1, completed: 12, failed: 1, dry_run: 2 };
  const agentRunEvents = { started: 50, completed: 44, failed: 4, paused: 3 };
  const llm = [
    {
      provider: 'anthropic',
      models: [
        { model: 'small', calls: 10, costUsd: 0.25 },
        { model: 'large', calls: 20, costUsd: 1.5 },
      ],
    },
    { provider: 'openai', models: [{ model: 'small', calls: 6, costUsd: 0.125 }] },
  ];
  const one = (name: string, value: number): ObservedPoint => ({ name, value, attributes: {} });
  const byKey = (name: string, key: string, values: Record<string, number>): ObservedPoint[] =>
    Object.entries(values).map(([k, value]) => ({ name, value, attributes: { [key]: k } }));
  const perModel = (name: string, figure: 'calls' | 'costUsd'): ObservedPoint[] =>
    llm.flatMap(({ provider, models }) =>
      models.map((m) => ({ name, value: m[figure], attributes: { provider, model: m.model } })),
    );
  return {
    snapshot: {
      assignments,
      pipelineRuns,
      queue: { depth: 4, groups: 2, depthMax: 3 },
      agentRunEvents,
      llm: llm.map(({ provider, models }) => ({
        provider,
        calls: models.reduce((n, m) => n + m.calls, 0),
        costUsd: models.reduce((n, m) => n + m.costUsd, 0),
      })),
      containers: { tracked: 3, reporting: 2 },
      dbMigrationVersion: 42,
      websocketConnections: 2,
    },
    gauges: [
      ...byKey('jobmeter.assignments', 'status', assignments),
      ...byKey('jobmeter.pipeline_runs', 'status', pipelineRuns),
      one('jobmeter.queue.depth', 4),
      one('jobmeter.queue.groups', 2),
      one('jobmeter.queue.depth.max', 3),
      one('jobmeter.container.tracked', 3),
      one('jobmeter.container.reporting', 2),
      one('jobmeter.db.migration.version', 42),
      one('jobmeter.websocket.connections', 2),
    ],
    counters: [
      ...byKey('jobmeter.agent_run.events', 'event', agentRunEvents),
      ...perModel('jobmeter.llm.calls', 'calls'),
      ...perModel('jobmeter.llm.cost', 'costUsd'),
    ],
  };
})();

/** The daemon's runs, recorded through jobmeter's domain API: the times as epoch milliseconds before now. */
export function recordRuns(jm: Recorder, runs: readonly Run[]): void {
  const now = Date.now();
  for (const r of runs) {
    const startedAt = now - r.seconds * 1000;
    const before = (seconds: number | undefined): number | undefined =>
      seconds === undefined ? undefined : startedAt - seconds * 1000;
    jm.recordRun({
      task: r.task,
      kind: r.kind,
      runner: r.runner,
      outcome: r.outcome,
      durationSeconds: r.seconds,
      startedAt,
      ...(r.enqueuedBefore !== undefined && { enqueuedAt: before(r.enqueuedBefore) }),
      ...(r.dueBefore !== undefined && { scheduledAt: before(r.dueBefore) }),
      ...(r.attempt !== undefined && { attempt: r.attempt }),
    });
  }
}
