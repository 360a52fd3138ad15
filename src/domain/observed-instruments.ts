/**
 * The domain's observable instruments: the host snapshot's, the last failure, run history and
 * build info, observed by one batch callback from one cached snapshot per collection; and the
 * folding every observation goes through (a recorder's `observe()` too), since the SDK keeps only
 * the last value per attribute set of an asynchronous instrument.
 */
import type { Attributes, BatchObservableResult, Meter, Observable } from '@opentelemetry/api';
import type { IAttributesProcessor } from '@opentelemetry/sdk-metrics';
import { createBoundedAttributesProcessor } from './bounded-attributes.ts';
import { BUILD_INFO, RUN_LAST_FAILURE, SNAPSHOT_INSTRUMENTS } from './catalog.ts';
import type { BuildInfo } from './types.ts';
import type { RecordGuard } from './record-guard.ts';
import type { HostSnapshot, SnapshotCache } from './snapshot.ts';
import { OUTCOMES, type InstrumentSpec, type Outcome } from './types.ts';
import { dropOutsideCheck, type VocabularyCheck } from './vocabulary.ts';

/**
 * Checks each observation's value (a bad one is dropped through the guard before it can spoil a
 * sum), folds it with the instrument's own bounds and sums those that land on the same
 * attribute set, then observes each set once. The SDK keeps only the last value an asynchronous
 * instrument observes per (processed) attribute set, so two providers folded into `other` would
 * otherwise overwrite each other instead of adding up.
 */
export class FoldingObserver {
  /**
   * Per instrument: its name, whether its values are running totals (never negative), its folds,
   * the check of its closed attributes that drop an outside value instead of folding it, and the
   * sums of this collection by folded attribute set.
   */
  readonly #instruments = new Map<
    Observable,
    {
      readonly name: string;
      readonly nonNegative: boolean;
      readonly processor: IAttributesProcessor;
      readonly drop: VocabularyCheck | undefined;
      readonly pending: Map<string, { attributes: Attributes; value: number }>;
    }
  >();
  readonly #guard: RecordGuard;

  constructor(guard: RecordGuard) {
    this.#guard = guard;
  }

  register(inst: Observable, spec: InstrumentSpec): void {
    this.#instruments.set(inst, {
      name: spec.name,
      nonNegative: spec.kind === 'observableCounter',
      processor: createBoundedAttributesProcessor(spec.attributes),
      drop: dropOutsideCheck(spec.attributes),
      pending: new Map(),
    });
  }

  add(inst: Observable, value: number, attributes: Attributes = {}): void {
    const i = this.#instruments.get(inst)!;
    if (!this.#guard.admits(i.name, value, i.nonNegative)) return;
    const outside = i.drop?.(attributes);
    if (outside !== undefined) return this.#guard.drop(i.name, 'vocabulary', outside);
    const folded = i.processor.process(attributes);
    let key = '';
    for (const k in folded) key += k + '\0' + String(folded[k]) + '\0';
    const prev = i.pending.get(key);
    if (prev === undefined) i.pending.set(key, { attributes: folded, value });
    else prev.value += value;
  }

  flush(observe: (inst: Observable, value: number, attributes: Attributes) => void): void {
    for (const [inst, { pending }] of this.#instruments) {
      for (const p of pending.values()) observe(inst, p.value, p.attributes);
      pending.clear();
    }
  }
}

export function createObservable(meter: Meter, spec: InstrumentSpec): Observable {
  const options = { unit: spec.unit, description: spec.description };
  switch (spec.kind) {
    case 'observableGauge':
      return meter.createObservableGauge(spec.name, options);
    case 'observableCounter':
      return meter.createObservableCounter(spec.name, options);
    case 'observableUpDownCounter':
      return meter.createObservableUpDownCounter(spec.name, options);
    default:
      throw new Error(
        `instrument ${JSON.stringify(spec.name)}: kind ${spec.kind} is not observable`,
      );
  }
}

export interface LiveCounts {
  readonly lastFailureSeconds: number | undefined;
  readonly outcomes: Readonly<Record<Outcome, number>>;
}

/**
 * One batch callback observes every snapshot instrument from one (cached) snapshot, so a
 * collection calls the host at most once, whatever the number of instruments.
 */
export function registerSnapshotInstruments(
  meter: Meter,
  source: () => SnapshotCache | undefined,
  live: () => LiveCounts,
  build: BuildInfo | undefined,
  guard: RecordGuard,
): void {
  const inst = new Map<string, Observable>();
  const folding = new FoldingObserver(guard);
  for (const spec of [RUN_LAST_FAILURE, ...SNAPSHOT_INSTRUMENTS, BUILD_INFO]) {
    const o = createObservable(meter, spec);
    inst.set(spec.name, o);
    folding.register(o, spec);
  }
  const get = (name: string): Observable => inst.get(name)!;

  meter.addBatchObservableCallback(
    async (result: BatchObservableResult) => {
      const s = await source()?.get();
      const r = {
        observe: (o: Observable, value: number, attributes?: Attributes) =>
          folding.add(o, value, attributes),
      };
      try {
        observeSnapshot(r, get, s, live(), build);
      } finally {
        folding.flush((o, value, attributes) => result.observe(o, value, attributes));
      }
    },
    [...inst.values()],
  );
}

/** The attributes of `jobmeter.build.info` for `build` (also serve's own `jobmeter_build_info`). */
export function buildInfoAttributes(build: BuildInfo): Readonly<Record<string, string>> {
  return {
    version: build.version,
    commit: build.commit ?? 'unknown',
    'runtime.version': build.runtimeVersion ?? process.version,
  };
}

type Observe = { observe(o: Observable, value: number, attributes?: Attributes): void };

function observeSnapshot(
  r: Observe,
  get: (name: string) => Observable,
  s: HostSnapshot | undefined,
  t: LiveCounts,
  build: BuildInfo | undefined,
): void {
  const lastFailure = s?.lastFailureSeconds ?? t.lastFailureSeconds;
  if (lastFailure !== undefined) r.observe(get(RUN_LAST_FAILURE.name), lastFailure);
  const runs = s?.runsByOutcome ?? t.outcomes;
  for (const outcome of OUTCOMES) {
    const n = runs[outcome];
    if (n !== undefined) r.observe(get('jobmeter.run.history'), n, { outcome });
  }
  if (build !== undefined) r.observe(get(BUILD_INFO.name), 1, buildInfoAttributes(build));
  if (s === undefined) return;

  const one = (name: string, value: number | undefined, attributes?: Attributes) => {
    if (value !== undefined) r.observe(get(name), value, attributes);
  };
  const byKey = (
    name: string,
    key: string,
    values: Readonly<Record<string, number>> | undefined,
  ) => {
    if (values === undefined) return;
    for (const [k, v] of Object.entries(values)) r.observe(get(name), v, { [key]: k });
  };
  one('jobmeter.session.active', s.sessions?.active);
  one('jobmeter.session.tracked', s.sessions?.tracked);
  one('jobmeter.session.disk.usage', s.sessions?.diskBytes);
  byKey('jobmeter.assignments', 'status', s.assignments);
  byKey('jobmeter.pipeline_runs', 'status', s.pipelineRuns);
  one('jobmeter.queue.depth', s.queue?.depth);
  one('jobmeter.queue.groups', s.queue?.groups);
  one('jobmeter.queue.depth.max', s.queue?.depthMax);
  byKey('jobmeter.agent_run.events', 'event', s.agentRunEvents);
  for (const l of s.llm ?? []) {
    r.observe(get('jobmeter.llm.calls'), l.calls, { provider: l.provider });
    r.observe(get('jobmeter.llm.cost'), l.costUsd, { provider: l.provider });
  }
  one('jobmeter.container.tracked', s.containers?.tracked);
  one('jobmeter.container.reporting', s.containers?.reporting);
  one('jobmeter.db.migration.version', s.dbMigrationVersion);
  one('jobmeter.websocket.connections', s.websocketConnections);
  const hosts = s.hosts;
  one('jobmeter.fleet.hosts', s.fleet?.total ?? hosts?.length);
  one('jobmeter.fleet.hosts.online', s.fleet?.online ?? hosts?.filter((h) => h.online).length);
  byKey('jobmeter.alert.open', 'severity', s.alerts);
  for (const h of hosts ?? []) {
    const a = { 'host.id': h.id, 'host.name': h.name };
    one('jobmeter.host.agent.online', h.online ? 1 : 0, a);
    one('jobmeter.host.last_backup.time', h.lastBackup?.timeSeconds, a);
    one(
      'jobmeter.host.last_backup.success',
      h.lastBackup === undefined ? undefined : h.lastBackup.success ? 1 : 0,
      a,
    );
    one('jobmeter.host.repo.size', h.repoSizeBytes, a);
    one('jobmeter.host.snapshots', h.snapshotCount, a);
    one('jobmeter.host.alert.open', h.openAlerts, a);
    one('jobmeter.host.repo.status', 1, { ...a, status: h.repoStatus });
  }
}
