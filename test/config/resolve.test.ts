import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { tempFiles } from '../support/temp-files.ts';

import { DEFAULT_SERVICE_CONFIG } from '../../src/config/service-defaults.ts';
import { ConfigError } from '../../src/errors.ts';
import { mergeServiceConfig, resolveServiceConfig } from '../../src/config/resolve-layers.ts';
import { flagsLayer, parseServeFlags, SERVE_FLAG_HELP } from '../../src/config/serve-flags.ts';
import { readAddress } from '../../src/config/json-schema.ts';
import { toJobmeterOptions } from '../../src/config/to-options.ts';
import type { JobmeterOptions } from '../../src/options.ts';
import {
  defaultsOf,
  JOBMETER_OPTIONS,
  resolveSection,
  SECTIONS,
  type Section,
} from '../../src/common/option-table.ts';
import { parseServiceConfig, TOP_VALUES } from '../../src/config/file-layer.ts';
import { envLayer } from '../../src/config/env-layer.ts';
import type { Rule } from '../../src/common/option-rules.ts';
import { resolveOptions } from '../../src/resolve-options.ts';

const temp = tempFiles('jobmeter-resolve-');
const file = temp.file;

/** What options.ts documents as the `{}` defaults, spelled out. */
const DOCUMENTED_DEFAULTS: JobmeterOptions = {
  profile: 'otel',
  serviceName: 'jobmeter',
  processMetrics: true,
  prometheusClientNames: false,
  otelScopeInfo: true,
  resourceAttributes: {},
  global: true,
  cardinalityLimit: 2000,
  attributeValueLengthLimit: 256,
  hostExemplars: false,
  hostInstruments: 'native',
  cluster: { timeoutMillis: 1000 },
  listener: { host: '127.0.0.1', port: 9464, allowNonLoopback: false },
  otlp: {
    headers: {},
    protocol: 'http/protobuf',
    intervalMillis: 60_000,
    // The timeout is left to the library's: 30 s, lowered to a shorter interval.
    temporality: 'cumulative',
  },
};

describe('embedded defaults', () => {
  it('resolve to the documented defaults of createJobmeter({}), with no push endpoint', async () => {
    const options = await resolveServiceConfig({ argv: [], env: {} });
    assert.deepEqual(options, DOCUMENTED_DEFAULTS);
    assert.equal(options.otlp?.endpoint, undefined);
    assert.deepEqual(toJobmeterOptions(DEFAULT_SERVICE_CONFIG), DOCUMENTED_DEFAULTS);
  });

  it('are frozen', () => {
    assert.ok(Object.isFrozen(DEFAULT_SERVICE_CONFIG));
    assert.ok(Object.isFrozen(DEFAULT_SERVICE_CONFIG.listener));
    assert.ok(Object.isFrozen(DEFAULT_SERVICE_CONFIG.otlp?.headers));
  });
});

const ENV = {
  OTEL_SERVICE_NAME: 'env-service',
  OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=staging,team=env',
  OTEL_EXPORTER_OTLP_ENDPOINT: 'http://env-collector:4318',
  OTEL_EXPORTER_OTLP_HEADERS: 'Authorization=Bearer%20env,x-env=1',
  OTEL_METRIC_EXPORT_INTERVAL: '5000',
  OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'delta',
};

const FILE_TOML = `
profile = "rm"
service_name = "file-service"

[resource_attributes]
team = "file"

[listener]
port = 9100
format = "text"

[otlp]
interval_ms = 7000

[otlp.headers]
authorization = "Bearer file"
`;

const FILE_YAML = `
profile: rm
service_name: file-service
resource_attributes:
  team: file
listener:
  port: 9100
  format: text
otlp:
  interval_ms: 7000
  headers:
    authorization: Bearer file
`;

const FILE_JSON = JSON.stringify({
  profile: 'rm',
  service_name: 'file-service',
  resource_attributes: { team: 'file' },
  listener: { port: 9100, format: 'text' },
  otlp: { interval_ms: 7000, headers: { authorization: 'Bearer file' } },
});

describe('precedence: defaults < env < file < flags', () => {
  it('env overrides defaults', async () => {
    const options = await resolveServiceConfig({ argv: [], env: ENV });
    assert.equal(options.serviceName, 'env-service');
    assert.deepEqual(options.resourceAttributes, {
      'deployment.environment': 'staging',
      team: 'env',
    });
    assert.deepEqual(options.otlp, {
      endpoint: 'http://env-collector:4318/v1/metrics',
      headers: { authorization: 'Bearer env', 'x-env': '1' },
      protocol: 'http/protobuf',
      intervalMillis: 5000,
      temporality: 'delta',
    });
    // The 30 s default timeout nobody set is lowered to the interval.
    assert.equal(resolveOptions(options).otlp?.timeoutMillis, 5000);
  });

  for (const [ext, text] of [
    ['toml', FILE_TOML],
    ['yaml', FILE_YAML],
    ['yml', FILE_YAML],
    ['json', FILE_JSON],
  ] as const) {
    it(`a .${ext} file overrides env field by field, and flags override the file`, async () => {
      const path = await file(`precedence.${ext}`, text);

      const fromFile = await resolveServiceConfig({ argv: ['--config', path], env: ENV });
      assert.deepEqual(fromFile, {
        profile: 'rm',
        serviceName: 'file-service',
        processMetrics: true,
        prometheusClientNames: false,
        otelScopeInfo: true,
        global: true,
        cardinalityLimit: 2000,
        attributeValueLengthLimit: 256,
        hostExemplars: false,
        hostInstruments: 'native',
        cluster: { timeoutMillis: 1000 },
        // Per key: the file's team wins, env's deployment.environment stays.
        resourceAttributes: { 'deployment.environment': 'staging', team: 'file' },
        listener: { host: '127.0.0.1', port: 9100, allowNonLoopback: false, format: 'text' },
        otlp: {
          // Not in the file: kept from env.
          endpoint: 'http://env-collector:4318/v1/metrics',
          // Case-insensitive per header: the file's authorization replaces env's.
          headers: { 'x-env': '1', authorization: 'Bearer file' },
          protocol: 'http/protobuf',
          intervalMillis: 7000,
          temporality: 'delta',
        },
      });
      assert.equal(resolveOptions(fromFile).otlp?.timeoutMillis, 7000);

      const fromFlags = await resolveServiceConfig({
        argv: [
          `--config=${path}`,
          '--profile',
          'solti',
          '--listen',
          '[::1]:0',
          '--allow-non-loopback',
        ],
        env: ENV,
      });
      assert.equal(fromFlags.profile, 'solti');
      assert.deepEqual(fromFlags.listener, {
        host: '::1',
        port: 0,
        allowNonLoopback: true,
        format: 'text',
      });
      assert.equal(fromFlags.serviceName, 'file-service');
    });
  }

  it('flags override env without a file', async () => {
    const options = await resolveServiceConfig({
      argv: ['--listen', 'localhost:9999', '--profile', 'wasmrun'],
      env: ENV,
    });
    assert.equal(options.profile, 'wasmrun');
    assert.deepEqual(options.listener, { host: 'localhost', port: 9999, allowNonLoopback: false });
  });

  it('--listen :PORT keeps the host from the file', async () => {
    const path = await file('host.toml', '[listener]\nhost = "::1"\n');
    const options = await resolveServiceConfig({
      argv: ['--config', path, '--listen', ':0'],
      env: {},
    });
    assert.deepEqual(options.listener, { host: '::1', port: 0, allowNonLoopback: false });
  });

  it('listener.enabled = false disables the listener, and --listen turns it back on', async () => {
    const path = await file('off.toml', '[listener]\nenabled = false\n');
    assert.equal(
      (await resolveServiceConfig({ argv: ['--config', path], env: {} })).listener,
      false,
    );
    const options = await resolveServiceConfig({
      argv: ['--config', path, '--listen', '127.0.0.1:0'],
      env: {},
    });
    assert.deepEqual(options.listener, { host: '127.0.0.1', port: 0, allowNonLoopback: false });
  });

  it('a file timeout above the interval of the same table names both file keys', async () => {
    const path = await file('both.toml', '[otlp]\ninterval_ms = 10000\ntimeout_ms = 20000\n');
    await assert.rejects(resolveServiceConfig({ argv: ['--config', path], env: {} }), {
      name: 'ConfigError',
      key: 'otlp.timeout_ms',
      message: 'invalid otlp.timeout_ms=20000: expected at most otlp.interval_ms (10000)',
    });
  });

  it('an explicit file timeout above the env interval names the file key', async () => {
    const path = await file('timeout.toml', '[otlp]\ntimeout_ms = 6000\n');
    await assert.rejects(resolveServiceConfig({ argv: ['--config', path], env: ENV }), {
      name: 'ConfigError',
      message: 'invalid otlp.timeout_ms=6000: expected at most OTEL_METRIC_EXPORT_INTERVAL (5000)',
    });
  });

  it('an env timeout above the file interval names the env variable', async () => {
    const path = await file('interval.toml', '[otlp]\ninterval_ms = 10000\n');
    await assert.rejects(
      resolveServiceConfig({
        argv: ['--config', path],
        env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_METRIC_EXPORT_TIMEOUT: '20000' },
      }),
      {
        message:
          'invalid OTEL_METRIC_EXPORT_TIMEOUT=20000: expected at most otlp.interval_ms (10000)',
      },
    );
  });

  it('an env timeout above the default interval names the default', async () => {
    const env = {
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318',
      OTEL_METRIC_EXPORT_TIMEOUT: '70000',
    };
    await assert.rejects(resolveServiceConfig({ argv: [], env }), {
      message:
        'invalid OTEL_METRIC_EXPORT_TIMEOUT=70000: expected at most the default otlp.interval_ms (60000)',
    });
  });

  it('an interval below the default timeout alone just works', async () => {
    const path = await file('short.yaml', 'otlp:\n  interval_ms: 1000\n');
    const options = await resolveServiceConfig({ argv: ['--config', path], env: {} });
    assert.equal(options.otlp?.intervalMillis, 1000);
    assert.equal(options.otlp?.timeoutMillis, undefined);
    assert.equal(
      resolveOptions({ ...options, otlp: { ...options.otlp, endpoint: 'http://c:4318' } }).otlp
        ?.timeoutMillis,
      1000,
    );
  });
});

describe('errors', () => {
  it('a bad file value is a ConfigError naming the key', async () => {
    const path = await file('bad.toml', '[listener]\nport = 70000\n');
    await assert.rejects(resolveServiceConfig({ argv: ['--config', path], env: {} }), {
      name: 'ConfigError',
      key: 'listener.port',
      message: 'invalid listener.port=70000: expected an integer from 0 to 65535',
    });
  });

  it('a bad env value is a ConfigError naming the variable, even when the file would override it', async () => {
    const path = await file('fine.toml', '[otlp]\nprotocol = "http/json"\n');
    await assert.rejects(
      resolveServiceConfig({
        argv: ['--config', path],
        env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' },
      }),
      (err: unknown) => err instanceof ConfigError && err.key === 'OTEL_EXPORTER_OTLP_PROTOCOL',
    );
  });

  it('bad flag values are ConfigErrors naming the flag', async () => {
    await assert.rejects(resolveServiceConfig({ argv: ['--profile', 'otell'], env: {} }), {
      message:
        'invalid --profile=otell: expected one of otel, runwisp, wasmrun, crewshipd, rm, solti, semconv (did you mean otel?)',
    });
    await assert.rejects(resolveServiceConfig({ argv: ['--listen', '9464'], env: {} }), {
      message:
        'invalid --listen=9464: expected HOST:PORT or [IPV6]:PORT with PORT from 0 to 65535, or :PORT',
    });
  });

  it('bad flag syntax is a parseArgs error', async () => {
    await assert.rejects(resolveServiceConfig({ argv: ['--port', '1'], env: {} }), {
      code: 'ERR_PARSE_ARGS_UNKNOWN_OPTION',
    });
    await assert.rejects(resolveServiceConfig({ argv: ['extra'], env: {} }), {
      code: 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL',
    });
    await assert.rejects(resolveServiceConfig({ argv: ['--config'], env: {} }), {
      code: 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE',
    });
  });
});

describe("readAddress (--listen's)", () => {
  const good: [string, { host?: string; port: number }][] = [
    ['127.0.0.1:9464', { host: '127.0.0.1', port: 9464 }],
    ['localhost:0', { host: 'localhost', port: 0 }],
    ['[::1]:9464', { host: '::1', port: 9464 }],
    ['[::]:65535', { host: '::', port: 65535 }],
    ['0.0.0.0:80', { host: '0.0.0.0', port: 80 }],
    [':9464', { port: 9464 }],
  ];
  for (const [input, expected] of good) {
    it(`accepts ${input}`, () =>
      assert.deepEqual(readAddress(input, '--listen', 'port'), expected));
  }
  for (const input of [
    '9464',
    '::1:9464',
    '[::1]',
    '[127.0.0.1]:1',
    'host:65536',
    'host:',
    'host:-1',
    'my host:1',
    '[::1]:x',
  ]) {
    it(`rejects ${input}`, () => {
      assert.throws(() => readAddress(input, '--listen', 'port'), {
        name: 'ConfigError',
        key: '--listen',
        message: `invalid --listen=${input}: expected HOST:PORT or [IPV6]:PORT with PORT from 0 to 65535, or :PORT`,
      });
    });
  }
});

describe('parseServeFlags / mergeServiceConfig', () => {
  it('parses every flag', () => {
    assert.deepEqual(
      parseServeFlags([
        '--config',
        'a.toml',
        '--profile',
        'rm',
        '--listen',
        ':1',
        '--allow-non-loopback',
        '-h',
      ]),
      {
        config: 'a.toml',
        profile: 'rm',
        listen: ':1',
        allowNonLoopback: true,
        help: true,
      },
    );
  });

  it('does not mutate its inputs', () => {
    const base = { otlp: { headers: { A: '1' } }, resourceAttributes: { a: '1' } };
    const over = { otlp: { headers: { a: '2' } }, resourceAttributes: { b: '2' } };
    const merged = mergeServiceConfig(base, over);
    assert.deepEqual(merged, {
      otlp: { headers: { a: '2' } },
      resourceAttributes: { a: '1', b: '2' },
    });
    assert.deepEqual(base, { otlp: { headers: { A: '1' } }, resourceAttributes: { a: '1' } });
  });
});

describe('an option declared once', () => {
  const flagged = (['listener', 'metrics', 'telemetry', 'ingest'] as const).flatMap((table) =>
    Object.entries(SECTIONS[table] as Section)
      .filter(([, row]) => row.flag !== undefined)
      .map(([field, row]) => [table, field, row] as const),
  );
  it("a boolean row's flag is a flag of serve that sets the row true", () => {
    const booleans = flagged.filter(([, , row]) => row.schema === 'boolean');
    assert.deepEqual(
      booleans.map(([, , row]) => row.flag),
      ['--allow-non-loopback', '--auth', '--verbose', '--enable-reload'],
    );
    for (const [table, field, row] of booleans) {
      for (const given of [row.flag!, ...(row.short === undefined ? [] : [`-${row.short}`])]) {
        const layer = flagsLayer(parseServeFlags([given]));
        assert.deepEqual(layer, { [table]: { [field]: true } }, given);
      }
    }
    assert.deepEqual(flagsLayer(parseServeFlags([])), {});
  });

  it("serve's help lists its own flags and each row's, and no other", () => {
    const shown = [...SERVE_FLAG_HELP.matchAll(/^ {2}(?:-\w, )?(--\S+)/gm)].map((m) => m[1]);
    const own = ['--config', '--profile', '--listen', '--host', '--demo', '--debug'];
    own.push('--log-format', '--print-config', '--help');
    assert.deepEqual(shown.sort(), [...own, ...flagged.map(([, , row]) => row.flag)].sort());
  });

  it("any other row's flag takes its value, read and checked as the row's variable is, over the file", async () => {
    const values = flagged.filter(([, , row]) => row.schema !== 'boolean');
    assert.deepEqual(
      values.map(([, , row]) => row.flag),
      ['--ingest-grpc-port'],
    );
    assert.deepEqual(flagsLayer(parseServeFlags(['--ingest-grpc-port', '4317'])), {
      ingest: { grpcPort: 4317 },
    });
    assert.deepEqual(flagsLayer(parseServeFlags(['--ingest-grpc-port=0'])), {
      ingest: { grpcPort: 0 },
    });
    for (const bad of ['70000', '1e3', '-1', ''])
      assert.throws(() => flagsLayer(parseServeFlags([`--ingest-grpc-port=${bad}`])), {
        name: 'ConfigError',
        message: `invalid --ingest-grpc-port=${bad}: expected an integer from 0 to 65535`,
      });
    const path = await file('grpc.toml', '[ingest]\nenabled = true\ngrpc_port = 4317\n');
    const options = await resolveServiceConfig({
      argv: ['--config', path, '--ingest-grpc-port', '0'],
      env: { JOBMETER_INGEST_GRPC_PORT: '5317' },
    });
    assert.ok(options.ingest !== undefined && options.ingest !== false);
    assert.equal(options.ingest.grpcPort, 0);
  });

  // Adding a boolean option is its row and its use: from the row alone it is a key of the file,
  // read through the layers into the options, checked and resolved with its default.
  const rows = Object.entries(JOBMETER_OPTIONS as Section).filter(
    ([key, row]) => row.schema === 'boolean' && Object.values(TOP_VALUES).includes(key as never),
  );
  it('every boolean single value of the top level has a row the file sets', () => {
    assert.ok(rows.length >= 4, rows.map(([k]) => k).join(', '));
  });
  for (const [key, row] of rows) {
    it(`${row.file} = ${String(!row.default)} in the file is ${key}: ${String(!row.default)}, resolved`, async () => {
      const path = await file(`${key}.json`, JSON.stringify({ [row.file!]: !row.default }));
      const options = await resolveServiceConfig({ argv: ['--config', path], env: {} });
      assert.equal((options as Record<string, unknown>)[key], !row.default);
      const resolved = resolveOptions({ ...options, listener: false });
      assert.equal((resolved as unknown as Record<string, unknown>)[key], !row.default);
      assert.equal(
        (resolveOptions({ listener: false }) as unknown as Record<string, unknown>)[key],
        row.default,
      );
      assert.throws(
        () => parseServiceConfig({ [row.file!]: 'yes' }, 'c.json'),
        (err: unknown) =>
          err instanceof ConfigError &&
          err.message.includes(`${row.file}=yes: expected true or false`),
      );
    });
  }

  it("a row's env variable is read into serve's environment layer, by its row's rule", () => {
    const withEnv = (['jobmeter', 'otlp', 'build', 'telemetry'] as const).flatMap((table) =>
      Object.entries(SECTIONS[table] as Section)
        .filter(([, row]) => row.env !== undefined)
        .map(([field, row]) => [table, field, row] as const),
    );
    assert.deepEqual(
      withEnv.map(([, , row]) => row.env),
      [
        'OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT',
        'OTEL_EXPORTER_OTLP_METRICS_PROTOCOL',
        'OTEL_METRIC_EXPORT_INTERVAL',
        'OTEL_EXPORTER_OTLP_METRICS_TIMEOUT',
        'OTEL_EXPORTER_OTLP_METRICS_HEADERS',
        'JOBMETER_BUILD_VERSION',
        'JOBMETER_BUILD_COMMIT',
        'JOBMETER_BUILD_RUNTIME_VERSION',
        'JOBMETER_TELEMETRY_LISTEN',
      ],
    );
    // The OTLP rows are read only when the environment asks for a push.
    const base = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' };
    for (const [table, field, row] of withEnv) {
      const rule = row.rule as Partial<Rule<unknown>> | undefined;
      const [given, read] =
        rule?.schema?.type === 'integer'
          ? [' 1234 ', 1234]
          : rule?.schema?.enum !== undefined
            ? [` ${rule.schema.enum[0]!.toUpperCase()} `, rule.schema.enum[0]]
            : row.keys === 'open'
              ? [' A = v1 ', { a: 'v1' }]
              : row.schema === 'loopbackListen'
                ? ['127.0.0.1:9999', { host: '127.0.0.1', port: 9999 }]
                : [' v1 ', 'v1'];
      const layer = envLayer({ ...base, [row.env!]: given }) as Record<string, unknown>;
      const at = table === 'jobmeter' ? layer : (layer[table] as Record<string, unknown>);
      assert.deepEqual(at[field], read, row.env);
      assert.equal(
        (envLayer({ ...base, [row.env!]: '' }) as Record<string, unknown>)[field],
        undefined,
      );
      if (rule?.schema?.type === 'integer')
        for (const bad of ['1e3', '0x10', '10.5', '0'])
          assert.throws(
            () => envLayer({ ...base, [row.env!]: bad }),
            (err: unknown) =>
              err instanceof ConfigError &&
              err.message === `invalid ${row.env}=${bad}: expected ${rule.expected!}`,
            `${row.env}=${bad}`,
          );
    }
  });
});

describe('resolveSection', () => {
  // Every row with a rule, a default or not: the ones without a default were each resolved by
  // hand (the listener's format, the ingest's gRPC port, the push's endpoint, the hostname…).
  const ruled = Object.entries(SECTIONS as Readonly<Record<string, Section>>).flatMap(
    ([name, section]) =>
      Object.entries(section)
        .filter(([, row]) => row.rule !== undefined && !('default' in row))
        .map(([key]) => [name, section, key] as const),
  );
  it('holds a row with a rule and no default to its rule, under its dotted key', () => {
    assert.ok(ruled.length >= 10, String(ruled.length));
    for (const [name, section, key] of ruled)
      assert.throws(
        () => resolveSection({ [key]: { bad: 1 } }, section, 'at'),
        (err: unknown) => err instanceof ConfigError && err.message.startsWith(`invalid at.${key}`),
        `${name}.${key}`,
      );
  });
  it('leaves such a row out when it is unset, and gives every default', () => {
    for (const section of Object.values(SECTIONS as Readonly<Record<string, Section>>))
      assert.deepEqual(resolveSection({}, section, 'at'), defaultsOf(section));
  });
});
