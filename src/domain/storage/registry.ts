/**
 * jobmeter's synchronous storages: the first writer into the series store (series/). The
 * synchronous instruments jobmeter has specs for (the domain's, the self-metrics, those a host
 * declares), and those a host makes on jobmeter's provider with no View selecting them, each a
 * series set of the store with an OpenTelemetry API instrument's record face.
 *
 * Why not the SDK's own synchronous instruments: a record through them builds a processed
 * attributes object, a sorted-JSON hash of it and an accumulation lookup, every time, and each
 * collection copies every series again. Here a record is a few `Map` lookups and an array add
 * (spec-index.ts, series/open-index.ts).
 *
 * Differences from the SDK's synchronous instruments: the series ceiling counts series for the
 * life of the instrument (the SDK counts attribute sets per collection interval, so over many
 * intervals its cumulative state can exceed it); the store's (series-store.ts) for the rest.
 */
import { ValueType, type MetricOptions } from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
import type { MetricDescriptor } from '@opentelemetry/sdk-metrics';
import { warn } from '../../common/warn.ts';
import { adviceBounds } from '../host-buckets.ts';
import { RecordGuard } from '../record-guard.ts';
import { scopeKey } from '../../series/attribute-key.ts';
import { OpenSeriesIndex } from '../../series/open-index.ts';
import type { Clock } from '../../series/clock.ts';
import { SeriesStore } from '../../series/series-store.ts';
import { SpecSeriesIndex } from './spec-index.ts';
import {
  isObserved,
  type InstrumentKind,
  type InstrumentSpec,
  type ObservedKind,
} from '../types.ts';
import { GaugeStorage } from './gauge.ts';
import type { DeclaredCounter, DeclaredGauge, DeclaredHistogram } from './handles.ts';
import { HistogramStorage } from './histogram.ts';
import { ObservedCallbacks, ObservedStorage } from './observed.ts';
import { SumStorage } from './sum.ts';
import { descriptorOf, integral, type SyncStorage } from './sync-storage.ts';
import type { MakeIndex } from '../../series/positions.ts';

export interface StorageRegistryOptions {
  /** The instrumentation scope the storages are reported under (the domain meter's). */
  readonly scope: InstrumentationScope;
  /** The series store's clock (series/clock.ts). @default SYSTEM_CLOCK */
  readonly clock?: Clock;
  /** Where bad records are reported (and whether the store still records). @default a guard of its own, warning only */
  readonly guard?: RecordGuard;
  /** Series per observable instrument, overflow included (the SDK's limit for it). @default 2000 */
  readonly observedLimit?: number;
  /**
   * Whether the SDK records the instrument of `spec` instead (domain/meter-provider.ts), asked as
   * the registry is made and again as the instrument is: it then gets no storage. @default never
   */
  readonly sdkRecords?: (spec: InstrumentSpec) => boolean;
}

/**
 * The storage of a synchronous instrument: a spec's (its buckets, no min and max, as the views
 * give it) or a host's (the SDK's defaults, min and max kept).
 */
function syncStorage(
  descriptor: MetricDescriptor,
  kind: InstrumentKind,
  guard: RecordGuard,
  index: MakeIndex,
  histogram: { readonly bounds: readonly number[]; readonly minMax: boolean },
  exemplars: boolean,
): SyncStorage {
  if (kind === 'histogram')
    return new HistogramStorage(descriptor, guard, index, { ...histogram, exemplars });
  if (kind === 'gauge') return new GaugeStorage(descriptor, guard, index);
  return new SumStorage(descriptor, guard, index, { monotonic: kind === 'counter', exemplars });
}

/**
 * The instrument `descriptor` describes made again with `description`: the longer of the two is
 * kept, with the SDK's warning when they differ. In place: the delta state and the naming pass
 * know an instrument by its descriptor object (series/temporality.ts), and the pass names it anew
 * when its description changes (naming/to-families.ts).
 */
function takeLongerDescription(descriptor: MetricDescriptor, description: string): void {
  if (description === descriptor.description) return;
  warn(
    `An instrument ${JSON.stringify(descriptor.name)} was made again with another description ` +
      `than the one it already has: the longer is kept, as the SDK keeps it.`,
  );
  if (description.length > descriptor.description.length)
    (descriptor as { description: string }).description = description;
}

/**
 * The storages of every synchronous instrument among `specs` (others are skipped), in spec order,
 * then those of host instruments as they are made ({@link host}), scope by scope, all written into
 * one {@link SeriesStore}.
 */
export class StorageRegistry {
  /** Where the storages' series are held and read from. */
  readonly series: SeriesStore;
  /** The specs given, by name (the first of a name): the synchronous ones have their storage. */
  readonly #specs = new Map<string, InstrumentSpec>();
  readonly #byName = new Map<string, SyncStorage>();
  readonly #hosts = new Map<string, SyncStorage>();
  readonly #observed = new Map<string, ObservedStorage>();
  /** The observable instruments' callbacks (batch callbacks over several are added here). */
  readonly callbacks: ObservedCallbacks;
  readonly #scope: InstrumentationScope;
  readonly #observedLimit: number;
  readonly #guard: RecordGuard;
  readonly #sdkRecords: (spec: InstrumentSpec) => boolean;

  constructor(specs: readonly InstrumentSpec[], options: StorageRegistryOptions) {
    this.series = new SeriesStore(options.clock === undefined ? {} : { clock: options.clock });
    const guard = (this.#guard = options.guard ?? new RecordGuard());
    this.#scope = options.scope;
    this.#observedLimit = options.observedLimit ?? 2000;
    const sdkRecords = (this.#sdkRecords = options.sdkRecords ?? (() => false));
    // The observable instruments' callbacks, first among the settlers: what they record (the
    // snapshot's failures) is waited for by those registered after.
    const callbacks = (this.callbacks = new ObservedCallbacks(guard));
    this.series.settleBeforeCollect(() => callbacks.run());
    for (const spec of specs) {
      if (this.#specs.has(spec.name)) continue;
      this.#specs.set(spec.name, spec);
      if (isObserved(spec.kind) || sdkRecords(spec)) continue;
      const index = (grow: () => void) => new SpecSeriesIndex(spec, grow);
      const histogram = { bounds: spec.buckets ?? [], minMax: false };
      const storage = syncStorage(
        descriptorOf(spec.name, spec.kind, spec),
        spec.kind,
        guard,
        index,
        histogram,
        spec.exemplars === true,
      );
      this.series.add(options.scope, storage);
      this.#byName.set(spec.name, storage);
    }
  }

  /**
   * The storage of a host instrument `name` of `kind`, unit and value type on the meter `scope`
   * (made on first call, the same one after: the SDK's identity, so values of two units or types
   * never add up in one storage), holding at most `limit` series, the overflow series included;
   * keeping trace-linked exemplars when `exemplars`; recording integer parts when its `valueType`
   * is INT.
   */
  host(
    scope: InstrumentationScope,
    name: string,
    kind: InstrumentKind,
    options: MetricOptions,
    limit: number,
    exemplars = false,
  ): SyncStorage | ReturnType<typeof integral> {
    const meterKey = scopeKey(scope);
    const unit = options.unit ?? '';
    const valueType = options.valueType ?? ValueType.DOUBLE;
    // The SDK's identity of an instrument: another kind, unit or value type is another one.
    const key = `${meterKey}\0${name}\0${kind}\0${unit}\0${valueType}`;
    let storage = this.#hosts.get(key);
    if (storage !== undefined) takeLongerDescription(storage.descriptor, options.description ?? '');
    else {
      this.#warnIncompatible(scope.name, meterKey, name, kind, unit, valueType);
      // What the SDK would make of it with no View, its series open up to `limit`.
      const index = (grow: () => void) => new OpenSeriesIndex(limit, grow);
      const bounds = adviceBounds(options.advice?.explicitBucketBoundaries);
      storage = syncStorage(
        descriptorOf(name, kind, options),
        kind,
        this.#guard,
        index,
        { bounds, minMax: true },
        exemplars,
      );
      this.#hosts.set(key, storage);
      this.series.add(scope, storage);
    }
    return valueType === ValueType.INT ? integral(storage) : storage;
  }

  /**
   * Warns, as the SDK does, when the meter `meterKey` (named `meter`) already has an instrument of
   * this name that is another: both record and are reported, each under its own descriptor.
   */
  #warnIncompatible(
    meter: string,
    meterKey: string,
    name: string,
    kind: InstrumentKind,
    unit: string,
    valueType: ValueType,
  ): void {
    const prefix = `${meterKey}\0${name}\0`;
    for (const key of this.#hosts.keys()) {
      if (!key.startsWith(prefix)) continue;
      const [otherKind, otherUnit, otherType] = key.slice(prefix.length).split('\0');
      const what = (k: string, u: string, t: number) =>
        `${k}, unit ${JSON.stringify(u)}, ${ValueType[t]}`;
      warn(
        `An instrument ${JSON.stringify(name)} (${what(kind, unit, valueType)}) was made on meter ` +
          `${JSON.stringify(meter)}, which has one of that name already ` +
          `(${what(otherKind!, otherUnit!, Number(otherType))}): both are reported, as the SDK reports them.`,
      );
      return;
    }
  }

  /**
   * The observable instrument of `spec` (made on first call, the same one after), on the own
   * scope: its series join the store when it is made, after those made before it.
   */
  observed(spec: InstrumentSpec & { kind: ObservedKind }): ObservedStorage {
    let storage = this.#observed.get(spec.name);
    if (storage === undefined) {
      storage = new ObservedStorage(spec, this.#observedLimit, this.callbacks);
      this.#observed.set(spec.name, storage);
      this.series.add(this.#scope, storage.set);
    }
    return storage;
  }

  /** The storage of the instrument `name` given as a spec of `kind`, when there is one. */
  storage(name: string, kind: InstrumentKind): SyncStorage | undefined {
    return this.#stored(name, kind) ? this.#byName.get(name) : undefined;
  }

  /** The observable instrument `name` given as a spec of `kind` ({@link observed}), when there is one. */
  observedOf(name: string, kind: ObservedKind): ObservedStorage | undefined {
    return this.#stored(name, kind)
      ? this.observed({ ...this.#specs.get(name)!, kind })
      : undefined;
  }

  /** Whether the instrument `name` is given as a spec of `kind` that the SDK does not record. */
  #stored(name: string, kind: InstrumentKind): boolean {
    const spec = this.#specs.get(name);
    return spec?.kind === kind && !this.#sdkRecords(spec);
  }

  /** The counter or up-down counter `name`. @throws Error when there is none. */
  counter(name: string): DeclaredCounter {
    return this.#get(name, SumStorage, 'a counter or upDownCounter');
  }

  /** The histogram `name`. @throws Error when there is none. */
  histogram(name: string): DeclaredHistogram {
    return this.#get(name, HistogramStorage, 'a histogram');
  }

  /** The gauge `name`. @throws Error when there is none. */
  gauge(name: string): DeclaredGauge {
    return this.#get(name, GaugeStorage, 'a gauge');
  }

  #get<T extends SyncStorage>(
    name: string,
    type: abstract new (...args: never[]) => T,
    what: string,
  ): T {
    const t = this.#byName.get(name);
    if (t instanceof type) return t;
    throw new Error(`${JSON.stringify(name)} is not declared as ${what} in options.instruments`);
  }
}
