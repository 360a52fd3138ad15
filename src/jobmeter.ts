/**
 * The composition root: one MeterProvider with the domain instruments, their views, a pull reader
 * behind the loopback listener and an optional OTLP push reader. Every default is resolved here.
 */
import type { Meter } from '@opentelemetry/api';
import { hostname } from 'node:os';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, type MetricReader } from '@opentelemetry/sdk-metrics';
import { DOMAIN_INSTRUMENTS } from './domain/catalog.ts';
import { PROCESS_INSTRUMENTS, registerProcessMetrics } from './domain/process-metrics.ts';
import { createRecorder, type Recorder } from './domain/recorder.ts';
import type { JsonView } from './http/metrics-response.ts';
import type { InstrumentSpec } from './domain/types.ts';
import type { ExpositionFormat, Family } from './exposition/types.ts';
import { startMetricsListener, type MetricsListener } from './http/metrics-listener.ts';
import { createNamer } from './naming/to-families.ts';
import { resolveProfile } from './naming/profiles/index.ts';
import type { Profile } from './naming/types.ts';
import type { JobmeterOptions, ProfileName } from './options.ts';
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
  /** The families one scrape would serve (concurrent calls share a collection). */
  scrape(): Promise<Family[]>;
  /** What the profile's original serves when `Accept` leaves the choice (or the forced format). */
  readonly format: 'negotiate' | ExpositionFormat;
  /** How `?format=json` renders under this profile (open mode: wasmrun's sessions included). */
  readonly jsonView: JsonView;
  /** Pushes now (when OTLP is configured). */
  forceFlush(): Promise<void>;
  /** Flushes the last OTLP export, closes the listener. Idempotent. */
  shutdown(): Promise<void>;
}

interface ResolvedOptions {
  readonly profile: ProfileName;
  readonly serviceName: string;
  readonly resourceAttributes: Readonly<Record<string, string>>;
  readonly listener:
    | { readonly host: string; readonly port: number; readonly allowNonLoopback: boolean; readonly format: 'negotiate' | ExpositionFormat | undefined }
    | false;
  readonly otlp: ResolvedOtlpPushOptions | undefined;
  readonly processMetrics: boolean;
  readonly otelScopeInfo: boolean;
  readonly instruments: readonly InstrumentSpec[];
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

export const DEFAULT_LISTEN_HOST = '127.0.0.1';
export const DEFAULT_LISTEN_PORT = 9464;

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
  return {
    profile: o.profile ?? 'otel',
    serviceName: o.serviceName ?? 'jobmeter',
    resourceAttributes: o.resourceAttributes ?? {},
    listener,
    otlp,
    processMetrics: o.processMetrics ?? true,
    otelScopeInfo: o.otelScopeInfo ?? true,
    instruments: o.instruments ?? [],
  };
}

export async function createJobmeter(options: JobmeterOptions = {}): Promise<Jobmeter> {
  const o = resolveOptions(options);
  const profile = resolveProfile(o.profile, o.otelScopeInfo);
  const specs = [...DOMAIN_INSTRUMENTS, ...(o.processMetrics ? PROCESS_INSTRUMENTS : []), ...o.instruments];
  const bucketOverrides = profile.kind === 'table' ? (profile.buckets ?? {}) : {};
  const views = buildViews(specs.map((s) => (bucketOverrides[s.name] ? { ...s, buckets: bucketOverrides[s.name] } : s)));

  // Extra producers (e.g. OTLP ingest) join the pull collection after the SDK's own metrics.
  const pull = new PullMetricReader(options.metricProducers ?? []);
  const readers: MetricReader[] = [pull];
  if (o.otlp !== undefined) readers.push(createOtlpPushReader(o.otlp));
  const meterProvider = new MeterProvider({
    resource: resourceFromAttributes({ ...o.resourceAttributes, 'service.name': o.serviceName }),
    views,
    readers,
  });
  const meter = meterProvider.getMeter('jobmeter', VERSION);
  const recorder = createRecorder(meter, {
    declared: o.instruments,
    // Every original reports its build; default to jobmeter's own so the series is never absent.
    build: options.build ?? { version: VERSION },
    snapshotDefaults: { ...(profile.kind === 'table' ? profile.snapshot : undefined), ...options.snapshot },
  });
  const stopProcessMetrics = o.processMetrics ? registerProcessMetrics(meter) : () => {};

  const namer = createNamer(profile, { hostname: options.hostname ?? hostname() });
  let inflight: Promise<Family[]> | undefined;
  const scrape = (): Promise<Family[]> => {
    // Coalesce at the family level so concurrent scrapes also share the naming pass.
    inflight ??= pull
      .collectShared()
      .then((result) => namer.toFamilies(result.resourceMetrics))
      .finally(() => {
        inflight = undefined;
      });
    return inflight;
  };

  const format = (o.listener === false ? undefined : o.listener.format) ?? profile.format;
  const json = jsonView(profile, recorder);
  let listener: MetricsListener | undefined;
  if (o.listener !== false) {
    try {
      listener = await startMetricsListener({ ...o.listener, format, json, scrape });
    } catch (err) {
      stopProcessMetrics();
      await meterProvider.shutdown().catch(() => {});
      throw err;
    }
  }

  let closing: Promise<void> | undefined;
  return {
    ...recorder,
    profile,
    meterProvider,
    meter,
    pullAddress: listener?.address,
    scrape,
    format,
    jsonView: json,
    forceFlush: () => meterProvider.forceFlush(),
    shutdown() {
      closing ??= (async () => {
        stopProcessMetrics();
        await listener?.close();
        await meterProvider.shutdown();
      })();
      return closing;
    },
  };
}
