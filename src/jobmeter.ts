/**
 * The composition root: one MeterProvider with the domain instruments, their views, a pull reader
 * behind the loopback listener, an optional OTLP push reader and an optional OTLP ingest listener
 * whose store joins both (a scrape reads its series sets, the push its MetricData), assembled from
 * options resolved once (resolve-options.ts) and the scrape path's pieces (scrape-pipeline.ts).
 */
import { AggregationTemporality, sdkResources } from './common/otel-sdk.ts';
import { metrics, type Meter, type MeterProvider as MetricsApiProvider } from '@opentelemetry/api';
import cluster from 'node:cluster';
import type { MessagePort, Worker as ThreadWorker } from 'node:worker_threads';
import type {
  IMetricReader,
  MeterProvider,
  MetricReader,
  PeriodicExportingMetricReader,
  ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import type { Resource } from '@opentelemetry/resources';
import { LazyPrimary } from './cluster/lazy-primary.ts';
import { mergePolicies } from './cluster/merge-policy.ts';
import {
  clusterWorkerChannel,
  listenToClusterWorkers,
  listenToPort,
  portChannel,
} from './cluster/transport.ts';
import { messageOf } from './common/message-of.ts';
import { Parts } from './common/parts.ts';
import { OPTION_DEFAULTS } from './common/option-defaults.ts';
import { list, metricReader, nonEmptyString } from './common/option-rules.ts';
import { ATTRIBUTE_VALUES_TRUNCATED, RECORDS_DROPPED, SELF_INSTRUMENTS } from './domain/catalog.ts';
import { registerProcessMetrics } from './domain/process-metrics.ts';
import { profileSettings } from './naming/profiles/index.ts';
import { JobmeterMeterProvider } from './domain/meter-provider.ts';
import { ReplacedZeros, SourceTotals } from './series/carry.ts';
import { metricsCollection, withIngested, type Collection } from './series/collection.ts';
import { pointMillis, SYSTEM_CLOCK } from './series/clock.ts';
import { createRecorder, type Declared, type Recorder } from './domain/recorder.ts';
import type { DeclaredInstrumentSpec } from './domain/types.ts';
import { cutCounter, dropCounter, RecordGuard } from './domain/record-guard.ts';
import { CollectedLengthLimit } from './readers/collected-length-limit.ts';
import type { JsonView } from './http/metrics-response.ts';
import type { RenderFamily } from './exposition/render-model.ts';
import type { ExpositionFormat } from './exposition/types.ts';
import { startMetricsListener, type MetricsListener } from './http/metrics-listener.ts';
import type { IngestListener } from './ingest/ingest-listener.ts';
import type { IngestSink, IngestStore } from './ingest/ingest-store.ts';
import type { IngestResult } from './ingest/ingest-report.ts';
import type { ClockRefusals } from './ingest/clock-refusals.ts';
import { nativeClaimedNames } from './naming/prometheus-names.ts';
import { withExpositionOptions } from './naming/profile-options.ts';
import { resourceAttributesFor } from './naming/resource-labels.ts';
import { profileCatalog, withProfileBuckets } from './jobmeter-views.ts';
import type { Profile } from './naming/types.ts';
import type { JobmeterOptions } from './options.ts';
import type { PushTransform } from './readers/otlp-push.ts';
import { answerHealth, type PipelineState } from './http/health-route.ts';
import { SelfTelemetry } from './http/self-telemetry.ts';
import { buildInfoAttributes } from './domain/observed-instruments.ts';
import { newPullReader } from './readers/pull-reader.ts';
import { portGivenToAnother } from './readers/reader-ports.ts';
import { resolveOptions, roleOf, type ResolvedOptions } from './resolve-options.ts';
import {
  buildProfile,
  coalescedScrape,
  hostNameOf,
  jsonView,
  profileNamer,
  reservedNativeNames,
} from './scrape-pipeline.ts';
import { VERSION } from './version.ts';
import {
  checkViews,
  hostCaps,
  hostViewed,
  JOBMETER_METER,
  viewSelection,
  viewSelects,
} from './views/host-views.ts';

/**
 * What {@link createJobmeter} resolves to: the domain API ({@link Recorder}), the provider and
 * meter a host adds its own instruments on, where it listens, and `shutdown`. Declarations written
 * in the call type its `counter`, `histogram`, `gauge` and `observe` ({@link Declared}).
 * @example
 *   const jm: Jobmeter = await createJobmeter({ listener: false });
 *   jm.startRun({ task: 'nightly' }).finish('success');
 *   await jm.shutdown();
 */
export interface Jobmeter extends Recorder {
  readonly profile: Profile;
  /**
   * jobmeter's MeterProvider (the global one unless `global: false` or another was registered
   * first). Its meters check every synchronous record and bound every instrument jobmeter has no
   * spec for (`cardinalityLimit`, the host's `views`). The SDK's own provider behind it is made
   * when something first needs it (domain/meter-provider.ts).
   */
  readonly meterProvider: Pick<MeterProvider, 'getMeter' | 'forceFlush' | 'shutdown'>;
  /** The meter the domain records through, for hosts that add plain OTel instruments. */
  readonly meter: Meter;
  /** Where the pull listener is bound; undefined when it is disabled. */
  readonly pullAddress: { readonly host: string; readonly port: number } | undefined;
  /** Where the OTLP ingest listener is bound (`POST /v1/metrics`); undefined when it is disabled. */
  readonly ingestAddress: { readonly host: string; readonly port: number } | undefined;
  /**
   * The families one scrape would serve (concurrent calls share a collection): the exposition model
   * with the fields the naming stage adds for the renderers (render-model.ts).
   */
  scrape(): Promise<RenderFamily[]>;
  /** What the profile's original serves when `Accept` leaves the choice (or the forced format). */
  readonly format: 'negotiate' | ExpositionFormat;
  /** How `?format=json` renders under this profile (open mode: wasmrun's sessions included). */
  readonly jsonView: JsonView;
  /** Pushes now (when OTLP is configured). */
  forceFlush(): Promise<void>;
  /** What `serve`'s `/ready` judges (health-route.ts): the push's failures in a row, the ingest's memory, its state's checkpoints, its refusals for point times. */
  pipeline(): PipelineState;
  /**
   * `primary`: serves (and pushes) its own metrics and, once a member has reported, the aggregate
   * of every member's. `member`: a `node:cluster` worker or a thread with `cluster.reportTo`; it
   * reports to the primary and serves nothing. `off`: `cluster: false`.
   */
  readonly role: 'primary' | 'member' | 'off';
  /**
   * Worker threads: aggregates the jobmeter of the thread behind `source` (its `Worker`, or the
   * other end of the port it was given as `cluster.reportTo`) into this one's endpoint and push.
   * Its counters stay after it exits. Returns how to stop listening (the thread then leaves the
   * aggregate as if it had exited). Primary only.
   */
  aggregate(source: ThreadWorker | MessagePort): () => void;
  /**
   * Closes the ingest listener, writes the ingest state (`ingest.stateDir`), flushes the last OTLP
   * export, closes the pull listener. A member sends its last report first. Idempotent. Rejects,
   * once all of that is done, with the first failure (the ingest state not written).
   */
  shutdown(): Promise<void>;
}

/** Series per host instrument, overflow included (OpenTelemetry's default cardinality limit). */
export const DEFAULT_CARDINALITY_LIMIT = OPTION_DEFAULTS.cardinalityLimit;
/** How long a member waits for the primary's welcome before saying that nobody aggregates. */
export const CLUSTER_WELCOME_MILLIS = 5000;

/**
 * The ingest: its code (its listener, OTLP codecs, decode thread, state files), loaded when the
 * ingest is configured, so a host that only serves pulls never loads it; its store, made with
 * `settings` beside `options` (the store takes its limits: expiry, series caps, memory budget, and
 * ignores the rest); and its state file, loaded now, before the listener takes a request
 * (state-keeper.ts; a second store is made only to serve the last state file written while
 * writes fail). `sources`: what a profile's series carry of the ingested sources, kept in its
 * checkpoint. `clock` watches the store's answers for a wrong clock (clock-refusals.ts).
 */
async function openIngest(
  options: Exclude<ResolvedOptions['ingest'], false>,
  log: (line: string) => void,
  sources: SourceTotals,
  settings: ConstructorParameters<typeof IngestStore>[0],
) {
  const [listener, storeCode, prefer, state, { REFUSAL_REASONS }, { ClockRefusals }] =
    await Promise.all([
      import('./ingest/ingest-listener.ts'),
      import('./ingest/ingest-store.ts'),
      import('./ingest/prefer-ingested.ts'),
      import('./ingest/state-keeper.ts'),
      import('./ingest/ingest-report.ts'),
      import('./ingest/clock-refusals.ts'),
    ]);
  const newStore = () => new storeCode.IngestStore({ ...options, ...settings });
  const store = newStore();
  const keeper = state.openIngestState(store, newStore, options, log, sources);
  const clock = new ClockRefusals({ maxAgeMillis: store.maxAgeMillis, log });
  return { ...listener, ...prefer, options, store, keeper, clock, refusalReasons: REFUSAL_REASONS };
}

/**
 * Whether a MeterProvider is registered globally, read from the OTel API's global registry (the
 * `opentelemetry.js.api.<major>` symbol every copy of API 1.x shares) without registering one.
 */
function globalMeterProviderTaken(): boolean {
  const api = (globalThis as Record<symbol, { metrics?: unknown } | undefined>)[
    Symbol.for('opentelemetry.js.api.1')
  ];
  return api?.metrics !== undefined;
}

/**
 * Registers `provider` as the global MeterProvider unless one is already registered (then one
 * line says what to do). Returns how to undo it: unregisters only if it is still jobmeter's.
 */
function registerGlobal(provider: MetricsApiProvider, log: (line: string) => void): () => void {
  // Checked first: refused, the API would report the duplicate registration through the host's
  // diag logger, with a stack trace, beside jobmeter's one line.
  if (globalMeterProviderTaken() || !metrics.setGlobalMeterProvider(provider)) {
    log(
      'a global MeterProvider is already registered, so instruments made with metrics.getMeter() stay with it and are not served here; ' +
        'record through jobmeter.meter instead, or create jobmeter before registering another provider (NodeSDK makes one only with metric readers: ' +
        'give it metricReaders: [] or OTEL_METRICS_EXPORTER=none; global: false silences this line)',
    );
    return () => {};
  }
  return () => {
    if (metrics.getMeterProvider() === provider) metrics.disable();
  };
}

/**
 * A jobmeter of its own: a MeterProvider with jobmeter's instruments, served under the naming
 * profile on a loopback pull listener (127.0.0.1:9464 unless `listener` says otherwise), pushed
 * over OTLP when `otlp` is set, and the domain API (`recordRun`, `startRun`, declared instruments)
 * on the instance it resolves to. It registers the global MeterProvider unless `global: false`.
 * Call `shutdown()` when done. In a `node:cluster` worker it reports to the primary instead.
 * @throws ConfigError naming the first option that is not what it should be.
 * @example
 *   const jm = await createJobmeter({ serviceName: 'my-scheduler', profile: 'runwisp' });
 *   jm.recordRun({ task: 'nightly', kind: 'task', runner: 'local', outcome: 'success', durationSeconds: 1.2 });
 *   await jm.shutdown();
 */
export async function createJobmeter<
  const I extends readonly DeclaredInstrumentSpec[] = readonly DeclaredInstrumentSpec[],
>(options: JobmeterOptions<I> = {}): Promise<Declared<Jobmeter, I[number]>> {
  const resolved = resolveOptions(options);
  const role = roleOf(resolved);
  const o: ResolvedOptions =
    role === 'member' ? { ...resolved, listener: false, otlp: undefined, ingest: false } : resolved;
  // What a member reports with: loaded in a member only.
  const memberCode = role === 'member' ? await import('./cluster/member.ts') : undefined;
  const profile = withExpositionOptions(buildProfile(o, o.otelScopeInfo), options);
  // A profile that follows a semantic convention records the convention's instruments in place of
  // the canonical ones it names (semconv: cicd.pipeline.run.*), and its process metrics.
  const { convention } = profileSettings(o.profile);
  const own = profileCatalog(o.profile);
  const specs = [...own.domain, ...(o.processMetrics ? own.process : []), ...o.instruments];
  const bucketOverrides = profile.kind === 'table' ? (profile.buckets ?? {}) : {};
  const effective = withProfileBuckets(specs, bucketOverrides);
  // Host Views apply to every instrument, jobmeter's own too (an own one a View selects is the
  // SDK's, not jobmeter's storage: meter-provider.ts); jobmeter's bounds are its specs', applied at
  // the record.
  checkViews(o.views);
  // Bad records are dropped, warned once per instrument and reason, and counted in a counter of
  // their own (after the domain's, so families keep the catalog's order); a host's long attribute
  // values are cut, warned once per instrument, and counted in another.
  const guard = new RecordGuard({ valueLengthLimit: o.attributeValueLengthLimit });
  // What a profile's series carry of the ingested sources they merge: the namer's, kept in the
  // ingest's checkpoint (series/carry.ts).
  const sources = new SourceTotals();
  // OTLP ingest: every canonical name is bounded by its spec (process metrics too, whether or not
  // jobmeter records its own), with the profile's buckets.
  const ingest =
    o.ingest === false
      ? undefined
      : await openIngest(o.ingest, o.log, sources, {
          instruments: withProfileBuckets(
            [...own.domain, ...own.process, ...o.instruments],
            bucketOverrides,
          ),
          // Native names come from the sender: refuse those that would clash on the pull endpoint.
          ...(profile.kind === 'native' && {
            exposedNames: nativeClaimedNames,
            reservedNames: reservedNativeNames(specs, profile.scopeInfo),
          }),
          ...(profile.kind === 'table' && profile.vocabularies !== undefined
            ? { vocabularies: profile.vocabularies }
            : {}),
          // A sender's canonical instruments become the convention's, as the recorder's records do.
          ...(convention !== undefined && { convention }),
        });
  // A name a sender pushes replaces jobmeter's own (its process.uptime, its build info).
  const shadow =
    ingest === undefined
      ? undefined
      : (rm: ResourceMetrics) =>
          ingest.preferIngested(rm, (sm) => (ingest.keeper ?? ingest.store).owns(sm));
  const hostName = hostNameOf(
    options.hostname === undefined ? undefined : nonEmptyString(options.hostname, 'hostname'),
  );
  if (profile.kind === 'table' && o.hostInstruments === 'drop') {
    const ruled = new Set(profile.rules.map((r) => r.instrument));
    const dropped = o.instruments.filter((s) => !ruled.has(s.name)).map((s) => s.name);
    o.log(
      `profile ${profile.name} drops host instruments it has no rule for (hostInstruments: drop): ${dropped.length} declared` +
        (dropped.length > 0 ? ` (${dropped.join(', ')})` : '') +
        ', and any made later on jobmeter.meter or the global API',
    );
  }
  // The debug printer decodes with protobufjs: loaded only when asked for.
  const debug =
    o.debug === undefined
      ? undefined
      : (await import('./debug/debug-printer.ts')).createDebugPrinter(o.debug, o.otlp?.protocol);

  // A host's producers join the pull collection after the SDK's own metrics (the provider puts its
  // storages first). The ingest is read after them: by a scrape as its series sets (`ingestSeries`,
  // no MetricData), by the push and the cluster report as a producer of MetricData.
  // With a state file, what a collection serves is written first (state-keeper.ts).
  const ingestProducer = ingest?.keeper?.producer() ?? ingest?.store;
  const ingestSeries = ingest?.keeper?.series() ?? ingest?.store;
  // A host's MetricData is a host's values too: bounded as its records are, on the same account.
  const producerLimit = new CollectedLengthLimit(guard);
  const hostProducers = (options.metricProducers ?? []).map((p) => producerLimit.producer(p));
  const extraProducers = [
    ...hostProducers,
    ...(ingestProducer === undefined ? [] : [ingestProducer]),
  ];
  // The pull reader is the SDK's MetricReader: made with the SDK's provider, when that is first
  // needed (a scrape of the store alone reads neither: collectStore below).
  let pullReader: MetricReader | undefined;
  const pull = (): MetricReader =>
    (pullReader ??= newPullReader(hostProducers, { cardinalityLimit: o.cardinalityLimit }));
  // The primary's own collection for the cluster's aggregate: MetricData (the report's boundary),
  // the ingest's after the pull reader's, as the push reads them.
  const collectOwn = async (): Promise<ResourceMetrics> => {
    const own = await meterProvider.collectWithStorages(pull());
    if (ingestProducer === undefined) return own;
    const { resourceMetrics } = await ingestProducer.collect();
    return {
      resource: own.resource,
      scopeMetrics: [...own.scopeMetrics, ...resourceMetrics.scopeMetrics],
    };
  };
  // Readers besides the pull reader: a host's, then the push.
  const readers: IMetricReader[] = list(
    options.readers ?? [],
    'readers',
    'OpenTelemetry MetricReaders',
  ).map((r, i) => metricReader(r, `readers[${i}]`));
  // A port a standard reader in `readers` was given stays its own (readers/reader-ports.ts).
  const portTaken =
    o.listener === false
      ? undefined
      : portGivenToAnother(readers, o.listener.port, 'listener.port');
  if (portTaken !== undefined) throw portTaken;
  // The resource attributes the profile's labels are read from on the Collector path (crewshipd's
  // `hostname` from `host.name`), valued as the pull's labels, so the push carries them; a host's own
  // attributes win.
  const resourceAttributes = {
    ...resourceAttributesFor(profile, hostName),
    ...o.resourceAttributes,
    'service.name': o.serviceName,
  };
  // A Resource object only where MetricData is made (the SDK's provider, the cluster's aggregate):
  // a scrape of the store alone reads the attributes (series/collection.ts).
  let resourceObject: Resource | undefined;
  const resource = (): Resource =>
    (resourceObject ??= sdkResources().resourceFromAttributes(resourceAttributes));
  // The push's temporality, which the cluster's aggregate is read in too.
  const temporality =
    o.otlp?.temporality === 'delta'
      ? AggregationTemporality.DELTA
      : AggregationTemporality.CUMULATIVE;
  // The primary's collections become the aggregate once a member has reported (src/cluster/); its
  // code loads with a member's first message.
  const clusterOptions = o.cluster;
  const primary =
    role === 'primary' && clusterOptions !== false
      ? new LazyPrimary(
          () => ({
            resource: resource(),
            policyFor: mergePolicies(clusterOptions.merge),
            timeoutMillis: clusterOptions.timeoutMillis,
            collectOwn,
            temporality,
          }),
          (err) =>
            o.log(
              `jobmeter: the cluster's aggregate could not load (${messageOf(err)}): this process serves its own metrics only, and its members' reports are dropped`,
            ),
        )
      : undefined;
  // Counted always (a few additions); served by `jobmeter serve`'s [telemetry] listener.
  const telemetry = new SelfTelemetry(buildInfoAttributes({ version: VERSION }));
  let pushReader: PeriodicExportingMetricReader | undefined;
  // Whether the push serialises the pull's families (naming = profile): its reader then reads
  // no ingest, which the scrape's collection reads.
  let profilePush = false;
  let pushFailures = (): number => 0;
  if (o.otlp !== undefined) {
    // The push's exporter and encoders: loaded only when a push is configured.
    const { createOtlpPushReader, otlpPushStats } = await import('./readers/otlp-push.ts');
    // Profile series are cumulative, as Prometheus reads them: with delta, canonical names only.
    const cumulative = o.otlp.temporality === 'cumulative';
    // An explicit `profile` with delta is refused by resolveOptions; the default follows suit.
    const naming =
      o.otlpNaming ?? (profile.kind === 'table' && cumulative ? 'profile' : 'canonical');
    let named: PushTransform | undefined = shadow;
    if (naming === 'profile') {
      // The families the pull serves, named in the scrape's own pass (`namedPass`, below) from the
      // collection the pull renders (`collectWith`): the ingest's series sets, whose sources the
      // pass carries; this reader's collection (the SDK's and the store's instruments, the same
      // series the pull reader's gives) in the store's place, as the pull reader is closed
      // alongside the last push. The ingest read as MetricData would be counted once more on top
      // of what the pass carries of it, and two passes must not interleave over the carry.
      const { createFamiliesToMetrics } = await import('./otlp/families-to-metrics.ts');
      // Stamped on the point clock, as every point of the canonical push: never back in time.
      const toMetrics = createFamiliesToMetrics({
        scope: { name: 'jobmeter', version: VERSION },
        now: () => pointMillis(SYSTEM_CLOCK),
      });
      profilePush = true;
      named = (rm) =>
        namedPass(() => collectWith(() => Promise.resolve(metricsCollection(rm)))).then(
          (families) => toMetrics(families, rm.resource),
        );
    } else if (profile.kind === 'table') {
      // Canonical names under a legacy table: the push carries the series the table fills with 0.
      const { createPushZeroFill } = await import('./naming/zero-fill-push.ts');
      const zeros = createPushZeroFill(profile, {
        replaced: new ReplacedZeros(),
        specs: effective,
        scope: { name: JOBMETER_METER, version: VERSION },
        temporality,
      });
      named = (rm) => zeros(shadow?.(rm) ?? rm);
    }
    let transform: PushTransform | undefined = named;
    // (The profile-named push reads the aggregate as the pull does: collectWith.)
    if (primary !== undefined && !profilePush) {
      // Once members report, the export is the aggregate (the primary's own metrics included),
      // once for the whole cluster, in the push's temporality (the aggregate's store differences it).
      transform = (rm) => {
        if (!primary.active) return named?.(rm) ?? rm;
        return primary.collect(rm).then((agg) => named?.(agg) ?? agg);
      };
    }
    telemetry.pushConfigured();
    pushReader = createOtlpPushReader(o.otlp, {
      // The profile-named push reads the ingest's series sets itself, as the pull does.
      metricProducers: profilePush ? hostProducers : extraProducers,
      cardinalityLimit: o.cardinalityLimit,
      // Serve's writer: the push's lines take its --log-format like every other line.
      log: o.log,
      ...(transform !== undefined && { transform }),
      onExport: (rm) => {
        const counted = telemetry.exporting(rm);
        const printed = debug?.pushed(rm);
        return (result) => {
          counted(result);
          printed?.(result);
        };
      },
    });
    const reader = pushReader;
    pushFailures = () => otlpPushStats(reader)?.failedExports ?? 0;
    readers.push(pushReader);
  }
  // Two engines behind one Metrics API: jobmeter's storages for the own synchronous instruments no
  // host View selects, the SDK for the rest; every reader reads both (meter-provider.ts).
  const scope = { name: JOBMETER_METER, version: VERSION };
  // The SDK's provider is made at once when something needs it from the start (a View, a reader
  // or producer of the host's, the push); otherwise when first needed.
  const sdkOptions = () => ({
    resource: resource(),
    views: [...o.views],
    readers: [pull(), ...readers],
  });
  const selection = viewSelection(o.views);
  const meterProvider = new JobmeterMeterProvider(
    o.views.length > 0 || readers.length > 0 || hostProducers.length > 0
      ? sdkOptions()
      : sdkOptions,
    {
      guard,
      specs: [...effective, ...SELF_INSTRUMENTS],
      scope,
      viewed: (spec) => viewSelects(selection, spec, scope),
      capFor: hostCaps({ selection, cardinalityLimit: o.cardinalityLimit }),
      hostViewed: hostViewed(selection),
      cardinalityLimit: o.cardinalityLimit,
      hostExemplars: o.hostExemplars,
      // The scrape names the storages' series store itself (a Collection), no MetricData between.
      readsStore: (reader) => reader === pullReader,
    },
  );
  // Parts stop in reverse start order; the order below is the shutdown's. The primary hears its
  // workers and threads until the last push (which still asks them) is done. The pull listener,
  // started below, closes alongside the provider's shutdown (the last push), so shutdown waits one
  // close grace (server-limits.ts) less than if it closed first.
  const parts = new Parts();
  const stopThreads = new Set<() => void>();
  let threads = 0;
  if (primary !== undefined) {
    const stopWorkers = cluster.isPrimary ? listenToClusterWorkers(primary) : undefined;
    parts.add(() => {
      stopWorkers?.();
      for (const stop of stopThreads) stop();
    });
  }
  let listener: MetricsListener | undefined;
  parts.add(() => Promise.all([listener?.close(), meterProvider.shutdown()]));
  const meter = meterProvider.getMeter(JOBMETER_METER, VERSION);
  // One namer for the scrape and the profile-named push (a closure above, run after this): what its
  // counters served, and the ingested sources they merge, are the storages' store's.
  const namer = profileNamer(profile, o.hostInstruments, hostName, {
    served: meterProvider.storages.series.served,
    sources,
  });
  guard.countInto(dropCounter(meter.createCounter(RECORDS_DROPPED.name)));
  guard.countCutsInto(cutCounter(meter.createCounter(ATTRIBUTE_VALUES_TRUNCATED.name)));
  const recorder = createRecorder(meter, {
    settleBeforeCollect: (pending) => meterProvider.storages.series.settleBeforeCollect(pending),
    guard,
    declared: o.instruments,
    // Every original reports its build; default to jobmeter's own so the series is never absent.
    build: options.build ?? { version: VERSION },
    snapshotDefaults: {
      ...(profile.kind === 'table' ? profile.snapshot : undefined),
      ...options.snapshot,
    },
    ...(profile.kind === 'table' && profile.vocabularies !== undefined
      ? { vocabularies: profile.vocabularies }
      : {}),
    ...(convention !== undefined && { convention }),
  });
  if (o.processMetrics)
    parts.add(
      registerProcessMetrics(meter, {
        runtime: profile.kind === 'native',
        conventions: convention !== undefined,
      }),
    );
  // The last push reads the aggregate once the primary's own collection has settled.
  if (primary !== undefined) parts.add(() => primary.settleOwn());

  // Coalesced at the family level, so concurrent scrapes (and the profile-named push) share the
  // naming pass. The SDK's collection first: its callbacks may record into the storages' store.
  // While the SDK holds no instrument and the reader no producer, it would give nothing: the store
  // alone. The ingest's series sets last.
  const storeOnly = hostProducers.length === 0;
  let stopped = false;
  const collectStore = (): Promise<Collection> => {
    if (storeOnly && !meterProvider.sdkInstruments)
      return meterProvider.storages.series.collect({
        resource: { attributes: resourceAttributes },
        scopeMetrics: [],
      });
    meterProvider.sdk();
    return pull()
      .collect()
      .then((result) => meterProvider.storages.series.collect(result.resourceMetrics));
  };
  /** What the pull renders, the store's part from `store` (the pull reader's, or the push's). */
  const collectWith = (store: () => Promise<Collection>): Promise<Collection> => {
    const c =
      primary?.active === true
        ? primary.scrape()
        : ingestSeries === undefined
          ? store()
          : store().then((c) => ingestSeries.collectSeries().then((part) => withIngested(c, part)));
    return ingest === undefined ? c : c.then(ingest.preferIngestedIn);
  };
  const namedPass = coalescedScrape(
    () => collectWith(collectStore),
    namer,
    () => ingest?.store.changes ?? 0,
  );
  // Refused once shutdown begins, before a pass starts: the last push's pass, which runs after,
  // then never waits on a scrape's that is bound to fail.
  const scrape = (): Promise<RenderFamily[]> =>
    stopped ? Promise.reject(new Error('jobmeter is shutdown: it collects no more')) : namedPass();

  const format = (o.listener === false ? undefined : o.listener.format) ?? profile.format;
  const json = jsonView(profile, () => recorder.lastSnapshot());
  /** What `/ready` reads, on every listener that answers it. */
  const pipeline = (): PipelineState => ({
    push: pushReader === undefined ? undefined : { failedExports: pushFailures() },
    ingest:
      ingest === undefined
        ? undefined
        : { memoryBytes: ingest.store.memoryBytes, maxMemoryBytes: ingest.options.maxMemoryBytes },
    checkpoint:
      ingest?.keeper === undefined ? undefined : { failing: ingest.keeper.health().failing },
    clock: ingest === undefined ? undefined : { refusing: ingest.clock.refusing() },
  });
  telemetry.readinessFrom(pipeline);
  // `/health` and `/ready` on every listener serve has, the pull listener too (serve's
  // `[metrics] listen`): an operator probes the listener Prometheus scrapes. runwisp's own
  // metrics_listen answers nothing else; the operating issue asked for health everywhere.
  if (o.listener !== false) {
    const pullOptions = o.listener;
    listener = await parts.start(() =>
      startMetricsListener({
        ...pullOptions,
        format,
        json,
        scrape,
        pipeline,
        onScrape: (seconds) => telemetry.scraped(seconds),
      }),
    );
  }
  let ingestListener: IngestListener | undefined;
  if (ingest !== undefined) {
    const { store: ingestStore, keeper, options: ingestOptions, refusalReasons } = ingest;
    const { maxMemoryBytes, maxSeries } = ingestOptions;
    const onRequest = debug?.received;
    telemetry.ingestFrom({
      refused: () => ingestStore.refusedByReason(),
      reasons: refusalReasons,
      expired: () => ingestStore.expiredSeries,
      held: () => ({
        series: ingestStore.seriesCount,
        maxSeries,
        memoryBytes: ingestStore.memoryBytes,
        maxMemoryBytes,
      }),
    });
    // The last checkpoint once the ingest listener is closed: everything ingested is in (a SIGTERM
    // restart loses nothing). When it fails, the rest still stops and shutdown rejects with why
    // (serve exits non-zero).
    if (keeper !== undefined) {
      telemetry.checkpointsFrom(() => keeper.health());
      keeper.start();
      parts.add(() => keeper.close());
    }
    // The ingest listener stops first among the listeners, so the last export holds everything
    // received.
    ingestListener = await parts.start(
      () =>
        ingest.startIngestListener({
          // The listener takes its address, limits and gate; the store's options it ignores.
          ...ingestOptions,
          sink: countedSink(ingestStore, telemetry, ingest.clock),
          // jobmeter's own count: a profile's rejection series is its original's API's alone.
          onAnswered: (answer) => telemetry.ingestAnswered(answer),
          onShed: (reason) => telemetry.connectionShed(reason),
          health: (request, response) => answerHealth(request, response, pipeline),
          log: o.log,
          ...(onRequest && { onRequest }),
        }),
      (started) => started.close(),
    );
  }
  // Once nothing can fail: a jobmeter that failed to start leaves no global behind.
  if (o.global) parts.add(registerGlobal(meterProvider, o.log));
  if (memberCode !== undefined && o.cluster !== false) {
    const member = memberCode.startMember({
      channel:
        o.cluster.reportTo !== undefined ? portChannel(o.cluster.reportTo) : clusterWorkerChannel(),
      collect: () => meterProvider.collectWithStorages(pull()).then((rm) => shadow?.(rm) ?? rm),
      welcomeMillis: CLUSTER_WELCOME_MILLIS,
      log: o.log,
      alone:
        o.cluster.reportTo !== undefined
          ? 'this thread reports over cluster.reportTo, but no jobmeter answered on the other end: call jm.aggregate(worker) where the thread was started'
          : "this cluster worker reports to the primary, but no jobmeter answered there: call createJobmeter() in the primary too (it serves the workers' metrics; cluster: false makes each process stand alone)",
    });
    // A member's last report: everything accepted, read while the instruments still are.
    parts.add(() => member.close());
  }
  // First to stop: records from then on are refused with one warning rather than accepted and
  // lost, and scrapes before a pass starts (the last push's pass then never waits on a scrape's
  // that is bound to fail).
  parts.add(() => {
    stopped = true;
    guard.close();
  });

  const jm: Jobmeter = {
    ...recorder,
    profile,
    meterProvider,
    meter,
    pullAddress: listener?.address,
    ingestAddress: ingestListener?.address,
    scrape,
    format,
    jsonView: json,
    forceFlush: () => meterProvider.forceFlush(),
    pipeline,
    role,
    aggregate(source) {
      if (primary === undefined)
        throw new Error(
          `jm.aggregate() needs the aggregating jobmeter (this one's role is ${role})`,
        );
      const stop = listenToPort(primary, `thread ${++threads}`, source);
      stopThreads.add(stop);
      return () => {
        stop();
        stopThreads.delete(stop);
      };
    },
    shutdown: () => parts.stop(),
  };
  telemetries.set(jm, telemetry);
  if (ingestListener !== undefined) ingestListeners.set(jm, ingestListener);
  return jm;
}

const telemetries = new WeakMap<Jobmeter, SelfTelemetry>();
const ingestListeners = new WeakMap<Jobmeter, IngestListener>();

/** The ingest listener of a jobmeter made by {@link createJobmeter} (`serve` rotates its credentials on SIGHUP). */
export function ingestListenerOf(jm: Jobmeter): IngestListener | undefined {
  return ingestListeners.get(jm);
}

/** The self-telemetry of a jobmeter made by {@link createJobmeter} (what `serve`'s [telemetry] listener serves). */
export function selfTelemetryOf(jm: Jobmeter): SelfTelemetry | undefined {
  return telemetries.get(jm);
}

/** `sink`, counting the points each request had accepted and telling `clock` what it did; `begin` stays absent when the sink has none. */
function countedSink(sink: IngestSink, telemetry: SelfTelemetry, clock: ClockRefusals): IngestSink {
  const counted = (result: IngestResult): IngestResult => {
    telemetry.accepted(result.acceptedDataPoints);
    clock.record(result);
    return result;
  };
  const begin = sink.begin?.bind(sink);
  return {
    ingest: (request) => counted(sink.ingest(request)),
    ...(begin !== undefined && {
      begin: () => {
        const batch = begin();
        return { add: (part) => batch.add(part), result: () => counted(batch.result()) };
      },
    }),
  };
}
