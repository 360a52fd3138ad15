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
  type OptionRow,
  type Section,
  type SectionName,
} from '../common/option-table.ts';
import { ConfigError, REDACTED } from '../errors.ts';
import type { ProfileName } from '../options.ts';
import { check } from './schema-validator.ts';
import { notATable } from './error-wording.ts';
import { readAddress } from './json-schema.ts';
import type { MetricsConfig, ServiceConfig, ValueKey } from './service-config.ts';
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
  if (!isTable(raw)) throw notATable(source, raw);
  check(raw, '');
  // The schema pass is done: every value below has its type and range.
  const out: ServiceConfig = {};
  for (const [key, value] of Object.entries(raw)) {
    if (Object.hasOwn(TOP_VALUES, key)) {
      (out as Record<string, unknown>)[TOP_VALUES[key]!] = value;
      continue;
    }
    if (Object.hasOwn(TABLES, key)) {
      const table = renameKeys(value, TABLES[key]!);
      // `[ingest]`'s gate keys are `[metrics]`' own, checked the same way.
      (out as Record<string, unknown>)[key] =
        key === 'ingest' ? gateKeys(table, value as Record<string, unknown> | null, key) : table;
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
      case 'naming':
        Object.assign(out, renameKeys(value, NAMING_VALUES));
        break;
      case 'resource_attributes':
        out.resourceAttributes = { ...resourceAttributes(value, 'resource_attributes') };
        break;
      case 'views':
        out.views = (value as ViewTable[]).map((v, i) => viewOptions(v, `views[${i}]`));
        break;
    }
  }
  // The tables' own maps copied, `[telemetry] listen` read as the address.
  if (out.otlp?.headers !== undefined)
    out.otlp.headers = { ...headers(out.otlp.headers, 'otlp.headers') };
  // An emptied YAML `merge:` is null: no policies.
  const merge: object | null | undefined = out.cluster?.merge;
  if (merge === null) delete out.cluster!.merge;
  else if (merge !== undefined) out.cluster!.merge = { ...out.cluster!.merge };
  if (out.telemetry?.listen !== undefined)
    out.telemetry.listen = readAddress(out.telemetry.listen, 'telemetry.listen', 'loopback');
  if (isTable(raw['telemetry'])) oneOfPair(raw['telemetry'], 'telemetry', 'token', 'token_file');
  const metricsTable = spelledMetrics(raw);
  if (metricsTable !== undefined) out.metrics = metrics(metricsTable);
  liftServiceName(out);
  return out;
}

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
    // The attribute as the file spells it (a TOML quoted key).
    'resource_attributes."service.name"',
    out.serviceName,
    'service_name =',
  );
}

// ---------------------------------------------------------------------------------------------
// ---------------------------------------------------------------------------------------------
// Tables, already validated: renamed to camelCase, plus the checks across keys.

/**
 * The top level's single values, taken as they are (the option table's file keys → its keys): the
 * rows with a file key of the top level whose rule states their definition, so that the schema
 * pass checked them whole (not `resource_attributes`, a table whose names are checked below).
 */
export const TOP_VALUES = Object.fromEntries(
  Object.entries(fileNames(JOBMETER_OPTIONS)).filter(
    ([, k]) => 'schema' in ((JOBMETER_OPTIONS as Section)[k]!.rule ?? {}),
  ),
) as Readonly<Record<string, ValueKey>>;
/** `[naming]`'s keys are top-level options of the library's, set in the layer as the top level's are. */
const NAMING_VALUES = fileNames(JOBMETER_OPTIONS, 'naming');
/** The library's top-level options a layer sets as single values ({@link ValueKey}). */
export const SINGLE_VALUES = [
  ...Object.values(TOP_VALUES),
  ...Object.values(NAMING_VALUES),
] as readonly ValueKey[];
/** The tables renamed, by file key: their file keys → their fields. */
const TABLES: Readonly<Record<string, Names>> = {
  listener: fileNames(LISTENER_OPTIONS),
  ingest: fileNames(INGEST_OPTIONS),
  otlp: fileNames(OTLP_OPTIONS),
  cluster: fileNames(CLUSTER_OPTIONS),
  telemetry: fileNames(TELEMETRY_OPTIONS),
  build: fileNames(BUILD_OPTIONS),
};

/** A table's file keys → the fields they set. */
type Names = Readonly<Record<string, string>>;

/**
 * The originals' spellings of `[metrics]`' keys (the option table's `aliasOf` rows): the table each
 * sits in (`''`: the top level, as restic-manager's `metrics_token`; runwisp's `[daemon]`), its key
 * there, and the `[metrics]` row it sets.
 */
const SPELLINGS: readonly (readonly [table: string, file: string, row: OptionRow])[] = [
  ['', JOBMETER_OPTIONS as Section] as const,
  ...Object.values(JOBMETER_OPTIONS as Section)
    .filter((row) => row.aliasOf === 'metrics')
    .map((row) => [row.file!, SECTIONS[row.keys as SectionName] as Section] as const),
].flatMap(([table, section]) =>
  Object.values(section)
    .filter((row) => row.aliasOf?.startsWith('metrics.'))
    .map((row) => {
      const field = row.aliasOf!.slice('metrics.'.length) as keyof typeof METRICS_OPTIONS;
      return [table, row.file!, METRICS_OPTIONS[field]] as const;
    }),
);

/**
 * `[metrics]` in its own keys, the originals' spellings moved in (undefined: the file has neither).
 * @throws ConfigError for a spelling beside the key it spells (the top level's looked at first,
 *   then each table's); a token's value is never shown.
 */
function spelledMetrics(raw: Record<string, unknown>): Record<string, unknown> | undefined {
  const canonical = isTable(raw.metrics) ? raw.metrics : {};
  const out: Record<string, unknown> = { ...canonical };
  let given = raw.metrics !== undefined;
  for (const [table, file, row] of SPELLINGS) {
    given ||= raw[table] !== undefined;
    const from = table === '' ? raw : isTable(raw[table]) ? raw[table] : {};
    if (from[file] === undefined) continue;
    given = true;
    if (canonical[row.file!] !== undefined)
      throw new ConfigError(
        table === '' ? file : `${table}.${file}`,
        isSecret(row) ? REDACTED : from[file],
        `no metrics.${row.file!} in the same file (they are one setting: give one)`,
      );
    out[row.file!] = from[file];
  }
  return given ? out : undefined;
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

/** `[metrics]` (its originals' spellings moved in): its values under its fields. */
function metrics(table: Record<string, unknown>): MetricsConfig {
  const out = renameKeys(table, fileNames(METRICS_OPTIONS)) as MetricsConfig;
  if (out.listen !== undefined) out.listen = readAddress(out.listen, 'metrics.listen', 'loopback');
  // The schema's cidr allows spaces around an entry (parseCidr does).
  if (out.trustedProxies !== undefined)
    out.trustedProxies = out.trustedProxies.map((e) => e.trim());
  return gateKeys(out, table, 'metrics');
}

/** The gate keys `[metrics]` and `[ingest]` share: networks trimmed, API keys once each, a value or its file. */
function gateKeys<T extends { trustedCidrs?: readonly string[]; apiKeys?: readonly ApiKey[] }>(
  out: T,
  table: Record<string, unknown> | null,
  key: string,
): T {
  if (out.trustedCidrs !== undefined) out.trustedCidrs = out.trustedCidrs.map((e) => e.trim());
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
