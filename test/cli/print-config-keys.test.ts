/**
 * `jobmeter serve --print-config` is complete: a config file that sets every key the option
 * declarations (common/option-table.ts) give the file is printed back with every one of them, and
 * no secret is printed under any key. The expected keys are read from the declarations, so an
 * option added to the table without a way into the printed configuration fails here.
 *
 * What the printed configuration spells otherwise, by design: an original's spelling (`aliasOf`:
 * runwisp's `[daemon]`, restic-manager's `metrics_token`) is printed under the key it spells; a
 * secret file (`token_file`, `api_keys_file`) is printed as what it holds (`token`, `api_keys`);
 * `[[views]]` and `[[profile.rules]]` are counted, not printed back (print-config.ts).
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { parse as parseToml } from 'smol-toml';

import {
  isSecret,
  JOBMETER_OPTIONS,
  SECTIONS,
  type OptionRow,
  type Section,
} from '../../src/common/option-table.ts';
import { run } from './harness.ts';
import { tempFiles } from '../support/temp-files.ts';

const files = tempFiles('jobmeter-print-config-keys-');

type Table = Record<string, unknown>;
/** smol-toml's tables have no prototype: compared as plain objects. */
const toml = (text: string): Table => JSON.parse(JSON.stringify(parseToml(text))) as Table;

/** Printed as the key whose value they hold. */
const SECRET_FILES: Readonly<Record<string, string>> = {
  token_file: 'token',
  api_keys_file: 'api_keys',
};
/** The key `key`'s value is printed under: a secret file's, the key of what it holds. */
function heldAs(key: string): string {
  const last = key.slice(key.lastIndexOf('.') + 1);
  return key.slice(0, key.length - last.length) + (SECRET_FILES[last] ?? last);
}
/** Whether `keys` (dotted) hold `key`: itself, as {@link heldAs}, or a table's keys under it. */
function has(keys: ReadonlySet<string>, key: string): boolean {
  const as = heldAs(key);
  return [...keys].some((k) => k === as || k.startsWith(`${as}.`) || key.startsWith(`${k}.`));
}
/** Counted in a comment, not printed back. */
const COUNTED = new Set(['views', 'profile']);

/**
 * The rows of the file keys `section` declares, by the dotted path of the file they sit at: a
 * row under `table.key` in that table, a row whose value is another section's table (or a list of
 * them) by that section's keys; a table's own row (`naming`) by the rows it holds.
 */
function declaredKeys(section: Section, at = '', out = new Map<string, OptionRow>()) {
  for (const row of Object.values(section)) {
    if (row.file === undefined || row.aliasOf !== undefined) continue;
    const path = at === '' ? row.file : `${at}.${row.file}`;
    const below = row.keys === 'open' ? undefined : (row.keys ?? row.items);
    if (below !== undefined && below !== 'profileTable') declaredKeys(SECTIONS[below], path, out);
    else out.set(path, row);
  }
  // A table's own row (`naming`, whose keys are rows of the top level's) is its keys.
  for (const path of out.keys())
    if ([...out.keys()].some((k) => k.startsWith(`${path}.`))) out.delete(path);
  return out;
}

/** The keys of `file`, dotted; a list of tables by its items' keys, an `open` table as one key. */
function printedKeys(file: Table, open: ReadonlySet<string>, at = '', out = new Set<string>()) {
  for (const [key, value] of Object.entries(file)) {
    const path = at === '' ? key : `${at}.${key}`;
    const items: unknown[] = Array.isArray(value) ? value : [value];
    const tables = items.filter((v) => typeof v === 'object' && v !== null) as Table[];
    if (tables.length > 0 && !open.has(path))
      for (const table of tables) printedKeys(table, open, path, out);
    else out.add(path);
  }
  return out;
}

/** The values at `path` in `file`, through lists of tables; a table's values for an open one. */
function valuesAt(file: unknown, path: string): unknown[] {
  const [head, ...rest] = path.split('.');
  if (Array.isArray(file)) return file.flatMap((item) => valuesAt(item, path));
  const value = (file as Table)[head!];
  if (rest.length > 0) return valuesAt(value, rest.join('.'));
  return typeof value === 'object' && value !== null ? Object.values(value) : [value];
}

/** Every file key of the table, each set to a value serve takes; the secrets are marked words. */
const FULL = [
  'profile = "otel"',
  'service_name = "svc"',
  'process_metrics = false',
  'prometheus_client_names = true',
  'otel_scope_info = false',
  'global = false',
  'cardinality_limit = 100',
  'attribute_value_length_limit = 100',
  'host_exemplars = true',
  'host_instruments = "native"',
  'resource_attributes = { "deployment.environment" = "test" }',
  '[naming]',
  'translation_strategy = "UnderscoreEscapingWithSuffixes"',
  'unit_suffixes = false',
  'start_timestamps = true',
  '[listener]',
  'enabled = true',
  'host = "127.0.0.1"',
  'port = 9999',
  'allow_non_loopback = false',
  'format = "text"',
  'request_timeout_ms = 1000',
  'idle_timeout_ms = 1000',
  'max_connections = 10',
  '[otlp]',
  'endpoint = "http://127.0.0.1:4318"',
  'protocol = "http/json"',
  'interval_ms = 10000',
  'timeout_ms = 5000',
  'temporality = "delta"',
  'headers = { "X-Scope" = "HEADERSECRET" }',
  'naming = "canonical"',
  '[ingest]',
  'enabled = true',
  'host = "127.0.0.1"',
  'port = 4319',
  'grpc_port = 4320',
  'allow_non_loopback = false',
  'max_body_bytes = 1000000',
  'max_concurrent_requests = 4',
  'expiry_ms = 60000',
  'max_memory_bytes = 10000000',
  'state_dir = false',
  'request_timeout_ms = 1000',
  'idle_timeout_ms = 1000',
  'max_connections = 10',
  'token = "INGESTSECRET"',
  'api_keys_file = "@INGEST_KEYS@"',
  'trusted_cidrs = ["10.0.0.0/8"]',
  '[cluster]',
  'enabled = true',
  'timeout_ms = 500',
  'merge = { "x" = "sum" }',
  // Off, so that its dedicated listener and its credentials may be set in one file.
  '[metrics]',
  'enabled = false',
  'path = "/metrics"',
  'posture = "otel"',
  'listen = "127.0.0.1:9470"',
  'token_file = "@METRICS_TOKEN@"',
  'api_keys = [{ tenant = "billing", key = "APIKEYSECRET" }]',
  'auth = true',
  'trusted_cidrs = ["10.0.0.0/8"]',
  'trusted_proxies = ["10.0.0.1/32"]',
  'access_log = true',
  'verbose = true',
  'max_inflight_scrapes = 2',
  '[telemetry]',
  'enabled = true',
  'listen = "127.0.0.1:0"',
  'enable_reload = true',
  'token = "TELEMETRYSECRET"',
  '[build]',
  'version = "1.2.3"',
  'commit = "abc"',
  'runtime_version = "node"',
  '',
].join('\n');
const SECRETS = [
  'HEADERSECRET',
  'INGESTSECRET',
  'KEYFILESECRET',
  'TOKENFILESECRET',
  'APIKEYSECRET',
  'TELEMETRYSECRET',
];

it(
  '--print-config prints every key the option declarations give the config file, and no secret under any key',
  { timeout: 60_000 },
  async () => {
    const declared = declaredKeys(JOBMETER_OPTIONS);
    const open = new Set([...declared].filter(([, row]) => row.keys === 'open').map(([k]) => k));
    // A secret and its file are one setting (one of the two per table): either counts as set.
    const given = new Set([...printedKeys(toml(FULL), open)].map(heldAs));
    for (const key of declared.keys())
      if (!COUNTED.has(key))
        assert.ok(has(given, key), `the test's file sets every declared key: ${key} missing`);

    const path = await files.file(
      'full.toml',
      FULL.replace('@INGEST_KEYS@', await files.file('keys', 'tenant-a:KEYFILESECRET\n')).replace(
        '@METRICS_TOKEN@',
        await files.file('token', 'TOKENFILESECRET\n'),
      ),
    );
    const printed = await run(['serve', '--config', path, '--print-config']);
    assert.equal(printed.code, 0, printed.stderr);
    for (const secret of SECRETS)
      assert.ok(!printed.stdout.includes(secret), `${secret} printed:\n${printed.stdout}`);

    const effective = toml(printed.stdout);
    const shown = printedKeys(effective, open);
    for (const key of declared.keys()) {
      if (COUNTED.has(key)) continue;
      assert.ok(has(shown, key), `${key} is not printed (as ${heldAs(key)}):\n${printed.stdout}`);
    }
    assert.equal(effective['profile'], 'otel');

    // Each secret row's value is <redacted> wherever it is printed: by the declarations' own rows.
    const secret = [...declared].filter(([, row]) => isSecret(row));
    assert.ok(secret.length >= 5, 'tokens, headers and API keys are declared secret');
    for (const [key] of secret)
      for (const value of valuesAt(effective, key))
        assert.equal(value, '<redacted>', `${key} printed as ${String(value)}`);
    // An API key's tenant is not secret: printed as set.
    assert.deepEqual(effective['ingest'] && (effective['ingest'] as Table)['api_keys'], [
      { tenant: 'tenant-a', key: '<redacted>' },
    ]);
    assert.deepEqual((effective['metrics'] as Table)['api_keys'], [
      { tenant: 'billing', key: '<redacted>' },
    ]);
  },
);
