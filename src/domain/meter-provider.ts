/**
 * jobmeter's MeterProvider: the SDK's, with a second aggregation engine behind the same Metrics API.
 * The SDK's provider is made, and the SDK loaded, when something first needs it (see {@link
 * JobmeterMeterProvider.sdk}): a host whose instruments are all jobmeter's storages never loads it.
 *
 * - jobmeter's own synchronous instruments (the catalog's, the self-metrics, those a host declares
 *   in `options.instruments`) record into jobmeter's synchronous storages (storage/, writing into
 *   the series store of series/) unless the SDK records them (below):
 *   `getMeter('jobmeter', VERSION).createCounter(name)` hands out the storage itself,
 *   so the domain API records through OpenTelemetry API instruments at the storages' cost.
 * - A host's synchronous instrument that no View selects records into a local storage too, its
 *   attribute sets open up to the cardinality limit (series/open-index.ts): what the SDK would
 *   make of it with no View, at the storages' cost.
 * - jobmeter's own observable instruments no host View selects are series sets of the same store,
 *   written by their callbacks at the store's instant (storage/observed.ts).
 * - Every other instrument is the SDK's -- a host's observable ones, any a host View selects, own
 *   or not, and any of a kind a reader aggregates otherwise than by default (its
 *   `aggregationSelector`: an exporter's `aggregationPreference`, e.g. base-2 exponential
 *   histograms). Views and readers' aggregations then apply exactly as OpenTelemetry says (buckets,
 *   base-2 exponential, drop, allow-lists, renames, limits; a reader's aggregation to what no View
 *   selects, for that reader alone): the storages aggregate by default only. An own one keeps its
 *   spec's folds and unit, description and buckets (as advice).
 * - Every reader given to the provider -- jobmeter's own or a standard one (a periodic OTLP
 *   exporter, `PrometheusExporter`) -- reads both engines: the provider binds it to one producer,
 *   the SDK's collection (its callbacks run first), then the storages' series store as MetricData,
 *   put ahead of the SDK's metrics. A reader that reads the store itself (the pull scrape, which
 *   names a Collection: series/collection.ts) is bound to the SDK's alone.
 *
 * Meters are guarded (guarded-meter.ts): values checked, host instruments bounded over their life.
 */
import { AggregationType, DataPointType, sdkMetrics } from '../common/otel-sdk.ts';
import {
  createNoopMeter,
  type Meter,
  type MeterOptions,
  type MeterProvider as ApiMeterProvider,
} from '@opentelemetry/api';
import type {
  CollectionResult,
  IMetricReader,
  MeterProvider,
  MeterProviderOptions,
  MetricProducer,
  ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import type { Attributes } from '@opentelemetry/api';
import { scopeKey } from '../series/attribute-key.ts';
import { AttributeSetCap } from './attribute-set-cap.ts';
import {
  guardMeter,
  ownSdkFor,
  type CapFor,
  type HostStorageFor,
  type InstrumentIdentity,
  type OwnSdk,
} from './guarded-meter.ts';
import type { RecordGuard } from './record-guard.ts';
import { StorageRegistry } from './storage/registry.ts';
import { INSTRUMENT_TYPE_OF, type InstrumentKind, type InstrumentSpec } from './types.ts';

/** The SDK's Views that select an instrument, in the order the host gave them. */
export type ViewSelection = (instrument: InstrumentIdentity) => readonly {
  readonly attributesProcessor: { process(attributes: Attributes): Attributes };
  readonly aggregationCardinalityLimit?: number;
}[];

export interface EngineOptions {
  readonly guard: RecordGuard;
  /** jobmeter's own instruments (their effective specs: a profile's buckets applied). */
  readonly specs: readonly InstrumentSpec[];
  /** The meter own instruments belong to. */
  readonly scope: { readonly name: string; readonly version: string };
  /**
   * Which host Views select an instrument (views/host-views.ts viewSelection): one a View selects
   * is the SDK's, which applies the View; a host instrument none selects is a local storage holding
   * at most {@link cardinalityLimit} series. The first View's processors and limit also bound a host
   * instrument the SDK records over its life (attribute-set-cap.ts). @default none selects any
   */
  readonly selection?: ViewSelection;
  /** Series per host instrument, overflow included, when its View sets no limit. @default 2000 */
  readonly cardinalityLimit?: number;
  /** Whether a host instrument's storage keeps trace-linked exemplars (domain/exemplars.ts). @default false */
  readonly hostExemplars?: boolean;
  /**
   * Readers that read the storages' series store themselves (the pull scrape: series-store.ts
   * `collect`): bound to the SDK's collection alone. @default none
   */
  readonly readsStore?: (reader: IMetricReader) => boolean;
}

/** `rm`'s metrics, their histogram points without min and max. */
function withoutExtremes(rm: ResourceMetrics): ResourceMetrics['scopeMetrics'] {
  return rm.scopeMetrics.map((sm) => ({
    ...sm,
    metrics: sm.metrics.map((m) =>
      m.dataPointType === DataPointType.HISTOGRAM
        ? {
            ...m,
            dataPoints: m.dataPoints.map((p) => ({
              ...p,
              value: { ...p.value, min: undefined, max: undefined },
            })),
          }
        : m,
    ),
  }));
}

/**
 * The collection `sdk` makes, with `leading`'s metrics put first (read after the SDK's callbacks):
 * one ScopeMetrics per scope, as the SDK gives, a scope of both holding `leading`'s metrics first.
 */
function withLeading(sdk: MetricProducer, leading: MetricProducer): MetricProducer {
  return {
    async collect(options): Promise<CollectionResult> {
      const own = await sdk.collect(options);
      const lead = await leading.collect(options);
      const scopeMetrics = [...lead.resourceMetrics.scopeMetrics];
      const at = new Map(scopeMetrics.map((sm, i) => [scopeKey(sm.scope), i]));
      for (const sm of own.resourceMetrics.scopeMetrics) {
        const i = at.get(scopeKey(sm.scope));
        if (i === undefined) scopeMetrics.push(sm);
        else scopeMetrics[i] = { ...sm, metrics: [...scopeMetrics[i]!.metrics, ...sm.metrics] };
      }
      return {
        resourceMetrics: { resource: own.resourceMetrics.resource, scopeMetrics },
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
  return new Proxy(reader, {
    get(target, key) {
      if (key === 'setMetricProducer')
        return (sdk: MetricProducer) => target.setMetricProducer(bind(sdk));
      const value: unknown = Reflect.get(target, key);
      // Called on the reader itself: its private fields are its own, not the proxy's.
      return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
    },
  });
}

/**
 * The SDK's meter that `meter()` gives, asked for when an instrument is first created on it (so the
 * SDK loads then, not before), calling `made` whenever one is.
 */
function sdkMeter(meter: () => Meter, made: () => void): Meter {
  return new Proxy({} as Meter, {
    get:
      (_, key: keyof Meter) =>
      (...args: unknown[]): unknown => {
        if (key.startsWith('create')) made();
        const m = meter();
        return Reflect.apply(Reflect.get(m, key) as (...a: unknown[]) => unknown, m, args);
      },
  });
}

export class JobmeterMeterProvider implements ApiMeterProvider {
  /** jobmeter's storages: of the own instruments no host View selects, and of the host's none selects. */
  readonly storages: StorageRegistry;
  readonly #meters = new Map<string, Meter>();
  readonly #engine: EngineOptions;
  readonly #ownSdk: OwnSdk;
  readonly #hostStorage: HostStorageFor;
  readonly #capFor: CapFor;
  readonly #cumulative: MetricProducer;
  /** What the SDK's provider is made with, when it is first needed. */
  readonly #sdkOptions: () => MeterProviderOptions;
  /**
   * The instrument kinds a reader aggregates otherwise than by default, or keeps fewer series of
   * than the storages' limit: found as the SDK's provider is made.
   */
  readonly #readerKinds = new Set<InstrumentKind>();
  readonly #limit: number;
  #sdk: MeterProvider | undefined;
  #sdkInstruments = false;
  #shutdown = false;

  /**
   * @param providerOptions the SDK provider's options: given as they are, the SDK's provider is
   *   made at once (its readers bound now); as a function, when first needed -- an instrument the
   *   SDK records, {@link sdk} -- so a host that needs none never loads the SDK (common/otel-sdk.ts).
   *   A reader that aggregates a kind otherwise than by default decides which engine records an
   *   instrument, so its provider is made before the first meter is asked for.
   */
  constructor(
    providerOptions: MeterProviderOptions | (() => MeterProviderOptions),
    engine: EngineOptions,
  ) {
    const select = engine.selection ?? (() => []);
    // The SDK records an instrument a View selects, or of a kind a reader aggregates or limits otherwise.
    const sdkRecords = (i: InstrumentIdentity): boolean =>
      select(i).length > 0 || this.#readerKinds.has(i.kind);
    const limit = (this.#limit = engine.cardinalityLimit ?? 2000);
    const meter = { ...engine.scope, schemaUrl: undefined };
    const storages = new StorageRegistry(engine.specs, {
      scope: engine.scope,
      guard: engine.guard,
      observedLimit: limit,
      sdkRecords: (s) => sdkRecords({ ...s, meter }),
    });
    this.#sdkOptions =
      typeof providerOptions === 'function' ? providerOptions : () => providerOptions;
    this.storages = storages;
    this.#cumulative = storages.series.producer(undefined, undefined, true);
    this.#engine = engine;
    if (typeof providerOptions !== 'function') this.sdk();
    this.#ownSdk = ownSdkFor(engine.specs);
    // A host instrument's series budget: its first View's limit, counting sets as its processors leave them.
    this.#capFor = (instrument) => {
      const view = select(instrument)[0];
      const process = view && ((a: Attributes) => view.attributesProcessor.process(a));
      return new AttributeSetCap(view?.aggregationCardinalityLimit ?? limit, process);
    };
    this.#hostStorage = (instrument, options) =>
      sdkRecords(instrument)
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
   * The SDK's MeterProvider, made (the SDK loaded, every reader bound) on the first call: every
   * reader given reads both engines, the SDK's collection and then the storages' series store as
   * MetricData, but for one that reads the store itself ({@link EngineOptions.readsStore}).
   */
  sdk(): MeterProvider {
    if (this.#sdk !== undefined) return this.#sdk;
    const options = this.#sdkOptions();
    // As the SDK applies a reader's aggregation and cardinality limit to the instruments it reads,
    // which the storages (one aggregation, one limit for every reader) cannot.
    for (const reader of options.readers ?? [])
      for (const [kind, type] of Object.entries(INSTRUMENT_TYPE_OF))
        if (
          reader.selectAggregation(type).type !== AggregationType.DEFAULT ||
          reader.selectCardinalityLimit(type) < this.#limit
        )
          this.#readerKinds.add(kind as InstrumentKind);
    if (this.#readerKinds.size > 0 && this.#meters.size > 0)
      throw new Error(
        'jobmeter: a reader that aggregates an instrument kind otherwise than by default, or keeps fewer series of it than cardinalityLimit, is given before the first meter (domain/meter-provider.ts)',
      );
    const readers = (options.readers ?? []).map((reader) => {
      if (this.#engine.readsStore?.(reader) === true) return reader;
      const store = this.storages.series.producer((type) =>
        reader.selectAggregationTemporality(type),
      );
      return boundThrough(reader, (sdk) => withLeading(sdk, store));
    });
    this.#sdk = new (sdkMetrics().MeterProvider)({ ...options, readers });
    return this.#sdk;
  }

  /**
   * What `reader` (one that reads the store itself, {@link EngineOptions.readsStore}) collects,
   * with the storages' series as cumulative MetricData ahead of it: for a consumer outside the
   * scrape (the cluster's report). The storages' histograms' min and max are those of the values
   * recorded since the previous call (cluster/wire.ts `w`); the reader's, its life's, are left out.
   * The SDK's provider is made first, binding the reader.
   */
  async collectWithStorages(reader: IMetricReader): Promise<ResourceMetrics> {
    this.sdk();
    const sdk: MetricProducer = {
      collect: (options) =>
        reader.collect(options).then(({ resourceMetrics, errors }) => ({
          resourceMetrics: { ...resourceMetrics, scopeMetrics: withoutExtremes(resourceMetrics) },
          errors,
        })),
    };
    return (await withLeading(sdk, this.#cumulative).collect()).resourceMetrics;
  }

  /**
   * Whether the SDK holds an instrument (one was ever created on it). Until one is, its collection
   * gives no metrics: a reader of the store alone may leave it out.
   */
  get sdkInstruments(): boolean {
    return this.#sdkInstruments;
  }

  getMeter(name: string, version = '', options: MeterOptions = {}): Meter {
    const key = `${name}\0${version}\0${options.schemaUrl ?? ''}`;
    let meter = this.#meters.get(key);
    if (meter === undefined) {
      const { guard, scope } = this.#engine;
      const own =
        name === scope.name && version === scope.version && options.schemaUrl === undefined
          ? { own: this.storages, ownSdk: this.#ownSdk }
          : undefined;
      // Shut down before the SDK was needed, it is not loaded for instruments that record nothing
      // (the SDK's provider, shut down, gives a no-op meter as well).
      const inner = () =>
        this.#shutdown && this.#sdk === undefined
          ? createNoopMeter()
          : this.sdk().getMeter(name, version, options);
      meter = guardMeter(
        sdkMeter(inner, () => {
          this.#sdkInstruments = true;
        }),
        { name, version, schemaUrl: options.schemaUrl },
        { guard, capFor: this.#capFor, ...own, hostStorage: this.#hostStorage },
      );
      this.#meters.set(key, meter);
    }
    return meter;
  }

  /** Flushes the SDK's readers (the push), if the SDK's provider was made. */
  async forceFlush(options?: Parameters<MeterProvider['forceFlush']>[0]): Promise<void> {
    await this.#sdk?.forceFlush(options);
  }

  /** Shuts the SDK's provider and its readers down, if it was made. */
  async shutdown(options?: Parameters<MeterProvider['shutdown']>[0]): Promise<void> {
    this.#shutdown = true;
    await this.#sdk?.shutdown(options);
  }
}
