/**
 * `JobmeterReader`: jobmeter's pull endpoint as a MetricReader of the host's own MeterProvider,
 * shaped like `@opentelemetry/exporter-prometheus`'s `PrometheusExporter`:
 *
 *   const reader = new JobmeterReader({ profile: 'solti', listener: { port: 9464 } });
 *   new MeterProvider({ resource, views, readers: [reader] });   // or NodeSDK's metricReaders
 *   await reader.ready;                                          // the listener is bound
 *
 * The listener binds once a provider has taken the reader, and never on a port another reader
 * of that provider was given (a `PrometheusExporter` on the same port keeps it, and of two
 * JobmeterReaders the first listed: `ready` rejects with a ConfigError naming the port;
 * readers/reader-ports.ts).
 *
 * Every scrape collects the host's provider (its instruments, its Views, its resource as
 * `target_info` under the otel profile; a legacy profile serves none, as in `createJobmeter`) and
 * renders it under the profile -- negotiation, gzip, `?format=json`, the profile's own format -- on
 * jobmeter's dedicated loopback listener. Under a legacy profile the host's instruments follow the
 * same rules as in `createJobmeter` (the table's, the host's own `rules`, the rest under native
 * names unless `hostInstruments: 'drop'`). Bounds are the host provider's (its Views and
 * cardinality limits), but for attribute values: each collection's are cut to
 * `attributeValueLengthLimit` (readers/collected-length-limit.ts), as jobmeter's provider cuts a
 * host's; values are checked where the host asks: `createRecorder(meter)` and `guardMeter(meter)`
 * (host-guard.ts).
 */
import type { IMetricReader, MetricProducer, MetricReader } from '@opentelemetry/sdk-metrics';
import { ServedTotals, SourceTotals } from './series/carry.ts';
import { metricsCollection } from './series/collection.ts';
import type { RenderFamily } from './exposition/render-model.ts';
import { startMetricsListener, type MetricsListener } from './http/metrics-listener.ts';
import { checkOptionKeys } from './common/option-keys.ts';
import { withinMillis } from './common/within-millis.ts';
import { READER_METHODS } from './common/option-rules.ts';
import { READER_OPTIONS, resolveSection } from './common/option-table.ts';
import { RecordGuard } from './domain/record-guard.ts';
import { CollectedLengthLimit, cutCount } from './readers/collected-length-limit.ts';
import { resolveListener, resolveProfileChoice } from './resolve-options.ts';
import { buildProfile, coalescedScrape, jsonView, profileNamer } from './scrape-pipeline.ts';
import type { Profile } from './naming/types.ts';
import type { HostTypes, OptionsOf } from './options.ts';
import { newPullReader } from './readers/pull-reader.ts';
import { givenListenerPort, portGivenToAnother, siblingReaders } from './readers/reader-ports.ts';

/**
 * How long `ready`, read before a provider has taken the reader, waits for one: awaiting it before
 * `sdk.start()` would otherwise wait forever, since nothing else binds the listener.
 */
export const READY_WAIT_MILLIS = 5_000;

/** The `createJobmeter` options that make sense for a reader of someone else's provider. */
export type JobmeterReaderOptions = OptionsOf<typeof READER_OPTIONS, HostTypes>;

/**
 * jobmeter's pull endpoint as a MetricReader of the host's own MeterProvider or NodeSDK: every
 * scrape collects that provider and serves it under the naming profile on jobmeter's loopback
 * listener, bound once a provider takes the reader (`ready` resolves then, or rejects saying why).
 * @example
 *   const reader = new JobmeterReader({ profile: 'solti', listener: { port: 9464 } });
 *   const provider = new MeterProvider({ views: jobmeterViews('solti'), readers: [reader] });
 *   await reader.ready;
 */
export class JobmeterReader implements IMetricReader {
  // The provider's other calls are the pull reader's own (bound in the constructor).
  declare readonly selectAggregation: MetricReader['selectAggregation'];
  declare readonly selectAggregationTemporality: MetricReader['selectAggregationTemporality'];
  declare readonly selectCardinalityLimit: MetricReader['selectCardinalityLimit'];
  /** The host provider's collection, with the producers given to this reader after it. */
  declare readonly collect: MetricReader['collect'];
  /** Shuts the reader down: the listener closes. */
  declare readonly shutdown: MetricReader['shutdown'];
  /** Nothing is buffered: resolves at once (while the reader is not shut down). */
  declare readonly forceFlush: MetricReader['forceFlush'];
  readonly profile: Profile;
  /**
   * The SDK's MetricReader this one is (the pull reader), held rather than extended: the package
   * root imports this class, and a host that makes no reader does not load the SDK
   * (common/otel-sdk.ts); made with the first reader, it binds to the host's provider and runs
   * this reader's shutdown.
   */
  readonly #reader: MetricReader;
  /** One scrape's families (concurrent calls share a collection and a naming pass). */
  readonly scrape: () => Promise<RenderFamily[]>;
  /** What the listener is started with, once a provider takes the reader; undefined: no listener. */
  readonly #listen: Parameters<typeof startMetricsListener>[0] | undefined;
  /** Settles once a provider has taken the reader and the listener is bound, or cannot be. */
  readonly #bound = Promise.withResolvers<undefined>();
  #taken = false;
  /** What `ready` gives while no provider has the reader: {@link #bound}, within READY_WAIT_MILLIS. */
  #waiting: Promise<void> | undefined;
  #listener: MetricsListener | undefined;
  /** The bind under way, once the provider has taken the reader. */
  #binding: Promise<void> | undefined;
  #shut = false;

  /** @throws ConfigError on a bad profile, rule or option, a non-loopback host without its opt-in too (as createJobmeter). */
  constructor(options: JobmeterReaderOptions = {}) {
    checkOptionKeys(options, 'reader');
    const choice = resolveProfileChoice(options.profile, options.hostInstruments);
    // Each row held to its rule; the profile takes the exposition options as given (set or not).
    const o = resolveSection(options, READER_OPTIONS, '', ['profile', 'hostInstruments']);
    const profile = buildProfile(choice, o.otelScopeInfo, options);
    this.profile = profile;
    const guard = new RecordGuard({ valueLengthLimit: o.attributeValueLengthLimit });
    const limit = new CollectedLengthLimit(guard);
    // A producer's series are carried where a rule merges them (series/carry.ts), each marked after
    // its attribute values are cut (a cut series is a copy): the collection's cut below then keeps it.
    const sources = new SourceTotals();
    this.#reader = newPullReader(
      (options.metricProducers ?? []).map((p) => sources.producer(limit.producer(p))),
      { onShutdown: () => this.#onShutdown() },
    );
    for (const m of READER_METHODS)
      if (m !== 'setMetricProducer')
        Object.assign(this, { [m]: this.#reader[m].bind(this.#reader) });
    // No series store here (the host's provider holds the storages): the reader keeps what its
    // zero-filled counters served and the sources of its producers' series.
    const namer = profileNamer(profile, choice.hostInstruments, o.hostname, {
      served: new ServedTotals(),
      sources,
    });
    const counted = cutCount(guard);
    this.scrape = coalescedScrape(
      () =>
        this.#reader
          .collect()
          .then((r) => metricsCollection(counted(limit.apply(r.resourceMetrics)))),
      namer,
    );
    const listener = resolveListener(options.listener);
    if (listener === false) this.#bound.resolve(undefined);
    else {
      givenListenerPort(this, listener.port);
      const format = listener.format ?? profile.format;
      this.#listen = { ...listener, format, json: jsonView(profile), scrape: this.scrape };
    }
    // Observed through `ready`; without a listener to wait on, an unhandled rejection would end the process.
    this.#bound.promise.catch(() => {});
  }

  /**
   * Resolves once a provider has taken the reader and the listener is bound; rejects when it
   * cannot be: a port another reader of the provider keeps (a ConfigError naming it), a port in
   * use (EADDRINUSE), the reader shut down before a provider took it, or --
   * read before any provider has taken the reader -- none taking it within READY_WAIT_MILLIS
   * (read again once one has, it follows that provider's bind). Resolved at once without a listener.
   */
  get ready(): Promise<void> {
    if (this.#taken || this.#listen === undefined || this.#shut) return this.#bound.promise;
    this.#waiting ??= this.#waitForProvider();
    return this.#waiting;
  }

  #waitForProvider(): Promise<void> {
    const waiting = withinMillis(this.#bound.promise, READY_WAIT_MILLIS, false, () => {
      this.#waiting = undefined;
      return new Error(
        `JobmeterReader: no MeterProvider took this reader within ${READY_WAIT_MILLIS} ms of awaiting ready; ` +
          "give it to one first (new MeterProvider({ readers: [reader] }), or NodeSDK's metricReaders and sdk.start()), then await ready",
      );
    });
    waiting.catch(() => {});
    return waiting;
  }

  /** The provider takes the reader: the listener binds once every reader of it is known. */
  setMetricProducer(producer: MetricProducer): void {
    this.#reader.setMetricProducer(producer);
    this.#taken = true;
    if (this.#listen !== undefined) queueMicrotask(() => this.#bind(producer));
  }

  #bind(producer: MetricProducer): void {
    const settle = this.#bound;
    if (this.#shut) return;
    const taken = portGivenToAnother(siblingReaders(producer, this), this.#listen!.port);
    if (taken !== undefined) return settle.reject(taken);
    this.#binding = startMetricsListener(this.#listen!).then((l) => {
      this.#listener = l;
      settle.resolve(undefined);
    }, settle.reject);
  }

  /** Where the listener is bound, once `ready`; undefined before, and when it is disabled. */
  get pullAddress(): { readonly host: string; readonly port: number } | undefined {
    return this.#listener?.address;
  }

  /** The provider's shutdown closes the listener. */
  async #onShutdown(): Promise<void> {
    this.#shut = true;
    await this.#binding;
    // Not taken by a provider (or refused): nothing listens, and `ready` says so.
    this.#bound.reject(new Error('JobmeterReader: shut down before its listener was bound'));
    await this.#listener?.close();
  }
}
