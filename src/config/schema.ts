/**
 * The service config file's shape, validated strictly, and its mapping onto {@link JobmeterOptions}.
 *
 * Files use snake_case (`service_name`, `[otlp] interval_ms`); {@link ServiceConfig} is the same
 * data in camelCase, already validated, with every field optional so that layers (defaults, env,
 * file, flags — see resolve.ts) can be merged field by field.
 *
 * Validation is one JSON Schema (config-schema.ts, published as docs/config.schema.json) run by
 * ajv; schema-errors.ts words ajv's first error. Checks across keys follow the schema pass here.
 *
 * Policy: unknown keys are errors (with a "did you mean" for near misses, including a key put in
 * the wrong table), wrong types and out-of-range values are errors, and each error is a
 * {@link ConfigError} naming the dotted key, the value received and what was expected.
 * Values are never coerced: `port = "9464"` is an error, not 9464.
 *
 * Two deliberate exceptions to "show the value received":
 * - `otlp.headers.*` values are never echoed (they usually carry tokens); the message says
 *   `<redacted>` and the value's type instead.
 * - user:password in `otlp.endpoint` is masked before it is echoed.
 *
 * When a file has several problems, the one reported is the first in schema order: the top
 * level's unknown keys, then each table in the order config-schema.ts lists it (its unknown keys,
 * then its values), then the checks across keys.
 */
import { createRequire } from 'node:module';

import type { Ajv as AjvInstance, ValidateFunction } from 'ajv';

import type { MergePolicy } from '../cluster/merge-policy.ts';
import type { PostureName } from '../common/postures.ts';
import type { TranslationStrategy } from '../naming/prometheus-names.ts';
import type { FamilyRule } from '../naming/types.ts';
import type { ViewOptions } from '@opentelemetry/sdk-metrics';
import { viewOptions, type ViewTable } from './view-config.ts';
import type {
  HostInstruments,
  JobmeterOptions,
  ListenerFormat,
  OtlpNaming,
  OtlpProtocol,
  ProfileName,
  Temporality,
} from '../options.ts';
import {
  CONFIG_SCHEMA,
  FORMATS,
  parseHostPort,
  type DefinitionName,
} from './config-schema.ts';
import { ConfigError, REDACTED } from '../errors.ts';
import { timeoutWithinInterval } from '../common/option-rules.ts';
import { isTable, toConfigError } from './schema-errors.ts';


// ---------------------------------------------------------------------------------------------
// Types

/** `[listener]` — {@link PullListenerOptions} plus `enabled` (`false` maps to `listener: false`). */
export interface ListenerConfig {
  enabled?: boolean;
  host?: string;
  port?: number;
  allowNonLoopback?: boolean;
  format?: ListenerFormat;
  requestTimeoutMillis?: number;
  idleTimeoutMillis?: number;
  maxConnections?: number;
}

/** `[otlp]` — same fields as `OtlpPushOptions` (`interval_ms` → `intervalMillis`, …). */
export interface OtlpConfig {
  endpoint?: string;
  headers?: Record<string, string>;
  protocol?: OtlpProtocol;
  intervalMillis?: number;
  timeoutMillis?: number;
  temporality?: Temporality;
  naming?: OtlpNaming;
}

/** `[ingest]` — `IngestOptions` plus `enabled` (only `true` turns the listener on). */
export interface IngestConfig {
  enabled?: boolean;
  host?: string;
  port?: number;
  allowNonLoopback?: boolean;
  maxBodyBytes?: number;
  maxConcurrentRequests?: number;
  expiryMillis?: number;
  maxMemoryBytes?: number;
  requestTimeoutMillis?: number;
  idleTimeoutMillis?: number;
  maxConnections?: number;
}

/** `[cluster]` — node:cluster and worker threads (options.ts `ClusterOptions`). */
export interface ClusterConfig {
  /** false: every process stands alone (`cluster: false`). */
  enabled?: boolean;
  timeoutMillis?: number;
  merge?: Record<string, MergePolicy>;
}

/** An API key and the tenant it authenticates (wasmrun `--auth`). */
export interface ApiKeyConfig {
  tenant: string;
  key: string;
}

/**
 * `[metrics]` — the metrics route of `jobmeter serve`'s main server and its auth posture
 * (src/common/postures.ts). Also fed by the originals' own spellings: runwisp's `[daemon]
 * metrics_enabled` / `metrics_listen`, rm's top-level `metrics_token` / `metrics_trusted_cidrs`,
 * and, under each posture, that original's environment variables (metrics.ts).
 */
export interface MetricsConfig {
  enabled?: boolean;
  path?: string;
  posture?: PostureName;
  /** The dedicated loopback listener (runwisp `metrics_listen`); metrics move there. */
  listen?: { host: string; port: number };
  /** Secret. Never echoed in errors. */
  token?: string;
  tokenFile?: string;
  /** Secrets. Never echoed in errors. */
  apiKeys?: ApiKeyConfig[];
  apiKeysFile?: string;
  auth?: boolean;
  trustedCidrs?: string[];
  trustedProxies?: string[];
  accessLog?: boolean;
  verbose?: boolean;
  maxInflightScrapes?: number;
}

/** A validated config layer. Every field optional: absent means "not set by this layer". */
export interface ServiceConfig {
  profile?: ProfileName;
  /** `[[profile.rules]]`: the host's own rules (`zero_fill` → `zeroFill`), checked at start. */
  profileRules?: FamilyRule[];
  serviceName?: string;
  processMetrics?: boolean;
  otelScopeInfo?: boolean;
  global?: boolean;
  cardinalityLimit?: number;
  hostInstruments?: HostInstruments;
  resourceAttributes?: Record<string, string>;
  naming?: NamingConfig;
  listener?: ListenerConfig;
  otlp?: OtlpConfig;
  ingest?: IngestConfig;
  cluster?: ClusterConfig;
  metrics?: MetricsConfig;
  /** `[build]`: the daemon's identity under `jobmeter serve`, until the daemon pushes its own. */
  build?: BuildConfig;
  /** `[[views]]`: OpenTelemetry Views (view-config.ts). */
  views?: ViewOptions[];
}

export interface BuildConfig {
  version?: string;
  commit?: string;
  runtimeVersion?: string;
}

/** `[naming]`: the pull endpoint's names and start times (JobmeterOptions of the same names). */
export interface NamingConfig {
  translationStrategy?: TranslationStrategy;
  startTimestamps?: boolean;
}

// ---------------------------------------------------------------------------------------------
// The validator

/**
 * Loaded and compiled on first use (about 30 ms and 60 ms): a process that never validates a
 * value — the instrumentation preload without a config file — pays for neither.
 */
let ajv: AjvInstance | undefined;

/** The compiled schema (`undefined`: the whole file) or one of its definitions. */
function validator(definition?: DefinitionName): ValidateFunction {
  if (ajv === undefined) {
    const { Ajv } = createRequire(import.meta.url)('ajv') as typeof import('ajv');
    ajv = new Ajv({
      // The first error only, in schema order: the one to report.
      allErrors: false,
      // Our own wording (schema-errors.ts) replaces ajv's messages.
      messages: false,
      strict: true,
      // Tables may be null (an emptied YAML table); `required` sits apart from its properties
      // (see apiKey in config-schema.ts).
      allowUnionTypes: true,
      strictRequired: false,
      // Checked against the draft-07 meta-schema by test/config/config-schema.test.ts, not at
      // every start (it would double the compile time).
      validateSchema: false,
      formats: FORMATS,
    });
    ajv.addSchema(CONFIG_SCHEMA, SCHEMA_KEY);
  }
  const key = definition === undefined ? SCHEMA_KEY : `${SCHEMA_KEY}#/definitions/${definition}`;
  return ajv.getSchema(key)!;
}

const SCHEMA_KEY = 'jobmeter-config';

/** Validates `value` against the schema or one definition; `key` names it in the error. */
function check(value: unknown, key: string, definition?: DefinitionName): void {
  const validate = validator(definition);
  if (!validate(jsonData(value))) throw toConfigError(validate.errors![0]!, value, key, definition);
}

/**
 * The document as JSON data, for ajv: tables copied as null-prototype objects and any value JSON
 * has no type for (a TOML date, which JSON Schema's `object` would take for an empty table) made
 * {@link NOT_JSON}, which matches no type. Messages read values from the original.
 */
function jsonData(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(jsonData);
  if (isTable(value)) {
    const out = Object.create(null) as Record<string, unknown>;
    for (const [k, v] of Object.entries(value)) out[k] = jsonData(v);
    return out;
  }
  if (value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  return NOT_JSON;
}

const NOT_JSON = Symbol('not JSON');

// ---------------------------------------------------------------------------------------------
// Entry points

/**
 * Validates one parsed config document (from {@link loadConfigFile}) and returns it in camelCase.
 * `null`/`undefined` (an empty YAML file) is an empty config.
 *
 * @param source where `raw` came from (a file path); named when the top level is not a table.
 * @throws ConfigError on the first problem found (see the order above).
 */
export function parseServiceConfig(raw: unknown, source: string): ServiceConfig {
  if (raw === null || raw === undefined) return {};
  if (!isTable(raw)) {
    throw new ConfigError(source, raw, 'a table of settings at the top level');
  }
  check(raw, '');
  // The schema pass is done: every value below has its type and range.
  const out: ServiceConfig = {};
  for (const [key, value] of Object.entries(raw)) {
    switch (key) {
      case 'profile':
        if (typeof value === 'string') out.profile = value as ProfileName;
        else {
          const table = (value ?? {}) as { name?: ProfileName; rules?: Record<string, unknown>[] };
          if (table.name !== undefined) out.profile = table.name;
          if (table.rules !== undefined) out.profileRules = table.rules.map(familyRule);
        }
        break;
      case 'service_name':
        out.serviceName = value as string;
        break;
      case 'process_metrics':
        out.processMetrics = value as boolean;
        break;
      case 'otel_scope_info':
        out.otelScopeInfo = value as boolean;
        break;
      case 'global':
        out.global = value as boolean;
        break;
      case 'cardinality_limit':
        out.cardinalityLimit = value as number;
        break;
      case 'host_instruments':
        out.hostInstruments = value as HostInstruments;
        break;
      case 'resource_attributes':
        out.resourceAttributes = { ...(value as Record<string, string> | null) };
        break;
      case 'naming':
        out.naming = renameKeys(value, NAMING_KEYS) as NamingConfig;
        break;
      case 'listener':
        out.listener = renameKeys(value, LISTENER_KEYS) as ListenerConfig;
        break;
      case 'otlp':
        out.otlp = otlp(value as Record<string, unknown> | null);
        break;
      case 'ingest':
        out.ingest = renameKeys(value, INGEST_KEYS) as IngestConfig;
        break;
      case 'cluster': {
        const { merge, ...rest } = renameKeys(value, CLUSTER_KEYS) as ClusterConfig;
        out.cluster = { ...rest, ...(merge !== undefined && merge !== null && { merge: { ...merge } }) };
        break;
      }
      case 'metrics':
        out.metrics = { ...out.metrics, ...metrics(value as Record<string, unknown> | null, key) };
        break;
      case 'daemon':
        out.metrics = { ...out.metrics, ...daemon(value as Record<string, unknown> | null) };
        break;
      case 'metrics_token':
        out.metrics = { ...out.metrics, token: value as string };
        break;
      case 'metrics_trusted_cidrs':
        out.metrics = { ...out.metrics, trustedCidrs: trimmed(value) };
        break;
      case 'build':
        out.build = renameKeys(value, BUILD_KEYS) as BuildConfig;
        break;
      case 'views':
        out.views = (value as ViewTable[]).map((v, i) => viewOptions(v, `views[${i}]`));
        break;
    }
  }
  if (out.metrics !== undefined) checkOriginalSpellings(raw);
  return out;
}

/**
 * Maps a (merged) config onto library options. Fields not set stay unset, so the library's own
 * defaults apply to them; `listener.enabled = false` becomes `listener: false`.
 */
export function toJobmeterOptions(cfg: ServiceConfig): JobmeterOptions {
  const out: JobmeterOptions = {};
  if (cfg.profileRules !== undefined) out.profile = { ...(cfg.profile !== undefined && { name: cfg.profile }), rules: cfg.profileRules.map((r) => ({ ...r })) };
  else if (cfg.profile !== undefined) out.profile = cfg.profile;
  if (cfg.serviceName !== undefined) out.serviceName = cfg.serviceName;
  if (cfg.resourceAttributes !== undefined) out.resourceAttributes = { ...cfg.resourceAttributes };
  if (cfg.processMetrics !== undefined) out.processMetrics = cfg.processMetrics;
  if (cfg.otelScopeInfo !== undefined) out.otelScopeInfo = cfg.otelScopeInfo;
  if (cfg.global !== undefined) out.global = cfg.global;
  if (cfg.cardinalityLimit !== undefined) out.cardinalityLimit = cfg.cardinalityLimit;
  if (cfg.views !== undefined) out.views = [...cfg.views];
  if (cfg.hostInstruments !== undefined) out.hostInstruments = cfg.hostInstruments;
  if (cfg.naming?.translationStrategy !== undefined) out.translationStrategy = cfg.naming.translationStrategy;
  if (cfg.naming?.startTimestamps !== undefined) out.startTimestamps = cfg.naming.startTimestamps;
  if (cfg.build !== undefined && Object.keys(cfg.build).length > 0) {
    // A daemon that names only its commit or runtime still is not jobmeter: its version is unknown.
    out.build = {
      version: cfg.build.version ?? 'unknown',
      ...(cfg.build.commit !== undefined && { commit: cfg.build.commit }),
      ...(cfg.build.runtimeVersion !== undefined && { runtimeVersion: cfg.build.runtimeVersion }),
    };
  }
  if (cfg.listener !== undefined) {
    const { enabled, ...listenerOptions } = cfg.listener;
    out.listener = enabled === false ? false : stripUndefined(listenerOptions);
  }
  if (cfg.otlp !== undefined) {
    const otlpOptions = stripUndefined({ ...cfg.otlp });
    if (cfg.otlp.headers !== undefined) otlpOptions.headers = { ...cfg.otlp.headers };
    out.otlp = otlpOptions;
  }
  if (cfg.cluster !== undefined) {
    const { enabled, merge, ...clusterOptions } = cfg.cluster;
    out.cluster = enabled === false ? false : { ...stripUndefined(clusterOptions), ...(merge !== undefined && { merge: { ...merge } }) };
  }
  // Off unless enabled: the library's `ingest` is absent (no listener) by default too.
  if (cfg.ingest?.enabled === true) {
    const { enabled: _enabled, ...ingestOptions } = cfg.ingest;
    out.ingest = stripUndefined(ingestOptions);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Single values, for flags and the environment: the schema's definitions, with the key they came from.

/** `profile` / `--profile`. */
export function parseProfile(value: unknown, key: string): ProfileName {
  check(value, key, 'profile');
  return value as ProfileName;
}

/**
 * A bind host: an IPv4/IPv6 literal (no brackets) or a DNS name. Whether it is loopback is
 * checked by createJobmeter, which owns the `allowNonLoopback` policy.
 */
export function parseHost(value: unknown, key: string): string {
  check(value, key, 'host');
  return value as string;
}

/** A TCP port, 0..65535 (0 = pick a free one). */
export function parsePort(value: unknown, key: string): number {
  check(value, key, 'port');
  return value as number;
}

/** A route path: starts with `/`, no whitespace, query or fragment. */
export function parsePath(value: unknown, key: string): string {
  check(value, key, 'path');
  return value as string;
}

/** `HOST:PORT` (or `[IPV6]:PORT`) on a loopback address. */
export function parseLoopbackListen(value: unknown, key: string): { host: string; port: number } {
  check(value, key, 'loopbackListen');
  const { host, port } = parseHostPort(value as string)!;
  return { host: host!, port };
}

/** A list of addresses / CIDRs. A comma-separated string is the environment's form, not a file's. */
export function cidrList(value: unknown, key: string): string[] {
  check(value, key, 'cidrList');
  return trimmed(value);
}

// ---------------------------------------------------------------------------------------------
// Tables, already validated: renamed to camelCase, plus the checks across keys.

const LISTENER_KEYS: Readonly<Record<string, keyof ListenerConfig>> = {
  enabled: 'enabled',
  host: 'host',
  port: 'port',
  allow_non_loopback: 'allowNonLoopback',
  format: 'format',
  request_timeout_ms: 'requestTimeoutMillis',
  idle_timeout_ms: 'idleTimeoutMillis',
  max_connections: 'maxConnections',
};

const OTLP_KEYS: Readonly<Record<string, keyof OtlpConfig>> = {
  endpoint: 'endpoint',
  protocol: 'protocol',
  interval_ms: 'intervalMillis',
  timeout_ms: 'timeoutMillis',
  temporality: 'temporality',
  headers: 'headers',
  naming: 'naming',
};

const NAMING_KEYS: Readonly<Record<string, keyof NamingConfig>> = {
  translation_strategy: 'translationStrategy',
  start_timestamps: 'startTimestamps',
};

const BUILD_KEYS: Readonly<Record<string, keyof BuildConfig>> = {
  version: 'version',
  commit: 'commit',
  runtime_version: 'runtimeVersion',
};

const CLUSTER_KEYS: Readonly<Record<string, keyof ClusterConfig>> = {
  enabled: 'enabled',
  timeout_ms: 'timeoutMillis',
  merge: 'merge',
};

const INGEST_KEYS: Readonly<Record<string, keyof IngestConfig>> = {
  enabled: 'enabled',
  host: 'host',
  port: 'port',
  allow_non_loopback: 'allowNonLoopback',
  max_body_bytes: 'maxBodyBytes',
  max_concurrent_requests: 'maxConcurrentRequests',
  expiry_ms: 'expiryMillis',
  max_memory_bytes: 'maxMemoryBytes',
  request_timeout_ms: 'requestTimeoutMillis',
  idle_timeout_ms: 'idleTimeoutMillis',
  max_connections: 'maxConnections',
};

const METRICS_KEYS: Readonly<Record<string, keyof MetricsConfig>> = {
  enabled: 'enabled',
  path: 'path',
  posture: 'posture',
  listen: 'listen',
  token: 'token',
  token_file: 'tokenFile',
  api_keys: 'apiKeys',
  api_keys_file: 'apiKeysFile',
  auth: 'auth',
  trusted_cidrs: 'trustedCidrs',
  trusted_proxies: 'trustedProxies',
  access_log: 'accessLog',
  verbose: 'verbose',
  max_inflight_scrapes: 'maxInflightScrapes',
};

/** A validated `[[profile.rules]]` table as a FamilyRule (only `zero_fill` is spelled differently). */
function familyRule(table: Record<string, unknown>): FamilyRule {
  const { zero_fill: zeroFill, ...rest } = table;
  return { ...rest, ...(zeroFill !== undefined && { zeroFill }) } as unknown as FamilyRule;
}

/** A validated table (null: empty) with its keys renamed; values as they are. */
function renameKeys(value: unknown, names: Readonly<Record<string, string>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries((value ?? {}) as Record<string, unknown>)) out[names[k]!] = v;
  return out;
}

function otlp(table: Record<string, unknown> | null): OtlpConfig {
  const out = renameKeys(table, OTLP_KEYS) as OtlpConfig;
  if (out.headers !== undefined) out.headers = { ...out.headers };
  // Both set in the same file: check here so the error points at the file. Across layers
  // (e.g. interval from env, timeout from the file) resolve.ts checks the merged result.
  if (out.intervalMillis !== undefined && out.timeoutMillis !== undefined) {
    timeoutWithinInterval(out.timeoutMillis, out.intervalMillis, 'otlp.timeout_ms', 'otlp.interval_ms');
  }
  return out;
}

function metrics(table: Record<string, unknown> | null, key: string): MetricsConfig {
  const out = renameKeys(table, METRICS_KEYS) as MetricsConfig;
  if (out.listen !== undefined) out.listen = parseLoopbackListen(out.listen, `${key}.listen`);
  if (out.trustedCidrs !== undefined) out.trustedCidrs = trimmed(out.trustedCidrs);
  if (out.trustedProxies !== undefined) out.trustedProxies = trimmed(out.trustedProxies);
  if (out.apiKeys !== undefined) out.apiKeys = apiKeys(out.apiKeys, `${key}.api_keys`);
  if (table !== null) {
    oneOfPair(table, key, 'token', 'token_file');
    oneOfPair(table, key, 'api_keys', 'api_keys_file');
  }
  return out;
}

/** Copies the entries; refuses a key listed twice (no schema keyword compares one field across items). */
function apiKeys(entries: readonly ApiKeyConfig[], key: string): ApiKeyConfig[] {
  const seen = new Set<string>();
  return entries.map((entry, i) => {
    if (seen.has(entry.key)) throw new ConfigError(`${key}[${i}].key`, REDACTED, 'a key not already listed');
    seen.add(entry.key);
    return { tenant: entry.tenant, key: entry.key };
  });
}

/** runwisp.toml's `[daemon]`: only its metrics keys. */
function daemon(table: Record<string, unknown> | null): MetricsConfig {
  const out: MetricsConfig = {};
  if (table?.metrics_enabled !== undefined) out.enabled = table.metrics_enabled as boolean;
  if (table?.metrics_listen !== undefined) out.listen = parseLoopbackListen(table.metrics_listen, 'daemon.metrics_listen');
  return out;
}

/** A validated list of addresses / CIDRs, each trimmed (parseCidr allows surrounding spaces). */
function trimmed(value: unknown): string[] {
  return (value as string[]).map((entry) => entry.trim());
}

/** Two keys of one table that are one setting (a value, or a file holding it): at most one. */
function oneOfPair(table: Record<string, unknown>, key: string, a: string, b: string): void {
  if (table[a] !== undefined && table[b] !== undefined) {
    throw new ConfigError(`${key}.${b}`, table[b], `no ${key}.${a} in the same file (${a} and ${b} are one setting: give one)`);
  }
}

/** An original's spelling and the `[metrics]` key it stands for, both in one file: refuse the pair. */
function checkOriginalSpellings(raw: Record<string, unknown>): void {
  const canonical = isTable(raw.metrics) ? raw.metrics : {};
  const pairs: [string, unknown, string][] = [
    ['metrics_token', raw.metrics_token, 'token'],
    ['metrics_trusted_cidrs', raw.metrics_trusted_cidrs, 'trusted_cidrs'],
  ];
  if (isTable(raw.daemon)) {
    pairs.push(['daemon.metrics_enabled', raw.daemon.metrics_enabled, 'enabled']);
    pairs.push(['daemon.metrics_listen', raw.daemon.metrics_listen, 'listen']);
  }
  for (const [alias, value, key] of pairs) {
    if (value !== undefined && canonical[key] !== undefined) {
      const shown = key === 'token' ? REDACTED : value;
      throw new ConfigError(alias, shown, `no metrics.${key} in the same file (they are one setting: give one)`);
    }
  }
}

function stripUndefined<T extends object>(obj: T): T {
  for (const k of Object.keys(obj) as (keyof T)[]) {
    if (obj[k] === undefined) delete obj[k];
  }
  return obj;
}
