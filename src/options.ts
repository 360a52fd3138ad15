/**
 * Options of {@link createJobmeter}. Every field is optional: `{}` gives the native profile,
 * a pull listener on 127.0.0.1:9464, process metrics, and no OTLP push.
 * Each option is declared once, as a row of common/option-table.ts (its config file key, default,
 * rule, and its doc comment, `@default` included); the types below are those rows mapped
 * ({@link OptionsOf}), so an editor shows the row's doc on each field, and docs/options.md is
 * generated from the same rows. A bad value, or an unknown key, is a ConfigError.
 */
import type { IMetricReader, MetricProducer, ViewOptions } from '@opentelemetry/sdk-metrics';
import type { MessagePort } from 'node:worker_threads';
import type {
  OptionsOf,
  ACCESS_LOG_OPTIONS,
  CLUSTER_OPTIONS,
  INGEST_OPTIONS,
  JOBMETER_OPTIONS,
  LISTENER_OPTIONS,
  OTLP_OPTIONS,
  PROFILE_TABLE_OPTIONS,
} from './common/option-table.ts';
import type { MergePolicy } from './domain/merge-rules.ts';
import type { SnapshotSourceOptions } from './domain/snapshot.ts';
import type { BuildInfo, DeclaredInstrumentSpec } from './domain/types.ts';
import type { FamilyRule } from './naming/types.ts';
import type { ProfileName } from './common/option-values.ts';
import type { LevelLogger } from './common/log.ts';

export type { OptionsOf } from './common/option-table.ts';
export {
  PROFILE_NAMES,
  type HostInstruments,
  type OtlpProtocol,
  type ProfileName,
} from './common/option-values.ts';

/**
 * The option `listener`: jobmeter's own pull listener (`GET /metrics`), loopback unless allowed otherwise.
 * @example
 *   const listener: PullListenerOptions = { host: '127.0.0.1', port: 9464 };
 */
export type PullListenerOptions = OptionsOf<typeof LISTENER_OPTIONS>;

/**
 * The option `otlp`: where and how jobmeter pushes its metrics over OTLP/HTTP.
 * @example
 *   const otlp: OtlpPushOptions = { endpoint: 'http://127.0.0.1:4318/v1/metrics', intervalMillis: 15_000 };
 */
export type OtlpPushOptions = OptionsOf<typeof OTLP_OPTIONS>;

/**
 * OTLP/HTTP ingest: a listener where foreign OpenTelemetry SDKs push metrics that then join every
 * collection, through the same bounds and naming profile (docs/collector.md).
 */
export type IngestOptions = OptionsOf<typeof INGEST_OPTIONS>;

/** The ingest gate's options: without defaults, compiled and checked where options are resolved (http/gate.ts). */
export type IngestGateKey = 'token' | 'apiKeys' | 'trustedCidrs';

/** A profile extended with rules of the host's own (the config file's `[profile]` table). */
export type ProfileOptions = OptionsOf<
  typeof PROFILE_TABLE_OPTIONS,
  { rules: readonly FamilyRule[] }
>;

/**
 * Several processes or threads, one endpoint (README "node:cluster"). In a `node:cluster` app the
 * primary and every worker call `createJobmeter()` with the same options: workers bind nothing
 * and push nothing, they report to the primary over the cluster's IPC channel; the primary serves
 * (and pushes) the aggregate. Worker threads do the same over a port: the thread passes
 * `reportTo: parentPort`, the parent calls `jm.aggregate(worker)`. In the primary, the first
 * jobmeter created aggregates the workers, until its `shutdown()`.
 */
export type ClusterOptions = OptionsOf<
  typeof CLUSTER_OPTIONS,
  { reportTo: MessagePort; merge: Record<string, MergePolicy> }
>;

/** A metrics route's `accessLog` as an object: where its lines go, verbose lines, the clock. */
export type AccessLogOptions = OptionsOf<
  typeof ACCESS_LOG_OPTIONS,
  { stream: { write(chunk: string): unknown } | LevelLogger; now: () => number }
>;

/**
 * What {@link createJobmeter} is given; each option is a row of common/option-table.ts
 * (docs/options.md). `I`: the `instruments` declared, kept literal so the Jobmeter's `counter`,
 * `histogram`, `gauge` and `observe` take only their names and attribute keys.
 * @example
 *   const options: JobmeterOptions = { serviceName: 'my-scheduler', profile: 'runwisp', listener: { port: 9464 } };
 */
export type JobmeterOptions<
  I extends readonly DeclaredInstrumentSpec[] = readonly DeclaredInstrumentSpec[],
> = OptionsOf<typeof JOBMETER_OPTIONS, HostTypes<I>>;

/**
 * The type a host gives for each option whose value is not plain data (the rows say nothing of
 * them); a section that picks rows of JOBMETER_OPTIONS reads its own from here.
 */
export interface HostTypes<
  I extends readonly DeclaredInstrumentSpec[] = readonly DeclaredInstrumentSpec[],
> {
  profile: ProfileName | ProfileOptions;
  listener: PullListenerOptions | false;
  otlp: OtlpPushOptions;
  ingest: IngestOptions | false;
  cluster: ClusterOptions | false;
  build: BuildInfo;
  views: readonly ViewOptions[];
  instruments: I;
  snapshot: SnapshotSourceOptions;
  metricProducers: MetricProducer[];
  readers: readonly IMetricReader[];
}
