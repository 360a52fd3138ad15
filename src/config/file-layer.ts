/**
 * A config file's document (file-parser.ts) as a config layer: validated strictly against the
 * JSON Schema (schema-validator.ts), its snake_case keys renamed to the options' camelCase
 * (`service_name` → `serviceName`, `[otlp] interval_ms` → `intervalMillis`), then the checks
 * across keys the schema cannot make.
 *
 * `[resource_attributes] "service.name"` is the service name, as in OTEL_RESOURCE_ATTRIBUTES:
 * `service_name` in the same file with another value is refused (liftServiceName).
 *
 * Policy: unknown keys are errors (with a "did you mean" for near misses, including a key put in
 * the wrong table), wrong types and out-of-range values are errors, and each error is a
 * {@link ConfigError} naming the dotted key, the value received and what was expected.
 *
 * Two deliberate exceptions to "show the value received":
 * - `otlp.headers.*` values are never echoed (they usually carry tokens); the message says
 *   `<redacted>` and the value's type instead.
 * - user:password in `otlp.endpoint` is masked before it is echoed.
 *
 * When a file has several problems, the one reported is the first in schema order: the top
 * level's unknown keys, then each table in the order json-schema.ts lists it (its unknown keys,
 * then its values), then the checks across keys.
 */
import { checkFamilyRules } from '../naming/check-rules.ts';
import {
  gateCredentials,
  headers,
  isTable,
  oneServiceName,
  resourceAttributes,
} from '../common/option-rules.ts';
import {
  BUILD_OPTIONS,
  CLUSTER_OPTIONS,
  fileNames,
  INGEST_OPTIONS,
  isSecret,
  JOBMETER_OPTIONS,
  LISTENER_OPTIONS,
  METRICS_OPTIONS,
  OTLP_OPTIONS,
  SECTIONS,
  TELEMETRY_OPTIONS,
  type Section,
  type SectionName,
} from '../common/option-table.ts';
import { ConfigError, REDACTED } from '../errors.ts';
import type { ProfileName } from '../options.ts';
import { check, parseLoopbackListen } from './schema-validator.ts';
import type {
  IngestConfig,
  MetricsConfig,
  NamingConfig,
  ServiceConfig,
  TopValueKey,
} from './service-config.ts';
import { viewOptions, type ViewTable } from './views-section.ts';
import type { ApiKey } from '../http/route-options.ts';

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
    if (Object.hasOwn(TOP_VALUES, key)) {
      (out as Record<string, unknown>)[TOP_VALUES[key]!] = value;
      continue;
    }
    if (Object.hasOwn(TOP_SPELLINGS, key)) {
      out.metrics = { ...out.metrics, ...metrics({ [key]: value }, '', TOP_SPELLINGS) };
      continue;
    }
    if (Object.hasOwn(TABLES, key)) {
      (out as Record<string, unknown>)[key] = renameKeys(value, TABLES[key]!);
      continue;
    }
    if (Object.hasOwn(METRICS_TABLES, key)) {
      const table = value as Record<string, unknown> | null;
      out.metrics = { ...out.metrics, ...metrics(table, key, METRICS_TABLES[key]!) };
      continue;
    }
    switch (key) {
      case 'profile':
        if (typeof value === 'string') out.profile = value as ProfileName;
        else {
          const table = (value ?? {}) as { name?: ProfileName; rules?: Record<string, unknown>[] };
          if (table.name !== undefined) out.profile = table.name;
          if (table.rules !== undefined)
            out.profileRules = checkFamilyRules(table.rules, [], false, true);
        }
        break;
      case 'resource_attributes':
        out.resourceAttributes = { ...resourceAttributes(value, 'resource_attributes') };
        break;
      case 'ingest':
        out.ingest = ingest(value as Record<string, unknown> | null);
        break;
      case 'views':
        out.views = (value as ViewTable[]).map((v, i) => viewOptions(v, `views[${i}]`));
        break;
    }
  }
  // The tables' own maps copied, `[telemetry] listen` read as the address.
  if (out.otlp?.headers !== undefined)
    out.otlp.headers = { ...headers(out.otlp.headers, 'otlp.headers') };
  if (out.cluster !== undefined) {
    const { merge, ...rest } = out.cluster;
    out.cluster = {
      ...rest,
      ...(merge !== undefined && merge !== null && { merge: { ...merge } }),
    };
  }
  if (out.telemetry?.listen !== undefined)
    out.telemetry.listen = parseLoopbackListen(out.telemetry.listen, 'telemetry.listen');
  if (out.metrics !== undefined) checkOriginalSpellings(raw);
  liftServiceName(out);
  return out;
}

/** The resource attribute `service.name` as the file spells it (a TOML quoted key). */
const SERVICE_NAME_ATTRIBUTE = 'resource_attributes."service.name"';

/**
 * `[resource_attributes] "service.name"` is the service name, as OTEL_RESOURCE_ATTRIBUTES' is
 * (otel-env.ts): lifted into `serviceName`, so the resource never gets the default over it.
 * With `service_name` in the same file too they are one setting: the same value is accepted,
 * two different ones are refused rather than one silently dropped.
 */
function liftServiceName(out: ServiceConfig): void {
  const attributes = out.resourceAttributes;
  if (attributes === undefined || !Object.hasOwn(attributes, 'service.name')) return;
  const { 'service.name': given, ...rest } = attributes;
  out.resourceAttributes = rest;
  out.serviceName = oneServiceName(
    given,
    SERVICE_NAME_ATTRIBUTE,
    out.serviceName,
    'service_name =',
  );
}

// ---------------------------------------------------------------------------------------------
// ---------------------------------------------------------------------------------------------
// Tables, already validated: renamed to camelCase, plus the checks across keys.

/**
 * The top level's single values, taken as they are (the option table's file keys → its keys): the
 * rows with a rule and a file key of the top level ({@link TopValueKey}).
 */
export const TOP_VALUES = Object.fromEntries(
  Object.entries(fileNames(JOBMETER_OPTIONS)).filter(
    ([, k]) => (JOBMETER_OPTIONS as Section)[k]!.rule !== undefined,
  ),
) as Readonly<Record<string, TopValueKey>>;
/** `[naming]`'s keys are top-level options of the library's. */
export const NAMING_VALUES = fileNames(JOBMETER_OPTIONS, 'naming') as Readonly<
  Record<string, keyof NamingConfig>
>;
/** The tables of values taken as they are, by file key: their file keys → their fields. */
const TABLES: Readonly<Record<string, Names>> = {
  naming: NAMING_VALUES,
  listener: fileNames(LISTENER_OPTIONS),
  otlp: fileNames(OTLP_OPTIONS),
  cluster: fileNames(CLUSTER_OPTIONS),
  telemetry: fileNames(TELEMETRY_OPTIONS),
  build: fileNames(BUILD_OPTIONS),
};
const INGEST_KEYS = fileNames(INGEST_OPTIONS);

/** A table's file keys → the fields they set. */
type Names = Readonly<Record<string, string>>;

/**
 * The originals' spellings of `[metrics]`' keys (the option table's `aliasOf`), each file key → the
 * `[metrics]` field it sets.
 */
function metricsSpellings(section: Section): Names {
  const out: Record<string, string> = {};
  for (const row of Object.values(section))
    if (row.aliasOf?.startsWith('metrics.')) out[row.file!] = row.aliasOf.slice('metrics.'.length);
  return out;
}

/** The top level's spellings of `[metrics]` keys (restic-manager's `metrics_token`). */
const TOP_SPELLINGS = metricsSpellings(JOBMETER_OPTIONS);

/** The tables that spell `[metrics]` (runwisp's `[daemon]`), by file key: their keys → `[metrics]`' fields. */
const SPELLED_TABLES: Readonly<Record<string, Names>> = Object.fromEntries(
  Object.values(JOBMETER_OPTIONS as Section)
    .filter((row) => row.aliasOf === 'metrics')
    .map((row) => [row.file!, metricsSpellings(SECTIONS[row.keys as SectionName])]),
);

/** `[metrics]` and the tables that spell it: their keys → `[metrics]`' fields. */
const METRICS_TABLES: Readonly<Record<string, Names>> = {
  metrics: fileNames(METRICS_OPTIONS),
  ...SPELLED_TABLES,
};

/** The file's dotted key for `file`, a key of table `key` (`''`: the top level). */
function dotted(key: string, file: string): string {
  return key === '' ? file : `${key}.${file}`;
}

/** A validated table (null: empty) with its keys renamed; values as they are. */
function renameKeys(
  value: unknown,
  names: Readonly<Record<string, string>>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries((value ?? {}) as Record<string, unknown>)) out[names[k]!] = v;
  return out;
}

/** The file key of `names` that sets `field`. */
function fileOf(names: Names, field: string): string {
  return Object.keys(names).find((k) => names[k] === field)!;
}

/**
 * `[metrics]`, a table spelling it (runwisp's `[daemon]`) or spellings of its keys at the top level
 * (`key` `''`), `names` its keys → `[metrics]`' fields: its values under those fields, each
 * checked as `[metrics]`' own.
 */
function metrics(table: Record<string, unknown> | null, key: string, names: Names): MetricsConfig {
  const out = renameKeys(table, names) as MetricsConfig;
  if (out.listen !== undefined)
    out.listen = parseLoopbackListen(out.listen, dotted(key, fileOf(names, 'listen')));
  if (out.trustedProxies !== undefined) out.trustedProxies = trimmed(out.trustedProxies);
  return gateKeys(out, table, key);
}

/** `[ingest]`: its gate keys are `[metrics]`' own, checked the same way. */
function ingest(table: Record<string, unknown> | null): IngestConfig {
  return gateKeys(renameKeys(table, INGEST_KEYS) as IngestConfig, table, 'ingest');
}

/** The gate keys `[metrics]` and `[ingest]` share: networks trimmed, API keys once each, a value or its file. */
function gateKeys<T extends { trustedCidrs?: readonly string[]; apiKeys?: readonly ApiKey[] }>(
  out: T,
  table: Record<string, unknown> | null,
  key: string,
): T {
  if (out.trustedCidrs !== undefined) out.trustedCidrs = trimmed(out.trustedCidrs);
  if (out.apiKeys !== undefined)
    out.apiKeys = gateCredentials(undefined, out.apiKeys, `${key}.`, 'api_keys').map(
      ({ token, tenant }) => ({ tenant: tenant!, key: token }),
    );
  if (table !== null) {
    oneOfPair(table, key, 'token', 'token_file');
    oneOfPair(table, key, 'api_keys', 'api_keys_file');
  }
  return out;
}

/** A validated list of addresses / CIDRs, each trimmed (parseCidr allows surrounding spaces). */
function trimmed(value: unknown): string[] {
  return (value as string[]).map((entry) => entry.trim());
}

/** Two keys of one table that are one setting (a value, or a file holding it): at most one. */
function oneOfPair(table: Record<string, unknown>, key: string, a: string, b: string): void {
  if (table[a] !== undefined && table[b] !== undefined) {
    throw new ConfigError(
      `${key}.${b}`,
      table[b],
      `no ${key}.${a} in the same file (${a} and ${b} are one setting: give one)`,
    );
  }
}

/**
 * An original's spelling and the `[metrics]` key it stands for, both in one file: refuse the pair
 * (the top level's spellings looked at first, then each table's). A token's value is never shown.
 */
function checkOriginalSpellings(raw: Record<string, unknown>): void {
  const canonical = isTable(raw.metrics) ? raw.metrics : {};
  const spelled: [string, Record<string, unknown>, Names][] = [['', raw, TOP_SPELLINGS]];
  for (const [key, names] of Object.entries(SPELLED_TABLES))
    spelled.push([key, isTable(raw[key]) ? raw[key] : {}, names]);
  for (const [key, table, names] of spelled) {
    for (const [file, field] of Object.entries(names)) {
      const row = (METRICS_OPTIONS as Section)[field]!;
      if (table[file] === undefined || canonical[row.file!] === undefined) continue;
      throw new ConfigError(
        dotted(key, file),
        isSecret(row) ? REDACTED : table[file],
        `no metrics.${row.file!} in the same file (they are one setting: give one)`,
      );
    }
  }
}
