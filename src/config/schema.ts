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

/**
 * Largest interval/timeout accepted: Node timers overflow above 2^31-1 ms (they would fire after
 * 1 ms with only a warning), so a larger value is a config error rather than a busy loop.
 */
export const MAX_MILLIS = 2_147_483_647;

/** Known keys per table, in file spelling. `''` is the top level. */
const KNOWN_KEYS: Readonly<Record<'' | 'listener' | 'otlp', readonly string[]>> = {
  '': [
    'profile',
    'service_name',
    'process_metrics',
    'otel_scope_info',
    'resource_attributes',
    'listener',
    'otlp',
  ],
  listener: ['enabled', 'host', 'port', 'allow_non_loopback', 'format'],
  otlp: ['endpoint', 'protocol', 'interval_ms', 'timeout_ms', 'temporality', 'headers'],
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
} as const;

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
    }
  }
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

function checkKeys(table: Record<string, unknown>, where: '' | 'listener' | 'otlp'): void {
  const known = KNOWN_KEYS[where];
  for (const [key, value] of Object.entries(table)) {
    if (known.includes(key)) continue;
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

/** A near miss in the same table first, else the same key in another table (`port` → `listener.port`). */
function suggestKey(key: string, where: '' | 'listener' | 'otlp'): string | undefined {
  const prefix = (w: string): string => (w === '' ? '' : `${w}.`);
  const inTable = nearest(key, KNOWN_KEYS[where]);
  if (inTable !== undefined) return prefix(where) + inTable;
  for (const other of ['', 'listener', 'otlp'] as const) {
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
