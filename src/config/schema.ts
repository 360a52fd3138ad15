/**
 * The service config file's shape, validated strictly, and its mapping onto {@link JobmeterOptions}.
 *
 * Files use snake_case (`service_name`, `[otlp] interval_ms`); {@link ServiceConfig} is the same
 * data in camelCase, already validated, with every field optional so that layers (defaults, env,
 * file, flags — see resolve.ts) can be merged field by field.
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
 */
import { isIP } from 'node:net';

import { parseCidr } from '../http/client-ip.ts';
import { isLoopbackHost } from '../http/loopback.ts';
import { POSTURE_NAMES, type PostureName } from '../http/postures.ts';
import type {
  JobmeterOptions,
  OtlpProtocol,
  ProfileName,
  PullListenerOptions,
} from '../options.ts';
import { ConfigError, REDACTED } from './errors.ts';

// ---------------------------------------------------------------------------------------------
// Types

export type ListenerFormat = NonNullable<PullListenerOptions['format']>;
export type Temporality = 'cumulative' | 'delta';

/** `[listener]` — {@link PullListenerOptions} plus `enabled` (`false` maps to `listener: false`). */
export interface ListenerConfig {
  enabled?: boolean;
  host?: string;
  port?: number;
  allowNonLoopback?: boolean;
  format?: ListenerFormat;
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
}

/** An API key and the tenant it authenticates (wasmrun `--auth`). */
export interface ApiKeyConfig {
  tenant: string;
  key: string;
}

/**
 * `[metrics]` — the metrics route of `jobmeter serve`'s main server and its auth posture
 * (src/http/postures.ts). Also fed by the originals' own spellings: runwisp's `[daemon]
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
  serviceName?: string;
  processMetrics?: boolean;
  otelScopeInfo?: boolean;
  resourceAttributes?: Record<string, string>;
  listener?: ListenerConfig;
  otlp?: OtlpConfig;
  ingest?: IngestConfig;
  metrics?: MetricsConfig;
}

// ---------------------------------------------------------------------------------------------
// Vocabulary (exported so flags and tests share the exact lists)

export const PROFILE_NAMES: readonly ProfileName[] = [
  'otel',
  'runwisp',
  'wasmrun',
  'crewshipd',
  'rm',
  'solti',
];
export const LISTENER_FORMATS: readonly ListenerFormat[] = ['negotiate', 'text', 'openmetrics'];
export const OTLP_PROTOCOLS: readonly OtlpProtocol[] = ['http/protobuf', 'http/json'];
export const TEMPORALITIES: readonly Temporality[] = ['cumulative', 'delta'];
export type OtlpNaming = 'canonical' | 'profile';
export const OTLP_NAMINGS: readonly OtlpNaming[] = ['canonical', 'profile'];
/** Largest `ingest.max_body_bytes` accepted (1 GiB). */
export const MAX_BODY_BYTES = 1024 * 1024 * 1024;

/**
 * Largest interval/timeout accepted: Node timers overflow above 2^31-1 ms (they would fire after
 * 1 ms with only a warning), so a larger value is a config error rather than a busy loop.
 */
export const MAX_MILLIS = 2_147_483_647;

type Table = '' | 'listener' | 'otlp' | 'ingest' | 'metrics' | 'daemon';

/** Known keys per table, in file spelling. `''` is the top level. Listed in unknown-key errors. */
const KNOWN_KEYS: Readonly<Record<Table, readonly string[]>> = {
  '': [
    'profile',
    'service_name',
    'process_metrics',
    'otel_scope_info',
    'resource_attributes',
    'listener',
    'otlp',
    'ingest',
    'metrics',
  ],
  listener: ['enabled', 'host', 'port', 'allow_non_loopback', 'format'],
  otlp: ['endpoint', 'protocol', 'interval_ms', 'timeout_ms', 'temporality', 'headers', 'naming'],
  ingest: ['enabled', 'host', 'port', 'allow_non_loopback', 'max_body_bytes', 'max_concurrent_requests', 'expiry_ms'],
  metrics: [
    'enabled',
    'path',
    'posture',
    'listen',
    'token',
    'token_file',
    'api_keys',
    'api_keys_file',
    'auth',
    'trusted_cidrs',
    'trusted_proxies',
    'access_log',
    'verbose',
    'max_inflight_scrapes',
  ],
  daemon: ['metrics_enabled', 'metrics_listen'],
};

/**
 * The originals' own top-level spellings, accepted so their config files carry over: runwisp.toml's
 * `[daemon]` table, restic-manager's `metrics_token` / `metrics_trusted_cidrs`. Accepted and
 * suggested, but not listed in unknown-key errors (the canonical keys are).
 */
const ORIGINAL_SPELLINGS: Readonly<Partial<Record<Table, readonly string[]>>> = {
  '': ['daemon', 'metrics_token', 'metrics_trusted_cidrs'],
};

/** Expectation texts, shared with the flag parser so messages read the same everywhere. */
export const EXPECT = {
  profile: `one of ${PROFILE_NAMES.join(', ')}`,
  nonEmptyString: 'a non-empty string',
  boolean: 'true or false',
  table: 'a table',
  stringTable: 'a table of string values',
  string: 'a string',
  host: 'an IP address or host name (IPv6 without brackets)',
  port: 'an integer from 0 to 65535',
  format: `one of ${LISTENER_FORMATS.join(', ')}`,
  endpoint: 'an http:// or https:// URL',
  protocol: `one of ${OTLP_PROTOCOLS.join(', ')}`,
  millis: `an integer from 1 to ${MAX_MILLIS} (milliseconds)`,
  temporality: `one of ${TEMPORALITIES.join(', ')}`,
  headerName: "an HTTP header name (letters, digits and !#$%&'*+-.^_`|~)",
  headerValue: 'a string without line breaks',
  attributeName: 'a non-empty attribute name other than __proto__',
  naming: `one of ${OTLP_NAMINGS.join(', ')}`,
  bodyBytes: `an integer from 1 to ${MAX_BODY_BYTES} (bytes)`,
  concurrent: 'an integer from 1 to 10000',
  posture: `one of ${POSTURE_NAMES.join(', ')}`,
  path: 'a path starting with / (no spaces, ? or #)',
  loopbackListen: 'a loopback HOST:PORT, e.g. 127.0.0.1:9478 (the dedicated listener binds loopback only)',
  token: 'a non-empty token without whitespace',
  filePath: 'a non-empty file path',
  cidrList: 'a list of IP addresses or CIDRs, e.g. ["10.0.0.0/8"]',
  apiKeys: 'a list of { tenant, key } tables',
  tenant: 'a tenant id of 1 to 128 printable ASCII characters without spaces',
  inflight: 'an integer from 0 (no limit) to 1000000',
} as const;

/** Largest in-flight scrape limit accepted. */
export const MAX_INFLIGHT_SCRAPES = 1_000_000;

// ---------------------------------------------------------------------------------------------
// Entry points

/**
 * Validates one parsed config document (from {@link loadConfigFile}) and returns it in camelCase.
 * `null`/`undefined` (an empty YAML file) is an empty config.
 *
 * @param source where `raw` came from (a file path); named when the top level is not a table.
 * @throws ConfigError on the first problem found, in file order.
 */
export function parseServiceConfig(raw: unknown, source: string): ServiceConfig {
  if (raw === null || raw === undefined) return {};
  if (!isTable(raw)) {
    throw new ConfigError(source, raw, 'a table of settings at the top level');
  }
  const out: ServiceConfig = {};
  checkKeys(raw, '');
  for (const [key, value] of Object.entries(raw)) {
    switch (key) {
      case 'profile':
        out.profile = parseProfile(value, 'profile');
        break;
      case 'service_name':
        out.serviceName = nonEmptyString(value, 'service_name');
        break;
      case 'process_metrics':
        out.processMetrics = boolean(value, 'process_metrics');
        break;
      case 'otel_scope_info':
        out.otelScopeInfo = boolean(value, 'otel_scope_info');
        break;
      case 'resource_attributes':
        out.resourceAttributes = resourceAttributes(value, 'resource_attributes');
        break;
      case 'listener':
        out.listener = listener(value, 'listener');
        break;
      case 'otlp':
        out.otlp = otlp(value, 'otlp');
        break;
      case 'ingest':
        out.ingest = ingest(value, 'ingest');
        break;
      case 'metrics':
        out.metrics = { ...out.metrics, ...metrics(value, 'metrics') };
        break;
      case 'daemon':
        out.metrics = { ...out.metrics, ...daemon(value, 'daemon') };
        break;
      case 'metrics_token':
        out.metrics = { ...out.metrics, token: token(value, key) };
        break;
      case 'metrics_trusted_cidrs':
        out.metrics = { ...out.metrics, trustedCidrs: cidrList(value, key) };
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
  if (cfg.profile !== undefined) out.profile = cfg.profile;
  if (cfg.serviceName !== undefined) out.serviceName = cfg.serviceName;
  if (cfg.resourceAttributes !== undefined) out.resourceAttributes = { ...cfg.resourceAttributes };
  if (cfg.processMetrics !== undefined) out.processMetrics = cfg.processMetrics;
  if (cfg.otelScopeInfo !== undefined) out.otelScopeInfo = cfg.otelScopeInfo;
  if (cfg.listener !== undefined) {
    const { enabled, ...listenerOptions } = cfg.listener;
    out.listener = enabled === false ? false : stripUndefined(listenerOptions);
  }
  if (cfg.otlp !== undefined) {
    const otlpOptions = stripUndefined({ ...cfg.otlp });
    if (cfg.otlp.headers !== undefined) otlpOptions.headers = { ...cfg.otlp.headers };
    out.otlp = otlpOptions;
  }
  // Off unless enabled: the library's `ingest` is absent (no listener) by default too.
  if (cfg.ingest?.enabled === true) {
    const { enabled: _enabled, ...ingestOptions } = cfg.ingest;
    out.ingest = stripUndefined(ingestOptions);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Validators. Each takes the value and its dotted key and returns the typed value or throws.

/** `profile` / `--profile`. */
export function parseProfile(value: unknown, key: string): ProfileName {
  if (typeof value === 'string' && (PROFILE_NAMES as readonly string[]).includes(value)) {
    return value as ProfileName;
  }
  throw new ConfigError(key, value, EXPECT.profile + didYouMeanValue(value, PROFILE_NAMES));
}

/**
 * A bind host: an IPv4/IPv6 literal (no brackets) or a DNS name. Whether it is loopback is
 * checked by createJobmeter, which owns the `allowNonLoopback` policy.
 */
export function parseHost(value: unknown, key: string): string {
  if (typeof value === 'string' && (isIP(value) !== 0 || HOSTNAME.test(value))) return value;
  throw new ConfigError(key, value, EXPECT.host);
}

/** A TCP port, 0..65535 (0 = pick a free one). */
export function parsePort(value: unknown, key: string): number {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 65535) {
    return value;
  }
  throw new ConfigError(key, value, EXPECT.port + quotedHint(value));
}

/** RFC 1123 host name: dot-separated labels of letters, digits and inner hyphens. */
const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;
/** RFC 9110 `token`. */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function listener(value: unknown, key: string): ListenerConfig {
  const table = tableOrEmpty(value, key);
  checkKeys(table, 'listener');
  const out: ListenerConfig = {};
  for (const [k, v] of Object.entries(table)) {
    const dotted = `${key}.${k}`;
    switch (k) {
      case 'enabled':
        out.enabled = boolean(v, dotted);
        break;
      case 'host':
        out.host = parseHost(v, dotted);
        break;
      case 'port':
        out.port = parsePort(v, dotted);
        break;
      case 'allow_non_loopback':
        out.allowNonLoopback = boolean(v, dotted);
        break;
      case 'format':
        out.format = oneOf(v, dotted, LISTENER_FORMATS, EXPECT.format);
        break;
    }
  }
  return out;
}

function metrics(value: unknown, key: string): MetricsConfig {
  const table = tableOrEmpty(value, key);
  checkKeys(table, 'metrics');
  const out: MetricsConfig = {};
  for (const [k, v] of Object.entries(table)) {
    const dotted = `${key}.${k}`;
    switch (k) {
      case 'enabled':
        out.enabled = boolean(v, dotted);
        break;
      case 'path':
        out.path = parsePath(v, dotted);
        break;
      case 'posture':
        out.posture = oneOf(v, dotted, POSTURE_NAMES, EXPECT.posture);
        break;
      case 'listen':
        out.listen = parseLoopbackListen(v, dotted);
        break;
      case 'token':
        out.token = token(v, dotted);
        break;
      case 'token_file':
        out.tokenFile = filePath(v, dotted);
        break;
      case 'api_keys':
        out.apiKeys = apiKeys(v, dotted);
        break;
      case 'api_keys_file':
        out.apiKeysFile = filePath(v, dotted);
        break;
      case 'auth':
        out.auth = boolean(v, dotted);
        break;
      case 'trusted_cidrs':
        out.trustedCidrs = cidrList(v, dotted);
        break;
      case 'trusted_proxies':
        out.trustedProxies = cidrList(v, dotted);
        break;
      case 'access_log':
        out.accessLog = boolean(v, dotted);
        break;
      case 'verbose':
        out.verbose = boolean(v, dotted);
        break;
      case 'max_inflight_scrapes':
        out.maxInflightScrapes = inflightLimit(v, dotted);
        break;
    }
  }
  oneOfPair(table, key, 'token', 'token_file');
  oneOfPair(table, key, 'api_keys', 'api_keys_file');
  return out;
}

/** runwisp.toml's `[daemon]`: only its metrics keys. */
function daemon(value: unknown, key: string): MetricsConfig {
  const table = tableOrEmpty(value, key);
  checkKeys(table, 'daemon');
  const out: MetricsConfig = {};
  if (table.metrics_enabled !== undefined) out.enabled = boolean(table.metrics_enabled, `${key}.metrics_enabled`);
  if (table.metrics_listen !== undefined) out.listen = parseLoopbackListen(table.metrics_listen, `${key}.metrics_listen`);
  return out;
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

/** A route path: starts with `/`, no whitespace, query or fragment. */
export function parsePath(value: unknown, key: string): string {
  if (typeof value === 'string' && /^\/[^\s?#]*$/.test(value)) return value;
  throw new ConfigError(key, value, EXPECT.path);
}

/** `HOST:PORT` (or `[IPV6]:PORT`) on a loopback address. */
export function parseLoopbackListen(value: unknown, key: string): { host: string; port: number } {
  if (typeof value === 'string') {
    const parsed = parseHostPort(value);
    if (parsed?.host !== undefined && isLoopbackHost(parsed.host)) return { host: parsed.host, port: parsed.port };
  }
  throw new ConfigError(key, value, EXPECT.loopbackListen);
}

/**
 * `127.0.0.1:9464`, `localhost:0`, `[::1]:9464` or `:9464` (no host). Undefined when malformed;
 * a bare IPv6 address without brackets is ambiguous and malformed.
 */
export function parseHostPort(value: string): { host?: string; port: number } | undefined {
  const match = /^(?:\[([^\]]*)\]|([^:[\]]*)):(\d{1,5})$/.exec(value);
  if (match === null) return undefined;
  const [, bracketed, plain, portText] = match;
  const port = Number(portText);
  if (port > 65535) return undefined;
  if (bracketed !== undefined) {
    // Only IPv6 literals go in brackets.
    return bracketed.includes(':') && isIP(bracketed) === 6 ? { host: bracketed, port } : undefined;
  }
  if (plain === undefined || plain === '') return { port };
  return isIP(plain) !== 0 || HOSTNAME.test(plain) ? { host: plain, port } : undefined;
}

/** A secret token: never echoed. */
function token(value: unknown, key: string): string {
  if (typeof value === 'string' && value !== '' && !/\s/.test(value)) return value;
  throw new ConfigError(key, REDACTED, `${EXPECT.token} (got ${typeof value === 'string' ? (value === '' ? 'an empty string' : 'whitespace in it') : describeType(value)})`);
}

function filePath(value: unknown, key: string): string {
  if (typeof value === 'string' && value.trim() !== '' && !value.includes('\0')) return value;
  throw new ConfigError(key, value, EXPECT.filePath);
}

/** A list of addresses / CIDRs. A comma-separated string is the environment's form, not a file's. */
export function cidrList(value: unknown, key: string): string[] {
  if (!Array.isArray(value)) {
    const hint = typeof value === 'string' ? ' (a list, not a comma-separated string)' : '';
    throw new ConfigError(key, value, EXPECT.cidrList + hint);
  }
  return value.map((entry: unknown, i) => {
    if (typeof entry !== 'string' || parseCidr(entry) === undefined) {
      throw new ConfigError(`${key}[${i}]`, entry, 'an IP address or CIDR, e.g. 10.0.0.0/8 or ::1');
    }
    return entry.trim();
  });
}

const TENANT = /^[\x21-\x7e]{1,128}$/;

function apiKeys(value: unknown, key: string): ApiKeyConfig[] {
  if (!Array.isArray(value)) throw new ConfigError(key, REDACTED, `${EXPECT.apiKeys} (got ${describeType(value)})`);
  const seen = new Set<string>();
  return value.map((entry: unknown, i) => {
    const at = `${key}[${i}]`;
    if (!isTable(entry)) throw new ConfigError(at, REDACTED, `a { tenant, key } table (got ${describeType(entry)})`);
    for (const k of Object.keys(entry)) {
      if (k !== 'tenant' && k !== 'key') {
        const hint = nearest(k, ['tenant', 'key']);
        throw new ConfigError(`${at}.${k}`, REDACTED, `a key of an API key: tenant, key${hint === undefined ? '' : ` (did you mean ${at}.${hint}?)`}`);
      }
    }
    if (typeof entry.tenant !== 'string' || !TENANT.test(entry.tenant)) throw new ConfigError(`${at}.tenant`, entry.tenant, EXPECT.tenant);
    const k = token(entry.key, `${at}.key`);
    if (seen.has(k)) throw new ConfigError(`${at}.key`, REDACTED, 'a key not already listed');
    seen.add(k);
    return { tenant: entry.tenant, key: k };
  });
}

function inflightLimit(value: unknown, key: string): number {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_INFLIGHT_SCRAPES) return value;
  throw new ConfigError(key, value, EXPECT.inflight + quotedHint(value));
}

function otlp(value: unknown, key: string): OtlpConfig {
  const table = tableOrEmpty(value, key);
  checkKeys(table, 'otlp');
  const out: OtlpConfig = {};
  for (const [k, v] of Object.entries(table)) {
    const dotted = `${key}.${k}`;
    switch (k) {
      case 'endpoint':
        out.endpoint = endpoint(v, dotted);
        break;
      case 'protocol':
        out.protocol = oneOf(v, dotted, OTLP_PROTOCOLS, EXPECT.protocol);
        break;
      case 'interval_ms':
        out.intervalMillis = millis(v, dotted);
        break;
      case 'timeout_ms':
        out.timeoutMillis = millis(v, dotted);
        break;
      case 'temporality':
        out.temporality = oneOf(v, dotted, TEMPORALITIES, EXPECT.temporality);
        break;
      case 'headers':
        out.headers = headers(v, dotted);
        break;
      case 'naming':
        out.naming = oneOf(v, dotted, OTLP_NAMINGS, EXPECT.naming);
        break;
    }
  }
  // Both set in the same file: check here so the error points at the file. Across layers
  // (e.g. interval from env, timeout from the file) resolve.ts checks the merged result.
  if (
    out.intervalMillis !== undefined &&
    out.timeoutMillis !== undefined &&
    out.timeoutMillis > out.intervalMillis
  ) {
    throw timeoutAboveInterval(`${key}.timeout_ms`, out.timeoutMillis, out.intervalMillis);
  }
  return out;
}

function ingest(value: unknown, key: string): IngestConfig {
  const table = tableOrEmpty(value, key);
  checkKeys(table, 'ingest');
  const out: IngestConfig = {};
  for (const [k, v] of Object.entries(table)) {
    const dotted = `${key}.${k}`;
    switch (k) {
      case 'enabled':
        out.enabled = boolean(v, dotted);
        break;
      case 'host':
        out.host = parseHost(v, dotted);
        break;
      case 'port':
        out.port = parsePort(v, dotted);
        break;
      case 'allow_non_loopback':
        out.allowNonLoopback = boolean(v, dotted);
        break;
      case 'max_body_bytes':
        out.maxBodyBytes = boundedInteger(v, dotted, 1, MAX_BODY_BYTES, EXPECT.bodyBytes);
        break;
      case 'max_concurrent_requests':
        out.maxConcurrentRequests = boundedInteger(v, dotted, 1, 10_000, EXPECT.concurrent);
        break;
      case 'expiry_ms':
        out.expiryMillis = millis(v, dotted);
        break;
    }
  }
  return out;
}

function boundedInteger(value: unknown, key: string, min: number, max: number, expected: string): number {
  if (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max) return value;
  throw new ConfigError(key, value, expected + quotedHint(value));
}

/** The error for timeout > interval, shared with resolve.ts. */
export function timeoutAboveInterval(
  key: string,
  timeout: number,
  interval: number,
  intervalKey = 'otlp.interval_ms',
): ConfigError {
  return new ConfigError(key, timeout, `at most ${intervalKey} (${interval})`);
}

function endpoint(value: unknown, key: string): string {
  if (typeof value === 'string') {
    let url: URL | undefined;
    try {
      url = new URL(value);
    } catch {
      url = undefined;
    }
    if (url !== undefined && (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '') {
      return value;
    }
    throw new ConfigError(key, maskUserinfo(value), EXPECT.endpoint);
  }
  throw new ConfigError(key, value, EXPECT.endpoint);
}

/** Masks `user:password@` so a bad endpoint can be echoed without echoing its credentials. */
export function maskUserinfo(url: string): string {
  return url.replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/)?[^/?#@\s]*@/, (_m, scheme: string | undefined) => `${scheme ?? ''}***@`);
}

function millis(value: unknown, key: string): number {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= MAX_MILLIS) {
    return value;
  }
  throw new ConfigError(key, value, EXPECT.millis + quotedHint(value));
}

function headers(value: unknown, key: string): Record<string, string> {
  const table = tableOrEmpty(value, key);
  const out: Record<string, string> = {};
  for (const [name, v] of Object.entries(table)) {
    const dotted = `${key}.${name}`;
    if (!HEADER_NAME.test(name) || name === '__proto__') throw new ConfigError(dotted, REDACTED, EXPECT.headerName);
    // Never echo a header value: it is usually a credential. Say only what type it was.
    if (typeof v !== 'string') {
      throw new ConfigError(dotted, REDACTED, `${EXPECT.headerValue} (got ${describeType(v)})`);
    }
    if (/[\r\n\0]/.test(v)) {
      throw new ConfigError(dotted, REDACTED, `${EXPECT.headerValue} (got a line break)`);
    }
    out[name] = v;
  }
  return out;
}

function resourceAttributes(value: unknown, key: string): Record<string, string> {
  const table = tableOrEmpty(value, key);
  const out: Record<string, string> = {};
  for (const [name, v] of Object.entries(table)) {
    const dotted = `${key}.${name}`;
    if (name.trim() === '') throw new ConfigError(`${key}.""`, v, EXPECT.attributeName);
    // Assigning `__proto__` on a plain object would not create a key; refuse it rather than drop it.
    if (name === '__proto__') throw new ConfigError(dotted, v, EXPECT.attributeName);
    if (typeof v !== 'string') throw new ConfigError(dotted, v, EXPECT.string);
    out[name] = v;
  }
  return out;
}

function nonEmptyString(value: unknown, key: string): string {
  if (typeof value === 'string' && value.trim() !== '') return value;
  throw new ConfigError(key, value, EXPECT.nonEmptyString);
}

function boolean(value: unknown, key: string): boolean {
  if (typeof value === 'boolean') return value;
  throw new ConfigError(key, value, EXPECT.boolean + quotedHint(value));
}

/**
 * ConfigError prints strings raw, so `port = "9464"` would read `invalid listener.port=9464` as if
 * the number were wrong; where a string is the wrong type, say so.
 */
function quotedHint(value: unknown): string {
  return typeof value === 'string' ? ' (got a string)' : '';
}

function oneOf<T extends string>(
  value: unknown,
  key: string,
  allowed: readonly T[],
  expected: string,
): T {
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  throw new ConfigError(key, value, expected + didYouMeanValue(value, allowed));
}

/**
 * A sub-table. `null` counts as an empty table: in YAML, `otlp:` with every child commented out
 * parses as null, and rejecting that would punish a harmless edit.
 */
function tableOrEmpty(value: unknown, key: string): Record<string, unknown> {
  if (value === null) return {};
  if (isTable(value)) return value;
  throw new ConfigError(key, value, key === 'otlp.headers' || key === 'resource_attributes' ? EXPECT.stringTable : EXPECT.table);
}

/** Plain objects only: TOML (null-prototype) tables, YAML maps, JSON objects. Not dates/arrays. */
function isTable(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** For messages that must not show the value itself. */
function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (isTable(value)) return 'a table';
  if (typeof value === 'object') return 'a date';
  return `a ${typeof value}`;
}

function stripUndefined<T extends object>(obj: T): T {
  for (const k of Object.keys(obj) as (keyof T)[]) {
    if (obj[k] === undefined) delete obj[k];
  }
  return obj;
}

// ---------------------------------------------------------------------------------------------
// Unknown keys and "did you mean"

function checkKeys(table: Record<string, unknown>, where: Table): void {
  const known = KNOWN_KEYS[where];
  const spellings = ORIGINAL_SPELLINGS[where] ?? [];
  for (const [key, value] of Object.entries(table)) {
    if (known.includes(key) || spellings.includes(key)) continue;
    const dotted = where === '' ? key : `${where}.${key}`;
    const tableName = where === '' ? 'the top level' : `[${where}]`;
    const hint = suggestKey(key, where);
    throw new ConfigError(
      dotted,
      value,
      `a key of ${tableName}: ${known.join(', ')}${hint === undefined ? '' : ` (did you mean ${hint}?)`}`,
    );
  }
}

/** Library (camelCase) spellings whose file spelling is not a mere case change. */
const ALIASES: Readonly<Record<string, string>> = {
  intervalmillis: 'interval_ms',
  exportintervalmillis: 'interval_ms',
  interval: 'interval_ms',
  timeoutmillis: 'timeout_ms',
  exporttimeoutmillis: 'timeout_ms',
  timeout: 'timeout_ms',
  url: 'endpoint',
  address: 'host',
  bind: 'host',
};

/**
 * A near miss in the same table first (an original's spelling included), else the same key in
 * another table (`port` → `listener.port`, `token` → `metrics.token`).
 */
function suggestKey(key: string, where: Table): string | undefined {
  const prefix = (w: string): string => (w === '' ? '' : `${w}.`);
  const inTable = nearest(key, [...KNOWN_KEYS[where], ...(ORIGINAL_SPELLINGS[where] ?? [])]);
  if (inTable !== undefined) return prefix(where) + inTable;
  for (const other of ['', 'listener', 'otlp', 'ingest', 'metrics'] as const) {
    if (other === where) continue;
    const hit = nearest(key, KNOWN_KEYS[other], true);
    if (hit !== undefined) return prefix(other) + hit;
  }
  return undefined;
}

function nearest(input: string, candidates: readonly string[], exactOnly = false): string | undefined {
  const norm = normalize(input);
  const alias = ALIASES[norm];
  for (const c of candidates) {
    if (normalize(c) === norm || c === alias) return c;
  }
  if (exactOnly) return undefined;
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  const limit = norm.length <= 4 ? 1 : 2;
  for (const c of candidates) {
    const d = editDistance(norm, normalize(c));
    if (d <= limit && d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

function didYouMeanValue(value: unknown, allowed: readonly string[]): string {
  if (typeof value !== 'string') return '';
  const hit = nearest(value, allowed);
  return hit === undefined ? '' : ` (did you mean ${hit}?)`;
}

/** Lowercase without `_`, `-`, `.`, `/`: `serviceName`, `service-name` and `service_name` meet. */
function normalize(s: string): string {
  return s.toLowerCase().replace(/[-_./]/g, '');
}

/** Optimal-string-alignment distance: edits plus adjacent transpositions (`prot` → `port` is 1). */
function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  const rows: number[][] = [Array.from({ length: b.length + 1 }, (_, j) => j)];
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1]![j]! + 1, row[j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      }
      row.push(d);
    }
    rows.push(row);
  }
  return rows[a.length]![b.length]!;
}
