/**
 * The domain's observable instruments: the host snapshot's, the last failure, run history and
 * build info, observed by one batch callback from one cached snapshot per collection; and the
 * folding every observation goes through (a recorder's `observe()` too), since the SDK keeps only
 * the last value per attribute set of an asynchronous instrument.
 */
import type {
  Attributes,
  BatchObservableResult,
  Meter,
  MetricOptions,
  Observable,
} from '@opentelemetry/api';
import { createBoundedAttributesProcessor } from './bounded-attributes.ts';
import { BUILD_INFO, RUN_LAST_FAILURE, SNAPSHOT_INSTRUMENTS } from './catalog.ts';
import type { RecordGuard } from './record-guard.ts';
import type { SnapshotCache } from './snapshot.ts';
import { OUTCOMES, type BuildInfo, type InstrumentSpec, type Outcome } from './types.ts';
import { dropOutsideCheck } from './vocabulary.ts';

/** Observes `value` of the instrument `name` (one of those given) with `attributes`. */
export type ObserveFolded = (name: string, value: number, attributes?: Attributes) => void;

/** The sums of one collection's observations, by folded attribute set. */
type Sums = Map<string, { o: Observable; attributes: Attributes; value: number }>;

function observeSums(result: BatchObservableResult, sums: Sums): void {
  for (const { o, value, attributes } of sums.values()) result.observe(o, value, attributes);
}

/**
 * Observes `specs`' instruments on `meter` by one batch callback, `read`, at each collection.
 * Each observation's value is checked (a bad one is dropped through the guard before it can spoil
 * a sum), folded with the instrument's own bounds, and combined (`combine`: summed, unless told)
 * with those that land on the same attribute set; each set is observed once, when `read` has
 * returned (or its promise resolved).
 * The SDK keeps only the last value an asynchronous instrument observes per (processed) attribute
 * set, so two providers folded into `other` would otherwise overwrite each other.
 */
export function observeFolded(
  meter: Meter,
  specs: readonly InstrumentSpec[],
  guard: RecordGuard,
  read: (observe: ObserveFolded) => void | PromiseLike<void>,
  combine = (a: number, b: number): number => a + b,
): void {
  const instruments = new Map(
    specs.map((spec) => [
      spec.name,
      {
        observable: createInstrument(meter, spec) as Observable,
        nonNegative: spec.kind === 'observableCounter',
        processor: createBoundedAttributesProcessor(spec.attributes),
        // Its closed attributes that drop an outside value instead of folding it.
        drop: dropOutsideCheck(spec.attributes),
      },
    ]),
  );
  meter.addBatchObservableCallback(
    (result: BatchObservableResult) => {
      const sums: Sums = new Map();
      const returned = read((name, value, attributes = {}) => {
        const i = instruments.get(name)!;
        if (!guard.admits(name, value, i.nonNegative)) return;
        const outside = i.drop?.(attributes);
        if (outside !== undefined) return guard.drop(name, 'vocabulary', outside);
        const folded = i.processor.process(attributes);
        let key = name;
        for (const k in folded) key += '\0' + k + '\0' + String(folded[k]);
        const sum = sums.get(key);
        if (sum === undefined) sums.set(key, { o: i.observable, attributes: folded, value });
        else sum.value = combine(sum.value, value);
      });
      if (returned === undefined) return observeSums(result, sums);
      return Promise.resolve(returned).then(() => observeSums(result, sums));
    },
    [...instruments.values()].map((i) => i.observable),
  );
}

/** The Meter method that makes each instrument kind. */
export const CREATE = {
  counter: 'createCounter',
  upDownCounter: 'createUpDownCounter',
  histogram: 'createHistogram',
  gauge: 'createGauge',
  observableGauge: 'createObservableGauge',
  observableCounter: 'createObservableCounter',
  observableUpDownCounter: 'createObservableUpDownCounter',
} as const;

/** `spec`'s unit and description, and its buckets as advice (so a View still overrides them). */
export function specOptions(spec: InstrumentSpec): MetricOptions {
  const advice = spec.buckets && { advice: { explicitBucketBoundaries: [...spec.buckets] } };
  return { unit: spec.unit, description: spec.description, ...advice };
}

/** The instrument of `spec` on `meter`, made by its kind's Meter method with {@link specOptions}. */
export function createInstrument<K extends InstrumentSpec['kind']>(
  meter: Meter,
  spec: InstrumentSpec & { kind: K },
): ReturnType<Meter[(typeof CREATE)[K]]> {
  const create = meter[CREATE[spec.kind]] as (n: string, o: MetricOptions) => unknown;
  return create.call(meter, spec.name, specOptions(spec)) as ReturnType<Meter[(typeof CREATE)[K]]>;
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
  const specs = [RUN_LAST_FAILURE, ...SNAPSHOT_INSTRUMENTS, BUILD_INFO];
  observeFolded(meter, specs, guard, async (observe) => {
    const s = await source()?.get();
    const t = live();
    const lastFailure = s?.lastFailureSeconds ?? t.lastFailureSeconds;
    if (lastFailure !== undefined) observe(RUN_LAST_FAILURE.name, lastFailure);
    const runs = s?.runsByOutcome ?? t.outcomes;
    for (const outcome of OUTCOMES) {
      const n = runs[outcome];
      if (n !== undefined) observe('jobmeter.run.history', n, { outcome });
    }
    if (build !== undefined) observe(BUILD_INFO.name, 1, buildInfoAttributes(build));
    if (s === undefined) return;

    const one = (name: string, value: number | undefined, attributes?: Attributes) => {
      if (value !== undefined) observe(name, value, attributes);
    };
    const byKey = (
      name: string,
      key: string,
      values: Readonly<Record<string, number>> | undefined,
    ) => {
      if (values === undefined) return;
      for (const [k, v] of Object.entries(values)) observe(name, v, { [key]: k });
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
      observe('jobmeter.llm.calls', l.calls, { provider: l.provider });
      observe('jobmeter.llm.cost', l.costUsd, { provider: l.provider });
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
  });
}

/** The attributes of `jobmeter.build.info` for `build` (also serve's own `jobmeter_build_info`). */
export function buildInfoAttributes(build: BuildInfo): Readonly<Record<string, string>> {
  return {
    version: build.version,
    commit: build.commit ?? 'unknown',
    'runtime.version': build.runtimeVersion ?? process.version,
  };
}
