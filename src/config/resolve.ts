/**
 * Resolves the `jobmeter serve` configuration from its four sources.
 *
 * Precedence, lowest first — a later layer overrides an earlier one field by field:
 *
 *   1. embedded defaults (defaults.ts)       — so no config at all behaves like createJobmeter({})
 *   2. OTEL_* environment (otel-env.ts)      — the ambient, fleet-wide OpenTelemetry settings
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
 * `:PORT`; implies `listener.enabled = true`), `--allow-non-loopback`.
 */
import { parseArgs } from 'node:util';

import type { JobmeterOptions } from '../options.ts';
import { DEFAULT_SERVICE_CONFIG } from './defaults.ts';
import { ConfigError } from './errors.ts';
import { loadConfigFile } from './file-config.ts';
import { otlpOptionsFromEnv, resourceFromEnv } from './otel-env.ts';
import type { OtlpConfig, ServiceConfig } from './schema.ts';
import {
  parseHost,
  parsePort,
  parseProfile,
  parseServiceConfig,
  timeoutAboveInterval,
  toJobmeterOptions,
} from './schema.ts';

/** The environment, as `process.env`. */
export type Env = NodeJS.ProcessEnv;

export interface ResolveInput {
  /** The `serve` subcommand's arguments (after `serve`), e.g. `['--config', 'jobmeter.toml']`. */
  argv: readonly string[];
  /** Environment to read OTEL_* from (usually `process.env`). */
  env: Env;
}

/** `node:util` parseArgs spec of `jobmeter serve`. `help` is handled by the CLI, ignored here. */
export const SERVE_FLAGS = {
  config: { type: 'string' },
  profile: { type: 'string' },
  listen: { type: 'string' },
  'allow-non-loopback': { type: 'boolean' },
  demo: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export interface ServeFlags {
  config?: string;
  profile?: string;
  listen?: string;
  allowNonLoopback?: boolean;
  /** Feed the profile's built-in demo scenario (handled by the CLI, not a config key). */
  demo?: boolean;
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
  if (values['allow-non-loopback'] !== undefined) flags.allowNonLoopback = values['allow-non-loopback'];
  if (values.demo !== undefined) flags.demo = values.demo;
  if (values.help !== undefined) flags.help = values.help;
  return flags;
}

/**
 * Defaults < OTEL_* env < config file < flags, merged and mapped to library options.
 * @throws ConfigError for any bad value (exit code 2 in the CLI); parseArgs' TypeError for bad flag syntax.
 */
export async function resolveServiceConfig({ argv, env }: ResolveInput): Promise<JobmeterOptions> {
  const flags = parseServeFlags(argv);
  const layers: Layer[] = [
    { source: 'defaults', config: DEFAULT_SERVICE_CONFIG },
    { source: 'env', config: envLayer(env) },
  ];
  if (flags.config !== undefined) {
    const raw = await loadConfigFile(flags.config);
    layers.push({ source: 'file', config: parseServiceConfig(raw, flags.config) });
  }
  layers.push({ source: 'flags', config: flagsLayer(flags) });

  let merged: ServiceConfig = {};
  for (const layer of layers) merged = mergeServiceConfig(merged, layer.config);
  merged = settleOtlpTimeout(merged, layers, env);
  return toJobmeterOptions(merged);
}

// ---------------------------------------------------------------------------------------------
// Layers

type LayerSource = 'defaults' | 'env' | 'file' | 'flags';

interface Layer {
  readonly source: LayerSource;
  readonly config: Readonly<ServiceConfig>;
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
  return out;
}

/** The command-line flags as a config layer. Errors name the flag (`--listen`, `--profile`). */
export function flagsLayer(flags: ServeFlags): ServiceConfig {
  const out: ServiceConfig = {};
  if (flags.profile !== undefined) out.profile = parseProfile(flags.profile, '--profile');
  if (flags.listen !== undefined) {
    const { host, port } = parseListen(flags.listen);
    // Asking for an address means "serve there", even if the file disabled the listener.
    out.listener = { enabled: true, port };
    if (host !== undefined) out.listener.host = host;
  }
  if (flags.allowNonLoopback === true) {
    out.listener = { ...out.listener, allowNonLoopback: true };
  }
  return out;
}

const LISTEN_EXPECTED = 'HOST:PORT, [IPV6]:PORT or :PORT with PORT from 0 to 65535';

/**
 * `--listen` value: `127.0.0.1:9464`, `localhost:0`, `[::1]:9464`, or `:9464` (keep the host
 * from lower layers). A bare IPv6 address without brackets is ambiguous and rejected.
 */
export function parseListen(value: string): { host?: string; port: number } {
  const match = /^(?:\[([^\]]*)\]|([^:[\]]*)):(\d{1,5})$/.exec(value);
  if (match === null) throw new ConfigError('--listen', value, LISTEN_EXPECTED);
  const [, bracketed, plain, portText] = match;
  const port = Number(portText);
  if (port > 65535) throw new ConfigError('--listen', value, LISTEN_EXPECTED);
  parsePort(port, '--listen');
  if (bracketed !== undefined) {
    // Only IPv6 literals go in brackets.
    if (!bracketed.includes(':')) throw new ConfigError('--listen', value, LISTEN_EXPECTED);
    return { host: parseHost(bracketed, '--listen'), port };
  }
  if (plain === undefined || plain === '') return { port };
  try {
    return { host: parseHost(plain, '--listen'), port };
  } catch {
    throw new ConfigError('--listen', value, LISTEN_EXPECTED);
  }
}

// ---------------------------------------------------------------------------------------------
// Merging

/** `over`'s set fields win; tables merge per field, string maps per key. Inputs are not mutated. */
export function mergeServiceConfig(base: Readonly<ServiceConfig>, over: Readonly<ServiceConfig>): ServiceConfig {
  const out: ServiceConfig = { ...base };
  if (over.profile !== undefined) out.profile = over.profile;
  if (over.serviceName !== undefined) out.serviceName = over.serviceName;
  if (over.processMetrics !== undefined) out.processMetrics = over.processMetrics;
  if (over.otelScopeInfo !== undefined) out.otelScopeInfo = over.otelScopeInfo;
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
  throw timeoutAboveInterval(
    setBy.source === 'env'
      ? (ENV_TIMEOUT_KEYS.find((k) => env[k]?.trim() === String(timeout)) ?? ENV_TIMEOUT_KEYS[0])
      : 'otlp.timeout_ms',
    timeout,
    interval,
    intervalBy === undefined ? undefined : INTERVAL_KEY[intervalBy.source],
  );
}
