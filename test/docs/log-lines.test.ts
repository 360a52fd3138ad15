/**
 * The lines the docs quote are the lines `jobmeter` prints: each quote is read from its page and
 * compared with what the real CLI writes when provoked, so a page cannot drift from the code
 * silently. A quote's example values (a file path, a port, a count) are swapped for the run's own
 * before comparing; every other character must match.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, test } from 'node:test';

import { killChildren, run, start, START_MS } from '../cli/harness.ts';
import { logRecords } from '../support/log-records.ts';

afterEach(killChildren);

const dir = mkdtempSync(join(tmpdir(), 'jobmeter-log-lines-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const page = (path: string): string =>
  readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

/** The one line of `path` (a code block's line, trimmed) that starts with `start`. */
function quotedLine(path: string, start: string): string {
  const lines = page(path)
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith(start));
  assert.equal(lines.length, 1, `${path}: one line starting ${start}`);
  return lines[0] ?? '';
}

/** The one inline quote (`…`) of `path` that starts with `start`. */
function quotedSpan(path: string, start: string): string {
  const parts = page(path)
    .replace(/\s*\n\s*/g, ' ')
    .split(`\`${start}`);
  assert.equal(parts.length, 2, `${path}: one quote starting ${start}`);
  return start + (parts[1] ?? '').slice(0, (parts[1] ?? '').indexOf('`'));
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * A whole printed line matching `quote`, where each `[example, pattern]` replaces the example
 * text in the quote by a regular expression for the run's value.
 */
function lineLike(quote: string, examples: readonly (readonly [string, string])[] = []): RegExp {
  let source = escape(quote);
  for (const [example, pattern] of examples) {
    const at = escape(example);
    assert.ok(source.includes(at), `the quote ${quote} holds the example ${example}`);
    source = source.split(at).join(pattern);
  }
  return new RegExp(`^${source}$`, 'm');
}

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

test('the configuration errors docs/serve.md and docs/postures.md quote are the ones printed', async () => {
  const cases: {
    quote: string;
    examples: [string, string][];
    args: string[];
    env?: Record<string, string>;
  }[] = [];
  const port = file('jobmeter.toml', '[listener]\nport = 70000\n');
  cases.push({
    quote: quotedSpan('docs/serve.md', 'jobmeter: jobmeter.toml: invalid listener.port='),
    examples: [['jobmeter.toml', escape(port)]],
    args: ['serve', '--config', port],
  });
  const rm = file('rm.yaml', 'metrics_trusted_cidrs:\n  - 10.0.0.0/33\n');
  cases.push({
    quote: quotedLine('docs/postures.md', 'jobmeter: /etc/jobmeter/rm.yaml: invalid'),
    examples: [['/etc/jobmeter/rm.yaml', escape(rm)]],
    args: ['serve', '--profile', 'rm', '--config', rm],
  });
  const runwisp = file('runwisp.toml', '[daemon]\nmetrics_enable = true\n');
  cases.push({
    quote: quotedLine('docs/postures.md', 'jobmeter: /etc/jobmeter/runwisp.toml: invalid'),
    examples: [['/etc/jobmeter/runwisp.toml', escape(runwisp)]],
    args: ['serve', '--profile', 'runwisp', '--config', runwisp],
  });
  cases.push({
    quote: quotedLine('docs/postures.md', 'jobmeter: invalid CREWSHIP_METRICS_TOKEN='),
    examples: [],
    args: ['serve', '--profile', 'crewshipd'],
    env: { CREWSHIP_METRICS_TOKEN: 'two words' },
  });
  for (const c of cases) {
    const r = await run(c.args, c.env);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, lineLike(c.quote, c.examples));
  }
});

test("serve's startup, opt-out and push-failure lines in docs/collector.md are the ones printed", async () => {
  const config = file(
    'serve.toml',
    '[listener]\nport = 0\n' +
      '[otlp]\nendpoint = "http://127.0.0.1:1/v1/metrics"\ninterval_ms = 500\ntimeout_ms = 400\n' +
      '[ingest]\nenabled = true\nport = 0\nstate_dir = false\n',
  );
  const failing = quotedLine(
    'docs/collector.md',
    'jobmeter: OTLP push to http://127.0.0.1:4318/v1/metrics failing',
  );
  const pushLine = lineLike(failing, [
    ['127.0.0.1:4318', '127\\.0\\.0\\.1:1'],
    ['60 s', '500 ms'],
  ]);
  const serve = start(['serve', '--config', config]);
  await serve.stderrMatches(pushLine, START_MS);
  const stderr = serve.stderr();
  const version = quotedSpan('docs/collector.md', 'jobmeter: version ');
  assert.match(
    stderr.split('\n')[0] ?? '',
    lineLike(version, [
      ['v24.x.y', 'v\\d+\\.\\d+\\.\\d+'],
      ['<git commit>', '(?:[0-9a-f]{40}|unknown)'],
    ]),
  );
  const notKept = quotedLine('docs/collector.md', 'jobmeter: ingest state not kept');
  assert.match(stderr, lineLike(notKept));
  const open = quotedSpan('docs/collector.md', 'ingest gate: open');
  assert.match(stderr, lineLike(`jobmeter: ${open}`));

  const ok = quotedSpan('docs/collector.md', 'jobmeter: FILE: configuration OK');
  const validate = await run(['validate', '--config', config]);
  assert.equal(validate.code, 0, validate.stderr);
  assert.match(validate.stdout, lineLike(ok, [['FILE', escape(config)]]));
});

test('the ingest gate lines docs/collector.md quotes are the ones serve prints: a token and networks, API keys', async () => {
  const token = file('ingest-token', 'ingest-secret-token\n');
  const examples: [string, string][] = [['127.0.0.1:4318', '127\\.0\\.0\\.1:\\d+']];
  const receiving = quotedLine('docs/collector.md', 'jobmeter: receiving OTLP/HTTP metrics on ');
  const gated = quotedLine('docs/collector.md', 'jobmeter: ingest gate: ');
  const ingest = (keys: string): string =>
    file(
      `ingest-${keys.length}.toml`,
      `[listener]\nport = 0\n[ingest]\nenabled = true\nport = 0\nstate_dir = false\n${keys}`,
    );
  const withToken = start([
    'serve',
    '--config',
    ingest(
      `token_file = ${JSON.stringify(token)}\ntrusted_cidrs = ["127.0.0.1/32", "10.0.0.0/8"]\n`,
    ),
  ]);
  await withToken.stderrMatches(lineLike(gated), START_MS);
  assert.match(withToken.stderr(), lineLike(`${receiving}\n${gated}`, examples));
  withToken.child.kill('SIGKILL');

  const keys = quotedSpan('docs/collector.md', 'API key (');
  const withKeys = start([
    'serve',
    '--config',
    ingest(
      'api_keys = [{ tenant = "a", key = "key-one" }, { tenant = "b", key = "key-two" }, ' +
        '{ tenant = "c", key = "key-three" }]\n',
    ),
  ]);
  await withKeys.stderrMatches(lineLike(`jobmeter: ingest gate: ${keys}`), START_MS);
  assert.doesNotMatch(
    withToken.stderr() + withKeys.stderr(),
    /ingest-secret-token|key-(one|two|three)/,
  );
});

test("wasmrun's startup lines docs/postures.md quotes are the ones serve prints: API keys named as such", async () => {
  const keysFile = file('api-keys', 'prometheus:3f9c0123456789abcdef\n');
  const config = file(
    'wasmrun.toml',
    `profile = "wasmrun"\n[metrics]\napi_keys_file = "${keysFile}"\n`,
  );
  const serving = quotedLine('docs/postures.md', 'jobmeter: serving wasmrun metrics on ');
  const posture = quotedLine('docs/postures.md', 'jobmeter: wasmrun posture: ');
  const serve = start(['serve', '--config', config, '--listen', '127.0.0.1:0', '--auth']);
  await serve.stderrMatches(lineLike(posture), START_MS);
  assert.match(
    serve.stderr(),
    lineLike(`${serving}\n${posture}`, [['127.0.0.1:9464', '127\\.0\\.0\\.1:\\d+']]),
  );
  assert.doesNotMatch(serve.stderr(), /3f9c0123456789abcdef/);
});

test('the SIGHUP lines and the /ready reason docs/collector.md quote are the ones serve gives', async () => {
  const token = file('token', 'first-token\n');
  const text = (extra: string): string =>
    '[listener]\nport = 0\n' +
    `[metrics]\ntoken_file = ${JSON.stringify(token)}\n` +
    '[otlp]\nendpoint = "http://127.0.0.1:1/v1/metrics"\n' +
    `interval_ms = 300\ntimeout_ms = 200\n${extra}`;
  const config = file('reload.toml', text(''));
  const serve = start(['serve', '--config', config]);
  const serving = await serve.stderrMatches(
    /serving otel metrics on (http:\S+)\/metrics$/m,
    START_MS,
  );
  const reloads = (): number => serve.stderr().split('SIGHUP: configuration re-read').length - 1;
  const hangUp = async (): Promise<string> => {
    const before = reloads();
    serve.child.kill('SIGHUP');
    await serve.stderrMatches(
      new RegExp(`(SIGHUP: configuration re-read[^\\n]*\\n[^]*){${before + 1}}`),
      START_MS,
    );
    return (
      serve
        .stderr()
        .split('\n')
        .filter((l) => l.includes('SIGHUP: configuration re-read'))
        .at(-1) ?? ''
    );
  };

  const section = 'docs/collector.md';
  assert.ok((await hangUp()).endsWith(quotedSpan(section, 'configuration re-read: unchanged')));
  writeFileSync(token, 'second-token\n');
  assert.ok((await hangUp()).endsWith(quotedSpan(section, 'applied now: [metrics] token')));
  const restart = quotedSpan(section, '[otlp] interval_ms');
  writeFileSync(config, text('').replace('interval_ms = 300', 'interval_ms = 400'));
  assert.ok((await hangUp()).endsWith(`take effect at restart: ${restart}`));

  // Three failed exports in a row: /ready names the push, in the words the table quotes.
  const reason = quotedSpan(section, 'OTLP push failing: the last N exports failed');
  const ready = lineLike(`not ready: ${reason}`, [['N', '\\d+']]);
  const deadline = Date.now() + START_MS;
  let body = '';
  while (!ready.test(body) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    const res = await fetch(`${serving[1]}/ready`);
    body = await res.text();
    if (ready.test(body)) assert.equal(res.status, 503);
  }
  assert.match(body, ready);
});

test('every line serve writes is a record as the --log-format samples of docs/collector.md, the push state record equal to theirs', async () => {
  const config = file(
    'formats.toml',
    '[listener]\nport = 0\n' +
      '[otlp]\nendpoint = "http://127.0.0.1:1/v1/metrics"\ninterval_ms = 300\ntimeout_ms = 200\n',
  );
  const time = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
  const samples = {
    json: logRecords('json', [quotedSpan('docs/collector.md', '{"level":')])[0]!,
    logfmt: logRecords('logfmt', [quotedSpan('docs/collector.md', 'level=warn time=')])[0]!,
  };
  for (const format of ['json', 'logfmt'] as const) {
    const sample = samples[format];
    const serve = start(['serve', '--config', config, '--log-format', format]);
    await serve.stderrMatches(/OTLP push failing/, START_MS);
    serve.child.kill('SIGKILL');
    const lines = serve.stderr().trimEnd().split('\n');
    assert.ok(lines.length >= 3, serve.stderr());
    const records = logRecords(format, lines);
    for (const r of records) {
      assert.deepEqual(
        Object.keys(r).slice(0, 3),
        Object.keys(sample).slice(0, 3),
        `${format}: ${JSON.stringify(r)}`,
      );
      assert.match(String(r.time), time);
      assert.ok(
        ['info', 'warn', 'error'].includes(String(r.level)),
        `${format}: ${JSON.stringify(r)}`,
      );
    }
    const push = records.find((r) => r.msg === sample.msg);
    assert.ok(push !== undefined, serve.stderr());
    // The sample's values but the run's time, Collector and interval.
    const run =
      format === 'json'
        ? { exporter: 'http://127.0.0.1:1/v1/metrics', interval_ms: 300 }
        : { exporter: 'http://127.0.0.1:1/v1/metrics', interval_ms: '300' };
    assert.deepEqual(push, { ...sample, time: push.time, ...run });
  }
});

test("the push's failing and recovered lines docs/collector.md quotes are the ones serve prints", async () => {
  const collector: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end());
  });
  await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
  const address = collector.address();
  assert.ok(address !== null && typeof address === 'object');
  // The port is free while the push fails, then taken by a Collector that accepts everything.
  await new Promise<void>((resolve) => collector.close(() => resolve()));
  const config = file(
    'outage.toml',
    '[listener]\nport = 0\n' +
      `[otlp]\nendpoint = "http://127.0.0.1:${address.port}/v1/metrics"\n` +
      'interval_ms = 300\ntimeout_ms = 200\n',
  );
  const examples: [string, string][] = [['127.0.0.1:4318', `127\\.0\\.0\\.1:${address.port}`]];
  const failing = quotedLine(
    'docs/collector.md',
    'jobmeter: OTLP push to http://127.0.0.1:4318/v1/metrics failing',
  );
  const recovered = quotedLine(
    'docs/collector.md',
    'jobmeter: OTLP push to http://127.0.0.1:4318/v1/metrics recovered',
  );
  const serve = start(['serve', '--config', config]);
  await serve.stderrMatches(lineLike(failing, [...examples, ['60 s', '300 ms']]), START_MS);
  await new Promise<void>((resolve) => collector.listen(address.port, '127.0.0.1', resolve));
  try {
    await serve.stderrMatches(
      lineLike(recovered, [...examples, ['12 failed exports', '\\d+ failed exports?']]),
      START_MS,
    );
  } finally {
    collector.closeAllConnections();
    await new Promise<void>((resolve) => collector.close(() => resolve()));
  }
});

test('the unusable state file line docs/collector.md quotes is the one serve prints', async () => {
  // A free port for the ingest listener, so the state file's name is known before serve starts.
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const address = probe.address();
  assert.ok(address !== null && typeof address === 'object');
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const stateDir = join(dir, 'state');
  mkdirSync(stateDir, { mode: 0o700 });
  const path = join(stateDir, `ingest-127.0.0.1-${address.port}.state`);
  // A well-formed header whose checksum is not its payload's.
  writeFileSync(path, `jobmeter-state ingest v1 sha256:${'0'.repeat(64)} 2\n{}`, { mode: 0o600 });
  const config = file(
    'state.toml',
    '[listener]\nport = 0\n' +
      `[ingest]\nenabled = true\nport = ${address.port}\nstate_dir = ${JSON.stringify(stateDir)}\n`,
  );
  const doc = '/var/lib/jobmeter/ingest-127.0.0.1-4318.state';
  const quote = quotedLine(
    'docs/collector.md',
    `jobmeter: warning: ingest state file ${doc} is unusable`,
  );
  const serve = start(['serve', '--config', config]);
  await serve.stderrMatches(
    lineLike(quote, [
      [`${doc}.corrupt-2025-06-01T08-00-00.000Z`, `${escape(path)}\\.corrupt-[0-9T:.Z-]+`],
      [doc, escape(path)],
    ]),
    START_MS,
  );
});

test("the ingest's clock lines docs/collector.md quotes are the ones serve prints: every point refused for its time, then one accepted", async () => {
  const config = file(
    'clock.toml',
    '[listener]\nport = 0\n[ingest]\nenabled = true\nport = 0\nstate_dir = false\n',
  );
  const refusing = quotedLine(
    'docs/collector.md',
    'jobmeter: warning: ingest refusing every point for its time',
  );
  const accepting = quotedLine('docs/collector.md', 'jobmeter: ingest accepting points again');
  const serve = start(['serve', '--config', config]);
  const [, port] = await serve.stderrMatches(
    /receiving OTLP\/HTTP metrics on http:\/\/127\.0\.0\.1:(\d+)\/v1\/metrics/,
    START_MS,
  );
  // A lone sender whose clock is 30 minutes ahead refuses alike as a serve 30 minutes behind.
  const push = async (aheadSeconds: number, points: number): Promise<void> => {
    const time = String(BigInt(Date.now() + aheadSeconds * 1000) * 1_000_000n);
    const res = await fetch(`http://127.0.0.1:${port}/v1/metrics`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        resourceMetrics: [
          {
            scopeMetrics: [
              {
                metrics: Array.from({ length: points }, (_, i) => ({
                  name: `g${i}`,
                  gauge: { dataPoints: [{ asDouble: 1, timeUnixNano: time }] },
                })),
              },
            ],
          },
        ],
      }),
    });
    assert.equal(res.status, 200, await res.text());
  };
  await push(1800, 6);
  await serve.stderrMatches(lineLike(refusing, [['+1800 s,', '\\+18\\d\\d s,']]), START_MS);
  await push(0, 1);
  await serve.stderrMatches(
    lineLike(accepting, [
      ['340', '6'],
      ['95 s', '\\d+ s'],
    ]),
    START_MS,
  );
});
