/**
 * The config file's shape as one JSON Schema (draft-07): the document every config file is
 * validated against (schema-validator.ts), and the one published as docs/config.schema.json for
 * editors.
 *
 * Keys are in file spelling (snake_case). Each reusable value type is a named definition
 * (`#/definitions/port`, `#/definitions/millis`, …): error messages are chosen by the definition
 * that failed (error-wording.ts), and the flag and environment parsers validate single values
 * against the same definitions. A definition an option's rule states (common/option-rules.ts
 * `Rule`: ports, durations, sizes, counts, booleans, names, the state directory) is that rule's schema, so a
 * value from code and one from the file are held to the one rule.
 *
 * What JSON Schema cannot say is code, in two places:
 * - Custom `format`s (FORMATS below: the rules' own, and loopback HOST:PORT) for host literals,
 *   URLs and CIDRs, which need `node:net` / `URL` parsing. Editors ignore formats they do not
 *   know; schema-validator.ts runs them.
 * - Checks across keys (a value and its file both given, duplicate API keys, an original's spelling
 *   next to the canonical key), run after the schema pass (file-layer.ts); timeout_ms ≤ interval_ms
 *   once the layers are merged (resolve-layers.ts), as it may hold across them.
 */
import { isIP } from 'node:net';

import { isLoopbackHost } from '../common/loopback.ts';
import { ConfigError } from '../errors.ts';
import { InstrumentType } from '../common/otel-sdk.ts';
import { MERGE_POLICIES } from '../domain/merge-rules.ts';
import { POSTURE_NAMES } from '../common/postures.ts';
import { RULE_FILE_KEYS } from '../naming/check-rules.ts';
import {
  API_KEY_OPTIONS,
  BUILD_OPTIONS,
  CLUSTER_OPTIONS,
  DAEMON_OPTIONS,
  fileNames,
  INGEST_OPTIONS,
  JOBMETER_OPTIONS,
  LISTENER_OPTIONS,
  METRICS_OPTIONS,
  OTLP_OPTIONS,
  PROFILE_TABLE_OPTIONS,
  SECTIONS,
  TELEMETRY_OPTIONS,
  type Section,
} from '../common/option-table.ts';
import {
  cidr,
  FORMATS as RULE_FORMATS,
  host as hostRule,
  type Rule,
  type ValueSchema,
} from '../common/option-rules.ts';

// ---------------------------------------------------------------------------------------------
// The file's own vocabulary, and the limits its values are held to

/**
 * `[[views]]` `selector.instrument_type`: the declarative configuration's instrument types, the
 * SDK's own names in lower case (config/views-section.ts reads them back).
 */
export const INSTRUMENT_TYPES = Object.keys(InstrumentType).map((t) => t.toLowerCase());

/**
 * The originals' own top-level spellings (the option table's `aliasOf` rows), accepted so their
 * config files carry over: runwisp.toml's `[daemon]` table, restic-manager's `metrics_token` /
 * `metrics_trusted_cidrs`. Accepted and suggested, but not listed in unknown-key errors (the
 * canonical keys are).
 */
export const ORIGINAL_SPELLINGS: readonly string[] = Object.values(JOBMETER_OPTIONS as Section)
  .filter((row) => row.aliasOf !== undefined)
  .map((row) => row.file!);

// ---------------------------------------------------------------------------------------------
// Formats: the value checks a pattern cannot make (a rule's own, common/option-rules.ts FORMATS,
// and the file's).

/**
 * `127.0.0.1:9464`, `localhost:0`, `[::1]:9464` or `:9464` (no host). Undefined when malformed;
 * a bare IPv6 address without brackets is ambiguous and malformed.
 */
function parseHostPort(value: string): { host?: string; port: number } | undefined {
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
  return hostRule.is(plain) ? { host: plain, port } : undefined;
}

/**
 * `value` as an address, the one reader of one wherever it is set (a file key, a variable, a
 * flag): `loopback`, on a loopback host (a listener of serve's own); `port`, or `:PORT` alone
 * (serve's `--listen`: the host kept from a lower layer).
 * @throws ConfigError on `key`, in {@link addressExpected}'s words.
 */
export function readAddress<N extends 'loopback' | 'host' | 'port'>(
  value: unknown,
  key: string,
  need: N,
) {
  const parsed = typeof value === 'string' ? parseHostPort(value) : undefined;
  const host = parsed?.host;
  if (
    parsed === undefined ||
    (need !== 'port' && host === undefined) ||
    (need === 'loopback' && !isLoopbackHost(host!))
  )
    throw new ConfigError(key, value, addressExpected(need));
  return parsed as { host: N extends 'port' ? string | undefined : string; port: number };
}

/** `HOST:PORT`, an IPv6 host in brackets: an address as {@link readAddress} reads one. */
export function hostPort({ host, port }: { readonly host: string; readonly port: number }): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

export const addressExpected = (need: 'loopback' | 'host' | 'port'): string =>
  `${need === 'loopback' ? 'a loopback ' : ''}HOST:PORT or [IPV6]:PORT with PORT from 0 to 65535${need === 'port' ? ', or :PORT' : ''}`;

/** Custom formats used by {@link CONFIG_SCHEMA}, by name. */
export const FORMATS: Readonly<Record<string, (value: string) => boolean>> = {
  ...RULE_FORMATS,
  'jobmeter-loopback-host-port': (value) => {
    const host = parseHostPort(value)?.host;
    return host !== undefined && isLoopbackHost(host);
  },
};

/**
 * A `[[views]]` table's `selector` and `stream` keys, in the declarative configuration's spelling:
 * each the `ViewOptions` field it sets (views-section.ts) and the definition of its value, in the
 * order the schema and its error words list them.
 */
export const VIEW_SELECTOR = {
  instrument_name: ['instrumentName', 'nonEmptyString'],
  instrument_type: ['instrumentType', 'instrumentType'],
  unit: ['instrumentUnit', 'text'],
  meter_name: ['meterName', 'nonEmptyString'],
  meter_version: ['meterVersion', 'text'],
  meter_schema_url: ['meterSchemaUrl', 'text'],
} as const;
export const VIEW_STREAM = {
  name: ['name', 'nonEmptyString'],
  description: ['description', 'text'],
  aggregation: ['aggregation', 'viewAggregation'],
  attribute_keys: ['attributesProcessors', 'attributeKeys'],
  aggregation_cardinality_limit: ['aggregationCardinalityLimit', 'cardinalityLimit'],
} as const;
export type ViewKeys = Readonly<Record<string, readonly [field: string, definition: string]>>;

// ---------------------------------------------------------------------------------------------
// The schema

const ref = (name: string): { $ref: string } => ({ $ref: `#/definitions/${name}` });
const integer = (minimum: number, maximum: number) =>
  ({ type: 'integer', minimum, maximum }) as const;
const oneOfStrings = (values: readonly string[]) =>
  ({ type: 'string', enum: [...values] }) as const;
const viewKeys = (keys: ViewKeys) =>
  Object.fromEntries(Object.entries(keys).map(([k, [, definition]]) => [k, ref(definition)]));
/** A table. `null` counts as empty: in YAML, `otlp:` with every child commented out is null. */
const table = (properties: Readonly<Record<string, { $ref: string }>>) =>
  ({ type: ['object', 'null'], additionalProperties: false, properties }) as const;
/** A table that must be one (not null). */
const closed = (properties: Readonly<Record<string, { $ref: string }>>) =>
  ({ type: 'object', additionalProperties: false, properties }) as const;

/**
 * A table of `properties` only, `required` among them. Unknown keys are checked before missing
 * ones, so `tennant = "a"` is answered with "did you mean tenant" rather than "tenant is missing":
 * a validator checks `required` before `additionalProperties` in one schema (ajv does, and
 * schema-validator.ts), but allOf's parts in order.
 */
const withRequired = <const P extends object, const R extends readonly string[]>(
  properties: P,
  required: R,
) =>
  ({ type: 'object', allOf: [{ additionalProperties: false, properties }, { required }] }) as const;

/** A table's properties: the option table's rows with a file key in `name` (`''`: the section's own), in row order. */
function fileTable(section: Section, name = ''): Readonly<Record<string, { $ref: string }>> {
  const out: Record<string, { $ref: string }> = {};
  for (const [file, key] of Object.entries(fileNames(section, name)))
    out[file] = ref(section[key]!.schema!);
  return out;
}

/** The definitions rows name whose rule states a schema (port, millis, …): a union of names. */
type Row = {
  [S in keyof typeof SECTIONS]: (typeof SECTIONS)[S][keyof (typeof SECTIONS)[S]];
}[keyof typeof SECTIONS];
type RuleDefinition = Extract<
  Row,
  { readonly schema: string; readonly rule: Rule<unknown> }
>['schema'];

/**
 * Each definition an option's rule states is the rule's own schema (common/option-rules.ts), so
 * a file's value is checked as the rule checks one from code (test/config/option-rule-schema.test.ts).
 */
const RULE_DEFINITIONS = Object.fromEntries(
  Object.values(SECTIONS as Readonly<Record<string, Section>>)
    .flatMap((rows) => Object.values(rows))
    .filter((row) => row.schema !== undefined && row.rule !== undefined && 'schema' in row.rule)
    .map((row) => [row.schema, (row.rule as Rule<unknown>).schema]),
) as Readonly<Record<RuleDefinition, ValueSchema>>;

/**
 * The config file schema. Property order is the order keys are listed in unknown-key errors, and
 * the order values are checked in (the first problem found is the one reported).
 */
export const CONFIG_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'jobmeter service config',
  $comment:
    'Generated from src/config/json-schema.ts. Formats named jobmeter-* are checked by jobmeter itself; other validators ignore them.',
  type: 'object',
  additionalProperties: false,
  properties: fileTable(JOBMETER_OPTIONS),
  definitions: {
    // Tables
    build: table(fileTable(BUILD_OPTIONS)),
    /** How the pull endpoint names and dates series (README "Configuration"). */
    naming: table(fileTable(JOBMETER_OPTIONS, 'naming')),
    listener: table(fileTable(LISTENER_OPTIONS)),
    otlp: table(fileTable(OTLP_OPTIONS)),
    ingest: table(fileTable(INGEST_OPTIONS)),
    /** node:cluster and worker threads (README "node:cluster"). */
    cluster: table(fileTable(CLUSTER_OPTIONS)),
    metrics: table(fileTable(METRICS_OPTIONS)),
    /** `jobmeter serve`'s own telemetry, on a loopback listener of its own (docs/collector.md "Operating"). */
    telemetry: table(fileTable(TELEMETRY_OPTIONS)),
    /** runwisp.toml's `[daemon]`: only its metrics keys. */
    daemon: table(fileTable(DAEMON_OPTIONS)),
    // Tables of the host's names: their rules (common/option-rules.ts) check them, for the file too.
    resourceAttributes: { type: ['object', 'null'] },
    headers: { type: ['object', 'null'] },
    apiKeys: { type: 'array', items: ref('apiKey') },
    apiKey: withRequired(fileTable(API_KEY_OPTIONS), ['tenant', 'key']),

    /**
     * `profile = "solti"`, or a `[profile]` table: `name` and the host's own `[[profile.rules]]`
     * (a rule's fields are named here for editors; src/naming/check-rules.ts checks them, for the
     * file as for the options object).
     */
    profileSetting: {
      if: { type: 'string' },
      then: ref('profile'),
      else: closed(fileTable(PROFILE_TABLE_OPTIONS)),
    },
    profileRules: { type: 'array', items: ref('profileRule') },
    profileRule: {
      type: 'object',
      properties: Object.fromEntries(RULE_FILE_KEYS.map((k) => [k, {}])),
    },

    /**
     * `[[views]]`: OpenTelemetry Views in the shape of OpenTelemetry's declarative configuration
     * (`selector` + `stream`), for any instrument, jobmeter's own included (config/views-section.ts).
     */
    views: { type: 'array', items: ref('view') },
    view: withRequired({ selector: ref('viewSelector'), stream: ref('viewStream') }, ['selector']),
    viewSelector: {
      type: 'object',
      additionalProperties: false,
      minProperties: 1,
      properties: viewKeys(VIEW_SELECTOR),
    },
    viewStream: closed(viewKeys(VIEW_STREAM)),
    /** One aggregation, by its declarative-configuration name. */
    viewAggregation: {
      type: 'object',
      additionalProperties: false,
      minProperties: 1,
      maxProperties: 1,
      properties: {
        default: ref('emptyTable'),
        drop: ref('emptyTable'),
        sum: ref('emptyTable'),
        last_value: ref('emptyTable'),
        explicit_bucket_histogram: ref('explicitBuckets'),
        base2_exponential_bucket_histogram: ref('exponentialBuckets'),
      },
    },
    emptyTable: table({}),
    explicitBuckets: table({ boundaries: ref('boundaries'), record_min_max: ref('boolean') }),
    exponentialBuckets: table({
      max_size: ref('exponentialSize'),
      max_scale: ref('exponentialScale'),
      record_min_max: ref('boolean'),
    }),
    attributeKeys: closed({ included: ref('keyList'), excluded: ref('keyList') }),

    // Values
    ...RULE_DEFINITIONS,
    instrumentType: oneOfStrings(INSTRUMENT_TYPES),
    boundaries: { type: 'array', items: { type: 'number' } },
    exponentialSize: integer(2, 16384),
    // The SDK starts every exponential histogram at scale 20 and takes no max_scale: another
    // value would be accepted and not applied.
    exponentialScale: integer(20, 20),
    keyList: { type: 'array', items: { type: 'string', pattern: '\\S' } },
    text: { type: 'string' },
    posture: oneOfStrings(POSTURE_NAMES),
    loopbackListen: { type: 'string', format: 'jobmeter-loopback-host-port' },
    cidrList: { type: 'array', items: ref('cidr') },
    cidr: cidr.schema,
    /**
     * Instrument name → how its series from several processes combine. `__proto__` would not
     * survive as a key of a plain object: refused rather than dropped.
     */
    mergePolicies: {
      type: ['object', 'null'],
      propertyNames: { not: { const: '__proto__' }, pattern: '\\S' },
      additionalProperties: ref('mergePolicy'),
    },
    mergePolicy: oneOfStrings(MERGE_POLICIES),
  },
} as const;

/** A definition of {@link CONFIG_SCHEMA}. */
export type DefinitionName = keyof (typeof CONFIG_SCHEMA)['definitions'];
