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
import { gateCredentials, isTable, oneServiceName } from '../common/option-rules.ts';
import {
  fileNames,
  isSecret,
  JOBMETER_OPTIONS,
  METRICS_OPTIONS,
  SECTIONS,
  TABLES,
  type OptionRow,
  type Section,
  type SectionName,
} from '../common/option-table.ts';
import { ConfigError, REDACTED } from '../errors.ts';
import type { ProfileName } from '../options.ts';
import { check } from './schema-validator.ts';
import { notATable } from './error-wording.ts';
import { readAddress } from './json-schema.ts';
import type { ServiceConfig, ValueKey } from './service-config.ts';
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
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (Object.hasOwn(TOP_VALUES, key)) out[TOP_VALUES[key]!] = value;
    else if (Object.hasOwn(FILE_TABLES, key)) out[key] = readTable(value, FILE_TABLES[key]!, key);
    else if (key === 'profile') {
      if (typeof value === 'string') out.profile = value;
      else {
        const table = (value ?? {}) as { name?: ProfileName; rules?: Record<string, unknown>[] };
        if (table.name !== undefined) out.profile = table.name;
        if (table.rules !== undefined)
          out.profileRules = checkFamilyRules(table.rules, [], false, true);
      }
    } else if (key === 'naming') Object.assign(out, readTable(value, JOBMETER_OPTIONS, key, key));
    else if (key === 'resource_attributes')
      out.resourceAttributes = fileValue(JOBMETER_OPTIONS.resourceAttributes, value, key);
    else if (key === 'views')
      out.views = (value as ViewTable[]).map((v, i) => viewOptions(v, `views[${i}]`));
  }
  // The checks across keys, once every value is read: the gates' (`[metrics]` with the originals'
  // spellings moved in), then the service name.
  for (const key of ['ingest', 'telemetry'] as const)
    if (out[key] !== undefined) gateKeys(out[key] as GateTable, raw[key], key);
  const metricsTable = spelledMetrics(raw);
  if (metricsTable !== undefined)
    out.metrics = gateKeys(
      readTable(metricsTable, METRICS_OPTIONS, 'metrics'),
      metricsTable,
      'metrics',
    );
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
// Tables, already validated: read by their rows into camelCase, plus the checks across keys.

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
/**
 * The tables read by their rows, by file key: the option table's, but `[profile]` (a name or a
 * table), `[metrics]` (read with the originals' spellings moved in) and runwisp's `[daemon]` (one).
 */
const FILE_TABLES: Readonly<Record<string, Section>> = Object.fromEntries(
  TABLES.filter(([key]) => key !== 'profile' && key !== 'metrics' && key !== 'daemon'),
);

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

/**
 * A validated value as its row takes it: a loopback `HOST:PORT` parsed, a list of networks trimmed
 * (the schema's cidr allows spaces around an entry, as parseCidr does), a table of the host's names
 * copied, held to its row's rule where it has one (an emptied YAML table: as the rule says, else
 * none).
 */
function fileValue(row: OptionRow, value: unknown, key: string): unknown {
  if (row.schema === 'loopbackListen') return readAddress(value, key, 'loopback');
  if (row.schema === 'cidrList') return (value as string[]).map((e) => e.trim());
  if (row.keys !== 'open') return value;
  const rule = row.rule as ((v: unknown, k: string) => object) | undefined;
  return rule !== undefined ? { ...rule(value, key) } : value === null ? undefined : { ...value };
}

/**
 * A validated table at `at` (null: empty), each value read by its row of `section` ({@link
 * fileValue}) under the row's key; `table` names the file's table the rows sit in (`''`: the
 * section's own).
 */
function readTable(value: unknown, section: Section, at: string, table = '') {
  const names = fileNames(section, table);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries((value ?? {}) as Record<string, unknown>)) {
    const read = fileValue(section[names[k]!]!, v, `${at}.${k}`);
    if (read !== undefined) out[names[k]!] = read;
  }
  return out;
}

type GateTable = { apiKeys?: readonly ApiKey[] };

/** The checks of a gate's table (`[metrics]`, `[ingest]`, `[telemetry]`): API keys once each, a value or its file. */
function gateKeys<T extends GateTable>(out: T, table: unknown, key: string): T {
  if (out.apiKeys !== undefined)
    out.apiKeys = gateCredentials(undefined, out.apiKeys, `${key}.`, 'api_keys').map(
      ({ token, tenant }) => ({ tenant: tenant!, key: token }),
    );
  if (isTable(table)) {
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
