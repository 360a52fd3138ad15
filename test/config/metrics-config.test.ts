/**
 * The `[metrics]` section of `jobmeter serve`: every loader (TOML in runwisp.toml style, YAML in
 * rm style, JSON, each original's environment variables, the flags), the precedence, and each
 * error message.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempFiles } from '../support/temp-files.ts';

import { ConfigError, describeConfigError } from '../../src/errors.ts';
import { parseConfigText } from '../../src/config/file-parser.ts';
import { mergeGateConfig, metricsEnvLayer } from '../../src/config/metrics-section.ts';
import { parseServeFlags } from '../../src/config/serve-flags.ts';
import { resolveServeConfig, resolveServiceConfig } from '../../src/config/resolve-layers.ts';
import { parseServiceConfig } from '../../src/config/file-layer.ts';
import { resolveOptions } from '../../src/resolve-options.ts';
import type { MetricsConfig, ServiceConfig } from '../../src/config/service-config.ts';
import { POSTURES } from '../../src/common/postures.ts';
import {
  JOBMETER_OPTIONS,
  METRICS_OPTIONS,
  SECTIONS,
  type Section,
  type SectionName,
} from '../../src/common/option-table.ts';

const SECRET = 's3cret-7c1f0a9e';

const temp = tempFiles('jobmeter-metrics-config-');
const file = temp.file;

function parse(raw: unknown): ServiceConfig {
  return parseServiceConfig(raw, 'test.toml');
}

function rejects(raw: unknown, message: string): void {
  assert.throws(
    () => parse(raw),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError, String(err));
      assert.equal(err.message, message);
      assert.ok(!err.message.includes(SECRET), 'no secret in the message');
      return true;
    },
  );
}

async function serveRejects(
  argv: string[],
  env: NodeJS.ProcessEnv,
  expected: { key?: string; message: string; file?: string },
): Promise<void> {
  await assert.rejects(resolveServeConfig({ argv, env }), (err: unknown) => {
    assert.ok(err instanceof ConfigError, String(err));
    assert.equal(err.message, expected.message);
    if (expected.key !== undefined) assert.equal(err.key, expected.key);
    assert.equal(err.file, expected.file);
    assert.ok(!err.message.includes(SECRET));
    return true;
  });
}

describe('[metrics] in a file: every key', () => {
  it('parses every canonical key', () => {
    const raw = parseConfigText(
      `
[metrics]
enabled = true
path = "/internal/metrics"
posture = "rm"
listen = "127.0.0.1:9478"
token = "${SECRET}"
api_keys = [{ tenant = "acme", key = "k1" }]
auth = true
trusted_cidrs = ["10.0.0.0/8", "::1"]
trusted_proxies = ["127.0.0.1"]
access_log = true
verbose = true
max_inflight_scrapes = 8
`,
      'toml',
      'c.toml',
    );
    assert.deepEqual(parse(raw).metrics, {
      enabled: true,
      path: '/internal/metrics',
      posture: 'rm',
      listen: { host: '127.0.0.1', port: 9478 },
      token: SECRET,
      apiKeys: [{ tenant: 'acme', key: 'k1' }],
      auth: true,
      trustedCidrs: ['10.0.0.0/8', '::1'],
      trustedProxies: ['127.0.0.1'],
      accessLog: true,
      verbose: true,
      maxInflightScrapes: 8,
    });
  });

  it("reads runwisp.toml's [daemon] metrics_enabled / metrics_listen", () => {
    const raw = parseConfigText(
      '[daemon]\nmetrics_enabled = true\nmetrics_listen = "127.0.0.1:9478"\n',
      'toml',
      'runwisp.toml',
    );
    assert.deepEqual(parse(raw).metrics, {
      enabled: true,
      listen: { host: '127.0.0.1', port: 9478 },
    });
  });

  it("reads rm's YAML metrics_token / metrics_trusted_cidrs", () => {
    const raw = parseConfigText(
      `metrics_token: ${SECRET}\nmetrics_trusted_cidrs:\n  - 10.0.0.0/8\n  - 192.168.0.0/16\n`,
      'yaml',
      'rm.yaml',
    );
    assert.deepEqual(parse(raw).metrics, {
      token: SECRET,
      trustedCidrs: ['10.0.0.0/8', '192.168.0.0/16'],
    });
  });

  it("reads every original's spelling as the [metrics] key it spells, and refuses the two together", () => {
    // A value per schema of a spelled key; one more spelling with another schema needs one here.
    const SAMPLES: Record<string, unknown> = {
      token: SECRET,
      cidrList: [' 10.0.0.0/8 ', '::1'],
      boolean: false,
      loopbackListen: '[::1]:9478',
    };
    const spellings: [string, (value: unknown) => Record<string, unknown>, string][] = [];
    for (const row of Object.values(JOBMETER_OPTIONS as Section)) {
      if (row.aliasOf === 'metrics') {
        for (const inner of Object.values(SECTIONS[row.keys as SectionName] as Section))
          spellings.push([
            `${row.file!}.${inner.file!}`,
            (v) => ({ [row.file!]: { [inner.file!]: v } }),
            inner.aliasOf!,
          ]);
      } else if (row.aliasOf !== undefined)
        spellings.push([row.file!, (v) => ({ [row.file!]: v }), row.aliasOf]);
    }
    assert.deepEqual(
      spellings.map(([key]) => key),
      ['daemon.metrics_enabled', 'daemon.metrics_listen', 'metrics_token', 'metrics_trusted_cidrs'],
    );
    for (const [key, spelled, aliasOf] of spellings) {
      const row = (METRICS_OPTIONS as Section)[aliasOf.slice('metrics.'.length)]!;
      const value = SAMPLES[row.schema!];
      assert.notEqual(value, undefined, `a sample value of ${row.schema!}`);
      const canonical = { [row.file!]: value };
      assert.deepEqual(parse(spelled(value)).metrics, parse({ metrics: canonical }).metrics, key);
      assert.throws(
        () => parse({ ...spelled(value), metrics: canonical }),
        (err: unknown) => {
          assert.ok(err instanceof ConfigError, String(err));
          assert.equal(err.key, key);
          assert.equal(
            err.expected,
            `no metrics.${row.file!} in the same file (they are one setting: give one)`,
          );
          assert.ok(!err.message.includes(SECRET), 'no secret in the message');
          return true;
        },
      );
    }
  });

  it('reads JSON with the same keys', () => {
    const raw = parseConfigText(
      JSON.stringify({ metrics: { posture: 'wasmrun', api_keys_file: 'keys.txt', auth: true } }),
      'json',
      'c.json',
    );
    assert.deepEqual(parse(raw).metrics, {
      posture: 'wasmrun',
      apiKeysFile: 'keys.txt',
      auth: true,
    });
  });

  const bad: [raw: Record<string, unknown>, message: string][] = [
    [
      { metrics: { enabled: 'yes' } },
      'invalid metrics.enabled=yes: expected true or false (got a string)',
    ],
    [
      { metrics: { path: 'metrics' } },
      'invalid metrics.path=metrics: expected a path starting with / (no spaces, ? or #)',
    ],
    [
      { metrics: { path: '/metrics?x=1' } },
      'invalid metrics.path=/metrics?x=1: expected a path starting with / (no spaces, ? or #)',
    ],
    [
      { metrics: { posture: 'crewship' } },
      'invalid metrics.posture=crewship: expected one of otel, runwisp, wasmrun, crewshipd, rm, solti (did you mean crewshipd?)',
    ],
    [
      { metrics: { listen: '0.0.0.0:9478' } },
      'invalid metrics.listen=0.0.0.0:9478: expected a loopback HOST:PORT or [IPV6]:PORT with PORT from 0 to 65535',
    ],
    [
      { metrics: { listen: '9478' } },
      'invalid metrics.listen=9478: expected a loopback HOST:PORT or [IPV6]:PORT with PORT from 0 to 65535',
    ],
    [
      { daemon: { metrics_listen: '10.0.0.1:9478' } },
      'invalid daemon.metrics_listen=10.0.0.1:9478: expected a loopback HOST:PORT or [IPV6]:PORT with PORT from 0 to 65535',
    ],
    [
      { daemon: { metrics_enabled: 1 } },
      'invalid daemon.metrics_enabled=1: expected true or false',
    ],
    [
      { metrics: { token: `${SECRET} x` } },
      'invalid metrics.token=<redacted>: expected a non-empty token without whitespace (got whitespace in it)',
    ],
    [
      { metrics: { token: '' } },
      'invalid metrics.token=<redacted>: expected a non-empty token without whitespace (got an empty string)',
    ],
    [
      { metrics: { token: 42 } },
      'invalid metrics.token=<redacted>: expected a non-empty token without whitespace (got a number)',
    ],
    [
      { metrics_token: [SECRET] },
      'invalid metrics_token=<redacted>: expected a non-empty token without whitespace (got an array)',
    ],
    [
      { metrics: { token_file: '' } },
      'invalid metrics.token_file=: expected a non-empty file path',
    ],
    [
      { metrics: { trusted_cidrs: '10.0.0.0/8' } },
      'invalid metrics.trusted_cidrs=10.0.0.0/8: expected a list of IP addresses or CIDRs, e.g. ["10.0.0.0/8"] (a list, not a comma-separated string)',
    ],
    [
      { metrics: { trusted_cidrs: ['10.0.0.0/8', '10.0.0.0/33'] } },
      'invalid metrics.trusted_cidrs[1]=10.0.0.0/33: expected an IP address or CIDR, e.g. 10.0.0.0/8 or ::1',
    ],
    [
      { metrics_trusted_cidrs: ['example.com'] },
      'invalid metrics_trusted_cidrs[0]=example.com: expected an IP address or CIDR, e.g. 10.0.0.0/8 or ::1',
    ],
    [
      { metrics: { trusted_proxies: [7] } },
      'invalid metrics.trusted_proxies[0]=7: expected an IP address or CIDR, e.g. 10.0.0.0/8 or ::1',
    ],
    [
      { metrics: { api_keys: SECRET } },
      'invalid metrics.api_keys=<redacted>: expected a list of { tenant, key } tables (got a string)',
    ],
    [
      { metrics: { api_keys: [SECRET] } },
      'invalid metrics.api_keys[0]=<redacted>: expected a { tenant, key } table (got a string)',
    ],
    [
      { metrics: { api_keys: [{ tenant: 'a', key: SECRET, tennant: 'b' }] } },
      'invalid metrics.api_keys[0].tennant=<redacted>: expected a key of an API key: tenant, key (did you mean metrics.api_keys[0].tenant?)',
    ],
    [
      { metrics: { api_keys: [{ tenant: 'a b', key: SECRET }] } },
      'invalid metrics.api_keys[0].tenant=a b: expected a tenant id of 1 to 128 printable ASCII characters without spaces',
    ],
    [
      {
        metrics: {
          api_keys: [
            { tenant: 'a', key: SECRET },
            { tenant: 'b', key: SECRET },
          ],
        },
      },
      'invalid metrics.api_keys[1].key=<redacted>: expected a key not already listed',
    ],
    [{ metrics: { auth: 'on' } }, 'invalid metrics.auth=on: expected true or false (got a string)'],
    [
      { metrics: { max_inflight_scrapes: -1 } },
      'invalid metrics.max_inflight_scrapes=-1: expected an integer from 0 (no limit) to 1000000',
    ],
    [
      { metrics: { max_inflight_scrapes: '8' } },
      'invalid metrics.max_inflight_scrapes=8: expected an integer from 0 (no limit) to 1000000 (got a string)',
    ],
    [
      { metrics: { token: SECRET, token_file: '/run/t' } },
      'invalid metrics.token_file=/run/t: expected no metrics.token in the same file (token and token_file are one setting: give one)',
    ],
    [
      { metrics: { api_keys: [], api_keys_file: 'k' } },
      'invalid metrics.api_keys_file=k: expected no metrics.api_keys in the same file (api_keys and api_keys_file are one setting: give one)',
    ],
    [
      { metrics_token: SECRET, metrics: { token: SECRET } },
      'invalid metrics_token=<redacted>: expected no metrics.token in the same file (they are one setting: give one)',
    ],
    [
      { daemon: { metrics_enabled: true }, metrics: { enabled: false } },
      'invalid daemon.metrics_enabled=true: expected no metrics.enabled in the same file (they are one setting: give one)',
    ],
    [{ metrics: 'on' }, 'invalid metrics=<redacted>: expected a table (got a string)'],
  ];
  for (const [raw, message] of bad) {
    it(`rejects ${message.split(':')[0]}`, () => rejects(raw, message));
  }
});

describe('unknown keys name the closest valid one', () => {
  const KEYS =
    'enabled, path, posture, listen, token, token_file, api_keys, api_keys_file, auth, trusted_cidrs, trusted_proxies, access_log, verbose, max_inflight_scrapes';
  const TOP =
    'profile, service_name, process_metrics, prometheus_client_names, otel_scope_info, global, cardinality_limit, attribute_value_length_limit, host_exemplars, host_instruments, resource_attributes, naming, listener, otlp, ingest, cluster, metrics, telemetry, build, views';
  const cases: [Record<string, unknown>, string][] = [
    [
      { metrics: { tokn: 'x' } },
      `invalid metrics.tokn=<redacted>: expected a key of [metrics]: ${KEYS} (did you mean metrics.token?)`,
    ],
    [
      { metrics: { trustedCidrs: [] } },
      `invalid metrics.trustedCidrs=<redacted>: expected a key of [metrics]: ${KEYS} (did you mean metrics.trusted_cidrs?)`,
    ],
    [
      { metrics: { metrics_enabled: true } },
      `invalid metrics.metrics_enabled=<redacted>: expected a key of [metrics]: ${KEYS}`,
    ],
    [
      { token: 'x' },
      `invalid token=<redacted>: expected a key of the top level: ${TOP} (did you mean metrics.token?)`,
    ],
    [
      { metrics_tokn: 'x' },
      `invalid metrics_tokn=<redacted>: expected a key of the top level: ${TOP} (did you mean metrics_token?)`,
    ],
    [
      { daemon: { metrics_enable: true } },
      'invalid daemon.metrics_enable=<redacted>: expected a key of [daemon]: metrics_enabled, metrics_listen (did you mean daemon.metrics_enabled?)',
    ],
    [
      { daemon: { host: '0.0.0.0' } },
      'invalid daemon.host=<redacted>: expected a key of [daemon]: metrics_enabled, metrics_listen (did you mean listener.host?)',
    ],
  ];
  for (const [raw, message] of cases) {
    it(JSON.stringify(raw), () => rejects(raw, message));
  }
});

describe('resolveServeConfig: defaults per posture', () => {
  const cases: [string, Record<string, unknown>][] = [
    ['otel', { enabled: true, posture: 'otel', path: '/metrics', accessLog: false }],
    ['runwisp', { enabled: false, posture: 'runwisp', path: '/metrics', accessLog: false }],
    ['wasmrun', { enabled: true, posture: 'wasmrun', path: '/api/v1/metrics', accessLog: true }],
    ['crewshipd', { enabled: true, posture: 'crewshipd', path: '/metrics', accessLog: false }],
    ['rm', { enabled: true, posture: 'rm', path: '/metrics', accessLog: false }],
    ['solti', { enabled: true, posture: 'solti', path: '/metrics', accessLog: false }],
  ];
  for (const [profile, expected] of cases) {
    it(`--profile ${profile}`, async () => {
      const { metrics } = await resolveServeConfig({ argv: ['--profile', profile], env: {} });
      assert.deepEqual(metrics, {
        ...expected,
        listen: undefined,
        token: undefined,
        apiKeys: [],
        trustedCidrs: [],
        trustedProxies: undefined,
        verbose: false,
        maxInflightScrapes: 0,
      });
    });
  }

  it('the library options are what resolveServiceConfig gives, [metrics] aside', async () => {
    const path = await file('both.toml', `profile = "rm"\n[metrics]\ntoken = "${SECRET}"\n`);
    const serve = await resolveServeConfig({ argv: ['--config', path], env: {} });
    assert.deepEqual(
      serve.options,
      await resolveServiceConfig({ argv: ['--config', path], env: {} }),
    );
    assert.equal('metrics' in serve.options, false);
  });
});

describe("each original's environment variables, under its posture only", () => {
  it('CREWSHIP_METRICS_TOKEN under crewshipd', async () => {
    const env = { CREWSHIP_METRICS_TOKEN: SECRET, RM_METRICS_TOKEN: 'rm-token' };
    assert.equal(
      (await resolveServeConfig({ argv: ['--profile', 'crewshipd'], env })).metrics.token,
      SECRET,
    );
    assert.equal(
      (await resolveServeConfig({ argv: ['--profile', 'rm'], env })).metrics.token,
      'rm-token',
    );
    assert.equal(
      (await resolveServeConfig({ argv: ['--profile', 'otel'], env })).metrics.token,
      undefined,
    );
  });

  it('RM_METRICS_TOKEN, RM_METRICS_TRUSTED_CIDR (comma list), RM_TRUSTED_PROXY under rm', async () => {
    const env = {
      RM_METRICS_TOKEN: SECRET,
      RM_METRICS_TRUSTED_CIDR: ' 10.0.0.0/8, 192.168.1.5 ,',
      RM_TRUSTED_PROXY: '127.0.0.1',
    };
    const { metrics } = await resolveServeConfig({ argv: ['--profile', 'rm'], env });
    assert.equal(metrics.token, SECRET);
    assert.deepEqual(metrics.trustedCidrs, ['10.0.0.0/8', '192.168.1.5']);
    assert.deepEqual(metrics.trustedProxies, ['127.0.0.1']);
  });

  it('RM_METRICS_TOKEN_FILE is read (surrounding whitespace dropped)', async () => {
    const tokenFile = await file('rm_token', `${SECRET}\n`);
    const { metrics } = await resolveServeConfig({
      argv: ['--profile', 'rm'],
      env: { RM_METRICS_TOKEN_FILE: tokenFile },
    });
    assert.equal(metrics.token, SECRET);
  });

  it('RUNWISP_TRUST_PROXY under runwisp; empty variables count as unset', async () => {
    const { metrics } = await resolveServeConfig({
      argv: ['--profile', 'runwisp'],
      env: { RUNWISP_TRUST_PROXY: '10.0.0.0/8,::1', CREWSHIP_METRICS_TOKEN: SECRET },
    });
    assert.deepEqual(metrics.trustedProxies, ['10.0.0.0/8', '::1']);
    assert.equal(metrics.token, undefined);
    assert.equal(
      (await resolveServeConfig({ argv: ['--profile', 'rm'], env: { RM_METRICS_TOKEN: '  ' } }))
        .metrics.token,
      undefined,
    );
  });

  it('metricsEnvLayer reads only the names a posture lists', () => {
    const env = { RM_METRICS_TOKEN: 'a', CREWSHIP_METRICS_TOKEN: 'b', RUNWISP_TRUST_PROXY: '::1' };
    assert.deepEqual(metricsEnvLayer(env, POSTURES.solti), {});
    assert.deepEqual(metricsEnvLayer(env, POSTURES.wasmrun), {});
    assert.deepEqual(metricsEnvLayer(env, POSTURES.crewshipd), { token: 'b' });
  });

  const bad: [string, NodeJS.ProcessEnv, string, string][] = [
    [
      'rm',
      { RM_METRICS_TRUSTED_CIDR: '10.0.0.0/8,10.0.0.0/33' },
      'RM_METRICS_TRUSTED_CIDR',
      'invalid RM_METRICS_TRUSTED_CIDR=10.0.0.0/33: expected an IP address or CIDR, e.g. 10.0.0.0/8 or ::1',
    ],
    [
      'rm',
      { RM_TRUSTED_PROXY: 'proxy.local' },
      'RM_TRUSTED_PROXY',
      'invalid RM_TRUSTED_PROXY=proxy.local: expected an IP address or CIDR, e.g. 10.0.0.0/8 or ::1',
    ],
    [
      'runwisp',
      { RUNWISP_TRUST_PROXY: 'true' },
      'RUNWISP_TRUST_PROXY',
      'invalid RUNWISP_TRUST_PROXY=true: expected an IP address or CIDR, e.g. 10.0.0.0/8 or ::1',
    ],
    [
      'crewshipd',
      { CREWSHIP_METRICS_TOKEN: `${SECRET} ${SECRET}` },
      'CREWSHIP_METRICS_TOKEN',
      'invalid CREWSHIP_METRICS_TOKEN=<redacted>: expected a non-empty token without whitespace',
    ],
    [
      'rm',
      { RM_METRICS_TOKEN: SECRET, RM_METRICS_TOKEN_FILE: '/run/secrets/t' },
      'RM_METRICS_TOKEN_FILE',
      'invalid RM_METRICS_TOKEN_FILE=/run/secrets/t: expected it unset while RM_METRICS_TOKEN is set (one or the other)',
    ],
    [
      'rm',
      { RM_METRICS_TOKEN_FILE: '/nonexistent/jobmeter/token' },
      'RM_METRICS_TOKEN_FILE',
      'invalid RM_METRICS_TOKEN_FILE=/nonexistent/jobmeter/token: expected a readable file (it does not exist)',
    ],
  ];
  for (const [profile, env, key, message] of bad) {
    it(`${key}: ${message.slice(message.indexOf('expected'))}`, () =>
      serveRejects(['--profile', profile], env, { key, message }));
  }
});

describe('precedence: defaults < env < file < flags', () => {
  it('a file beats the environment, field by field', async () => {
    const path = await file('prec.yaml', `profile: rm\nmetrics_trusted_cidrs: ["172.16.0.0/12"]\n`);
    const { metrics } = await resolveServeConfig({
      argv: ['--config', path],
      env: { RM_METRICS_TOKEN: SECRET, RM_METRICS_TRUSTED_CIDR: '10.0.0.0/8' },
    });
    assert.equal(metrics.token, SECRET, 'kept from env');
    assert.deepEqual(metrics.trustedCidrs, ['172.16.0.0/12'], "the file's list replaces env's");
  });

  it("a file's token_file replaces env's token (one setting)", async () => {
    const tokenFile = await file('file_token', 'from-file\n');
    const path = await file(
      'prec2.toml',
      `profile = "rm"\n[metrics]\ntoken_file = "${tokenFile}"\n`,
    );
    const { metrics } = await resolveServeConfig({
      argv: ['--config', path],
      env: { RM_METRICS_TOKEN: SECRET },
    });
    assert.equal(metrics.token, 'from-file');
  });

  it('flags beat the file: --auth, -v, --host, --profile', async () => {
    const keys = await file('keys.txt', '# tenant:key\nacme:k-acme\n\nglobex: k-globex \n');
    const path = await file(
      'prec3.toml',
      `profile = "rm"\n[listener]\nhost = "::1"\n[metrics]\napi_keys_file = "${keys}"\nverbose = false\nauth = false\n`,
    );
    const { options, metrics } = await resolveServeConfig({
      argv: ['--config', path, '--profile', 'wasmrun', '--auth', '-v', '--host', 'localhost'],
      env: {},
    });
    assert.equal(options.profile, 'wasmrun');
    assert.equal(metrics.posture, 'wasmrun');
    assert.equal(options.listener && options.listener.host, 'localhost');
    assert.equal(metrics.verbose, true);
    assert.deepEqual(metrics.apiKeys, [
      { tenant: 'acme', key: 'k-acme' },
      { tenant: 'globex', key: 'k-globex' },
    ]);
  });

  it('auth = false with credentials configured is a ConfigError naming both keys, never a route served open', async () => {
    const keys = await file(
      'open.toml',
      'profile = "wasmrun"\n[metrics]\nauth = false\napi_keys = [{ tenant = "a", key = "k" }]\n',
    );
    await assert.rejects(
      resolveServeConfig({ argv: ['--config', keys], env: {} }),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.message ===
          'invalid metrics.auth=false: expected true, or no credentials: metrics.api_keys is set too, and with auth off it would be ignored and metrics served open (remove metrics.api_keys or the auth setting)',
    );
    const token = await file('open-token.toml', `[metrics]\nauth = false\ntoken = "${SECRET}"\n`);
    await assert.rejects(
      resolveServeConfig({ argv: ['--config', token], env: {} }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.match(err.message, /^invalid metrics\.auth=false: .*metrics\.token is set too/);
        assert.doesNotMatch(err.message, new RegExp(SECRET));
        return true;
      },
    );
  });

  it("metrics.posture overrides the profile's, and its env names follow", async () => {
    const path = await file('posture.toml', 'profile = "otel"\n[metrics]\nposture = "crewshipd"\n');
    const { metrics } = await resolveServeConfig({
      argv: ['--config', path],
      env: { CREWSHIP_METRICS_TOKEN: SECRET },
    });
    assert.equal(metrics.posture, 'crewshipd');
    assert.equal(metrics.token, SECRET);
  });

  it('mergeGateConfig: a higher layer setting either half of a pair drops both below', () => {
    assert.deepEqual(
      mergeGateConfig<MetricsConfig>({ token: 'a', verbose: true }, { tokenFile: '/t' }),
      {
        verbose: true,
        tokenFile: '/t',
      },
    );
    assert.deepEqual(mergeGateConfig<MetricsConfig>({ apiKeysFile: '/k' }, { apiKeys: [] }), {
      apiKeys: [],
    });
    assert.deepEqual(
      mergeGateConfig<MetricsConfig>({ trustedCidrs: ['10.0.0.0/8'] }, { trustedCidrs: [] }),
      {
        trustedCidrs: [],
      },
    );
  });
});

describe('errors after merging name the key, the file, and never a secret', () => {
  it('--auth without keys', () =>
    serveRejects(
      ['--profile', 'wasmrun', '--auth'],
      {},
      {
        key: '--auth',
        message:
          'invalid --auth=true: expected API keys or a token to check (set metrics.api_keys, metrics.api_keys_file or metrics.token)',
      },
    ));

  it('metrics.auth = true without keys names the file', async () => {
    const path = await file('auth.toml', 'profile = "wasmrun"\n[metrics]\nauth = true\n');
    await serveRejects(
      ['--config', path],
      {},
      {
        key: 'metrics.auth',
        file: path,
        message:
          'invalid metrics.auth=true: expected API keys or a token to check (set metrics.api_keys, metrics.api_keys_file or metrics.token)',
      },
    );
  });

  it('a token under a posture without a bearer gate', async () => {
    const path = await file('solti.toml', `profile = "solti"\n[metrics]\ntoken = "${SECRET}"\n`);
    await serveRejects(
      ['--config', path],
      {},
      {
        key: 'metrics.token',
        file: path,
        message:
          'invalid metrics.token=<redacted>: expected nothing under the solti posture, which checks no token (it has no gates)',
      },
    );
  });

  it('trusted CIDRs under crewshipd', async () => {
    const path = await file(
      'crew.yaml',
      'profile: crewshipd\nmetrics:\n  trusted_cidrs: ["10.0.0.0/8"]\n',
    );
    await serveRejects(
      ['--config', path],
      {},
      {
        key: 'metrics.trusted_cidrs',
        file: path,
        message:
          'invalid metrics.trusted_cidrs=["10.0.0.0/8"]: expected nothing under the crewshipd posture, which checks no client network (gates: loopback or bearer)',
      },
    );
  });

  it('a dedicated listener with gates', async () => {
    const path = await file(
      'listen.toml',
      `profile = "rm"\n[daemon]\nmetrics_listen = "[::1]:9478"\n[metrics]\ntoken = "${SECRET}"\n`,
    );
    await serveRejects(
      ['--config', path],
      {},
      {
        key: 'metrics.listen',
        file: path,
        message:
          'invalid metrics.listen=[::1]:9478: expected no token, API keys or trusted CIDRs as well (the dedicated listener is unauthenticated, loopback only)',
      },
    );
  });

  it('token_file problems: missing, empty, two tokens', async () => {
    const empty = await file('empty_token', '\n');
    const two = await file('two_tokens', `${SECRET}\n${SECRET}\n`);
    for (const [tokenFile, why] of [
      [join(temp.dir, 'missing'), 'a readable file (it does not exist)'],
      [empty, 'a file holding a token (it is empty)'],
      [two, 'a file holding one token without whitespace'],
      [temp.dir, 'a readable file (it is a directory)'],
    ] as const) {
      const path = await file(
        'tf.toml',
        `profile = "rm"\n[metrics]\ntoken_file = "${tokenFile}"\n`,
      );
      await serveRejects(
        ['--config', path],
        {},
        {
          key: 'metrics.token_file',
          file: path,
          message: `invalid metrics.token_file=${tokenFile}: expected ${why}`,
        },
      );
    }
  });

  it('api_keys_file problems name the line, not its content', async () => {
    const cases: [string, string][] = [
      [`acme:${SECRET}\n${SECRET}\n`, 'lines of tenant:key (line 2 is not)'],
      [`acme:${SECRET}\nglobex:${SECRET}\n`, 'each key once (line 2 repeats one)'],
      ['# only a comment\n', 'a file with at least one tenant:key line (it has none)'],
      [`a b:${SECRET}\n`, 'lines of tenant:key (line 1 is not)'],
    ];
    for (const [text, why] of cases) {
      const keys = await file('keys_bad.txt', text);
      const path = await file(
        'kf.toml',
        `profile = "wasmrun"\n[metrics]\napi_keys_file = "${keys}"\n`,
      );
      await serveRejects(
        ['--config', path],
        {},
        {
          key: 'metrics.api_keys_file',
          file: path,
          message: `invalid metrics.api_keys_file=${keys}: expected ${why}`,
        },
      );
    }
  });

  it('a value error in a file carries the file; describeConfigError prefixes it', async () => {
    const path = await file('bad.toml', '[metrics]\nmax_inflight_scrapes = 1.5\n');
    await assert.rejects(
      resolveServeConfig({ argv: ['--config', path], env: {} }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.equal(err.file, path);
        assert.equal(
          describeConfigError(err),
          `${path}: invalid metrics.max_inflight_scrapes=1.5: expected an integer from 0 (no limit) to 1000000`,
        );
        return true;
      },
    );
    // The library entry point attaches the file too (the preload prints it the same way).
    await assert.rejects(resolveServiceConfig({ argv: ['--config', path], env: {} }), {
      file: path,
    });
  });

  it('env and flag errors carry no file', async () => {
    const path = await file('ok.toml', 'profile = "rm"\n');
    await serveRejects(
      ['--config', path],
      { RM_TRUSTED_PROXY: 'x' },
      {
        key: 'RM_TRUSTED_PROXY',
        message:
          'invalid RM_TRUSTED_PROXY=x: expected an IP address or CIDR, e.g. 10.0.0.0/8 or ::1',
      },
    );
  });
});

describe('flags', () => {
  it('parses --host, --auth, -v / --verbose', () => {
    assert.deepEqual(parseServeFlags(['--host', '::1', '--auth', '-v']), {
      host: '::1',
      auth: true,
      verbose: true,
    });
    assert.deepEqual(parseServeFlags(['--verbose']), { verbose: true });
  });

  it('--host sets the main server host and keeps --listen :PORT', async () => {
    const { options } = await resolveServeConfig({
      argv: ['--host', '::1', '--listen', ':0'],
      env: {},
    });
    assert.deepEqual(options.listener, { host: '::1', port: 0, allowNonLoopback: false });
  });

  it('--host with a host in --listen as well, or a bad host, is refused', async () => {
    await serveRejects(
      ['--host', '::1', '--listen', '127.0.0.1:0'],
      {},
      {
        key: '--host',
        message:
          'invalid --host=::1: expected no host in --listen as well (give --listen :PORT with --host)',
      },
    );
    await serveRejects(
      ['--host', '[::1]'],
      {},
      {
        key: '--host',
        message:
          'invalid --host=[::1]: expected an IP address or host name (IPv6 without brackets)',
      },
    );
  });
});

describe('an API key listed twice', () => {
  const keys = [
    { tenant: 'a', key: 'k-1' },
    { tenant: 'b', key: 'k-1' },
  ];
  it('is refused from the file and from code alike, the key never shown', () => {
    const refused = (run: () => unknown): ConfigError => {
      try {
        run();
      } catch (err) {
        if (err instanceof ConfigError) return err;
        throw err;
      }
      assert.fail('not refused');
    };
    const file = refused(() =>
      parseServiceConfig({ ingest: { enabled: true, api_keys: keys } }, 'c.toml'),
    );
    const code = refused(() => resolveOptions({ ingest: { apiKeys: keys }, listener: false }));
    assert.equal(
      file.message,
      'invalid ingest.api_keys[1].key=<redacted>: expected a key not already listed',
    );
    assert.equal(
      code.message,
      'invalid ingest.apiKeys[1].key=<redacted>: expected a key not already listed',
    );
  });
});
