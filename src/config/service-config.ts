/**
 * A `jobmeter serve` config layer (defaults, environment, file, flags — resolve-layers.ts merges
 * them field by field): the library's options (options.ts) as the service sets them, every field
 * optional (absent: "not set by this layer"), plus what only the service has — an `enabled` switch
 * per listener, the `[metrics]` route of its main server, and a profile's rules apart from its
 * name. The types are the options' own, picked, so a new option cannot be spelled two ways.
 */
import type { ViewOptions } from '@opentelemetry/sdk-metrics';

import {
  SECTIONS,
  type INGEST_OPTIONS,
  type JOBMETER_OPTIONS,
  type METRICS_OPTIONS,
  type OptionRow,
  type RowValue,
  type TELEMETRY_OPTIONS,
} from '../common/option-table.ts';
import type { PostureName } from '../common/postures.ts';
import type { BuildInfo } from '../domain/recorder.ts';
import type {
  ClusterOptions,
  JobmeterOptions,
  OtlpPushOptions,
  ProfileName,
  ProfileOptions,
  PullListenerOptions,
} from '../options.ts';

/** Where a layer comes from, lowest precedence first (resolve-layers.ts). */
export type LayerSource = 'defaults' | 'env' | 'file' | 'flags';

/** A config layer and where it comes from (`path`: the file a `file` layer was read from). */
export interface ConfigLayer {
  readonly source: LayerSource;
  readonly config: Readonly<ServiceConfig>;
  readonly path?: string;
}

/**
 * The key that set `[table] field`, as its user spelled it, from the last of `layers` that set it:
 * its variable (`env`, else the row's own) or flag where the environment or the flags did and
 * the row has one; else its config file key, `the default` one where only the defaults set it.
 */
export function setBy(
  layers: readonly ConfigLayer[],
  table: 'otlp' | 'ingest' | 'metrics' | 'telemetry',
  field: string,
  env?: string,
): string {
  const row: OptionRow = SECTIONS[table][field as never];
  const source = layers.findLast(
    (l) => (l.config[table] as Record<string, unknown> | undefined)?.[field] !== undefined,
  )?.source;
  const fileKey = `${table}.${row.file!}`;
  if (source === 'defaults') return `the default ${fileKey}`;
  return (
    (source === 'env' ? (env ?? row.env) : source === 'flags' ? row.flag : undefined) ?? fileKey
  );
}

/** `obj`'s set fields (not undefined) as a new object: what a layer sets, or options without the unset. */
export const definedOnly = <T extends object>(obj: T): Partial<T> =>
  Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as Partial<T>;

/** Every field optional and settable: a layer is built up field by field. */
type Layer<T> = { -readonly [K in keyof T]?: T[K] };

/**
 * `[ingest]` — the rows of IngestOptions but the series caps, plus `enabled` (only `true` turns
 * the listener on) and the files holding the gate's secrets (read when the layers are merged:
 * metrics-section.ts readSecretFiles).
 */
export type IngestConfig = FileRows<
  Omit<typeof INGEST_OPTIONS, 'maxSeriesPerInstrument' | 'maxSeries'>
>;

/**
 * A file-only section's rows as a layer's fields (each keeping its row's doc comment): typed as
 * options.ts types the options' rows, `T`'s where a layer holds the value parsed.
 */
type FileRows<S, T extends { readonly [K in keyof S]?: unknown } = object> = {
  -readonly [K in keyof S]?: K extends keyof T ? T[K] : RowValue<S[K]>;
};

/**
 * `[metrics]` — the metrics route of `jobmeter serve`'s main server and its auth posture
 * (src/common/postures.ts). Also fed by the originals' own spellings: runwisp's `[daemon]
 * metrics_enabled` / `metrics_listen`, rm's top-level `metrics_token` / `metrics_trusted_cidrs`,
 * and, under each posture, that original's environment variables (metrics-section.ts).
 */
export type MetricsConfig = FileRows<
  typeof METRICS_OPTIONS,
  { posture: PostureName; listen: { host: string; port: number } }
>;

/** `[telemetry]`: serve's own telemetry listener, its `listen` address parsed. */
export type TelemetryConfig = FileRows<
  typeof TELEMETRY_OPTIONS,
  { listen: { host: string; port: number } }
>;

/**
 * The options the config file sets as single values: the rows with a rule and a file key outside a
 * table (`service_name`, `process_metrics`, …), and `[naming]`'s, top-level options of the library.
 */
export type ValueKey = {
  [K in keyof Top]: Top[K] extends { readonly file: string; readonly rule: unknown } ? K : never;
}[keyof Top];
type Top = typeof JOBMETER_OPTIONS;

/** A validated config layer. */
export interface ServiceConfig extends Layer<
  Pick<JobmeterOptions, ValueKey | 'resourceAttributes'>
> {
  /** The profile's name; its rules apart (a file's `[profile]` table holds both). */
  profile?: ProfileName;
  /** `[[profile.rules]]`: the host's own rules (`zero_fill` → `zeroFill`), checked at start. */
  profileRules?: ProfileOptions['rules'];
  /** `[listener]` — {@link PullListenerOptions} plus `enabled` (`false` maps to `listener: false`). */
  listener?: PullListenerOptions & { enabled?: boolean };
  /** `[otlp]` — {@link OtlpPushOptions} (`interval_ms` → `intervalMillis`, …). */
  otlp?: OtlpPushOptions;
  ingest?: IngestConfig;
  /** `[cluster]` — {@link ClusterOptions} but the thread's port; `enabled = false` is `cluster: false`. */
  cluster?: Omit<ClusterOptions, 'reportTo'> & { enabled?: boolean };
  metrics?: MetricsConfig;
  /** `[telemetry]`: serve's own telemetry; on (at its default address) unless `enabled = false`. */
  telemetry?: TelemetryConfig;
  /** `[build]`: the daemon's identity under `jobmeter serve`, until the daemon pushes its own. */
  build?: Layer<BuildInfo>;
  /** `[[views]]`: OpenTelemetry Views (views-section.ts). */
  views?: readonly ViewOptions[];
}
