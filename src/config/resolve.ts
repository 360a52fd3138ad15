/**
 * Resolves the `jobmeter serve` configuration from its four sources.
 *
 * Precedence, lowest first — a later layer overrides an earlier one field by field:
 *
 *   1. embedded defaults (defaults.ts)       — so no config at all behaves like createJobmeter({})
 *   2. OTEL_* environment (otel-env.ts)      — the ambient, fleet-wide OpenTelemetry settings,
 *      and JOBMETER_BUILD_*                    and the daemon's identity where its unit sets it
 *   3. config file (`--config FILE`)         — the operator's explicit choice for this service,
 *                                              so it beats whatever the environment happens to hold
 *   4. command-line flags                    — the most specific, per-invocation intent
 *
 * Merging is per field: a file that sets only `[otlp] interval_ms` keeps the endpoint from
 * OTEL_EXPORTER_OTLP_ENDPOINT. The two string maps merge per key: `resource_attributes`
 * (exact key) and `otlp.headers` (case-insensitive, as HTTP header names are), so a file adds to
 * OTEL_RESOURCE_ATTRIBUTES / OTEL_EXPORTER_OTLP_HEADERS and overrides only the keys it names.
 *
 * After merging, the OTLP timeout must not exceed the interval. A timeout nobody set explicitly
 * (the 30 s default) is lowered to the interval instead of failing, so `interval_ms = 10000` alone
 * just works; an explicit timeout above the interval is a ConfigError naming where it came from.
 *
 * Flags: `--config FILE`, `--profile NAME`, `--listen HOST:PORT` (also `[IPV6]:PORT` and
 * `:PORT`; implies `listener.enabled = true`), `--host HOST` (the host alone, for a `--listen`
 * without one), `--allow-non-loopback`, `--auth` (`metrics.auth = true`), `-v` / `--verbose`
 * (`metrics.verbose = true`).
 *
 * The `[metrics]` section (metrics.ts) takes its environment layer from the chosen posture's own
 * variables (CREWSHIP_METRICS_TOKEN, RM_METRICS_*, RM_TRUSTED_PROXY, RUNWISP_TRUST_PROXY), at the
 * same place as OTEL_*: above the defaults, below the file and the flags. The posture is known only
 * once every layer is merged (the profile may come from a flag), so that layer is read afterwards
 * and merged in at its place.
 */
import { parseArgs } from 'node:util';

import type { JobmeterOptions } from '../options.ts';
import { DEFAULT_SERVICE_CONFIG } from './defaults.ts';
import { OPTION_DEFAULTS } from '../common/option-defaults.ts';
import { isLoopbackHost } from '../common/loopback.ts';
import { LOOPBACK_EXPECTED, timeoutWithinInterval } from '../common/option-rules.ts';
import { POSTURES, postureForProfile } from '../common/postures.ts';
import { ConfigError, inFile } from '../errors.ts';
import { parseHostPort } from './config-schema.ts';
import { loadConfigFile } from './file-config.ts';
import { mergeMetricsConfig, metricsEnvLayer, resolveMetrics, type MetricsLayer, type ResolvedMetrics } from './metrics.ts';
import { otlpOptionsFromEnv, resourceFromEnv } from './otel-env.ts';
import type { BuildConfig, MetricsConfig, OtlpConfig, ServiceConfig } from './schema.ts';
import {
  parseHost,
  parseProfile,
  parseServiceConfig,
  toJobmeterOptions,
} from './schema.ts';

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
 * How the user spells each setting of the flags layer, so an error names what they actually set:
 * `serve`'s flags, or the preload's JOBMETER_* variables (which it passes as these flags).
 */
export interface FlagKeys {
  readonly config: string;
  readonly profile: string;
  readonly listen: string;
  readonly host: string;
  /** The opt-in to a non-loopback main server this layer offers; undefined: only the file's key. */
  readonly allowNonLoopback: string | undefined;
}

export const SERVE_FLAG_KEYS: FlagKeys = {
  config: '--config',
  profile: '--profile',
  listen: '--listen',
  host: '--host',
  allowNonLoopback: '--allow-non-loopback',
};

/** The preload's variables; it has no --host or --allow-non-loopback of its own. */
export const PRELOAD_FLAG_KEYS: FlagKeys = {
  config: 'JOBMETER_CONFIG',
  profile: 'JOBMETER_PROFILE',
  listen: 'JOBMETER_LISTEN',
  host: 'JOBMETER_LISTEN',
  allowNonLoopback: undefined,
};

/** `node:util` parseArgs spec of `jobmeter serve`. `help` is handled by the CLI, ignored here. */
export const SERVE_FLAGS = {
  config: { type: 'string' },
  profile: { type: 'string' },
  listen: { type: 'string' },
  host: { type: 'string' },
  'allow-non-loopback': { type: 'boolean' },
  auth: { type: 'boolean' },
  verbose: { type: 'boolean', short: 'v' },
  demo: { type: 'boolean' },
  debug: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export interface ServeFlags {
  config?: string;
  profile?: string;
  listen?: string;
  /** The main server's host (`listener.host`). */
  host?: string;
  allowNonLoopback?: boolean;
  /** wasmrun's `--auth`: require API keys (`metrics.auth = true`). */
  auth?: boolean;
  /** wasmrun's `-v`: a request-received line before each access line (`metrics.verbose = true`). */
  verbose?: boolean;
  /** Feed the profile's built-in demo scenario (handled by the CLI, not a config key). */
  demo?: boolean;
  /** Print OTLP received and pushed in the debug exporter's normal form (handled by the CLI, not a config key). */
  debug?: boolean;
  help?: boolean;
}

/**
 * Parses `serve` flags strictly (unknown flags and positionals throw parseArgs'
 * `ERR_PARSE_ARGS_*` TypeErrors). Values are validated later, by {@link flagsLayer}.
 */
export function parseServeFlags(argv: readonly string[]): ServeFlags {
  const { values } = parseArgs({
    args: [...argv],
    options: SERVE_FLAGS,
    strict: true,
    allowPositionals: false,
  });
  const flags: ServeFlags = {};
  if (values.config !== undefined) flags.config = values.config;
  if (values.profile !== undefined) flags.profile = values.profile;
  if (values.listen !== undefined) flags.listen = values.listen;
  if (values.host !== undefined) flags.host = values.host;
  if (values['allow-non-loopback'] !== undefined) flags.allowNonLoopback = values['allow-non-loopback'];
  if (values.auth !== undefined) flags.auth = values.auth;
  if (values.verbose !== undefined) flags.verbose = values.verbose;
  if (values.demo !== undefined) flags.demo = values.demo;
  if (values.debug !== undefined) flags.debug = values.debug;
  if (values.help !== undefined) flags.help = values.help;
  return flags;
}

/**
 * Defaults < OTEL_* env < config file < flags, merged and mapped to library options.
 * The `[metrics]` section is validated (as part of the file) but not resolved: see
 * {@link resolveServeConfig}.
 * @throws ConfigError for any bad value (exit code 2 in the CLI); parseArgs' TypeError for bad flag syntax.
 */
export async function resolveServiceConfig({ argv, env, keys = SERVE_FLAG_KEYS }: ResolveInput): Promise<JobmeterOptions> {
  return toJobmeterOptions((await collectLayers(parseServeFlags(argv), env, keys)).merged);
}

/** What `jobmeter serve` runs with. */
export interface ServeConfig {
  /**
   * The library options, as {@link resolveServiceConfig} gives them. `listener` is the main
   * server's address (`jobmeter serve` passes `listener: false` or the dedicated listener to
   * createJobmeter and runs the main server itself).
   */
  readonly options: JobmeterOptions;
  /** The metrics route, its posture and the dedicated listener. */
  readonly metrics: ResolvedMetrics;
}

/**
 * Everything `jobmeter serve` needs: the library options and the metrics settings, with the
 * posture's environment variables, secret files read, and the posture checked against them.
 * @throws ConfigError for any bad value; parseArgs' TypeError for bad flag syntax.
 */
export async function resolveServeConfig({ argv, env, keys = SERVE_FLAG_KEYS }: ResolveInput): Promise<ServeConfig> {
  const { layers, merged } = await collectLayers(parseServeFlags(argv), env, keys);
  const profile = merged.profile ?? OPTION_DEFAULTS.profile;
  const posture = merged.metrics?.posture === undefined ? postureForProfile(profile) : POSTURES[merged.metrics.posture];
  // The posture's own variables join at the env layer's place: above defaults, below file and flags.
  const postureEnv = metricsEnvLayer(env, posture);
  const withEnv: MetricsLayer[] = layers.map((l) => ({
    source: l.source,
    metrics: l.source === 'env' ? mergeMetricsConfig(l.config.metrics ?? {}, postureEnv) : l.config.metrics,
  }));
  let metrics: MetricsConfig = {};
  for (const layer of withEnv) metrics = mergeMetricsConfig(metrics, layer.metrics ?? {});
  const file = layers.find((l) => l.source === 'file');
  let resolved: ResolvedMetrics;
  try {
    resolved = await resolveMetrics(metrics, withEnv, profile);
  } catch (err) {
    // Keys of the file (`metrics.*`) name the file; variables and flags name themselves.
    throw file?.path !== undefined && err instanceof ConfigError && err.key.startsWith('metrics.') ? inFile(err, file.path) : err;
  }
  checkSomethingToServe(merged, resolved, layers);
  return { options: toJobmeterOptions(merged), metrics: resolved };
}

async function collectLayers(flags: ServeFlags, env: Env, keys: FlagKeys): Promise<{ layers: Layer[]; merged: ServiceConfig }> {
  const layers: Layer[] = [
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
  try {
    merged = settleOtlpTimeout(merged, layers, env);
  } catch (err) {
    const file = layers.find((l) => l.source === 'file');
    throw file?.path !== undefined && err instanceof ConfigError && err.key === 'otlp.timeout_ms' ? inFile(err, file.path) : err;
  }
  checkLoopbackBinds(merged, layers, flags, keys);
  return { layers, merged };
}

// ---------------------------------------------------------------------------------------------
// Layers

type LayerSource = 'defaults' | 'env' | 'file' | 'flags';

interface Layer {
  readonly source: LayerSource;
  readonly config: Readonly<ServiceConfig>;
  /** The file a `file` layer was read from. */
  readonly path?: string;
}

/** The OTEL_* environment as a config layer (otel-env.ts validates and throws ConfigError). */
export function envLayer(env: Env): ServiceConfig {
  const out: ServiceConfig = {};
  const resource = resourceFromEnv(env);
  if (resource.serviceName !== undefined) out.serviceName = resource.serviceName;
  if (Object.keys(resource.resourceAttributes).length > 0) {
    out.resourceAttributes = { ...resource.resourceAttributes };
  }
  const otlp = otlpOptionsFromEnv(env);
  if (otlp !== undefined) out.otlp = { ...otlp };
  const build = buildFromEnv(env);
  if (build !== undefined) out.build = build;
  return out;
}

/** `[build]`'s variables: the daemon's identity, set where its unit or container is defined. */
export const BUILD_ENV: Readonly<Record<keyof BuildConfig, string>> = {
  version: 'JOBMETER_BUILD_VERSION',
  commit: 'JOBMETER_BUILD_COMMIT',
  runtimeVersion: 'JOBMETER_BUILD_RUNTIME_VERSION',
};

function buildFromEnv(env: Env): BuildConfig | undefined {
  const out: BuildConfig = {};
  for (const [key, name] of Object.entries(BUILD_ENV) as Array<[keyof BuildConfig, string]>) {
    const value = env[name]?.trim();
    if (value !== undefined && value !== '') out[key] = value;
  }
  return Object.keys(out).length === 0 ? undefined : out;
}

/** The command-line flags as a config layer. Errors name the flag (`--listen`, `--profile`) as `keys` spells it. */
export function flagsLayer(flags: ServeFlags, keys: FlagKeys = SERVE_FLAG_KEYS): ServiceConfig {
  const out: ServiceConfig = {};
  if (flags.profile !== undefined) out.profile = parseProfile(flags.profile, keys.profile);
  if (flags.listen !== undefined) {
    const { host, port } = parseListen(flags.listen, keys.listen);
    // Asking for an address means "serve there", even if the file disabled the listener.
    out.listener = { enabled: true, port };
    if (host !== undefined) out.listener.host = host;
  }
  if (flags.host !== undefined) {
    if (out.listener?.host !== undefined) {
      throw new ConfigError('--host', flags.host, 'no host in --listen as well (give --listen :PORT with --host)');
    }
    out.listener = { ...out.listener, host: parseHost(flags.host, '--host') };
  }
  if (flags.allowNonLoopback === true) {
    out.listener = { ...out.listener, allowNonLoopback: true };
  }
  if (flags.auth === true) out.metrics = { ...out.metrics, auth: true };
  if (flags.verbose === true) out.metrics = { ...out.metrics, verbose: true };
  return out;
}

const LISTEN_EXPECTED = 'HOST:PORT, [IPV6]:PORT or :PORT with PORT from 0 to 65535';

/**
 * `--listen` value: `127.0.0.1:9464`, `localhost:0`, `[::1]:9464`, or `:9464` (keep the host
 * from lower layers). A bare IPv6 address without brackets is ambiguous and rejected.
 */
export function parseListen(value: string, key = '--listen'): { host?: string; port: number } {
  const parsed = parseHostPort(value);
  if (parsed === undefined) throw new ConfigError(key, value, LISTEN_EXPECTED);
  return parsed;
}

// ---------------------------------------------------------------------------------------------
// Merging

/** `over`'s set fields win; tables merge per field, string maps per key. Inputs are not mutated. */
export function mergeServiceConfig(base: Readonly<ServiceConfig>, over: Readonly<ServiceConfig>): ServiceConfig {
  const out: ServiceConfig = { ...base };
  if (over.profile !== undefined) out.profile = over.profile;
  if (over.profileRules !== undefined) out.profileRules = over.profileRules;
  if (over.views !== undefined) out.views = over.views;
  if (over.serviceName !== undefined) out.serviceName = over.serviceName;
  if (over.processMetrics !== undefined) out.processMetrics = over.processMetrics;
  if (over.otelScopeInfo !== undefined) out.otelScopeInfo = over.otelScopeInfo;
  if (over.global !== undefined) out.global = over.global;
  if (over.cardinalityLimit !== undefined) out.cardinalityLimit = over.cardinalityLimit;
  if (over.hostInstruments !== undefined) out.hostInstruments = over.hostInstruments;
  if (base.build !== undefined || over.build !== undefined) out.build = { ...base.build, ...definedOnly(over.build ?? {}) };
  if (base.naming !== undefined || over.naming !== undefined) out.naming = { ...base.naming, ...definedOnly(over.naming ?? {}) };
  if (base.resourceAttributes !== undefined || over.resourceAttributes !== undefined) {
    out.resourceAttributes = { ...base.resourceAttributes, ...over.resourceAttributes };
  }
  if (base.listener !== undefined || over.listener !== undefined) {
    out.listener = { ...base.listener, ...definedOnly(over.listener ?? {}) };
  }
  if (base.otlp !== undefined || over.otlp !== undefined) {
    const otlp: OtlpConfig = { ...base.otlp, ...definedOnly(over.otlp ?? {}) };
    if (base.otlp?.headers !== undefined || over.otlp?.headers !== undefined) {
      otlp.headers = mergeHeaders(base.otlp?.headers ?? {}, over.otlp?.headers ?? {});
    }
    out.otlp = otlp;
  }
  if (base.ingest !== undefined || over.ingest !== undefined) {
    out.ingest = { ...base.ingest, ...definedOnly(over.ingest ?? {}) };
  }
  if (base.cluster !== undefined || over.cluster !== undefined) {
    out.cluster = { ...base.cluster, ...definedOnly(over.cluster ?? {}) };
    if (base.cluster?.merge !== undefined || over.cluster?.merge !== undefined) out.cluster.merge = { ...base.cluster?.merge, ...over.cluster?.merge };
  }
  if (base.metrics !== undefined || over.metrics !== undefined) {
    out.metrics = mergeMetricsConfig(base.metrics ?? {}, over.metrics ?? {});
  }
  return out;
}

function mergeHeaders(base: Readonly<Record<string, string>>, over: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = { ...base };
  for (const [name, value] of Object.entries(over)) {
    for (const existing of Object.keys(out)) {
      if (existing.toLowerCase() === name.toLowerCase()) delete out[existing];
    }
    out[name] = value;
  }
  return out;
}

function definedOnly<T extends object>(obj: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(obj)) {
    if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Cross-layer check: timeout <= interval

/** Where an env timeout came from: otel-env.ts takes the smallest of these. */
const ENV_TIMEOUT_KEYS = [
  'OTEL_METRIC_EXPORT_TIMEOUT',
  'OTEL_EXPORTER_OTLP_METRICS_TIMEOUT',
  'OTEL_EXPORTER_OTLP_TIMEOUT',
] as const;

const INTERVAL_KEY: Readonly<Record<LayerSource, string>> = {
  defaults: 'the default otlp.interval_ms',
  env: 'OTEL_METRIC_EXPORT_INTERVAL',
  file: 'otlp.interval_ms',
  flags: 'otlp.interval_ms',
};

function settleOtlpTimeout(merged: ServiceConfig, layers: readonly Layer[], env: Env): ServiceConfig {
  const interval = merged.otlp?.intervalMillis;
  const timeout = merged.otlp?.timeoutMillis;
  if (interval === undefined || timeout === undefined || timeout <= interval) return merged;
  const setBy = [...layers].reverse().find((l) => l.config.otlp?.timeoutMillis !== undefined);
  if (setBy === undefined || setBy.source === 'defaults') {
    return { ...merged, otlp: { ...merged.otlp, timeoutMillis: interval } };
  }
  const intervalBy = [...layers].reverse().find((l) => l.config.otlp?.intervalMillis !== undefined);
  timeoutWithinInterval(
    timeout,
    interval,
    setBy.source === 'env' ? (ENV_TIMEOUT_KEYS.find((k) => env[k]?.trim() === String(timeout)) ?? ENV_TIMEOUT_KEYS[0]) : 'otlp.timeout_ms',
    intervalBy === undefined ? INTERVAL_KEY.file : INTERVAL_KEY[intervalBy.source],
  );
  return merged;
}

// ---------------------------------------------------------------------------------------------
// Cross-layer checks: loopback binds, something to serve

/**
 * A listener on a non-loopback host needs its opt-in (labels carry task names an exposed daemon
 * should not leak by accident). Checked here, where the layers are known, so the error names the
 * flag, variable or file key that set the host; the servers check again for library callers.
 */
function checkLoopbackBinds(merged: ServiceConfig, layers: readonly Layer[], flags: ServeFlags, keys: FlagKeys): void {
  const listener = merged.listener;
  if (listener?.enabled !== false && listener?.host !== undefined && listener.allowNonLoopback !== true && !isLoopbackHost(listener.host)) {
    const optIn = keys.allowNonLoopback === undefined ? 'listener.allow_non_loopback = true in the config file' : `${keys.allowNonLoopback} (listener.allow_non_loopback = true)`;
    throw hostError(layers, 'listener', listener.host, flags, keys, `${LOOPBACK_EXPECTED}, or ${optIn} to expose it`);
  }
  const ingest = merged.ingest;
  if (ingest?.enabled === true && ingest.host !== undefined && ingest.allowNonLoopback !== true && !isLoopbackHost(ingest.host)) {
    throw hostError(layers, 'ingest', ingest.host, flags, keys, `${LOOPBACK_EXPECTED}, or ingest.allow_non_loopback = true to expose the OTLP ingest listener`);
  }
}

function hostError(layers: readonly Layer[], section: 'listener' | 'ingest', host: string, flags: ServeFlags, keys: FlagKeys, expected: string): ConfigError {
  const setBy = [...layers].reverse().find((l) => l.config[section]?.host !== undefined);
  if (setBy?.source === 'flags') {
    return flags.host !== undefined ? new ConfigError(keys.host, flags.host, expected) : new ConfigError(keys.listen, flags.listen, expected);
  }
  const err = new ConfigError(`${section}.host`, host, expected);
  return setBy?.path !== undefined ? (inFile(err, setBy.path) as ConfigError) : err;
}

/**
 * `serve` with its main server off must have something else to do: a dedicated metrics listener,
 * OTLP push or OTLP ingest. Otherwise it would record metrics nobody can read, so the key that
 * turned the server off is named.
 */
function checkSomethingToServe(merged: ServiceConfig, metrics: ResolvedMetrics, layers: readonly Layer[]): void {
  if (merged.listener?.enabled !== false) return;
  if ((metrics.enabled && metrics.listen !== undefined) || merged.otlp?.endpoint !== undefined || merged.ingest?.enabled === true) return;
  const setBy = [...layers].reverse().find((l) => l.config.listener?.enabled !== undefined);
  const err = new ConfigError(
    'listener.enabled',
    false,
    'true, or with the main server off an [otlp] endpoint (or OTEL_EXPORTER_OTLP_ENDPOINT), [ingest] enabled = true or [metrics] listen: otherwise nothing is served',
  );
  throw setBy?.path !== undefined ? inFile(err, setBy.path) : err;
}
