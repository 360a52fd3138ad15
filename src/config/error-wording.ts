/**
 * Turns ajv's first error into the {@link ConfigError} a user reads:
 * `invalid <dotted.key>=<value>: expected <what>`, with the hints people need to fix it — "did you
 * mean" for near-miss keys and enum values, "(got a string)" where a quoted number or boolean was
 * the mistake — and secrets (tokens, API keys, header values) replaced by `<redacted>`, as is the
 * value of every unknown key (a misspelled `tokne` holds a token; nothing says an unknown key does
 * not) and of every key whose name says credential (errors.ts `secretKey`).
 *
 * ajv decides whether and where a value is wrong; this file only decides what to say. The wording
 * is chosen by the definition of json-schema.ts that failed (`#/definitions/port` → "an integer
 * from 0 to 65535"), never by ajv's own messages, so the texts stay ours whatever ajv's version.
 */
import { MERGE_POLICIES } from '../cluster/merge-policy.ts';
import type { ErrorObject } from 'ajv';

import { CIDR_EXPECTED } from '../common/addresses.ts';
import { POSTURE_NAMES } from '../common/postures.ts';
import {
  CONFIG_SCHEMA,
  definitionAt,
  INSTRUMENT_TYPES,
  ORIGINAL_SPELLINGS,
  tableKeys,
  type DefinitionName,
  type Table,
} from './json-schema.ts';
import { ConfigError, maskUserinfo, REDACTED } from '../errors.ts';
import {
  HOST_INSTRUMENTS,
  LISTENER_FORMATS,
  OTLP_NAMINGS,
  OTLP_PROTOCOLS,
  PROFILE_NAMES,
  TEMPORALITIES,
} from '../options.ts';
import {
  attributeValueLengthLimit,
  bodyBytes,
  bool,
  cardinalityLimit,
  concurrentRequests,
  connections,
  inflightScrapes,
  memoryBytes,
  millis,
  nonEmptyString,
  oneOfExpected,
  port,
  STRING_TABLE_EXPECTED,
  ROUTE_PATH_EXPECTED,
  stateDir,
  TENANT_EXPECTED,
  TOKEN_EXPECTED,
} from '../common/option-rules.ts';
import { nearestKey } from '../common/did-you-mean.ts';
import { API_KEY_OPTIONS, fileNames, PROFILE_TABLE_OPTIONS } from '../common/option-table.ts';
import { RULE_TYPES } from '../naming/check-rules.ts';
import { TRANSLATION_STRATEGIES } from '../naming/prometheus-names.ts';

/** The keys of a `[[profile.rules]]` rule, required ones first. */
const RULE_KEYS: readonly string[] = [
  'instrument',
  'name',
  'type',
  'help',
  'unit',
  'labels',
  'values',
  'zero_fill',
];

/** Expectation texts, shared with the flag parser so messages read the same everywhere. */
export const EXPECT = {
  profile: oneOfExpected(PROFILE_NAMES),
  nonEmptyString: nonEmptyString.expected,
  boolean: bool.expected,
  table: 'a table',
  stringTable: STRING_TABLE_EXPECTED,
  string: 'a string',
  host: 'an IP address or host name (IPv6 without brackets)',
  port: port.expected,
  format: oneOfExpected(LISTENER_FORMATS),
  endpoint: 'an http:// or https:// URL',
  protocol: oneOfExpected(OTLP_PROTOCOLS),
  millis: millis.expected,
  temporality: oneOfExpected(TEMPORALITIES),
  headerName: "an HTTP header name (letters, digits and !#$%&'*+-.^_`|~)",
  headerValue: 'a string without line breaks',
  attributeName: 'a non-empty attribute name other than __proto__',
  naming: oneOfExpected(OTLP_NAMINGS),
  translationStrategy: oneOfExpected(TRANSLATION_STRATEGIES),
  bodyBytes: bodyBytes.expected,
  concurrent: concurrentRequests.expected,
  memoryBytes: memoryBytes.expected,
  connections: connections.expected,
  posture: oneOfExpected(POSTURE_NAMES),
  path: ROUTE_PATH_EXPECTED,
  loopbackListen:
    'a loopback HOST:PORT, e.g. 127.0.0.1:9478 (the dedicated listener binds loopback only)',
  token: TOKEN_EXPECTED,
  filePath: 'a non-empty file path',
  cidrList: 'a list of IP addresses or CIDRs, e.g. ["10.0.0.0/8"]',
  cidr: CIDR_EXPECTED,
  apiKeys: 'a list of { tenant, key } tables',
  apiKey: 'a { tenant, key } table',
  tenant: TENANT_EXPECTED,
  inflight: inflightScrapes.expected,
  profileSetting: `a profile name (one of ${PROFILE_NAMES.join(', ')}) or a [profile] table with name and rules`,
  profileRules: 'a list of [[profile.rules]] tables',
  profileRule:
    'a rule table: instrument, name, type, help, and optionally unit, labels, values, zero_fill',
  ruleType: oneOfExpected(RULE_TYPES),
  ruleLabels: 'a list of [attribute, label] pairs, e.g. [["runner", "runner"]]',
  ruleValues: 'a table: attribute → { canonical value = "the original\'s word" }',
  ruleZeroFill: 'a table: label → [words always emitted]',
  cardinalityLimit: cardinalityLimit.expected,
  attributeValueLengthLimit: attributeValueLengthLimit.expected,
  hostInstruments: oneOfExpected(HOST_INSTRUMENTS),
  mergePolicies: 'a table: instrument name = "sum" or "max"',
  mergePolicy: oneOfExpected(MERGE_POLICIES),
  views: 'a list of [[views]] tables, each with a selector and a stream',
  view: 'a [[views]] table: selector, and optionally stream',
  viewSelector:
    'a selector table with at least one of instrument_name, instrument_type, unit, meter_name, meter_version, meter_schema_url',
  viewStream:
    'a stream table: name, description, aggregation, attribute_keys, aggregation_cardinality_limit',
  viewAggregation:
    'exactly one aggregation: default, drop, sum, last_value, explicit_bucket_histogram or base2_exponential_bucket_histogram',
  emptyTable: 'an empty table, e.g. drop = {}',
  explicitBuckets: 'a table: boundaries = [numbers], and optionally record_min_max',
  exponentialBuckets: 'a table: max_size (2-16384), max_scale (-10-20), record_min_max',
  attributeKeys: 'a table: included and/or excluded lists of attribute keys',
  instrumentType: oneOfExpected(INSTRUMENT_TYPES),
  boundaries: 'a list of numbers in increasing order, e.g. [1, 10, 60]',
  exponentialSize: 'an integer from 2 to 16384 (buckets)',
  exponentialScale: 'an integer from -10 to 20',
  keyList: 'a list of attribute keys, e.g. ["queue"]',
} as const;

/** The `[[views]]` tables, as an unknown key's error names them. */
const VIEW_TABLES: Partial<Record<DefinitionName, string>> = {
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
const quoted =
  (expected: string): Describe =>
  (value) => ({ expected: expected + quotedHint(value) });
const choice =
  (expected: string, allowed: readonly string[]): Describe =>
  (value) => ({
    expected: expected + didYouMeanValue(value, allowed),
  });

/** Every definition of the schema, and how its failure reads. */
const DESCRIBE: Readonly<Record<DefinitionName, Describe>> = {
  listener: plain(EXPECT.table),
  naming: plain(EXPECT.table),
  otlp: plain(EXPECT.table),
  ingest: plain(EXPECT.table),
  cluster: plain(EXPECT.table),
  metrics: plain(EXPECT.table),
  telemetry: plain(EXPECT.table),
  daemon: plain(EXPECT.table),
  build: plain(EXPECT.table),
  resourceAttributes: plain(EXPECT.stringTable),
  headers: plain(EXPECT.stringTable),
  apiKeys: (value) => ({
    shown: REDACTED,
    expected: `${EXPECT.apiKeys} (got ${describeType(value)})`,
  }),
  apiKey: (value) => ({
    shown: REDACTED,
    expected: `${EXPECT.apiKey} (got ${describeType(value)})`,
  }),
  profile: choice(EXPECT.profile, PROFILE_NAMES),
  profileSetting: (value) =>
    typeof value === 'string'
      ? choice(EXPECT.profile, PROFILE_NAMES)(value)
      : { expected: EXPECT.profileSetting },
  profileRules: plain(EXPECT.profileRules),
  profileRule: plain(EXPECT.profileRule),
  ruleType: choice(EXPECT.ruleType, RULE_TYPES),
  ruleLabels: plain(EXPECT.ruleLabels),
  ruleValues: plain(EXPECT.ruleValues),
  ruleZeroFill: plain(EXPECT.ruleZeroFill),
  text: plain(EXPECT.string),
  nonEmptyString: plain(EXPECT.nonEmptyString),
  boolean: quoted(EXPECT.boolean),
  host: plain(EXPECT.host),
  port: quoted(EXPECT.port),
  listenerFormat: choice(EXPECT.format, LISTENER_FORMATS),
  // user:password in a rejected endpoint is masked before it is echoed.
  endpoint: (value) => ({
    shown: typeof value === 'string' ? maskUserinfo(value) : value,
    expected: EXPECT.endpoint,
  }),
  protocol: choice(EXPECT.protocol, OTLP_PROTOCOLS),
  millis: quoted(EXPECT.millis),
  temporality: choice(EXPECT.temporality, TEMPORALITIES),
  otlpNaming: choice(EXPECT.naming, OTLP_NAMINGS),
  translationStrategy: choice(EXPECT.translationStrategy, TRANSLATION_STRATEGIES),
  bodyBytes: quoted(EXPECT.bodyBytes),
  concurrent: quoted(EXPECT.concurrent),
  memoryBytes: quoted(EXPECT.memoryBytes),
  connections: quoted(EXPECT.connections),
  posture: choice(EXPECT.posture, POSTURE_NAMES),
  path: plain(EXPECT.path),
  loopbackListen: plain(EXPECT.loopbackListen),
  // A secret: never echoed.
  token: (value) => ({
    shown: REDACTED,
    expected: `${EXPECT.token} (got ${typeof value === 'string' ? (value === '' ? 'an empty string' : 'whitespace in it') : describeType(value)})`,
  }),
  filePath: plain(EXPECT.filePath),
  stateDir: plain(stateDir.expected),
  // A comma-separated string is the environment's form, not a file's.
  cidrList: (value) => ({
    expected:
      EXPECT.cidrList +
      (typeof value === 'string' ? ' (a list, not a comma-separated string)' : ''),
  }),
  cidr: plain(EXPECT.cidr),
  tenant: plain(EXPECT.tenant),
  inflight: quoted(EXPECT.inflight),
  cardinalityLimit: quoted(EXPECT.cardinalityLimit),
  attributeValueLengthLimit: quoted(EXPECT.attributeValueLengthLimit),
  hostInstruments: choice(EXPECT.hostInstruments, HOST_INSTRUMENTS),
  mergePolicies: plain(EXPECT.mergePolicies),
  mergePolicy: choice(EXPECT.mergePolicy, MERGE_POLICIES),
  views: plain(EXPECT.views),
  view: plain(EXPECT.view),
  viewSelector: plain(EXPECT.viewSelector),
  viewStream: plain(EXPECT.viewStream),
  viewAggregation: plain(EXPECT.viewAggregation),
  emptyTable: plain(EXPECT.emptyTable),
  explicitBuckets: plain(EXPECT.explicitBuckets),
  exponentialBuckets: plain(EXPECT.exponentialBuckets),
  attributeKeys: plain(EXPECT.attributeKeys),
  instrumentType: choice(EXPECT.instrumentType, INSTRUMENT_TYPES),
  boundaries: plain(EXPECT.boundaries),
  exponentialSize: quoted(EXPECT.exponentialSize),
  exponentialScale: quoted(EXPECT.exponentialScale),
  keyList: plain(EXPECT.keyList),
  attributeValue: plain(EXPECT.string),
  // Never echo a header value: it is usually a credential. Say only what type it was.
  headerValue: (value) => ({
    shown: REDACTED,
    expected: `${EXPECT.headerValue} (got ${typeof value === 'string' ? 'a line break' : describeType(value)})`,
  }),
};

/**
 * The ConfigError for ajv's first error.
 *
 * @param error `validate.errors[0]` (ajv runs with `allErrors: false`, so it is the only one, or
 *   the first of a `propertyNames` pair).
 * @param root the value validated, as given (not the copy ajv saw), to read the rejected value from.
 * @param rootKey the key `root` sits at: `''` for a whole file, else a flag or dotted key.
 * @param rootDefinition the definition `root` was validated against; undefined for a whole file.
 */
export function toConfigError(
  error: ErrorObject,
  root: unknown,
  rootKey: string,
  rootDefinition: DefinitionName | undefined,
): ConfigError {
  const segments = pointerSegments(error.instancePath, root);
  const at = dotted(rootKey, segments);
  const node = valueAt(root, segments);
  const definition = definitionAt(segments, rootDefinition);

  const propertyName =
    error.propertyName ??
    (error.keyword === 'propertyNames'
      ? (error.params as { propertyName: string }).propertyName
      : undefined);
  if (propertyName !== undefined) {
    const value = (node as Record<string, unknown>)[propertyName];
    if (definition === 'headers')
      return new ConfigError(`${at}.${propertyName}`, REDACTED, EXPECT.headerName);
    // resourceAttributes: a blank name reads as `""`, which is what it is.
    const key = propertyName.trim() === '' ? `${at}.""` : `${at}.${propertyName}`;
    return new ConfigError(key, value, EXPECT.attributeName);
  }

  if (error.keyword === 'additionalProperties') {
    // An unknown key's value is never shown: nothing says what it holds (a misplaced token, a header).
    const name = (error.params as { additionalProperty: string }).additionalProperty;
    const notKnownIn = (what: string, keys: readonly string[]): ConfigError => {
      const hint = nearest(name, keys);
      return new ConfigError(
        `${at}.${name}`,
        REDACTED,
        `a key of ${what}: ${keys.join(', ')}${hint === undefined ? '' : ` (did you mean ${at}.${hint}?)`}`,
      );
    };
    if (definition === 'apiKey')
      return notKnownIn('an API key', Object.keys(fileNames(API_KEY_OPTIONS)));
    if (definition === 'profileSetting')
      return notKnownIn('[profile]', Object.keys(fileNames(PROFILE_TABLE_OPTIONS)));
    if (definition === 'profileRule') return notKnownIn('a [[profile.rules]] rule', RULE_KEYS);
    const viewTable = definition === undefined ? undefined : VIEW_TABLES[definition];
    if (viewTable !== undefined) {
      const keys = Object.keys(
        (CONFIG_SCHEMA.definitions[definition!] as { properties?: object }).properties ??
          CONFIG_SCHEMA.definitions.view.allOf[0].properties,
      );
      return notKnownIn(viewTable, keys);
    }
    return unknownKey(name, (definition ?? '') as Table);
  }

  if (error.keyword === 'required') {
    // API keys and profile rules have required fields: a missing one is an undefined value.
    const name = (error.params as { missingProperty: string }).missingProperty;
    if (definition === 'profileRule')
      return new ConfigError(
        `${at}.${name}`,
        undefined,
        `the rule's ${name} (required: ${RULE_KEYS.slice(0, 4).join(', ')})`,
      );
    if (definition === 'view')
      return new ConfigError(`${at}.${name}`, undefined, EXPECT.viewSelector);
    return describe(name === 'key' ? 'token' : 'tenant', undefined, `${at}.${name}`);
  }

  if (definition === undefined) {
    // Nothing but the shape of the top level is checked outside a definition; callers check that first.
    return new ConfigError(at, node, 'a table of settings at the top level');
  }
  return describe(definition, node, at);
}

function describe(definition: DefinitionName, value: unknown, key: string): ConfigError {
  const { shown = value, expected } = DESCRIBE[definition](value);
  return new ConfigError(key, shown, expected);
}

// ---------------------------------------------------------------------------------------------
// Paths

/** `/otlp/headers/x~1y` → `['otlp', 'headers', 'x/y']`; array indices as numbers. */
function pointerSegments(pointer: string, root: unknown): (string | number)[] {
  if (pointer === '') return [];
  const out: (string | number)[] = [];
  let node = root;
  for (const raw of pointer.slice(1).split('/')) {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    const step = Array.isArray(node) ? Number(segment) : segment;
    out.push(step);
    node = (node as Record<string | number, unknown>)[step];
  }
  return out;
}

function valueAt(root: unknown, segments: readonly (string | number)[]): unknown {
  let node = root;
  for (const s of segments) node = (node as Record<string | number, unknown>)[s];
  return node;
}

/** `metrics`, `api_keys`, 0, `tenant` → `metrics.api_keys[0].tenant`. */
function dotted(rootKey: string, segments: readonly (string | number)[]): string {
  let out = rootKey;
  for (const s of segments)
    out = typeof s === 'number' ? `${out}[${s}]` : out === '' ? s : `${out}.${s}`;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Hints

/**
 * ConfigError prints strings raw, so `port = "9464"` would read `invalid listener.port=9464` as if
 * the number were wrong; where a string is the wrong type, say so.
 */
function quotedHint(value: unknown): string {
  return typeof value === 'string' ? ' (got a string)' : '';
}

/** Plain objects only: TOML (null-prototype) tables, YAML maps, JSON objects. Not dates/arrays. */
export function isTable(value: unknown): value is Record<string, unknown> {
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

// ---------------------------------------------------------------------------------------------
// Unknown keys and "did you mean"

/** Known keys of a table, as listed in errors: the canonical ones, not the originals' spellings. */
function knownKeys(where: Table): readonly string[] {
  const keys = tableKeys(where);
  return where === '' ? keys.filter((k) => !ORIGINAL_SPELLINGS.includes(k)) : keys;
}

function unknownKey(key: string, where: Table): ConfigError {
  const dottedKey = where === '' ? key : `${where}.${key}`;
  const tableName = where === '' ? 'the top level' : `[${where}]`;
  const hint = suggestKey(key, where);
  return new ConfigError(
    dottedKey,
    REDACTED,
    `a key of ${tableName}: ${knownKeys(where).join(', ')}${hint === undefined ? '' : ` (did you mean ${hint}?)`}`,
  );
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
  const inTable = nearest(key, tableKeys(where));
  if (inTable !== undefined) return prefix(where) + inTable;
  // [metrics] before [ingest]: a stray `token` is more often the metrics route's.
  for (const other of ['', 'listener', 'otlp', 'metrics', 'ingest', 'naming'] as const) {
    if (other === where) continue;
    const hit = nearest(key, knownKeys(other), true);
    if (hit !== undefined) return prefix(other) + hit;
  }
  return undefined;
}

function nearest(
  input: string,
  candidates: readonly string[],
  exactOnly = false,
): string | undefined {
  return nearestKey(input, candidates, exactOnly, ALIASES);
}

function didYouMeanValue(value: unknown, allowed: readonly string[]): string {
  if (typeof value !== 'string') return '';
  const hit = nearest(value, allowed);
  return hit === undefined ? '' : ` (did you mean ${hit}?)`;
}
