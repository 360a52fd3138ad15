/**
 * `jobmeter validate` (what `otelcol validate` and `promtool check config` are to
 * their tools). For every file below it answers what `serve` answers for the same file: the same
 * stderr and exit 2 for a bad one; for a good one "configuration OK" and exit 0, binding nothing
 * (the file's fixed port is taken by this test while validate runs).
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { after, afterEach, before, describe, it } from 'node:test';

import { killChildren, run } from './harness.ts';
import { tempFiles } from '../support/temp-files.ts';

const files = tempFiles('jobmeter-validate-');
afterEach(killChildren);

/** serve's stderr without its first line (its version: serve-version.test.ts), which validate does not print. */
const withoutVersion = (stderr: string): string => stderr.replace(/^jobmeter: version .*\n/, '');

const BAD: Record<string, string> = {
  'bad value': '[listener]\nport = 70000\n',
  'misspelled secret key': '[metrics]\ntokne = "SUPERSECRET1"\n',
  'unknown section': '[listner]\nport = 1\n',
  'non-loopback without the opt-in': '[listener]\nhost = "0.0.0.0"\n',
  'profile naming with delta push':
    '[otlp]\nendpoint = "http://127.0.0.1:9/v1/metrics"\nnaming = "profile"\ntemporality = "delta"\n',
  'bad TOML': '[listener\nport = 1\n',
  'service name given twice, two values':
    'service_name = "billing"\n[resource_attributes]\n"service.name" = "payments"\n',
};

describe("jobmeter validate: a bad file gets serve's own messages and exit 2", () => {
  for (const [name, text] of Object.entries(BAD)) {
    it(name, async () => {
      const path = await files.file(`${name.replace(/\W+/g, '-')}.toml`, text);
      const served = await run(['serve', '--config', path]);
      const validated = await run(['validate', '--config', path]);
      assert.equal(served.code, 2, served.stderr);
      assert.equal(validated.code, 2);
      assert.notEqual(validated.stderr, '');
      assert.equal(validated.stderr, withoutVersion(served.stderr));
      assert.equal(validated.stdout, '');
    });
  }

  it('a missing file and a bad flag too', async () => {
    for (const args of [
      ['--config', '/nonexistent/jobmeter.toml'],
      ['--port', '1'],
    ]) {
      const served = await run(['serve', ...args]);
      const validated = await run(['validate', ...args]);
      assert.equal(validated.code, 2);
      assert.equal(validated.stderr, served.stderr);
    }
  });
});

describe('jobmeter validate: a good file', () => {
  let held: Server;
  let port: number;
  before(async () => {
    held = createServer();
    await new Promise<void>((resolve) => held.listen(0, '127.0.0.1', resolve));
    port = (held.address() as { port: number }).port;
  });
  after(() => new Promise<void>((resolve) => held.close(() => resolve())));

  it('exits 0 with one line on stdout, binding, pushing and receiving nothing', async () => {
    // Every address is one this test holds or nobody listens on: serve would fail to bind.
    const text = [
      'profile = "otel"',
      '[listener]',
      `port = ${port}`,
      '[metrics]',
      `listen = "127.0.0.1:${port}"`,
      '[ingest]',
      'enabled = true',
      `port = ${port}`,
      '[otlp]',
      'endpoint = "http://127.0.0.1:9/v1/metrics"',
      '',
    ].join('\n');
    const path = await files.file('good.toml', text);
    const validated = await run(['validate', '--config', path]);
    assert.equal(validated.stderr, '');
    assert.equal(validated.stdout, `jobmeter: ${path}: configuration OK\n`);
    assert.equal(validated.code, 0);
    const served = await run(['serve', '--config', path]);
    assert.equal(served.code, 1, 'serve itself fails to bind the held port');
  });

  it('without --config: the defaults, environment and flags', async () => {
    const ok = await run(['validate', '--profile', 'otel']);
    assert.deepEqual([ok.code, ok.stdout], [0, 'jobmeter: configuration OK\n']);
    const bad = await run(['validate'], { OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url' });
    const served = await run(['serve'], { OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url' });
    assert.equal(bad.code, 2);
    assert.equal(bad.stderr, served.stderr);
  });
});
