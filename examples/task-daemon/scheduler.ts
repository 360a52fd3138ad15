/**
 * Runs each task's command on its interval as a child process and records every run through
 * jobmeter's domain API: `startRun` (with when its trigger was queued and, for a schedule tick,
 * when it was due: its queue wait and lateness) → `finish(outcome)`, `reject('concurrency')` for a
 * trigger that finds the task's queue full (and `missedSchedule` when that trigger was a schedule
 * tick: that run never happens), `runnerError('subprocess', 'spawn_failed')` when the command
 * cannot be started. Each task's queue is a queue source (its oldest waiting trigger's age); the
 * queues and the journal are offered as the host snapshot.
 *
 * Concurrency: one run per task at a time, and at most `slots` runs in all; a due run waits in its
 * task's queue (up to `maxQueued`) for both.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Outcome, Recorder, RunAttributes, RunHandle } from 'jobmeter';
import type { TaskSpec } from './tasks.ts';

export interface SchedulerOptions {
  /** Runs in progress at once, across tasks. @default 4 */
  readonly slots?: number;
  /** Bytes of stdout+stderr kept per run; more marks the run's output truncated. @default 16384 */
  readonly outputCapBytes?: number;
  /** Finished runs kept for `GET /tasks` and the snapshot's assignment counts. @default 500 */
  readonly journalSize?: number;
}

export interface RunRecord {
  readonly task: string;
  readonly outcome: Outcome;
  readonly exitCode: number | null;
  readonly startedAt: string;
  readonly durationSeconds: number;
  readonly output: string;
  readonly outputTruncated: boolean;
}

export interface TaskStatus {
  readonly name: string;
  readonly kind: 'task' | 'service';
  readonly command: string | readonly string[];
  readonly everySeconds: number;
  readonly running: boolean;
  readonly queued: number;
  readonly lastRun: RunRecord | undefined;
}

export type TriggerResult = 'queued' | 'rejected' | 'unknown-task' | 'stopped';

/** A trigger waiting in its task's queue: when it was queued, and when it was due (a schedule tick). */
interface Waiting {
  readonly enqueuedAt: number;
  readonly scheduledAt?: number;
}

interface TaskState {
  readonly spec: TaskSpec;
  waiting: Waiting[];
  running: ChildProcess | undefined;
  timer: NodeJS.Timeout | undefined;
  lastRun: RunRecord | undefined;
}

const KILL_GRACE_MS = 1_000;

export class Scheduler {
  readonly #recorder: Recorder;
  readonly #tasks = new Map<string, TaskState>();
  readonly #slots: number;
  readonly #cap: number;
  readonly #journalSize: number;
  readonly #journal: RunRecord[] = [];
  /** Cumulative lifecycle events, the snapshot's journal counts. */
  readonly #events = { started: 0, completed: 0, failed: 0, cancelled: 0, timeout: 0 };
  readonly #inFlight = new Set<Promise<void>>();
  readonly #stopQueueSource: () => void;
  #running = 0;
  #stopped = false;

  constructor(recorder: Recorder, tasks: readonly TaskSpec[], options: SchedulerOptions = {}) {
    this.#recorder = recorder;
    this.#slots = options.slots ?? 4;
    this.#cap = options.outputCapBytes ?? 16_384;
    this.#journalSize = options.journalSize ?? 500;
    for (const spec of tasks) {
      if (this.#tasks.has(spec.name)) throw new Error(`task ${spec.name} is defined twice`);
      this.#tasks.set(spec.name, {
        spec,
        waiting: [],
        running: undefined,
        timer: undefined,
        lastRun: undefined,
      });
    }
    // The queue and journal live in memory, so reading them costs nothing: no cache (the
    // crewshipd profile's 15 s default protects a database, which this daemon does not have).
    recorder.setSnapshotSource(() => this.#snapshot(), { ttlMillis: 0 });
    // Each task's queue: when its oldest waiting trigger was queued (none: undefined, age 0).
    this.#stopQueueSource = recorder.addQueueSource(
      () => new Map([...this.#tasks].map(([name, s]) => [name, s.waiting[0]?.enqueuedAt])),
      { intervalMillis: 1000 },
    );
  }

  /** Runs every task once now, then on its interval; a service is restarted when it has exited. */
  start(): void {
    for (const state of this.#tasks.values()) {
      this.trigger(state.spec.name, true);
      state.timer = setInterval(() => {
        if (
          state.spec.kind === 'service' &&
          (state.running !== undefined || state.waiting.length > 0)
        )
          return;
        this.trigger(state.spec.name, true);
      }, state.spec.everySeconds * 1000);
    }
  }

  /** Queues one run of `name`: a schedule tick (`scheduled`) or `POST /tasks/:name/run`. */
  trigger(name: string, scheduled = false): TriggerResult {
    if (this.#stopped) return 'stopped';
    const state = this.#tasks.get(name);
    if (state === undefined) return 'unknown-task';
    if (state.waiting.length >= (state.spec.maxQueued ?? 1)) {
      // Turned away before doing any work: the task is still busy with earlier triggers. A
      // schedule tick turned away is a scheduled run that never happens.
      this.#recorder.reject('concurrency');
      if (scheduled) this.#recorder.missedSchedule(attributesOf(state.spec));
      return 'rejected';
    }
    const now = Date.now();
    state.waiting.push({ enqueuedAt: now, ...(scheduled && { scheduledAt: now }) });
    this.#dispatch();
    return 'queued';
  }

  status(): TaskStatus[] {
    return [...this.#tasks.values()].map((s) => ({
      name: s.spec.name,
      kind: s.spec.kind ?? 'task',
      command: s.spec.command,
      everySeconds: s.spec.everySeconds,
      running: s.running !== undefined,
      queued: s.waiting.length,
      lastRun: s.lastRun,
    }));
  }

  /** Stops the timers, drops queued runs, and cancels the runs in progress; resolves once they ended. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#stopQueueSource();
    for (const state of this.#tasks.values()) {
      clearInterval(state.timer);
      state.waiting = [];
      if (state.running !== undefined) killGroup(state.running, 'SIGTERM');
    }
    await Promise.allSettled([...this.#inFlight]);
  }

  #dispatch(): void {
    for (const state of this.#tasks.values()) {
      if (this.#running >= this.#slots) return;
      const job = state.running === undefined ? state.waiting.shift() : undefined;
      if (job === undefined) continue;
      const done = this.#run(state, job).finally(() => {
        this.#inFlight.delete(done);
        this.#running--;
        if (!this.#stopped) this.#dispatch();
      });
      this.#running++;
      this.#inFlight.add(done);
    }
  }

  async #run(state: TaskState, job: Waiting): Promise<void> {
    const { spec } = state;
    // This daemon never retries: every run is its trigger's first attempt.
    const handle: RunHandle = this.#recorder.startRun(attributesOf(spec), { ...job, attempt: 1 });
    this.#events.started++;
    const startedAt = new Date();
    const t0 = performance.now();
    const [file, args] =
      typeof spec.command === 'string'
        ? ['/bin/sh', ['-c', spec.command]]
        : [spec.command[0]!, spec.command.slice(1)];

    let output = '';
    let truncated = false;
    let timedOut = false;
    let spawnFailed = false;
    const exitCode = await new Promise<number | null>((resolve) => {
      // Its own process group, so a kill reaches the shell's children too (a `sleep` left behind
      // would hold the output pipes open).
      const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      state.running = child;
      const collect = (chunk: Buffer): void => {
        if (output.length < this.#cap)
          output += chunk.toString('utf8', 0, Math.min(chunk.length, this.#cap - output.length));
        else truncated = true;
      };
      child.stdout.on('data', collect);
      child.stderr.on('data', collect);
      let killTimer: NodeJS.Timeout | undefined;
      const timeout =
        spec.timeoutSeconds === undefined
          ? undefined
          : setTimeout(() => {
              timedOut = true;
              killGroup(child, 'SIGTERM');
              killTimer = setTimeout(() => killGroup(child, 'SIGKILL'), KILL_GRACE_MS);
            }, spec.timeoutSeconds * 1000);
      child.once('error', (err) => {
        // ENOENT, EACCES…: nothing ran. 'close' still follows.
        spawnFailed = true;
        output = `spawn ${file}: ${err.message}`;
      });
      child.once('close', (code) => {
        clearTimeout(timeout);
        clearTimeout(killTimer);
        resolve(code);
      });
    });
    state.running = undefined;

    if (spawnFailed) this.#recorder.runnerError('subprocess', 'spawn_failed');
    const outcome: Outcome = timedOut
      ? 'timeout'
      : this.#stopped
        ? 'cancelled'
        : exitCode === 0 && !spawnFailed
          ? 'success'
          : 'failure';
    handle.finish(outcome, { outputTruncated: truncated });
    this.#events[
      outcome === 'success' ? 'completed' : outcome === 'failure' ? 'failed' : outcome
    ]++;

    const record: RunRecord = {
      task: spec.name,
      outcome,
      exitCode,
      startedAt: startedAt.toISOString(),
      durationSeconds: Number(((performance.now() - t0) / 1000).toFixed(3)),
      output: output.slice(0, 2048),
      outputTruncated: truncated,
    };
    state.lastRun = record;
    this.#journal.push(record);
    if (this.#journal.length > this.#journalSize) this.#journal.shift();
  }

  /** What the daemon "keeps in its database": queue aggregates, assignments and journal counts. */
  #snapshot() {
    let depth = 0;
    let groups = 0;
    let depthMax = 0;
    let running = 0;
    for (const s of this.#tasks.values()) {
      depth += s.waiting.length;
      if (s.waiting.length > 0) groups++;
      depthMax = Math.max(depthMax, s.waiting.length);
      if (s.running !== undefined) running++;
    }
    const inJournal = (outcomes: readonly Outcome[]): number =>
      this.#journal.filter((r) => outcomes.includes(r.outcome)).length;
    return {
      queue: { depth, groups, depthMax },
      assignments: {
        queued: depth,
        running,
        completed: inJournal(['success']),
        failed: inJournal(['failure', 'timeout']),
        cancelled: inJournal(['cancelled']),
      },
      agentRunEvents: { ...this.#events },
    };
  }
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return; // never spawned
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

/** A task's run attributes. */
function attributesOf(spec: TaskSpec): RunAttributes {
  return { task: spec.name, kind: spec.kind ?? 'task', runner: 'subprocess' };
}
