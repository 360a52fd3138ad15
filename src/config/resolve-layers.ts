/**
 * Resolves the `jobmeter serve` configuration from its four sources.
 *
 * Precedence, lowest first — a later layer overrides an earlier one field by field:
 *
 *   1. embedded defaults (service-defaults.ts) — so no config at all behaves like createJobmeter({})
 *   2. OTEL_* environment (env-layer.ts)       — the ambient, fleet-wide OpenTelemetry settings,
 *      and JOBMETER_BUILD_*,                     and the daemon's identity where its unit sets it,
 *      JOBMETER_TELEMETRY_LISTEN                 and where serve's own telemetry listens
 *   3. config file (`--config FILE`,           — the operator's explicit choice for this service,
 *      file-parser.ts, file-layer.ts)            so it beats whatever the environment happens to hold
 *   4. command-line flags (serve-flags.ts)     — the most specific, per-invocation intent
 *
 * Merging is per field: a file that sets only `[otlp] interval_ms` keeps the endpoint from
 * OTEL_EXPORTER_OTLP_ENDPOINT. The two string maps merge per key: `resource_attributes`
 * (exact key) and `otlp.headers` (case-insensitive, as HTTP header names are), so a file adds to
 * OTEL_RESOURCE_ATTRIBUTES / OTEL_EXPORTER_OTLP_HEADERS and overrides only the keys it names.
 *
 * After merging, the OTLP timeout must not exceed the interval: one set above it is a ConfigError
 * naming where it came from. A timeout nobody set is the library's, which follows a shorter interval
 * down (resolve-options.ts), so `interval_ms = 10000` alone just works.
 *
 * The `[metrics]` section (metrics-section.ts) takes its environment layer from the chosen posture's own
 * variables (CREWSHIP_METRICS_TOKEN, RM_METRICS_*, RM_TRUSTED_PROXY, RUNWISP_TRUST_PROXY), at the
 * same place as OTEL_*: above the defaults, below the file and the flags. The posture is known only
 * once every layer is merged (the profile may come from a flag), so that layer is read afterwards
 * and merged in at its place.
 */
import type { JobmeterOptions } from '../options.ts';
import { DEFAULT_SERVICE_CONFIG } from './service-defaults.ts';
import { OPTION_DEFAULTS } from '../common/option-defaults.ts';
import {
  JOBMETER_OPTIONS,
  OTLP_OPTIONS,
  resolveSection,
  SECTIONS,
  TELEMETRY_OPTIONS,
  type Section,
} from '../common/option-table.ts';
import { bindAllowed } from '../common/loopback.ts';
import { isTable, LOOPBACK_EXPECTED, timeoutWithinInterval } from '../common/option-rules.ts';
import { POSTURES, postureForProfile } from '../common/postures.ts';
import { ConfigError, inFile } from '../errors.ts';
import { envLayer } from './env-layer.ts';
import { EXPORT_TIMEOUT, generalOf } from './otel-env.ts';
import { loadConfigFile } from './file-parser.ts';
import {
  mergeGateConfig,
  metricsEnvLayer,
  readSecretFiles,
  resolveMetrics,
  type ResolvedMetrics,
} from './metrics-section.ts';
import { setBy, type ConfigLayer, type ServiceConfig } from './service-config.ts';
import {
  flagsLayer,
  parseServeFlags,
  SERVE_FLAG_KEYS,
  type FlagKeys,
  type ServeFlags,
} from './serve-flags.ts';
import { parseServiceConfig } from './file-layer.ts';
import { readAddress } from './json-schema.ts';
import { toJobmeterOptions } from './to-options.ts';

/** The environment, as `process.env`. */
export type Env = NodeJS.ProcessEnv;

export interface ResolveInput {
  /** The `serve` subcommand's arguments (after `serve`), e.g. `['--config', 'jobmeter.toml']`. */
  argv: readonly string[];
  /** Environment to read OTEL_* from (usually `process.env`). */
  env: Env;
  /** How the user spelled the flags, for messages. @default SERVE_FLAG_KEYS */
  keys?: FlagKeys;
}

/**
 * Defaults < OTEL_* env < config file < flags, merged and mapped to library options.
 * The `[metrics]` section is validated (as part of the file) but not resolved: see
 * {@link resolveServeConfig}.
 * @throws ConfigError for any bad value (exit code 2 in the CLI); parseArgs' TypeError for bad flag syntax.
 */
export async function resolveServiceConfig({
  argv,
  env,
  keys = SERVE_FLAG_KEYS,
}: ResolveInput): Promise<JobmeterOptions> {
  return toJobmeterOptions((await collectLayers(parseServeFlags(argv), env, keys)).merged);
}

/**
 * What `jobmeter serve` runs with ({@link resolveServeConfig}): `options`, the library options as
 * {@link resolveServiceConfig} gives them (`listener` is the main server's address: serve passes
 * `listener: false` or the dedicated listener to createJobmeter and runs the main server itself);
 * `metrics`, the metrics route, its posture and the dedicated listener; `telemetry`, where serve's
 * own telemetry is served (undefined: nowhere, `enabled = false`), whether it answers `POST
 * /-/reload`, and the token it asks of every request but /health and /ready.
 */
export type ServeConfig = Awaited<ReturnType<typeof resolveServeConfig>>;

/**
 * Everything `jobmeter serve` needs: the library options and the metrics settings, with the
 * posture's environment variables, secret files read, and the posture checked against them.
 * @throws ConfigError for any bad value; parseArgs' TypeError for bad flag syntax.
 */
export async function resolveServeConfig({ argv, env, keys = SERVE_FLAG_KEYS }: ResolveInput) {
  const { layers, merged } = await collectLayers(parseServeFlags(argv), env, keys);
  return namingTheFile(layers, async () => {
    const profile = merged.profile ?? OPTION_DEFAULTS.profile;
    const posture =
      merged.metrics?.posture === undefined
        ? postureForProfile(profile)
        : POSTURES[merged.metrics.posture];
    // The posture's own variables join at the env layer's place: above defaults, below file and flags.
    const postureEnv = metricsEnvLayer(env, posture);
    const withEnv = layers.map((l) =>
      l.source !== 'env'
        ? l
        : {
            ...l,
            config: { ...l.config, metrics: mergeGateConfig(l.config.metrics ?? {}, postureEnv) },
          },
    );
    const resolved = await resolveMetrics(withEnv, posture);
    checkSomethingToServe(merged, resolved);
    return {
      options: toJobmeterOptions(merged),
      metrics: resolved,
      telemetry: telemetryOf(merged, layers),
    };
  });
}

async function collectLayers(
  flags: ServeFlags,
  env: Env,
  keys: FlagKeys,
): Promise<{ layers: ConfigLayer[]; merged: ServiceConfig }> {
  const layers: ConfigLayer[] = [
    { source: 'defaults', config: DEFAULT_SERVICE_CONFIG },
    { source: 'env', config: envLayer(env) },
  ];
  if (flags.config !== undefined) {
    const path = flags.config;
    const raw = await loadConfigFile(path, keys.config);
    let config: ServiceConfig;
    try {
      config = parseServiceConfig(raw, path);
    } catch (err) {
      throw inFile(err, path);
    }
    layers.push({ source: 'file', config, path });
  }
  layers.push({ source: 'flags', config: flagsLayer(flags, keys) });

  let merged: ServiceConfig = {};
  for (const layer of layers) merged = mergeServiceConfig(merged, layer.config);
  return namingTheFile(layers, async () => {
    checkOtlpTimeout(merged, layers, env);
    checkLoopbackBinds(merged, layers, flags, keys);
    // The gates' secret files read, a file's error naming its key.
    for (const table of ['ingest', 'telemetry'] as const) {
      const given = merged[table];
      if (given !== undefined)
        merged = {
          ...merged,
          [table]: await readSecretFiles(given, (field) => setBy(layers, table, field)),
        };
    }
    return { layers, merged };
  });
}

/**
 * `run`'s result. A ConfigError it throws on a key as the file spells it (`listener.host`: lower
 * case, where a variable is upper case and a flag starts with `-`) names the file, when one was
 * read: the checks across layers name a file key only for a value the file (or no layer) set.
 */
async function namingTheFile<T>(layers: readonly ConfigLayer[], run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    const path = layers.find((l) => l.source === 'file')?.path;
    throw path !== undefined && err instanceof ConfigError && /^[a-z]/.test(err.key)
      ? inFile(err, path)
      : err;
  }
}

// ---------------------------------------------------------------------------------------------
// Merging

type Table = Readonly<Record<string, unknown>>;

/**
 * `over`'s set fields win, by the option table's rows: a table (`[listener]`, `[otlp]`, …) merged
 * per field, a table of the host's names per key (header names case-insensitively, as HTTP has
 * them), so a file adds to OTEL_RESOURCE_ATTRIBUTES and overrides only the keys it names; a gate's
 * value and its file as one setting (mergeGateConfig); any other value set whole. Inputs are not
 * mutated.
 */
export function mergeServiceConfig(
  base: Readonly<ServiceConfig>,
  over: Readonly<ServiceConfig>,
): ServiceConfig {
  return mergeRows(JOBMETER_OPTIONS, base, over);
}

function mergeRows(section: Section, base: Table, over: Table): Record<string, unknown> {
  const out = mergeGateConfig(base, over);
  for (const [key, row] of Object.entries(section)) {
    const [lower, upper] = [base[key], over[key]];
    if (row.keys === undefined || !isTable(lower) || !isTable(upper)) continue;
    if (row.keys !== 'open') out[key] = mergeRows(SECTIONS[row.keys], lower, upper);
    else if (key !== 'headers') out[key] = { ...lower, ...upper };
    else {
      // A name of `over` replaces each spelling of it before.
      const headers = { ...lower };
      for (const [name, value] of Object.entries(upper)) {
        for (const k of Object.keys(headers))
          if (k.toLowerCase() === name.toLowerCase()) delete headers[k];
        headers[name] = value;
      }
      out[key] = headers;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Cross-layer check: timeout <= interval

/** Where an env timeout came from: otel-env.ts takes the smallest of these. */
const ENV_TIMEOUT_KEYS = [
  EXPORT_TIMEOUT,
  OTLP_OPTIONS.timeoutMillis.env,
  generalOf(OTLP_OPTIONS.timeoutMillis.env),
] as const;

/** The library's rule (resolve-options.ts), its error naming the variable or key that set each value. */
function checkOtlpTimeout(merged: ServiceConfig, layers: readonly ConfigLayer[], env: Env): void {
  const interval = merged.otlp?.intervalMillis;
  const timeout = merged.otlp?.timeoutMillis;
  if (interval === undefined || timeout === undefined || timeout <= interval) return;
  const timeoutVariable =
    ENV_TIMEOUT_KEYS.find((k) => env[k]?.trim() === String(timeout)) ?? ENV_TIMEOUT_KEYS[0];
  timeoutWithinInterval(
    timeout,
    interval,
    setBy(layers, 'otlp', 'timeoutMillis', timeoutVariable),
    setBy(layers, 'otlp', 'intervalMillis'),
  );
}

// ---------------------------------------------------------------------------------------------
// Cross-layer checks: loopback binds, something to serve

/**
 * A listener on a non-loopback host needs its opt-in (labels carry task names an exposed daemon
 * should not leak by accident). Checked here, where the layers are known, so the error names the
 * flag, variable or file key that set the host. The main server binds what passes here; the
 * ingest's and the dedicated listener's options pass createJobmeter's rule too (resolve-options.ts).
 */
function checkLoopbackBinds(
  merged: ServiceConfig,
  layers: readonly ConfigLayer[],
  flags: ServeFlags,
  keys: FlagKeys,
): void {
  const optIn = {
    listener:
      keys.allowNonLoopback === undefined
        ? 'listener.allow_non_loopback = true in the config file to expose it'
        : `${keys.allowNonLoopback} (listener.allow_non_loopback = true) to expose it`,
    ingest: 'ingest.allow_non_loopback = true to expose the OTLP ingest listener',
  };
  for (const section of ['listener', 'ingest'] as const) {
    const given = merged[section];
    // The main server is on unless turned off; the ingest off unless turned on.
    const on = section === 'listener' ? given?.enabled !== false : given?.enabled === true;
    if (on && given?.host !== undefined && !bindAllowed(given.host, given.allowNonLoopback)) {
      const expected = `${LOOPBACK_EXPECTED}, or ${optIn[section]}`;
      // The error names the flag or the file key that set the host.
      const hostBy = layers.findLast((l) => l.config[section]?.host !== undefined);
      if (hostBy?.source === 'flags')
        throw flags.host !== undefined
          ? new ConfigError(keys.host, flags.host, expected)
          : new ConfigError(keys.listen, flags.listen, expected);
      throw new ConfigError(`${section}.host`, given.host, expected);
    }
  }
}

/** `[telemetry] listen`'s default, as the option table has it. */
const DEFAULT_TELEMETRY_LISTEN = readAddress(
  TELEMETRY_OPTIONS.listen.default,
  'telemetry.listen',
  'loopback',
);

/**
 * `[telemetry]` resolved: its listener, at its default address unless `listen` (or
 * JOBMETER_TELEMETRY_LISTEN) says another, or none with `enabled = false`; and `enable_reload`
 * (each checked by its row's rule).
 * @throws ConfigError for `enable_reload` with the listener off, naming who set it.
 */
function telemetryOf(merged: ServiceConfig, layers: readonly ConfigLayer[]) {
  const given = merged.telemetry;
  const { enabled, enableReload } = resolveSection(given, TELEMETRY_OPTIONS, 'telemetry', [
    'listen',
  ]);
  if (enabled)
    return {
      ...(given?.listen ?? DEFAULT_TELEMETRY_LISTEN),
      enableReload,
      ...(given?.token !== undefined && { token: given.token }),
    };
  if (!enableReload) return undefined;
  throw new ConfigError(
    setBy(layers, 'telemetry', 'enableReload'),
    true,
    'false while [telemetry] enabled = false: POST /-/reload is answered on the telemetry listener',
  );
}

/**
 * `serve` with its main server off must have something else to do: a dedicated metrics listener,
 * OTLP push or OTLP ingest. Otherwise it would record metrics nobody can read, so the key that
 * turned the server off is named.
 */
function checkSomethingToServe(merged: ServiceConfig, metrics: ResolvedMetrics): void {
  if (merged.listener?.enabled !== false) return;
  if (
    (metrics.enabled && metrics.listen !== undefined) ||
    merged.otlp?.endpoint !== undefined ||
    merged.ingest?.enabled === true
  )
    return;
  throw new ConfigError(
    'listener.enabled',
    false,
    'true, or with the main server off an [otlp] endpoint (or OTEL_EXPORTER_OTLP_ENDPOINT), [ingest] enabled = true or [metrics] listen: otherwise nothing is served',
  );
}
