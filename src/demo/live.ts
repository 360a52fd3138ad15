/**
 * `jobmeter serve --demo`: a profile's demo scenario (scenarios.ts) kept moving on the real clock,
 * as a daemon's figures move. After `runDemo` gives every series a value, every tick records the
 * scenario's next run (so counters and histograms advance), and now and then a rejection, a
 * runner error, a session; the host snapshot is derived from the same story at each collection:
 * its run history is the base plus every run recorded, its last failure the last failed run's
 * time, wasmrun's sessions the ones created and not yet expired (listed = active), rm's alpha host
 * backed up by its backup runs. Timestamps are relative to now. Each run is recorded as if traced
 * (a made-up sampled span), so the OpenMetrics and protobuf scrapes carry exemplars. Each run
 * also says how long it waited in its queue and which attempt it is, the scheduled task when it was
 * due; now and then a schedule is missed, and a queue source reports one queue's oldest waiting job
 * (its age climbs and drains) beside an empty one.
 *
 * It is written so that the originals' own alert expressions have data within a minute on a real
 * Prometheus: runwisp's `time() - runwisp_runs_last_failure_timestamp_seconds < 600` (a failure
 * every few ticks), crewshipd's failed/started agent-run ratio over 0.2 and its
 * `sum(increase(crewshipd_llm_cost_usd_total[1h])) > 5` (a runaway agent spending several dollars
 * a minute), rm's p95 job duration (backup runs every few ticks).
 */
import { randomBytes } from 'node:crypto';
import { ROOT_CONTEXT, trace, TraceFlags } from '@opentelemetry/api';
import type { Recorder } from '../domain/recorder.ts';
import type { HostRecord, HostSnapshot, SessionRecord } from '../domain/snapshot.ts';
import { OUTCOMES, type Outcome } from '../domain/types.ts';
import type { ProfileName } from '../options.ts';
import {
  DEMO_RUNS,
  DEMO_SESSIONS_TRACKED,
  demoSnapshot,
  runDemo,
  type DemoRun,
} from './scenarios.ts';

/** Milliseconds between two recorded runs of `jobmeter serve --demo`. */
export const DEMO_TICK_MS = 2000;

/** wasmrun keeps at most this many sessions active; the oldest expires when one more is created. */
const MAX_ACTIVE_SESSIONS = 5;
/** Queue waits cycle through 0.25 s … 2 s, one step per tick. */
const WAIT_STEP_MS = 250;
const WAIT_STEPS = 8;
/** Attempts by tick, in a cycle: mostly first runs, some retries, one past the third. */
const ATTEMPT_CYCLE = [1, 1, 2, 1, 3, 1, 5] as const;
/** One schedule in this many ticks is missed. */
const MISSED_EVERY = 9;
/** The busy queue's oldest job: its age climbs to this many seconds, then the queue drains. */
const OLDEST_CYCLE_SECONDS = 60;

/** crewshipd's LLM spend, in USD per second across providers: a runaway agent, over $5 within a minute. */
const LLM_USD_PER_SECOND = 0.15;

export interface LiveDemo {
  /** Stops the timer (the jobmeter itself is the caller's to shut down). */
  stop(): void;
}

export interface LiveDemoOptions {
  /** Milliseconds between two recorded runs. @default {@link DEMO_TICK_MS} */
  readonly tickMs?: number;
}

/**
 * Feeds `recorder` its profile's demo scenario, then keeps recording every `tickMs`. The snapshot
 * grows with elapsed time, not per call, so any number of scrapes sees the same story; it is
 * re-read on every collection (TTL 0: crewshipd's 15 s cache would flatten short rate windows).
 */
export function startLiveDemo(
  recorder: Recorder,
  profile: ProfileName,
  options: LiveDemoOptions = {},
): LiveDemo {
  const now = Date.now;
  const t0 = now();
  const base = demoSnapshot(t0 / 1000);
  runDemo(recorder, profile);

  // What the recorded runs add to the host's history.
  const recorded: Record<Outcome, number> = { success: 0, failure: 0, cancelled: 0, timeout: 0 };
  let lastFailureMs = base.lastFailureSeconds! * 1000;
  const noteRun = (run: DemoRun): void => {
    recorded[run.outcome]++;
    if (run.outcome === 'failure') lastFailureMs = now();
  };
  for (const run of DEMO_RUNS[profile]) noteRun(run);

  const sessions: SessionRecord[] = [...(base.sessions?.list ?? [])];
  let expired = DEMO_SESSIONS_TRACKED - sessions.length;
  let created = 0;
  const createSession = (): void => {
    recorder.sessionCreated();
    created++;
    sessions.push({
      id: `5e${created.toString(16).padStart(4, '0')}`,
      diskBytes: 4096 * (1 + (created % 3)),
      memoryCapPages: created % 2 === 0 ? 2048 : null,
    });
    if (sessions.length > MAX_ACTIVE_SESSIONS) {
      sessions.shift();
      // One expired session waits for the cleaner; an older one is gone.
      expired = 1;
    }
  };

  const [alpha, ...otherHosts] = base.hosts!;
  let alphaBackup = alpha!.lastBackup!;
  let alphaSnapshots = alpha!.snapshotCount;

  let tick = 0;
  const timer = setInterval(() => {
    const runs = DEMO_RUNS[profile];
    const run = runs[tick % runs.length]!;
    // Each run as if traced: a made-up sampled span, so the demo's duration buckets and finished
    // counters carry exemplars (docs/exemplars.md).
    const startedAt = now() - run.durationSeconds * 1000;
    const enqueuedAt = startedAt - WAIT_STEP_MS * (1 + (tick % WAIT_STEPS));
    recorder.recordRun({
      ...run,
      context: trace.setSpanContext(ROOT_CONTEXT, {
        traceId: randomBytes(16).toString('hex'),
        spanId: randomBytes(8).toString('hex'),
        traceFlags: TraceFlags.SAMPLED,
      }),
      startedAt,
      enqueuedAt,
      // The scenario's first task runs on a schedule: due when it was enqueued.
      ...(run.task === runs[0]!.task && { scheduledAt: enqueuedAt }),
      attempt: ATTEMPT_CYCLE[tick % ATTEMPT_CYCLE.length],
    });
    noteRun(run);
    // A run's attributes are its task, kind and runner: the rest of it is not read.
    if (tick % MISSED_EVERY === MISSED_EVERY - 1) recorder.missedSchedule(runs[0]!);
    if (profile === 'rm' && run.task === 'alpha' && run.kind === 'backup') {
      alphaBackup = { timeSeconds: now() / 1000, success: run.outcome === 'success' };
      if (run.outcome === 'success') alphaSnapshots++;
    }
    if (tick % 3 === 0) recorder.reject('concurrency');
    if (tick % 7 === 0) recorder.reject('unauthorized');
    if (tick % 5 === 0) createSession();
    if (tick % 6 === 0)
      recorder.runnerError(
        tick % 12 === 0 ? 'container' : 'wasm',
        tick % 12 === 0 ? 'cgroup_prepare_failed' : 'module_load_failed',
      );
    tick++;
  }, options.tickMs ?? DEMO_TICK_MS);
  timer.unref();

  const stopQueueSource = recorder.addQueueSource(
    () => {
      const ageMs = ((now() - t0) % (OLDEST_CYCLE_SECONDS * 1000)) + WAIT_STEP_MS;
      return { [QUEUES[0]]: now() - ageMs, [QUEUES[1]]: undefined };
    },
    { intervalMillis: Math.max(100, options.tickMs ?? DEMO_TICK_MS) },
  );

  let calls = 0;
  recorder.setSnapshotSource(
    () => {
      // One hiccup of the host's database early on: jobmeter serves the last good snapshot and
      // counts the failure (jobmeter_snapshot_failures_total under the otel profile).
      if (++calls === 3) throw new Error('live demo: database busy');
      const s = (now() - t0) / 1000;
      const b = base.runsByOutcome!;
      return {
        ...grownSnapshot(base, s),
        runsByOutcome: Object.fromEntries(OUTCOMES.map((o) => [o, b[o]! + recorded[o]])),
        lastFailureSeconds: lastFailureMs / 1000,
        sessions: {
          active: sessions.length,
          tracked: sessions.length + expired,
          diskBytes: sessions.reduce((sum, x) => sum + x.diskBytes, 0),
          list: [...sessions],
        },
        hosts: [
          {
            ...alpha!,
            lastBackup: alphaBackup,
            snapshotCount: alphaSnapshots,
            repoSizeBytes: alpha!.repoSizeBytes! + Math.floor(2_000_000 * s),
          },
          ...otherHosts,
          // A host whose backups keep failing: alpha's come and go with its runs, and the
          // "Backups failing" panel (and its recording rule) should always have one to show.
          GAMMA(now() / 1000),
        ],
      };
    },
    { ttlMillis: 0 },
  );
  return {
    stop: () => {
      clearInterval(timer);
      stopQueueSource();
    },
  };
}

/** The demo's queues: one with jobs waiting, one empty. */
const QUEUES = ['default', 'bulk'] as const;

/** The live demo's third rm host: online, its last backup failed an hour ago. */
const GAMMA = (nowSeconds: number): HostRecord => ({
  id: '01HZX8K2M3N4P5Q6R7S8T9V0W3',
  name: 'gamma',
  online: true,
  lastBackup: { timeSeconds: nowSeconds - 3600, success: false },
  repoSizeBytes: 1_073_741_824,
  snapshotCount: 12,
  openAlerts: 1,
  repoStatus: 'ready',
});

/** The demo snapshot `s` seconds later: journals and ledgers grown, queues moving. */
function grownSnapshot(base: HostSnapshot, s: number): HostSnapshot {
  const grow = (value: number, perSecond: number): number => value + Math.floor(perSecond * s);
  const events = base.agentRunEvents!;
  // A crew that is not consuming: the biggest crew's backlog climbs while the total stays near
  // flat (the other crews drain): the wedged-crew picture.
  const depth = 44 + Math.round(2 * Math.sin(s / 10));
  const wedged = Math.min(36, Math.floor(s / 6));
  // Agent runs started at 2/s, each given one outcome in a fixed cycle of 40 (a quarter failed:
  // crewshipd's alert is > 0.2), so every counter only grows and they add up to the started ones.
  const n = Math.floor(2 * s);
  const failed = Math.floor((n + 1) / 4);
  const cancelled = Math.floor((n + 39) / 40);
  const timeout = Math.floor((n + 19) / 40);
  const agentRunEvents = {
    started: events['started']! + n,
    completed: events['completed']! + n - failed - cancelled - timeout,
    failed: events['failed']! + failed,
    cancelled: events['cancelled']! + cancelled,
    timeout: events['timeout']! + timeout,
  };
  const llm = base.llm!;
  // Provider i's share of the spend is proportional to i + 1.
  const shares = (llm.length * (llm.length + 1)) / 2;
  return {
    ...base,
    agentRunEvents,
    llm: llm.map((l, i) => ({
      ...l,
      calls: grow(l.calls, 0.02 * (i + 1)),
      costUsd: l.costUsd + (LLM_USD_PER_SECOND * (i + 1) * s) / shares,
    })),
    queue: { depth, groups: 5, depthMax: 3 + wedged },
    assignments: {
      ...base.assignments,
      queued: depth,
      completed: grow(40, 1.5),
      failed: grow(3, 0.5),
    },
  };
}
