/**
 * One check per rule an option value must meet, each throwing the one error type for bad options
 * ({@link ConfigError}) under the key the caller names. The library (jobmeter.ts, the instrument
 * specs, the snapshot cache), `jobmeter serve`'s config, the ingest, the push reader, the listeners
 * and the metrics route call these. A {@link Rule} is written once, as the JSON Schema of the
 * value and the words for a value that fails it: the config file's schema (config/json-schema.ts)
 * takes that schema as its definition, and one reader of it ({@link meetsSchema}) checks a value
 * from code, the file, the environment and the flags, so a rule reads and decides the same
 * wherever the value came from.
 *
 * Not for internal invariants (a plain Error) or bad network input (a 4xx): only for values an
 * operator or a host's code chose.
 */
const { isIP } = process.getBuiltinModule('node:net');

import { ConfigError, maskedUrl, REDACTED } from '../errors.ts';
import { CIDR_EXPECTED, parseCidr } from './addresses.ts';
import { isLevelLogger, type LogSink } from './log.ts';

/** Longest wait a Node timer takes: above 2^31-1 ms it fires after 1 ms with only a warning. */
export const MAX_MILLIS = 2_147_483_647;

/** A JSON Schema type, as {@link meetsSchema} reads it. */
type SchemaType = 'integer' | 'number' | 'boolean' | 'string' | 'object' | 'null' | 'array';

/**
 * The part of JSON Schema a value's own check is written in: what {@link meetsSchema} decides, for
 * a rule's value from code and for every value of the config file (config/schema-validator.ts).
 */
export interface ValueSchema {
  readonly type?: SchemaType | readonly SchemaType[];
  readonly minimum?: number;
  readonly maximum?: number;
  /** Applies to a string only (as in JSON Schema); compiled with the `u` flag. */
  readonly pattern?: string;
  readonly not?: { readonly const: unknown };
  readonly enum?: readonly string[];
  /** A string's check a pattern cannot make ({@link FORMATS}, and the config file's own). */
  readonly format?: string;
}

/** A rule: checks a value under the key the caller names; its schema and words are the config file's. */
export interface Rule<T> {
  (value: unknown, key: string): T;
  readonly schema: ValueSchema;
  /** What a value that fails it is told it should be. */
  readonly expected: string;
  /** Whether a value meets it. */
  readonly is: (value: unknown) => value is T;
  /** The value is a credential: no error shows it, whatever its key (`<redacted>`). */
  readonly secret: boolean;
  /** What an error shows of a value it refuses: `<redacted>` for a secret, a URL's userinfo masked. */
  readonly shown: (value: unknown) => unknown;
}

/** A type as JSON's: a TOML date or YAML binary is none of them. */
const IS_TYPE: Readonly<Record<SchemaType, (v: unknown) => boolean>> = {
  integer: (v) => typeof v === 'number' && Number.isInteger(v),
  number: (v) => typeof v === 'number' && Number.isFinite(v),
  boolean: (v) => typeof v === 'boolean',
  string: (v) => typeof v === 'string',
  object: (v) => isTable(v),
  null: (v) => v === null,
  array: (v) => Array.isArray(v),
};

/**
 * Whether `v` meets `schema`'s own keywords (type, range, pattern, format, `not` const, enum): the
 * one reading of them, for a rule and for the config file's schema; `formats` names the formats.
 */
export function meetsSchema(
  schema: ValueSchema,
  v: unknown,
  formats: Readonly<Record<string, (value: string) => boolean>> = FORMATS,
): boolean {
  const { type, minimum, maximum, pattern, format } = schema;
  return (
    (type === undefined || [type].flat().some((t) => IS_TYPE[t](v))) &&
    (typeof v !== 'number' ||
      ((minimum === undefined || v >= minimum) && (maximum === undefined || v <= maximum))) &&
    (typeof v !== 'string' || pattern === undefined || new RegExp(pattern, 'u').test(v)) &&
    (typeof v !== 'string' || format === undefined || formats[format]!(v)) &&
    (schema.not === undefined || v !== schema.not.const) &&
    (schema.enum === undefined || schema.enum.includes(v as string))
  );
}

/** The rule `schema` states, worded `expected`; `how`: see {@link Rule.secret}, {@link Rule.shown}. */
export function rule<T>(
  schema: ValueSchema,
  expected: string,
  how: { readonly secret?: boolean; readonly shown?: (value: unknown) => unknown } = {},
): Rule<T> {
  const secret = how.secret === true;
  const show = secret ? () => REDACTED : (how.shown ?? ((v: unknown) => v));
  const meets = (v: unknown): v is T => meetsSchema(schema, v);
  return Object.assign(
    (value: unknown, key: string): T => {
      if (!meets(value)) throw new ConfigError(key, show(value), expected);
      return value;
    },
    { schema, expected, is: meets, secret, shown: show },
  );
}

/** An integer >= 1. */
export const positiveInteger = rule<number>({ type: 'integer', minimum: 1 }, 'a positive integer');

/** An integer from `min` to `max`; `unit` says what it counts. */
function integerRule(min: number, max: number, unit?: string): Rule<number> {
  return rule(
    { type: 'integer', minimum: min, maximum: max },
    `an integer from ${min} to ${max}${unit === undefined ? '' : ` (${unit})`}`,
  );
}

/** Upper bounds of counts and sizes: what the config file's schema and the library both accept. */
export const MAX_BODY_BYTES = 1024 * 1024 * 1024;
export const MAX_MEMORY_BYTES = 64 * 1024 * 1024 * 1024;
export const MAX_CONNECTIONS = 1_000_000;

export const bodyBytes = integerRule(1, MAX_BODY_BYTES, 'bytes');
export const concurrentRequests = integerRule(1, 10_000);
export const memoryBytes = integerRule(1, MAX_MEMORY_BYTES, 'bytes');
export const connections = integerRule(1, MAX_CONNECTIONS);
export const cardinalityLimit = integerRule(
  1,
  1_000_000,
  'series per instrument, overflow included',
);
/** Longest attribute value length limit: finite, so that no label carries an unbounded value. */
export const attributeValueLengthLimit = integerRule(1, 65_536, 'characters');
/** Largest in-flight scrape limit accepted. */
export const MAX_INFLIGHT_SCRAPES = 1_000_000;
/** Scrapes served at once on the metrics route, past which one gets 503; 0: no limit. */
export const inflightScrapes = rule<number>(
  { type: 'integer', minimum: 0, maximum: MAX_INFLIGHT_SCRAPES },
  `an integer from 0 (no limit) to ${MAX_INFLIGHT_SCRAPES}`,
);
/** A TCP port to bind; 0 picks a free one. */
export const port = integerRule(0, 65535);

/**
 * A duration (an interval, a timeout, an expiry): an integer number of milliseconds from 1 to
 * MAX_MILLIS, what a Node timer waits as given. setTimeout would silently change any other value
 * (a fraction is truncated, a value past 2^31-1 fires after 1 ms), so the rule refuses it instead.
 */
export const millis = integerRule(1, MAX_MILLIS, 'milliseconds');
/** A job store's poll interval: not under 100 ms (a store read per tick), at most what a timer holds. */
export const pollMillis = integerRule(100, MAX_MILLIS, 'milliseconds');
/** {@link pollMillis}, or `false`: no polling. */
export const pollMillisOrOff = rule<number | false>(
  { type: ['integer', 'boolean'], minimum: 100, maximum: MAX_MILLIS, not: { const: true } },
  `${pollMillis.expected}, or false`,
);

/** 0 (none) or a {@link millis} duration. */
export const millisOrZero = rule<number>(
  { type: 'integer', minimum: 0, maximum: MAX_MILLIS },
  `0 or ${millis.expected}`,
);

export const STRING_TABLE_EXPECTED = 'a table of string values';

export const bool = rule<boolean>({ type: 'boolean' }, 'true or false');

/** A name or label value: something other than whitespace. */
export const nonEmptyString = rule<string>(
  { type: 'string', pattern: '\\S' },
  'a non-empty string',
);

/**
 * The service name given both as a name option and as the resource's `service.name` attribute:
 * one setting, so the attribute counts (never silently replaced by a default), the same value twice
 * is accepted and two different ones are refused under the attribute's key.
 * @param named the name option's value and how the error names it (`serviceName`, `service_name = ...`).
 */
export function oneServiceName(
  fromAttribute: unknown,
  attributeKey: string,
  named: unknown,
  namedAs: string,
): string {
  const value = nonEmptyString(fromAttribute, attributeKey);
  if (named === undefined || named === value) return value;
  throw new ConfigError(
    attributeKey,
    value,
    `no ${namedAs} ${JSON.stringify(named)} beside it (the service name and the resource's service.name are one setting: give one)`,
  );
}

/** A path: something other than whitespace, no NUL. */
const PATH = '^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$';

/** A file a secret is read from (`token_file`, `api_keys_file`). */
export const filePath = rule<string>({ type: 'string', pattern: PATH }, 'a non-empty file path');

/** A directory to keep state in, or `false` for none. */
export const stateDir = rule<string | false>(
  { type: ['string', 'boolean'], pattern: PATH, not: { const: true } },
  'a directory path, or false to keep no state file',
);

/**
 * The rule of a table of the host's own names (resource attributes, headers), each matching
 * `names` (never `__proto__`, which no plain object keeps) with a string value matching `values`;
 * null (an emptied YAML table) is empty. The one check, for code, the file and the environment. A
 * secret table shows none of its values, only what was wrong with one.
 */
function stringTable(names: RegExp, name: string, values: RegExp, value: string, secret = false) {
  const hide = (v: unknown): unknown => (secret ? REDACTED : v);
  const check = (given: unknown, key: string): Readonly<Record<string, string>> => {
    if (given === null) return {};
    if (typeof given !== 'object' || Array.isArray(given))
      throw new ConfigError(key, hide(given), STRING_TABLE_EXPECTED);
    for (const [k, v] of Object.entries(given)) {
      const at = `${key}.${k.trim() === '' ? '""' : k}`;
      if (k === '__proto__' || !names.test(k)) throw new ConfigError(at, hide(v), name);
      if (typeof v === 'string' && values.test(v)) continue;
      throw new ConfigError(
        at,
        hide(v),
        secret
          ? `${value} (got ${typeof v === 'string' ? 'a line break' : describeType(v)})`
          : value,
      );
    }
    return given as Readonly<Record<string, string>>;
  };
  return Object.assign(check, { secret });
}

/** Plain objects only: TOML (null-prototype) tables, YAML maps, JSON objects. Not dates/arrays. */
export function isTable(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** For messages that must not show the value itself. */
export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (isTable(value)) return 'a table';
  if (typeof value === 'object') return 'a date';
  return `a ${typeof value}`;
}

/** `resourceAttributes` / `[resource_attributes]`. */
export const resourceAttributes = stringTable(
  /\S/,
  'a non-empty attribute name other than __proto__',
  /^/,
  'a string',
);

/** `otlp.headers`: HTTP header names; a value is usually a credential. */
export const headers = stringTable(
  /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/,
  "an HTTP header name (letters, digits and !#$%&'*+-.^_`|~)",
  /^[^\r\n\u0000]*$/,
  'a string without line breaks',
  true,
);

/** A callback the host passes (a log or debug line writer). */
export function callback<T extends (...args: never[]) => unknown>(value: T, key: string): T {
  if (typeof value !== 'function') throw new ConfigError(key, shown(value), 'a function');
  return value;
}

/** The `log` option: a line writer, or a level logger (pino's shape, common/log.ts). */
export function logSink(value: LogSink, key: string): LogSink {
  if (typeof value !== 'function' && !isLevelLogger(value))
    throw new ConfigError(
      key,
      shown(value),
      'a function taking a line, or a logger with debug, info, warn and error methods',
    );
  return value;
}

/** A rejected value as an error shows it: a host's object (a server, a console, a jobmeter) only by its kind. */
export function shown(value: unknown): unknown {
  if (typeof value === 'object' && value !== null)
    return Array.isArray(value) ? 'an array' : 'an object';
  return value;
}

/** `value` if it is an array (its items are the caller's to check); `what` words an item. */
export function list<T>(value: readonly T[], key: string, what: string): readonly T[] {
  if (!Array.isArray(value)) throw new ConfigError(key, value, `a list of ${what}`);
  return value as readonly T[];
}

/** What the SDK's MeterProvider calls on a reader (IMetricReader). */
export const READER_METHODS = [
  'setMetricProducer',
  'selectAggregation',
  'selectAggregationTemporality',
  'selectCardinalityLimit',
  'collect',
  'shutdown',
  'forceFlush',
] as const;

/** `value` if it is an OpenTelemetry MetricReader: an object with every IMetricReader method. */
export function metricReader<T>(value: T, key: string): T {
  const reader = value as Record<string, unknown> | null;
  if (
    typeof reader !== 'object' ||
    reader === null ||
    READER_METHODS.some((m) => typeof reader[m] !== 'function')
  ) {
    throw new ConfigError(
      key,
      value,
      `an OpenTelemetry MetricReader (with ${READER_METHODS.join(', ')})`,
    );
  }
  return value;
}

/** `one of a, b, c`: how a closed list of words is expected. */
export function oneOfExpected(allowed: readonly string[]): string {
  return `one of ${allowed.join(', ')}`;
}

/** A rule for one of `allowed`. */
export function oneOfRule<T extends string>(allowed: readonly T[]): Rule<T> {
  return rule({ type: 'string', enum: [...allowed] }, oneOfExpected(allowed));
}

/**
 * An export must end before the next one starts: the timeout is at most the interval.
 * @param intervalKey how the interval is named in the message (where the caller's interval came from).
 */
export function timeoutWithinInterval(
  timeout: number,
  interval: number,
  key: string,
  intervalKey: string,
): number {
  if (timeout > interval)
    throw new ConfigError(key, timeout, `at most ${intervalKey} (${interval})`);
  return timeout;
}

/** An absolute http(s) URL: an OTLP endpoint. A user:password in it is masked in the error. */
export const httpUrl = rule<string>(
  { type: 'string', format: 'jobmeter-http-url' },
  'an absolute http:// or https:// URL',
  { shown: (v) => (typeof v === 'string' ? maskedUrl(v) : shown(v)) },
);

/** A bearer token or API key: an `Authorization` header carries it whole, so no whitespace. */
export const token = rule<string>(
  { type: 'string', pattern: '^\\S+$' },
  'a non-empty token without whitespace',
  { secret: true },
);

/** The tenant an API key authenticates: one field of the access log line. */
export const tenant = rule<string>(
  { type: 'string', pattern: '^[\\x21-\\x7e]{1,128}$' },
  'a tenant id of 1 to 128 printable ASCII characters without spaces',
);

/**
 * A gate's credentials: a bearer `token` and `apiKeys` (`{ key, tenant }` each, a key once), checked
 * under `prefix` + their keys (`''`, `'ingest.'`; the list as `listKey` spells it). The one check of
 * both, for the options object and the config file. No error shows a token or a key, nor the list
 * that holds them: they are secrets.
 */
export function gateCredentials(
  given: unknown,
  apiKeys: unknown,
  prefix: string,
  listKey = 'apiKeys',
): { token: string; tenant?: string }[] {
  const out: { token: string; tenant?: string }[] =
    given === undefined ? [] : [{ token: token(given, `${prefix}token`) }];
  if (apiKeys === undefined) return out;
  const list = `${prefix}${listKey}`;
  if (!Array.isArray(apiKeys)) throw new ConfigError(list, REDACTED, 'an array of { key, tenant }');
  apiKeys.forEach((k: unknown, i) => {
    const { key, tenant: owner } = (k ?? {}) as { key?: unknown; tenant?: unknown };
    const checked = token(key, `${list}[${i}].key`);
    if (!tenant.is(owner))
      throw new ConfigError(`${list}[${i}].tenant`, shown(owner), tenant.expected);
    if (out.some((c) => c.tenant !== undefined && c.token === checked))
      throw new ConfigError(`${list}[${i}].key`, REDACTED, 'a key not already listed');
    out.push({ token: checked, tenant: owner });
  });
  return out;
}

/** A network a gate admits or a proxy it believes: an IP address or a CIDR. */
export const cidr = rule<string>({ type: 'string', format: 'jobmeter-cidr' }, CIDR_EXPECTED);

/** What a list of {@link cidr}s must be; a string is the environment's form, not a list. */
export function cidrListExpected(value: unknown): string {
  const list = 'a list of IP addresses or CIDRs, e.g. ["10.0.0.0/8"]';
  return typeof value === 'string' ? `${list} (a list, not a comma-separated string)` : list;
}

/** `value` if it is a list of {@link cidr}s (an entry refused under `key[i]`). */
export function cidrList(value: unknown, key: string): readonly string[] {
  if (!Array.isArray(value)) throw new ConfigError(key, shown(value), cidrListExpected(value));
  value.forEach((entry, i) => cidr(entry, `${key}[${i}]`));
  return value as readonly string[];
}

/** A route path: what a request line's path can match exactly. */
export const routePath = rule<string>(
  { type: 'string', pattern: '^/[^\\s?#]*$' },
  'a path starting with / (no spaces, ? or #)',
);

/** RFC 1123 host name: dot-separated labels of letters, digits and inner hyphens. */
const HOSTNAME =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

/**
 * The formats a rule may name, for the config file's schema too (config/json-schema.ts). Names are prefixed
 * so no validator mistakes them for the standard `hostname` / `uri` formats, whose rules differ.
 */
export const FORMATS = {
  /** A bind host: an IPv4/IPv6 literal (no brackets) or a DNS name. */
  'jobmeter-host': (value: string): boolean => isIP(value) !== 0 || HOSTNAME.test(value),
  'jobmeter-http-url': (value: string): boolean =>
    /^https?:$/.test(URL.parse(value)?.protocol ?? ''),
  'jobmeter-cidr': (value: string): boolean => parseCidr(value) !== undefined,
};

/** Address to bind: whether it is loopback is judged apart (loopback.ts, the row's opt-in). */
export const host = rule<string>(
  { type: 'string', format: 'jobmeter-host' },
  'an IP address or host name (IPv6 without brackets)',
);

/** A listener binds loopback unless its opt-in is set; `optIn` names it as the caller's user spells it. */
export const LOOPBACK_EXPECTED = 'a loopback address (127.0.0.0/8, ::1 or localhost)';
