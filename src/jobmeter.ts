/**
 * The composition root: one MeterProvider with the domain instruments, their views, a pull reader
 * behind the loopback listener, an optional OTLP push reader and an optional OTLP ingest listener
 * whose store joins both readers. Every default is resolved here.
 */
import type { Meter } from '@opentelemetry/api';
import { hostname } from 'node:os';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AggregationTemporality, MeterProvider, type MetricReader, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { ConfigError } from './config/errors.ts';
import { createDebugPrinter } from './debug/debug-printer.ts';
import { DOMAIN_INSTRUMENTS } from './domain/catalog.ts';
import { PROCESS_INSTRUMENTS, registerProcessMetrics } from './domain/process-metrics.ts';
import { createRecorder, type Recorder } from './domain/recorder.ts';
import { TallyStore } from './domain/tallies.ts';
import type { JsonView } from './http/metrics-response.ts';
import type { InstrumentSpec } from './domain/types.ts';
import type { ExpositionFormat, Family } from './exposition/types.ts';
import { startMetricsListener, type MetricsListener } from './http/metrics-listener.ts';
import { resolveServerLimits, type ServerLimits } from './http/server-limits.ts';
import { startIngestListener, type IngestListener } from './ingest/ingest-listener.ts';
import { IngestStore, REFUSED_METRIC, type ExposedKind } from './ingest/ingest-store.ts';
import { preferIngested } from './ingest/prefer-ingested.ts';
import { claimedNames, nativeClaimedNames } from './naming/prometheus-names.ts';
import { createNamer, SCRAPE_ERRORS_FAMILY } from './naming/to-families.ts';
import { resolveProfile } from './naming/profiles/index.ts';
import type { Profile } from './naming/types.ts';
import type { IngestOptions, JobmeterOptions, ProfileName } from './options.ts';
import { createFamiliesToMetrics } from './otlp/families-to-metrics.ts';
import { createOtlpPushReader, type ResolvedOtlpPushOptions } from './readers/otlp-push.ts';
import { PullMetricReader } from './readers/pull-reader.ts';
import { VERSION } from './version.ts';
import { buildViews } from './views/build-views.ts';

export interface Jobmeter extends Recorder {
  readonly profile: Profile;
  readonly meterProvider: MeterProvider;
  /** The meter the domain records through, for hosts that add plain OTel instruments. */
  readonly meter: Meter;
  /** Where the pull listener is bound; undefined when it is disabled. */
  readonly pullAddress: { readonly host: string; readonly port: number } | undefined;
  /** Where the OTLP ingest listener is bound (`POST /v1/metrics`); undefined when it is disabled. */
  readonly ingestAddress: { readonly host: string; readonly port: number } | undefined;
  /** The families one scrape would serve (concurrent calls share a collection). */
  scrape(): Promise<Family[]>;
  /** What the profile's original serves when `Accept` leaves the choice (or the forced format). */
  readonly format: 'negotiate' | ExpositionFormat;
  /** How `?format=json` renders under this profile (open mode: wasmrun's sessions included). */
  readonly jsonView: JsonView;
  /** Pushes now (when OTLP is configured). */
  forceFlush(): Promise<void>;
  /** Closes the ingest listener, flushes the last OTLP export, closes the pull listener. Idempotent. */
  shutdown(): Promise<void>;
}

interface ResolvedOptions {
  readonly profile: ProfileName;
  readonly serviceName: string;
  readonly resourceAttributes: Readonly<Record<string, string>>;
  readonly listener:
    | ({ readonly host: string; readonly port: number; readonly allowNonLoopback: boolean; readonly format: 'negotiate' | ExpositionFormat | undefined } & ServerLimits)
    | false;
  readonly otlp: ResolvedOtlpPushOptions | undefined;
  /** undefined: the profile decides (canonical for `otel`, profile for the legacy ones). */
  readonly otlpNaming: 'canonical' | 'profile' | undefined;
  readonly ingest: Required<IngestOptions> | false;
  readonly processMetrics: boolean;
  readonly otelScopeInfo: boolean;
  readonly instruments: readonly InstrumentSpec[];
  readonly debug: ((line: string) => void) | undefined;
}

/**
 * The JSON view of a profile. The dedicated listener has no auth, i.e. it is wasmrun's open mode,
 * so the per-session breakdown is included there (never as labels: ids are unbounded).
 */
function jsonView(profile: Profile, recorder: Recorder): JsonView {
  if (profile.kind !== 'table' || profile.json !== 'flat') return { shape: 'generic' };
  return {
    shape: 'flat',
    prefix: profile.prefix,
    extra: () => {
      const list = recorder.lastSnapshot()?.sessions?.list;
      if (list === undefined) return undefined;
      return { sessions: list.map((s) => ({ id: s.id, disk_bytes: s.diskBytes, memory_cap_pages: s.memoryCapPages })) };
    },
  };
}

const EXPOSED_KIND_OF: Readonly<Record<InstrumentSpec['kind'], ExposedKind>> = {
  counter: 'counter',
  observableCounter: 'counter',
  upDownCounter: 'gauge',
  observableUpDownCounter: 'gauge',
  gauge: 'gauge',
  observableGauge: 'gauge',
  histogram: 'histogram',
};

/**
 * The names jobmeter serves itself under the native profile, by owner: its instruments' (a sender
 * may feed those very instruments), `target_info`, and the self-metrics (no sender may take those).
 */
function reservedNativeNames(specs: readonly InstrumentSpec[], scopeInfo: boolean): Map<string, string> {
  const out = new Map<string, string>();
  for (const spec of [...DOMAIN_INSTRUMENTS, ...PROCESS_INSTRUMENTS, ...specs]) {
    for (const n of nativeClaimedNames(spec.name, spec.unit, EXPOSED_KIND_OF[spec.kind])) out.set(n, spec.name);
  }
  if (scopeInfo) for (const n of claimedNames('target_info', 'info')) out.set(n, 'target_info');
  for (const n of claimedNames(SCRAPE_ERRORS_FAMILY, 'counter')) out.set(n, `the self-metric ${SCRAPE_ERRORS_FAMILY}`);
  for (const n of nativeClaimedNames(REFUSED_METRIC, '{data_point}', 'counter')) out.set(n, `the self-metric ${REFUSED_METRIC}`);
  return out;
}

export const DEFAULT_LISTEN_HOST = '127.0.0.1';
export const DEFAULT_LISTEN_PORT = 9464;
export const DEFAULT_INGEST_PORT = 4318;

function resolveOptions(o: JobmeterOptions): ResolvedOptions {
  const listener =
    o.listener === false
      ? false
      : {
          host: o.listener?.host ?? DEFAULT_LISTEN_HOST,
          port: o.listener?.port ?? DEFAULT_LISTEN_PORT,
          allowNonLoopback: o.listener?.allowNonLoopback ?? false,
          // undefined: what the profile's original serves (resolved once the profile is known)
          format: o.listener?.format,
          ...resolveServerLimits(o.listener, 'listener'),
        };
  const otlp =
    o.otlp?.endpoint === undefined
      ? undefined
      : {
          endpoint: o.otlp.endpoint,
          headers: o.otlp.headers ?? {},
          protocol: o.otlp.protocol ?? 'http/protobuf',
          intervalMillis: o.otlp.intervalMillis ?? 60_000,
          timeoutMillis: o.otlp.timeoutMillis ?? Math.min(30_000, o.otlp.intervalMillis ?? 60_000),
          temporality: o.otlp.temporality ?? 'cumulative',
        };
  const ingest =
    o.ingest === undefined || o.ingest === false
      ? false
      : {
          host: o.ingest.host ?? DEFAULT_LISTEN_HOST,
          port: o.ingest.port ?? DEFAULT_INGEST_PORT,
          allowNonLoopback: o.ingest.allowNonLoopback ?? false,
          maxBodyBytes: o.ingest.maxBodyBytes ?? 20 * 1024 * 1024,
          maxConcurrentRequests: o.ingest.maxConcurrentRequests ?? 8,
          expiryMillis: o.ingest.expiryMillis ?? 5 * 60_000,
          maxSeriesPerInstrument: o.ingest.maxSeriesPerInstrument ?? 2_000,
          maxSeries: o.ingest.maxSeries ?? 50_000,
          maxMemoryBytes: o.ingest.maxMemoryBytes ?? 128 * 1024 * 1024,
          ...resolveServerLimits(o.ingest, 'ingest'),
        };
  return {
    profile: o.profile ?? 'otel',
    serviceName: o.serviceName ?? 'jobmeter',
    resourceAttributes: o.resourceAttributes ?? {},
    listener,
    otlp,
    otlpNaming: o.otlp?.naming,
    ingest,
    processMetrics: o.processMetrics ?? true,
    otelScopeInfo: o.otelScopeInfo ?? true,
    instruments: o.instruments ?? [],
    debug: o.debug,
  };
}

export async function createJobmeter(options: JobmeterOptions = {}): Promise<Jobmeter> {
  const o = resolveOptions(options);
  const profile = resolveProfile(o.profile, o.otelScopeInfo);
  const specs = [...DOMAIN_INSTRUMENTS, ...(o.processMetrics ? PROCESS_INSTRUMENTS : []), ...o.instruments];
  const bucketOverrides = profile.kind === 'table' ? (profile.buckets ?? {}) : {};
  const effective = specs.map((s) => (bucketOverrides[s.name] ? { ...s, buckets: bucketOverrides[s.name] } : s));
  // Views bound the host's own `meter` instruments; the domain's synchronous instruments (and the
  // declared ones) record into tallies that apply the same specs, read by both readers.
  const views = buildViews(effective);
  const tallies = new TallyStore(effective, { scope: { name: 'jobmeter', version: VERSION } });
  // OTLP ingest: every canonical name is bounded by its spec (process metrics too, whether or not
  // jobmeter records its own), with the profile's buckets.
  const ingestStore =
    o.ingest === false
      ? undefined
      : new IngestStore({
          instruments: [...DOMAIN_INSTRUMENTS, ...PROCESS_INSTRUMENTS, ...o.instruments].map((s) =>
            bucketOverrides[s.name] ? { ...s, buckets: bucketOverrides[s.name] } : s,
          ),
          expiryMillis: o.ingest.expiryMillis,
          maxSeriesPerInstrument: o.ingest.maxSeriesPerInstrument,
          maxSeries: o.ingest.maxSeries,
          maxMemoryBytes: o.ingest.maxMemoryBytes,
          // Native names come from the sender: refuse those that would clash on the pull endpoint.
          ...(profile.kind === 'native' && { exposedNames: nativeClaimedNames, reservedNames: reservedNativeNames(specs, profile.scopeInfo) }),
        });
  // A name a sender pushes replaces jobmeter's own (its process.uptime, its build info).
  const shadow = ingestStore === undefined ? undefined : (rm: ResourceMetrics) => preferIngested(rm, (sm) => ingestStore.owns(sm));
  const namer = createNamer(profile, { hostname: options.hostname ?? hostname() });
  const debug = o.debug === undefined ? undefined : createDebugPrinter(o.debug, o.otlp?.protocol);

  // Extra producers (e.g. OTLP ingest) join the pull collection after the SDK's own metrics; the
  // tallies come first, as their instruments did when they were the SDK's.
  const extraProducers = [...(options.metricProducers ?? []), ...(ingestStore === undefined ? [] : [ingestStore])];
  // The scrape below reads each instrument's points once, in its naming pass: made on read, they die young.
  const pull = new PullMetricReader(extraProducers, { leadingProducers: [tallies.producer(AggregationTemporality.CUMULATIVE, { pointsOnRead: true })] });
  const readers: MetricReader[] = [pull];
  if (o.otlp !== undefined) {
    const temporality = o.otlp.temporality === 'delta' ? AggregationTemporality.DELTA : AggregationTemporality.CUMULATIVE;
    // Profile series are cumulative, as Prometheus reads them: with delta, canonical names only.
    const cumulative = o.otlp.temporality === 'cumulative';
    const naming = o.otlpNaming ?? (profile.kind === 'table' && cumulative ? 'profile' : 'canonical');
    if (naming === 'profile' && !cumulative) {
      throw new ConfigError('otlp.naming', naming, 'canonical when otlp.temporality is delta (profile series are cumulative)');
    }
    let transform = shadow;
    if (naming === 'profile') {
      const toMetrics = createFamiliesToMetrics({ scope: { name: 'jobmeter', version: VERSION } });
      transform = (rm) => toMetrics(namer.toFamilies(shadow?.(rm) ?? rm), rm.resource);
    }
    readers.push(
      createOtlpPushReader(o.otlp, {
        metricProducers: [tallies.producer(temporality), ...extraProducers],
        ...(transform !== undefined && { transform }),
        ...(debug !== undefined && { onExport: debug.pushed }),
      }),
    );
  }
  const meterProvider = new MeterProvider({
    resource: resourceFromAttributes({ ...o.resourceAttributes, 'service.name': o.serviceName }),
    views,
    readers,
  });
  const meter = meterProvider.getMeter('jobmeter', VERSION);
  const recorder = createRecorder(meter, {
    tallies,
    declared: o.instruments,
    // Every original reports its build; default to jobmeter's own so the series is never absent.
    build: options.build ?? { version: VERSION },
    snapshotDefaults: { ...(profile.kind === 'table' ? profile.snapshot : undefined), ...options.snapshot },
  });
  const stopProcessMetrics = o.processMetrics ? registerProcessMetrics(meter) : () => {};

  let inflight: Promise<Family[]> | undefined;
  const scrape = (): Promise<Family[]> => {
    // Coalesce at the family level so concurrent scrapes also share the naming pass.
    inflight ??= pull
      .collectShared()
      // Sliced, so a large collection's naming pass never holds the host's event loop for long.
      .then((result) => namer.toFamiliesSliced(shadow?.(result.resourceMetrics) ?? result.resourceMetrics))
      .finally(() => {
        inflight = undefined;
      });
    return inflight;
  };

  const format = (o.listener === false ? undefined : o.listener.format) ?? profile.format;
  const json = jsonView(profile, recorder);
  let listener: MetricsListener | undefined;
  let ingestListener: IngestListener | undefined;
  try {
    if (o.listener !== false) listener = await startMetricsListener({ ...o.listener, format, json, scrape });
    if (o.ingest !== false && ingestStore !== undefined) {
      const { host, port, allowNonLoopback, maxBodyBytes, maxConcurrentRequests, requestTimeoutMillis, idleTimeoutMillis, maxConnections } = o.ingest;
      const onRequest = debug?.received;
      ingestListener = await startIngestListener({
        sink: ingestStore,
        host,
        port,
        allowNonLoopback,
        maxBodyBytes,
        maxConcurrentRequests,
        requestTimeoutMillis,
        idleTimeoutMillis,
        maxConnections,
        ...(onRequest && { onRequest }),
      });
    }
  } catch (err) {
    stopProcessMetrics();
    await listener?.close().catch(() => {});
    await meterProvider.shutdown().catch(() => {});
    throw err;
  }

  let closing: Promise<void> | undefined;
  return {
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
    shutdown() {
      closing ??= (async () => {
        stopProcessMetrics();
        // Stop taking ingest first, so the last export holds everything received; the pull
        // listener's bounded close runs alongside the last export, so shutdown stays within
        // one close grace (server-limits.ts) twice plus the export's bound.
        await ingestListener?.close();
        await Promise.all([listener?.close(), meterProvider.shutdown()]);
      })();
      return closing;
    },
  };
}
