/**
 * The words of the {@link ConfigError} a user reads for a value of the config file that fails its
 * schema (schema-validator.ts finds it):
 * `invalid <dotted.key>=<value>: expected <what>`, with the hints people need to fix it — "did you
 * mean" for near-miss keys and enum values, "(got a string)" where a quoted number or boolean was
 * the mistake — and secrets (the value of a definition a secret row takes: option-table.ts
 * `isSecret`) replaced by `<redacted>`, as is the value of every unknown key (a misspelled `tokne`
 * holds a token; nothing says an unknown key does not).
 *
 * The validator decides whether and where a value is wrong; this file only decides what to say.
 * The wording is chosen by the definition of json-schema.ts that failed (`#/definitions/port` →
 * "an integer from 0 to 65535").
 * A definition an option's rule states (the option table's row) reads as the rule's words, a
 * closed list as "one of …", so neither is worded twice; the tables' keys are the schema's own.
 */
import {
  addressExpected,
  CONFIG_SCHEMA,
  ORIGINAL_SPELLINGS,
  VIEW_SELECTOR,
  VIEW_STREAM,
  type DefinitionName,
} from './json-schema.ts';
import { ConfigError, REDACTED } from '../errors.ts';
import { PROFILE_NAMES } from '../options.ts';
import {
  cidr,
  cidrListExpected,
  oneOfExpected,
  describeType,
  STRING_TABLE_EXPECTED,
  token,
  type Rule,
  type ValueSchema,
} from '../common/option-rules.ts';
import { nearestKey } from '../common/did-you-mean.ts';
import { unknownKeyError } from '../common/option-keys.ts';
import { isSecret, SECTIONS, type OptionRow } from '../common/option-table.ts';

const SELECTOR_EXPECTED = `a selector table with at least one of ${Object.keys(VIEW_SELECTOR).join(', ')}`;

/** `[[views]]` explicit buckets: the schema checks the numbers, views-section.ts their order. */
export const BOUNDARIES_EXPECTED = 'a list of numbers in increasing order, e.g. [1, 10, 60]';

/** The closed tables below the file's own, as an unknown key's error names them. */
const TABLE_NAMES: Partial<Record<DefinitionName, string>> = {
  apiKey: 'an API key',
  profileSetting: '[profile]',
  view: '[[views]]',
  viewSelector: 'a view selector',
  viewStream: 'a view stream',
  viewAggregation: 'a view aggregation',
  emptyTable: 'this aggregation (it takes no settings)',
  explicitBuckets: 'explicit_bucket_histogram',
  exponentialBuckets: 'base2_exponential_bucket_histogram',
  attributeKeys: 'attribute_keys',
};

/** What a value that failed a definition is told: the value to show (maybe redacted) and the expectation. */
type Describe = (value: unknown) => { shown?: unknown; expected: string };

const plain =
  (expected: string): Describe =>
  () => ({ expected });
/**
 * ConfigError prints strings raw, so `port = "9464"` would read `invalid listener.port=9464` as if
 * the number were wrong; where a string is the wrong type, say so.
 */
const quoted =
  (expected: string): Describe =>
  (value) => ({ expected: expected + (typeof value === 'string' ? ' (got a string)' : '') });
/** One of `allowed`, with the near miss of a string given. */
const choice =
  (expected: string, allowed: readonly string[]): Describe =>
  (value) => {
    const hit = typeof value === 'string' ? nearestKey(value, allowed) : undefined;
    return { expected: expected + (hit === undefined ? '' : ` (did you mean ${hit}?)`) };
  };

/** A secret's failure: never echoed; only what it `got` is said (by default, its type). */
const secret =
  (expected: string, got: (value: unknown) => string = describeType): Describe =>
  (value) => ({ shown: REDACTED, expected: `${expected} (got ${got(value)})` });

/**
 * A table's failure. A string is not shown: it may be the table's lines run together (YAML's
 * `metrics: token:<secret>`), a secret among them.
 */
const table =
  (expected: string): Describe =>
  (value) =>
    typeof value === 'string' ? secret(expected)(value) : { expected };

/** The ConfigError for a document (from `key`) whose top level is not a table. */
export function notATable(key: string, value: unknown): ConfigError {
  const { shown = value, expected } = table('a table of settings at the top level')(value);
  return new ConfigError(key, shown, expected);
}

/**
 * How the failure of each definition with words of its own reads. The others read as their schema
 * says ({@link fromSchema}): a table, a closed list, or the words of the option's rule.
 */
const DESCRIBE: Readonly<Partial<Record<DefinitionName, Describe>>> = {
  resourceAttributes: plain(STRING_TABLE_EXPECTED),
  headers: plain(STRING_TABLE_EXPECTED),
  apiKeys: secret('a list of { tenant, key } tables'),
  apiKey: secret('a { tenant, key } table'),
  profileSetting: (value) =>
    typeof value === 'string'
      ? fromSchema('profile')(value)
      : {
          expected: `a profile name (one of ${PROFILE_NAMES.join(', ')}) or a [profile] table with name and rules`,
        },
  profileRules: plain('a list of [[profile.rules]] tables'),
  profileRule: plain('a rule table: instrument, name, type, help, \u2026'),
  text: plain('a string'),
  loopbackListen: plain(addressExpected('loopback')),
  token: secret(token.expected, (value) =>
    typeof value === 'string'
      ? value === ''
        ? 'an empty string'
        : 'whitespace in it'
      : describeType(value),
  ),
  cidrList: (value) => ({ expected: cidrListExpected(value) }),
  cidr: plain(cidr.expected),
  mergePolicies: plain('a table: instrument name = "sum" or "max"'),
  views: plain('a list of [[views]] tables, each with a selector and a stream'),
  view: plain('a [[views]] table: selector, and optionally stream'),
  viewSelector: plain(SELECTOR_EXPECTED),
  viewStream: plain(`a stream table: ${Object.keys(VIEW_STREAM).join(', ')}`),
  viewAggregation: plain(
    'exactly one aggregation: default, drop, sum, last_value, explicit_bucket_histogram or base2_exponential_bucket_histogram',
  ),
  emptyTable: plain('an empty table, e.g. drop = {}'),
  explicitBuckets: plain('a table: boundaries = [numbers], and optionally record_min_max'),
  exponentialBuckets: plain('a table: max_size (2-16384), max_scale (20), record_min_max'),
  attributeKeys: plain('a table: included and/or excluded lists of attribute keys'),
  boundaries: plain(BOUNDARIES_EXPECTED),
  exponentialSize: quoted('an integer from 2 to 16384 (buckets)'),
  exponentialScale: quoted(
    '20, the scale the OpenTelemetry JS SDK starts every exponential histogram at (it has no max_scale setting)',
  ),
  keyList: plain('a list of attribute keys, e.g. ["queue"]'),
};

/**
 * How a definition without words of its own in {@link DESCRIBE} fails: a table ([listener],
 * [otlp], …) as "a table", a closed list as "one of …" with a "did you mean", else in its rule's
 * words, with "(got a string)" where a string is the wrong type.
 */
function fromSchema(definition: DefinitionName): Describe {
  const schema = CONFIG_SCHEMA.definitions[definition] as ValueSchema;
  const types: readonly unknown[] = [schema.type].flat();
  if (types.includes('object')) return table('a table');
  if (schema.enum !== undefined) return choice(oneOfExpected(schema.enum), schema.enum);
  // The rule of the option (the option table's row) whose file definition this is.
  const rule = ROWS.find((row) => row.schema === definition && row.rule !== undefined)?.rule as
    Rule<unknown> | undefined;
  if (rule === undefined) throw new Error(`no words for the ${definition} definition`);
  const words = types.includes('string') ? plain(rule.expected) : quoted(rule.expected);
  return (value) => ({ shown: rule.shown(value), ...words(value) });
}

const ROWS = Object.values(SECTIONS).flatMap((section) => Object.values<OptionRow>(section));

/** The ConfigError for `value` (at `key`), which fails `definition`: in its words. */
export function describe(definition: DefinitionName, value: unknown, key: string): ConfigError {
  const { shown = value, expected } = (DESCRIBE[definition] ?? fromSchema(definition))(value);
  // A secret row's definition (option-table.ts `isSecret`): no error shows its value.
  const secret = ROWS.some((row) => row.schema === definition && isSecret(row));
  return new ConfigError(key, secret ? REDACTED : shown, expected);
}

/**
 * The ConfigError for the unknown key `name` of the table at `at`, whose part of `definition`
 * (undefined: the top level) lists `keys`. Its value is never shown: nothing says what it holds (a
 * misplaced token, a header).
 */
export function unknownKeyIn(
  definition: DefinitionName | undefined,
  name: string,
  keys: readonly string[],
  at: string,
): ConfigError {
  const tableName = definition === undefined ? undefined : TABLE_NAMES[definition];
  // The top level and its tables: named as the file spells them, a key of another table hinted.
  const where = definition ?? '';
  if (tableName === undefined)
    return unknownKeyError(
      where === '' ? name : `${where}.${name}`,
      where === '' ? 'the top level' : `[${where}]`,
      knownKeys(where),
      suggestKey(name, where),
    );
  const hint = nearestKey(name, keys, false, ALIASES);
  return unknownKeyError(`${at}.${name}`, tableName, keys, hint && `${at}.${hint}`);
}

/** A required key missing at `key`: an API key's `tenant` or `key` (an undefined value), a view's selector. */
export function missingKey(definition: DefinitionName, key: string): ConfigError {
  if (definition === 'view') return new ConfigError(key, undefined, SELECTOR_EXPECTED);
  return describe(key.endsWith('.key') ? 'token' : 'tenant', undefined, key);
}

/** A closed table of the file: a definition, or `''` for the top level. */
type Table = DefinitionName | '';

/** The keys a table of the file takes (the top level's, a plain table's), in file spelling and schema order. */
function keysOf(where: Table): string[] {
  const schema = where === '' ? CONFIG_SCHEMA : CONFIG_SCHEMA.definitions[where];
  return Object.keys((schema as { properties?: object }).properties ?? {});
}

// ---------------------------------------------------------------------------------------------
// Unknown keys and "did you mean"

/** Known keys of a table, as listed in errors: the canonical ones, not the originals' spellings. */
function knownKeys(where: Table): readonly string[] {
  const keys = keysOf(where);
  return where === '' ? keys.filter((k) => !ORIGINAL_SPELLINGS.includes(k)) : keys;
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
  const inTable = nearestKey(key, keysOf(where), false, ALIASES);
  if (inTable !== undefined) return prefix(where) + inTable;
  // [metrics] before [ingest]: a stray `token` is more often the metrics route's.
  for (const other of ['', 'listener', 'otlp', 'metrics', 'ingest', 'naming'] as const) {
    if (other === where) continue;
    const hit = nearestKey(key, knownKeys(other), true, ALIASES);
    if (hit !== undefined) return prefix(other) + hit;
  }
  return undefined;
}
