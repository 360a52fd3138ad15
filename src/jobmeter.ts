/**
 * The composition root: one MeterProvider with the domain instruments and their views, read by a
 * scrape (scrape-pipeline.ts) and an optional OTLP push, with its parts: the cluster's primary or
 * member (cluster/lazy-primary.ts, cluster/member.ts), the pull listener, the ingest (ingest/ingest-part.ts), the
 * global registration. Options are resolved once (resolve-options.ts); parts start in order and
 * stop in reverse (common/parts.ts).
 */
import { AggregationTemporality, millisToHrTime, sdkResources } from './common/otel-sdk.ts';
import { metrics, type Meter, type MeterProvider as MetricsApiProvider } from '@opentelemetry/api';
const { hostname } = process.getBuiltinModule('node:os');
import type { MessagePort, Worker as ThreadWorker } from 'node:worker_threads';
import type { IMetricReader, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import type { Resource } from '@opentelemetry/resources';
import { clusterPrimary } from './cluster/lazy-primary.ts';
import { cluster, listenToClusterWorkers, listenToPort } from './cluster/transport.ts';
import { Parts } from './common/parts.ts';
import type { Log } from './common/log.ts';
import { ConfigError } from './errors.ts';
import { list, metricReader } from './common/option-rules.ts';
import {
  ATTRIBUTE_VALUES_TRUNCATED,
  INSTRUMENTS_UNSERVED,
  RECORDS_DROPPED,
  SELF_INSTRUMENTS,
} from './domain/catalog.ts';
import {
  PROMETHEUS_CLIENT_INSTRUMENTS,
  registerProcessMetrics,
  RUNTIME_INSTRUMENTS,
} from './domain/process-metrics.ts';
import { profileSettings } from './naming/profiles/index.ts';
import { namedMetrics } from './naming/family-builder.ts';
import { JobmeterMeterProvider } from './domain/meter-provider.ts';
import { SourceTotals } from './series/carry.ts';
import { metricsCollection, withIngested, type Collection } from './series/collection.ts';
import { pointMillis, SYSTEM_CLOCK } from './series/clock.ts';
import { createRecorder, type Declared, type Recorder } from './domain/recorder.ts';
import type { DeclaredInstrumentSpec } from './domain/types.ts';
import { countFromZero, dropCounter, RecordGuard } from './domain/record-guard.ts';
import { CollectedLengthLimit } from './readers/collected-length-limit.ts';
import type { JsonView } from './http/metrics-response.ts';
import type { RenderFamily } from './exposition/render-model.ts';
import type { ExpositionFormat } from './exposition/types.ts';
import { startMetricsListener, type MetricsListener } from './http/metrics-listener.ts';
import { mergesScopes } from './naming/native-rules.ts';
import { messageOf } from './common/message-of.ts';
import { nativeClaimedNames } from './naming/prometheus-names.ts';
import { resourceAttributesFor } from './naming/resource-labels.ts';
import { profileCatalog, withProfileBuckets } from './jobmeter-views.ts';
import type { Profile } from './naming/types.ts';
import type { JobmeterOptions } from './options.ts';
import type { PushTransform } from './readers/otlp-push.ts';
import type { PipelineState } from './http/health-route.ts';
import { buildInfoAttributes } from './domain/observed-instruments.ts';
import { newPullReader } from './readers/pull-reader.ts';
import { portGivenToAnother } from './readers/reader-ports.ts';
import { resolveOptions, roleOf, type ResolvedOptions } from './resolve-options.ts';
import {
  buildProfile,
  coalescedScrape,
  dropLine,
  jsonView,
  profileNamer,
  reservedNativeNames,
} from './scrape-pipeline.ts';
import { buildCommit, VERSION } from './version.ts';
import { checkViews, JOBMETER_METER, viewSelection } from './views/host-views.ts';

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
  /** Where the OTLP/gRPC ingest listener is bound (`ingest.grpcPort`); undefined when it is off. */
  readonly ingestGrpcAddress: { readonly host: string; readonly port: number } | undefined;
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

/**
 * Registers `provider` as the global MeterProvider unless one is already registered (then one
 * line says what to do). Returns how to undo it: unregisters only if it is still jobmeter's.
 */
function registerGlobal(provider: MetricsApiProvider, log: Log): () => void {
  // Whether one is registered, read from the OTel API's global registry (the
  // `opentelemetry.js.api.<major>` symbol every copy of API 1.x shares), is checked first: refused,
  // the API would report the duplicate registration through the host's diag logger, with a stack
  // trace, beside jobmeter's one line.
  const api = (globalThis as Record<symbol, { metrics?: unknown } | undefined>)[
    Symbol.for('opentelemetry.js.api.1')
  ];
  if (api?.metrics !== undefined || !metrics.setGlobalMeterProvider(provider)) {
    log(
      'warn',
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
  return (await composeJobmeter(options, false)).jm;
}

/**
 * `serve`'s jobmeter, as {@link createJobmeter} makes it, with the self-telemetry its [telemetry]
 * listener serves, counted from the start (a host has none), and its ingest listener (whose
 * credentials `serve` rotates on SIGHUP).
 */
export function serveJobmeter(options: JobmeterOptions): ReturnType<typeof composeJobmeter> {
  return composeJobmeter(options, true);
}

/** A jobmeter, and what `serve` reads of it besides its API. */
async function composeJobmeter(options: JobmeterOptions, selfTelemetry: boolean) {
  const resolved = resolveOptions(options);
  const role = roleOf(resolved);
  const o: ResolvedOptions =
    role === 'member' ? { ...resolved, listener: false, otlp: undefined, ingest: false } : resolved;
  const profile = buildProfile(o, o.otelScopeInfo, options);
  // A profile that follows a semantic convention records the convention's instruments in place of
  // the canonical ones it names (semconv: cicd.pipeline.run.*), and its process metrics.
  const { convention, buckets, vocabularies, snapshot } = profileSettings(o.profile);
  const own = profileCatalog(o.profile);
  const processSpecs = [
    ...(o.processMetrics ? own.process : []),
    ...(o.prometheusClientNames ? PROMETHEUS_CLIENT_INSTRUMENTS : []),
  ];
  const specs = [...own.domain, ...processSpecs, ...o.instruments];
  const effective = withProfileBuckets(specs, buckets);
  // What the recorder's records and a sender's points are both named by (none: undefined).
  const conventions = { vocabularies, convention };
  // Host Views apply to every instrument, jobmeter's own too (an own one a View selects is the
  // SDK's, not jobmeter's storage: meter-provider.ts); jobmeter's bounds are its specs', applied at
  // the record.
  checkViews(o.views);
  // Served as a host's instruments are under a legacy profile: asked for and dropped, none would be.
  if (o.prometheusClientNames && profile.kind === 'table' && o.hostInstruments === 'drop')
    throw new ConfigError(
      'prometheusClientNames',
      true,
      `false under profile ${profile.name} with hostInstruments: 'drop', which leaves the names out (hostInstruments: 'native' serves them)`,
    );
  // Bad records are dropped, warned once per instrument and reason, and counted in a counter of
  // their own (after the domain's, so families keep the catalog's order); a host's long attribute
  // values are cut, warned once per instrument, and counted in another.
  const guard = new RecordGuard({ valueLengthLimit: o.attributeValueLengthLimit });
  // What a profile's series carry of the sources they merge, ingested series and a host's
  // producers' (`sources.producer`): the namer's, the ingest's kept in its checkpoint
  // (series/carry.ts).
  const sources = new SourceTotals(mergesScopes(profile));
  // A sender's canonical names are bounded by their specs (process metrics too), native ones that
  // would clash on the pull endpoint refused.
  const ingest =
    o.ingest === false
      ? undefined
      : (await import('./ingest/ingest-part.ts')).openIngest(
          o.ingest,
          {
            instruments: withProfileBuckets(
              [...own.domain, ...own.process, ...o.instruments],
              buckets,
            ),
            ...(profile.kind === 'native' && {
              exposedNames: nativeClaimedNames,
              reservedNames: reservedNativeNames(specs, profile.scopeInfo),
            }),
            ...conventions,
          },
          o.log,
          sources,
        );
  const shadow = ingest?.shadow;
  const hostName = o.hostname ?? hostname();
  if (profile.kind === 'table' && o.hostInstruments === 'drop')
    o.log('info', dropLine(profile, o.instruments));
  // The debug printer decodes with protobufjs: loaded only when asked for.
  const debug =
    o.debug === undefined
      ? undefined
      : (await import('./debug/debug-printer.ts')).createDebugPrinter(o.debug, o.otlp?.protocol);

  // A host's producers join the pull collection after the SDK's own metrics (the provider puts its
  // storages first). The ingest is read after them: by a scrape as its series sets, by the push
  // and the cluster report as a producer of MetricData.
  const ingestProducer = ingest?.producer;
  // A host's MetricData is a host's values too: bounded as its records are, on the same account.
  const producerLimit = new CollectedLengthLimit(guard);
  const hostProducers = (options.metricProducers ?? []).map((p) =>
    sources.producer(producerLimit.producer(p)),
  );
  // The pull reader is the SDK's MetricReader: made with the SDK's provider, when that is first
  // needed (a scrape of the store alone reads neither: collectStore below).
  let pullReader: MetricReader | undefined;
  const pull = (): MetricReader =>
    (pullReader ??= newPullReader(hostProducers, { cardinalityLimit: o.cardinalityLimit }));
  // Readers besides the pull reader: a host's, then the push.
  const readers: IMetricReader[] = list(
    options.readers ?? [],
    'readers',
    'OpenTelemetry MetricReaders',
  ).map((r, i) => metricReader(r, `readers[${i}]`));
  // A port a standard reader in `readers` was given stays its own (readers/reader-ports.ts).
  const portTaken = o.listener === false ? undefined : portGivenToAnother(readers, o.listener.port);
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
  let pushReader: MetricReader | undefined;
  const primary =
    role === 'primary' && o.cluster !== false
      ? clusterPrimary(o.cluster, o.log, () => ({
          resource: resource(),
          temporality: (type) =>
            pushReader?.selectAggregationTemporality(type) ?? AggregationTemporality.CUMULATIVE,
          // The primary's own collection, as the push reads it: the ingest's after the pull reader's.
          addedExtremes: true,
          collectOwn: async () => {
            const own = await meterProvider.collectWithStorages(pull());
            if (ingestProducer === undefined) return own;
            const { resourceMetrics } = await ingestProducer.collect();
            return {
              resource: own.resource,
              scopeMetrics: [...own.scopeMetrics, ...resourceMetrics.scopeMetrics],
            };
          },
        }))
      : undefined;
  // The meter jobmeter's own instruments are made on, as the push names its scope.
  const scope = { name: JOBMETER_METER, version: VERSION };
  // `jobmeter serve`'s, served by its [telemetry] listener (serveJobmeter); a host has none.
  const telemetry = selfTelemetry
    ? new (await import('./http/self-telemetry.ts')).SelfTelemetry(
        buildInfoAttributes({ version: VERSION, commit: buildCommit() }),
      )
    : undefined;
  // Whether the push serialises the pull's families (naming = profile): its reader then reads
  // no ingest, which the scrape's collection reads.
  let profilePush = false;
  // The push's failed exports in a row, when there is a push.
  let pushFailures: (() => number) | undefined;
  if (o.otlp !== undefined) {
    // The push's exporter and encoders: loaded only when a push is configured.
    const { createOtlpPushReader, TEMPORALITY_SELECTOR } = await import('./readers/otlp-push.ts');
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
      // Stamped on the point clock, as every point of the canonical push: never back in time.
      const startTime = millisToHrTime(pointMillis(SYSTEM_CLOCK));
      profilePush = true;
      named = (rm) =>
        namedPass(() => collectWith(() => Promise.resolve(metricsCollection(rm)))).then(
          (families) =>
            namedMetrics(
              families,
              rm.resource,
              scope,
              startTime,
              millisToHrTime(pointMillis(SYSTEM_CLOCK)),
            ),
        );
    } else if (profile.kind === 'table') {
      // Canonical names under a legacy table: the push carries the series the table fills with 0.
      const { createPushZeroFill } = await import('./naming/zero-fill-push.ts');
      // In the push's temporality (a count's zero is none under delta).
      const temporality = TEMPORALITY_SELECTOR[o.otlp.temporality];
      const zeros = createPushZeroFill(profile, { specs: effective, scope, temporality });
      named = (rm) => zeros(shadow?.(rm) ?? rm);
    }
    let transform: PushTransform | undefined = named;
    // (The profile-named push reads the aggregate as the pull does: collectWith.)
    if (primary !== undefined && !profilePush) {
      // Once members report, the export is the aggregate (the primary's own metrics included),
      // once for the whole cluster, in the push's temporality (the aggregate's store differences it).
      transform = (rm) =>
        primary.active?.collect(rm).then((agg) => named?.(agg) ?? agg) ?? named?.(rm) ?? rm;
    }
    const exported = telemetry?.pushConfigured();
    const reader = createOtlpPushReader(o.otlp, {
      // The profile-named push reads the ingest's series sets itself, as the pull does.
      metricProducers:
        profilePush || ingestProducer === undefined
          ? hostProducers
          : [...hostProducers, ingestProducer],
      cardinalityLimit: o.cardinalityLimit,
      // Serve's writer: the push's lines take its --log-format like every other line.
      log: o.log,
      ...(transform !== undefined && { transform }),
      onExport: (rm) => {
        const counted = exported?.(rm);
        const printed = debug?.pushed(rm);
        return (result) => {
          counted?.(result);
          printed?.(result);
        };
      },
    });
    pushFailures = () => reader.stats().failedExports;
    readers.push((pushReader = reader));
  }
  // Two engines behind one Metrics API: jobmeter's storages for the own synchronous instruments no
  // host View selects, the SDK for the rest; every reader reads both (meter-provider.ts).
  const meterProvider = new JobmeterMeterProvider(
    () => ({ resource: resource(), views: [...o.views], readers: [pull(), ...readers] }),
    {
      guard,
      specs: [...effective, ...SELF_INSTRUMENTS],
      scope,
      selection: viewSelection(o.views),
      cardinalityLimit: o.cardinalityLimit,
      hostExemplars: o.hostExemplars,
      // The scrape names the storages' series store itself (a Collection), no MetricData between.
      readsStore: (reader) => reader === pullReader,
    },
  );
  // The SDK's provider is made at once when something needs it from the start (a View, a reader
  // or producer of the host's, the push); otherwise when first needed.
  if (o.views.length > 0 || readers.length > 0 || hostProducers.length > 0) meterProvider.sdk();
  const meter = meterProvider.getMeter(scope.name, scope.version);
  // One namer for the scrape and the profile-named push: what its counters served, and the
  // ingested sources they merge, are the storages' store's; what it leaves out counted.
  const namer = profileNamer(profile, o.hostInstruments, hostName, {
    served: meterProvider.storages.series.served,
    sources,
    unserved: countFromZero(meter.createCounter(INSTRUMENTS_UNSERVED.name)),
  });
  guard.countInto(dropCounter(meter.createCounter(RECORDS_DROPPED.name)));
  guard.countCutsInto(countFromZero(meter.createCounter(ATTRIBUTE_VALUES_TRUNCATED.name)));
  const recorder = createRecorder(meter, {
    settleBeforeCollect: (pending) => meterProvider.storages.series.settleBeforeCollect(pending),
    guard,
    declared: o.instruments,
    // Every original reports its build; default to jobmeter's own so the series is never absent.
    build: options.build ?? { version: VERSION },
    snapshotDefaults: { ...snapshot, ...options.snapshot },
    ...conventions,
  });

  // Coalesced at the family level, so concurrent scrapes (and the profile-named push) share the
  // naming pass. The SDK's collection first: its callbacks may record into the storages' store.
  // While the SDK holds no instrument and the reader no producer, it would give nothing: the store
  // alone. The ingest's series sets last.
  let stopped = false;
  const collectStore = (): Promise<Collection> => {
    if (hostProducers.length === 0 && !meterProvider.sdkInstruments)
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
      primary?.active?.scrape() ??
      (ingest === undefined
        ? store()
        : store().then((c) => ingest.series.collectSeries().then((part) => withIngested(c, part))));
    return ingest === undefined ? c : c.then(ingest.preferIngestedIn);
  };
  const namedPass = coalescedScrape(
    () => collectWith(collectStore),
    namer,
    () => ingest?.changes() ?? 0,
  );
  // Refused once shutdown begins, before a pass starts: the last push's pass, which runs after,
  // then never waits on a scrape's that is bound to fail.
  const scrape = (): Promise<RenderFamily[]> =>
    stopped ? Promise.reject(new Error('jobmeter is shutdown: it collects no more')) : namedPass();
  // Series that left wait for a pass to be counted in their label sets: with nobody scraping, one
  // is run when many wait (series/carry.ts MAX_PENDING_DEPARTURES), never inside an ingest.
  let passAsked = false;
  sources.whenPending(() => {
    if (passAsked || stopped) return;
    passAsked = true;
    setImmediate(() => {
      passAsked = false;
      if (!stopped)
        scrape().catch((err: unknown) =>
          o.log('warn', `a naming pass of the series that left failed: ${messageOf(err)}`),
        );
    });
  });
  const format = (o.listener === false ? undefined : o.listener.format) ?? profile.format;
  const json = jsonView(profile, () => recorder.lastSnapshot());
  /** What `/ready` reads, on every listener that answers it. */
  const pipeline = (): PipelineState => ({
    push: pushFailures === undefined ? undefined : { failedExports: pushFailures() },
    ingest: undefined,
    ...ingest?.state(),
  });
  telemetry?.readinessFrom(pipeline);

  // The parts, started in this order and stopped in reverse: each stops before every part above it.
  const parts = new Parts();
  const stopThreads = new Set<() => void>();
  let threads = 0;
  const { listener: pullOptions, cluster: clusterOptions } = o;
  // The primary hears its workers and threads until the last push (which still asks them) is done.
  if (primary !== undefined)
    await parts.start(
      async () => (cluster.isPrimary ? listenToClusterWorkers(primary) : undefined),
      (stopWorkers) => {
        stopWorkers?.();
        for (const stop of stopThreads) stop();
      },
    );
  // The pull listener closes alongside the provider's shutdown (the last push), so shutdown waits
  // one close grace (server-limits.ts) less than if it closed first.
  let listener: MetricsListener | undefined;
  parts.add(() => Promise.all([listener?.close(), meterProvider.shutdown()]));
  // The runtime's figures are the native profile's only: no legacy original had them.
  const observed = processSpecs.filter(
    (s) => profile.kind === 'native' || !RUNTIME_INSTRUMENTS.some((r) => r.name === s.name),
  );
  if (observed.length > 0)
    await parts.start(
      async () =>
        registerProcessMetrics(meter, Object.fromEntries(observed.map((s) => [s.name, s]))),
      (unregister) => unregister(),
    );
  // The last push reads the aggregate once the primary's own collection has settled.
  // (Nothing to settle before a member has reported.)
  if (primary !== undefined) parts.add(async () => primary.active?.settleOwn());
  // `/health` and `/ready` on every listener serve has, the pull listener too (serve's
  // `[metrics] listen`): an operator probes the listener Prometheus scrapes.
  if (pullOptions !== false)
    listener = await parts.start(() =>
      startMetricsListener({
        ...pullOptions,
        format,
        json,
        scrape,
        pipeline,
        ...(telemetry && { onScrape: (seconds: number) => telemetry.scraped(seconds) }),
      }),
    );
  // The ingest stops first among the listeners, so the last export holds everything received;
  // its checkpoints and listener are parts of their own (ingest-part.ts).
  const ingestListener =
    ingest === undefined
      ? undefined
      : await parts.start(() => ingest.start(parts, telemetry, pipeline, debug?.received));
  // Once nothing can fail: a jobmeter that failed to start leaves no global behind.
  if (o.global)
    await parts.start(
      async () => registerGlobal(meterProvider, o.log),
      (undo) => undo(),
    );
  // A member's last report: everything accepted, read while the instruments still are.
  if (role === 'member' && clusterOptions !== false)
    await parts.start(
      async () =>
        // The member's code loads in a member only.
        (await import('./cluster/member.ts')).startClusterMember(
          clusterOptions.reportTo,
          () => meterProvider.collectWithStorages(pull()),
          o.log,
          true,
        ),
      (member) => member.close(),
    );
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
    ingestGrpcAddress: ingestListener?.grpcAddress,
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
  return { jm, telemetry, ingestListener };
}
