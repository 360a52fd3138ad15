/**
 * `jobmeter serve --print-config` and `jobmeter validate --print`: the effective configuration —
 * file, environment and flags over the defaults, every default filled in — in the config file's
 * format, secrets redacted, exit 0 without serving. Child processes; the output parsed back with
 * the parsers serve reads its files with.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { parse as parseToml } from 'smol-toml';
import { parse as parseYaml } from 'yaml';

import { run } from './harness.ts';
import { tempFiles } from '../support/temp-files.ts';

const files = tempFiles('jobmeter-print-config-');

type Table = Record<string, unknown>;
/** smol-toml's tables have no prototype: compared as plain objects. */
const toml = (text: string): Table => JSON.parse(JSON.stringify(parseToml(text))) as Table;
const table = (file: Table, name: string): Table => file[name] as Table;

it(
  '--print-config prints every default, the file, environment and flags over them, and exits 0 without serving',
  { timeout: 60_000 },
  async () => {
    // The defaults themselves: not the free port the harness gives serve's telemetry listener.
    const none = await run(['serve', '--print-config'], { JOBMETER_TELEMETRY_LISTEN: '' });
    assert.equal(none.code, 0, none.stderr);
    assert.equal(none.stderr, '', 'nothing starts: no version, no serving line');
    const defaults = toml(none.stdout);
    assert.equal(defaults['profile'], 'otel');
    assert.equal(defaults['service_name'], 'jobmeter');
    assert.deepEqual(table(defaults, 'listener'), {
      enabled: true,
      host: '127.0.0.1',
      port: 9464,
      allow_non_loopback: false,
      request_timeout_ms: 30_000,
      idle_timeout_ms: 30_000,
      max_connections: 256,
    });
    assert.equal(table(defaults, 'otlp')['interval_ms'], 60_000);
    assert.equal(table(defaults, 'otlp')['endpoint'], undefined, 'no endpoint: no push');
    assert.equal(table(defaults, 'ingest')['enabled'], false);
    assert.equal(table(defaults, 'ingest')['max_memory_bytes'], 134_217_728);
    assert.deepEqual(table(defaults, 'telemetry'), {
      enabled: true,
      listen: '127.0.0.1:9465',
      enable_reload: false,
    });

    const path = await files.file(
      'jobmeter.toml',
      [
        'profile = "solti"',
        '[listener]',
        'port = 9999',
        '[ingest]',
        'enabled = true',
        'expiry_ms = 60000',
        '',
      ].join('\n'),
    );
    const set = await run(['serve', '--config', path, '--listen', ':7777', '--print-config'], {
      OTEL_SERVICE_NAME: 'from-env',
    });
    assert.equal(set.code, 0, set.stderr);
    const effective = toml(set.stdout);
    assert.equal(effective['profile'], 'solti');
    assert.equal(effective['service_name'], 'from-env');
    assert.equal(table(effective, 'listener')['port'], 7777, 'the flag over the file');
    assert.equal(table(effective, 'ingest')['expiry_ms'], 60_000);
    assert.equal(
      table(effective, 'ingest')['max_body_bytes'],
      20_971_520,
      "the file's table, its other keys defaulted",
    );
    assert.match(
      String(table(effective, 'ingest')['state_dir']),
      /\/jobmeter$/,
      "serve's own state directory",
    );
  },
);

it(
  'no secret is printed: tokens, API keys, header values, URL passwords and query values are <redacted>; tenants and hosts are not',
  { timeout: 60_000 },
  async () => {
    const secrets = [
      'INGESTSECRET',
      'APIKEYSECRET',
      'URLPASSWORD',
      'QUERYSECRET',
      'HEADERSECRET',
      'AUTHSECRET',
      'METRICSSECRET',
    ];
    const tokenFile = await files.file('metrics-token', 'METRICSSECRET\n');
    const path = await files.file(
      'secret.toml',
      [
        'profile = "rm"',
        '[ingest]',
        'enabled = true',
        'token = "INGESTSECRET"',
        'api_keys = [{ tenant = "billing", key = "APIKEYSECRET" }]',
        '[otlp]',
        'endpoint = "https://user:URLPASSWORD@collector.example:4318/v1/metrics?api_key=QUERYSECRET"',
        'headers = { "X-Scope" = "HEADERSECRET", Authorization = "Bearer AUTHSECRET" }',
        '[metrics]',
        `token_file = "${tokenFile}"`,
        '',
      ].join('\n'),
    );
    const printed = await run(['serve', '--config', path, '--print-config']);
    assert.equal(printed.code, 0, printed.stderr);
    for (const secret of secrets)
      assert.ok(
        !printed.stdout.includes(secret) && !printed.stderr.includes(secret),
        `${secret} printed:\n${printed.stdout}`,
      );
    const file = toml(printed.stdout);
    const ingest = table(file, 'ingest');
    assert.equal(ingest['token'], '<redacted>');
    assert.deepEqual(ingest['api_keys'], [{ tenant: 'billing', key: '<redacted>' }]);
    assert.equal(
      table(file, 'otlp')['endpoint'],
      'https://***@collector.example:4318/v1/metrics?api_key=<redacted>',
    );
    assert.deepEqual(table(file, 'otlp')['headers'], {
      'X-Scope': '<redacted>',
      Authorization: '<redacted>',
    });
    assert.equal(table(file, 'metrics')['token'], '<redacted>');
  },
);

it(
  "validate --print prints the same configuration, in the config file's format (YAML for a .yaml file)",
  { timeout: 60_000 },
  async () => {
    const path = await files.file(
      'jobmeter.yaml',
      [
        'profile: crewshipd',
        'otlp:',
        '  endpoint: http://127.0.0.1:4318',
        '  interval_ms: 15000',
        '',
      ].join('\n'),
    );
    const [validated, served] = [
      await run(['validate', '--config', path, '--print']),
      await run(['serve', '--config', path, '--print-config']),
    ];
    assert.equal(validated.code, 0, validated.stderr);
    assert.equal(validated.stdout, served.stdout);
    assert.doesNotMatch(validated.stdout, /configuration OK/);
    const file = parseYaml(validated.stdout) as Table;
    assert.equal(file['profile'], 'crewshipd');
    assert.equal(table(file, 'otlp')['interval_ms'], 15_000);
    assert.equal(
      table(file, 'otlp')['timeout_ms'],
      15_000,
      'the timeout follows a shorter interval down',
    );
    assert.equal(table(file, 'metrics')['posture'], 'crewshipd');
  },
);

it(
  'the printed configuration, fed back as the file, validates and prints itself (rm: its posture and defaults are a config serve takes)',
  { timeout: 60_000 },
  async () => {
    const first = await run(['serve', '--profile', 'rm', '--print-config']);
    assert.equal(first.code, 0, first.stderr);
    const path = await files.file('printed.toml', first.stdout);
    const again = await run(['validate', '--config', path, '--print']);
    assert.equal(again.code, 0, again.stderr);
    const body = (text: string): string =>
      text
        .split('\n')
        .filter((l) => !l.startsWith('#'))
        .join('\n');
    assert.equal(body(again.stdout), body(first.stdout));
  },
);

it(
  'a configuration error under --print-config is reported as serve reports it (exit 2), nothing printed on stdout',
  { timeout: 60_000 },
  async () => {
    const { code, stdout, stderr } = await run(['serve', '--listen', ':nine', '--print-config']);
    assert.equal(code, 2);
    assert.equal(stdout, '');
    assert.match(stderr, /^jobmeter: invalid --listen/m);
  },
);

it(
  "semconv: the printed configuration carries [naming]'s defaults, as otel's does (its names follow them), and validates",
  { timeout: 60_000 },
  async () => {
    const printed = await run(['serve', '--profile', 'semconv', '--print-config']);
    assert.equal(printed.code, 0, printed.stderr);
    const effective = toml(printed.stdout);
    assert.equal(effective['profile'], 'semconv');
    assert.deepEqual(
      table(effective, 'naming'),
      table(toml((await run(['serve', '--print-config'])).stdout), 'naming'),
    );
    const path = await files.file('semconv.toml', printed.stdout);
    const again = await run(['validate', '--config', path]);
    assert.equal(again.code, 0, again.stderr);
  },
);
