/**
 * jobmeter's MeterProvider: the SDK's, with a second aggregation engine behind the same Metrics API.
 *
 * - jobmeter's own synchronous instruments (the catalog's, the self-metrics, those a host declares
 *   in `options.instruments`) record into jobmeter's synchronous storages (storage/, writing into
 *   the series store of series/) unless a View of the host's
 *   selects them: `getMeter('jobmeter', VERSION).createCounter(name)` hands out the storage itself,
 *   so the domain API records through OpenTelemetry API instruments at the storages' cost.
 * - A host's synchronous instrument that no View selects records into a local storage too, its
 *   attribute sets open up to the cardinality limit (series/open-index.ts): what the SDK would
 *   make of it with no View, at the storages' cost.
 * - jobmeter's own observable instruments no host View selects are series sets of the same store,
 *   written by their callbacks at the store's instant (storage/observed.ts).
 * - Every other instrument is the SDK's -- a host's observable ones, and any a host View selects,
 *   own or not: Views then apply exactly as OpenTelemetry says (buckets, base-2 exponential, drop,
 *   allow-lists, renames, limits). An own one keeps its spec's folds and unit, description and
 *   buckets (as advice).
 * - Every reader given to the provider -- jobmeter's own or a standard one (a periodic OTLP
 *   exporter, `PrometheusExporter`) -- reads both engines: the provider binds it to one producer,
 *   the SDK's collection (its callbacks run first), then the storages' series store as MetricData,
 *   put ahead of the SDK's metrics. A reader that reads the store itself (the pull scrape, which
 *   names a Collection: series/collection.ts) is bound to the SDK's alone.
 *
 * Meters are guarded (guarded-meter.ts): values checked, host instruments bounded over their life.
 */
import type { Meter, MeterOptions } from '@opentelemetry/api';
import {
  InstrumentType,
  MeterProvider,
  type CollectionResult,
  type IMetricReader,
  type MeterProviderOptions,
  type MetricProducer,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { specAdmit } from './attribute-set-cap.ts';
import { ValueType } from '@opentelemetry/api';
import {
  guardMeter,
  type CapFor,
  type HostStorageFor,
  type InstrumentIdentity,
  type OwnInstruments,
} from './guarded-meter.ts';
import type { RecordGuard } from './record-guard.ts';
import { SYNC_STORAGE_KINDS } from './storage/handles.ts';
import { OBSERVED_KINDS, type ObservedKind } from './storage/observed.ts';
import { StorageRegistry } from './storage/registry.ts';
import type { InstrumentSpec } from './types.ts';

export interface EngineOptions {
  readonly guard: RecordGuard;
  /** jobmeter's own instruments (their effective specs: a profile's buckets applied). */
  readonly specs: readonly InstrumentSpec[];
  /** The meter own instruments belong to. */
  readonly scope: { readonly name: string; readonly version: string };
  /** Whether a host View selects this own instrument: it is then the SDK's. */
  readonly viewed: (spec: InstrumentSpec) => boolean;
  /** The series budget of a host instrument the SDK records. */
  readonly capFor: CapFor;
  /**
   * Whether a host View selects a host instrument: it is then the SDK's; otherwise a local storage
   * holding at most {@link cardinalityLimit} series. @default every host instrument is the SDK's
   */
  readonly hostViewed?: (instrument: InstrumentIdentity) => boolean;
  /** Series per host instrument a storage records, overflow included. @default 2000 */
  readonly cardinalityLimit?: number;
  /** Whether a host instrument's storage keeps trace-linked exemplars (domain/exemplars.ts). @default false */
  readonly hostExemplars?: boolean;
  /**
   * Readers that read the storages' series store themselves (the pull scrape: series-store.ts
   * `collect`): bound to the SDK's collection alone. @default none
   */
  readonly readsStore?: (reader: IMetricReader) => boolean;
}

/** The collection `sdk` makes, with `leading`'s metrics put first (read after the SDK's callbacks). */
function withLeading(sdk: MetricProducer, leading: MetricProducer): MetricProducer {
  return {
    async collect(options): Promise<CollectionResult> {
      const own = await sdk.collect(options);
      const lead = await leading.collect(options);
      return {
        resourceMetrics: {
          resource: own.resourceMetrics.resource,
          scopeMetrics: [...lead.resourceMetrics.scopeMetrics, ...own.resourceMetrics.scopeMetrics],
        },
        errors: [...lead.errors, ...own.errors],
      };
    },
  };
}

/**
 * What the SDK is given for `reader`: the reader's own selectors, shutdown and flush, and where
 * the SDK's producer lands -- `bind`, which binds the reader (through its public
 * `setMetricProducer`, once, as a provider does) to what it should read. So the reader itself is
 * never changed.
 */
function boundThrough(
  reader: IMetricReader,
  bind: (sdk: MetricProducer) => MetricProducer,
): IMetricReader {
  return {
    setMetricProducer: (sdk) => reader.setMetricProducer(bind(sdk)),
    selectAggregation: (type) => reader.selectAggregation(type),
    selectAggregationTemporality: (type) => reader.selectAggregationTemporality(type),
    selectCardinalityLimit: (type) => reader.selectCardinalityLimit(type),
    collect: (options) => reader.collect(options),
    shutdown: (options) => reader.shutdown(options),
    forceFlush: (options) => reader.forceFlush(options),
  };
}

/** `meter`, calling `made` whenever an instrument is created on it. */
function noticing(meter: Meter, made: () => void): Meter {
  const notice =
    <A extends unknown[], R>(create: (...args: A) => R) =>
    (...args: A): R => {
      made();
      return create(...args);
    };
  return {
    createCounter: notice(meter.createCounter.bind(meter)),
    createUpDownCounter: notice(meter.createUpDownCounter.bind(meter)),
    createHistogram: notice(meter.createHistogram.bind(meter)),
    createGauge: notice(meter.createGauge.bind(meter)),
    createObservableGauge: notice(meter.createObservableGauge.bind(meter)),
    createObservableCounter: notice(meter.createObservableCounter.bind(meter)),
    createObservableUpDownCounter: notice(meter.createObservableUpDownCounter.bind(meter)),
    addBatchObservableCallback: meter.addBatchObservableCallback.bind(meter),
    removeBatchObservableCallback: meter.removeBatchObservableCallback.bind(meter),
  };
}

export class JobmeterMeterProvider extends MeterProvider {
  /** jobmeter's storages: of the own instruments no host View selects, and of the host's none selects. */
  readonly storages: StorageRegistry;
  readonly #meters = new Map<string, Meter>();
  readonly #engine: EngineOptions;
  readonly #own: OwnInstruments;
  readonly #hostStorage: HostStorageFor | undefined;
  readonly #cumulative: MetricProducer;
  #sdkInstruments = false;

  constructor(providerOptions: MeterProviderOptions, engine: EngineOptions) {
    const unviewed = engine.specs.filter(
      (s) => SYNC_STORAGE_KINDS.has(s.kind) && !engine.viewed(s),
    );
    const storages = new StorageRegistry(unviewed, {
      scope: engine.scope,
      guard: engine.guard,
      observedLimit: engine.cardinalityLimit ?? 2000,
    });
    const readers = (providerOptions.readers ?? []).map((reader) => {
      if (engine.readsStore?.(reader) === true) return reader;
      const store = storages.series.producer(
        reader.selectAggregationTemporality(InstrumentType.COUNTER),
      );
      return boundThrough(reader, (sdk) => withLeading(sdk, store));
    });
    super({ ...providerOptions, readers });
    this.storages = storages;
    this.#cumulative = storages.series.producer();
    this.#engine = engine;
    const specs = new Map(
      engine.specs.filter((s) => SYNC_STORAGE_KINDS.has(s.kind)).map((s) => [s.name, s]),
    );
    const sdk = new Map<string, ReturnType<OwnInstruments['sdk']>>();
    const observed = new Map(
      engine.specs
        .filter(
          (s): s is InstrumentSpec & { kind: ObservedKind } =>
            OBSERVED_KINDS.has(s.kind) && !engine.viewed(s),
        )
        .map((s) => [s.name, s]),
    );
    this.#own = {
      observed(name, kind) {
        const spec = observed.get(name);
        return spec === undefined || spec.kind !== kind ? undefined : storages.observed(spec);
      },
      addBatchCallback: (callback, observables) => storages.addBatchCallback(callback, observables),
      removeBatchCallback: (callback, observables) =>
        storages.removeBatchCallback(callback, observables),
      storage(name, kind) {
        const spec = specs.get(name);
        if (spec === undefined || spec.kind !== kind || !storages.has(name)) return undefined;
        return spec.kind === 'histogram'
          ? storages.histogram(name)
          : spec.kind === 'gauge'
            ? storages.gauge(name)
            : storages.counter(name);
      },
      sdk(name) {
        const spec = specs.get(name);
        if (spec === undefined) return undefined;
        let made = sdk.get(name);
        if (made === undefined) {
          const advice =
            spec.buckets === undefined
              ? {}
              : { advice: { explicitBucketBoundaries: [...spec.buckets] } };
          // One bound per instrument, shared by every handle on it (a capped fold remembers its values).
          made = {
            options: { unit: spec.unit, description: spec.description, ...advice },
            admit: specAdmit(spec.attributes),
          };
          sdk.set(name, made);
        }
        return made;
      },
    };
    const hostViewed = engine.hostViewed;
    const limit = engine.cardinalityLimit ?? 2000;
    // An integer-valued instrument stays with the SDK, which truncates its values as the API says.
    this.#hostStorage =
      hostViewed === undefined
        ? undefined
        : (instrument, options) =>
            hostViewed(instrument) || options?.valueType === ValueType.INT
              ? undefined
              : storages.host(
                  instrument.meter,
                  instrument.name,
                  instrument.kind,
                  options ?? {},
                  limit,
                  engine.hostExemplars,
                );
  }

  /**
   * What `reader` (one that reads the store itself, {@link EngineOptions.readsStore}) collects,
   * with the storages' series as cumulative MetricData ahead of it: for a consumer outside the
   * scrape (the cluster's report).
   */
  async collectWithStorages(reader: IMetricReader): Promise<ResourceMetrics> {
    return (await withLeading(reader, this.#cumulative).collect()).resourceMetrics;
  }

  /**
   * Whether the SDK holds an instrument (one was ever created on it). Until one is, its collection
   * gives no metrics: a reader of the store alone may leave it out.
   */
  get sdkInstruments(): boolean {
    return this.#sdkInstruments;
  }

  override getMeter(name: string, version = '', options: MeterOptions = {}): Meter {
    const key = `${name}\0${version}\0${options.schemaUrl ?? ''}`;
    let meter = this.#meters.get(key);
    if (meter === undefined) {
      const { guard, capFor, scope } = this.#engine;
      const own =
        name === scope.name && version === scope.version && options.schemaUrl === undefined
          ? this.#own
          : undefined;
      const hostStorage = this.#hostStorage;
      const sdkMeter = noticing(super.getMeter(name, version, options), () => {
        this.#sdkInstruments = true;
      });
      meter = guardMeter(
        sdkMeter,
        { name, version, schemaUrl: options.schemaUrl },
        { guard, capFor, ...(own && { own }), ...(hostStorage && { hostStorage }) },
      );
      this.#meters.set(key, meter);
    }
    return meter;
  }
}
