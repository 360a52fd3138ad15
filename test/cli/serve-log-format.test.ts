/**
 * `jobmeter serve --log-format json|logfmt`: every line serve writes is one record, as
 * Prometheus' `--log.format` and the Collector's `encoding` write them — `level`, `time`, `msg`,
 * then the record's details as top-level fields — read back by JSON.parse and by go-logfmt; a
 * failed push and an unusable state file at level warn, with their `error`/`path` as fields; the
 * access log a record with its request's fields; the secrets of the configuration in neither; an
 * unknown format refused with exit 2, naming the flag, the value and the formats there are.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterEach, it } from 'node:test';

import { EXIT_MS, killChildren, run, start, START_MS } from './harness.ts';
import { freePort } from '../support/free-port.ts';
import { logRecords, type LogRecord } from '../support/log-records.ts';
import { tempFiles } from '../support/temp-files.ts';

const files = tempFiles('jobmeter-log-format-');
afterEach(killChildren);

const TOKEN = 'log-format-secret-token-7f3a9c';
const TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
/** A request path with what logfmt must quote: `"`, `=` and `\`. */
const ODD_PATH = '/api/v1/metrics/"q"=x\\y';

/** A raw request (fetch would percent-encode the path); resolves once the answer is read. */
function rawGet(origin: string, path: string): Promise<string> {
  const { hostname, port } = new URL(origin);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () =>
      socket.write(`GET ${path} HTTP/1.1\r\nHost: ${hostname}\r\nConnection: close\r\n\r\n`),
    );
    let answer = '';
    socket.setEncoding('utf8').on('data', (d: string) => (answer += d));
    socket.on('end', () => resolve(answer)).on('error', reject);
  });
}

/**
 * Serve with the ingest on, its gate's token set, an unusable state file in a directory whose
 * name has quotes and a backslash, wasmrun's access log, and a push to a closed port: startup says
 * a warning naming the file, the push one naming the error; two requests, a SIGHUP and a SIGTERM
 * later, its lines read back as records.
 */
async function serveRecords(format: 'json' | 'logfmt'): Promise<{
  lines: string[];
  records: LogRecord[];
  dir: string;
  pushPort: number;
  origin: string;
}> {
  const port = await freePort();
  const pushPort = await freePort();
  const dir = join(files.dir, `${format} "q\\${port}"`);
  mkdirSync(dir);
  writeFileSync(join(dir, `ingest-127.0.0.1-${port}.state`), 'not a "state" file\n');
  const config = await files.file(
    `${format}-${port}.toml`,
    'process_metrics = false\n[listener]\nport = 0\n[metrics]\nposture = "wasmrun"\n' +
      `[otlp]\nendpoint = "http://127.0.0.1:${pushPort}/v1/metrics"\ninterval_ms = 300\ntimeout_ms = 200\n` +
      `[ingest]\nenabled = true\nport = ${port}\nstate_dir = ${JSON.stringify(dir)}\ntoken = "${TOKEN}"\n`,
  );
  const serve = start(['serve', '--config', config, '--log-format', format]);
  // The main server's address, from the serving record's url field (quoted in JSON, bare in logfmt).
  const [, origin] = await serve.stderrMatches(
    /serving metrics\b.*\burl\W+(http:\/\/[\d.]+:\d+)\//,
    START_MS,
  );
  await serve.stderrMatches(/receiving OTLP/, START_MS);
  assert.match(await rawGet(origin!, '/api/v1/metrics'), /^HTTP\/1\.1 200/);
  await rawGet(origin!, ODD_PATH);
  await serve.stderrMatches(/OTLP push: failing|OTLP push failing/, START_MS);
  // A SIGHUP's line is written through the same writer.
  serve.child.kill('SIGHUP');
  await serve.stderrMatches(/configuration re-read/, START_MS);
  serve.child.kill('SIGTERM');
  assert.equal(await serve.exited(EXIT_MS), 0, serve.stderr());
  assert.ok(!serve.stderr().includes(TOKEN), 'the token is never printed');
  const lines = serve.stderr().trimEnd().split('\n');
  return { lines, records: logRecords(format, lines), dir, pushPort, origin: origin! };
}

for (const format of ['json', 'logfmt'] as const) {
  it(
    `--log-format ${format}: every line one record, level time msg first, the details as fields; a failed push at warn with its error`,
    { timeout: 90_000 },
    async () => {
      const { lines, records, dir, pushPort, origin } = await serveRecords(format);
      const all = lines.join('\n');
      // logfmt has no types: every value compares as its text.
      const is = (value: unknown): string => String(value);
      for (const r of records) {
        assert.deepEqual(Object.keys(r).slice(0, 3), ['level', 'time', 'msg'], all);
        assert.match(is(r.time), TIME);
        assert.ok(['debug', 'info', 'warn', 'error'].includes(is(r.level)), all);
        assert.ok(!is(r.msg).startsWith('jobmeter: '), is(r.msg));
      }
      const one = (msg: RegExp): LogRecord => {
        const found = records.filter((r) => msg.test(is(r.msg)));
        assert.equal(found.length, 1, `one ${msg}:\n${all}`);
        return found[0]!;
      };
      const [version] = records;
      assert.deepEqual([version!.level, version!.msg], ['info', 'version']);
      assert.match(is(version!.version), /^\d+\.\d+\.\d+/);
      assert.match(is(version!.commit), /^(?:[0-9a-f]{40}|unknown)$/);
      assert.equal(version!.node, process.version);
      const serving = one(/^serving metrics$/);
      assert.deepEqual([serving.profile, serving.url], ['otel', `${origin}/api/v1/metrics`]);
      assert.equal(one(/^metrics route gate$/).posture, 'wasmrun');
      assert.equal(one(/^receiving OTLP\/HTTP metrics$/).level, 'info');

      const unusable = one(/^ingest state file unusable/);
      assert.equal(unusable.level, 'warn');
      assert.equal(unusable.path, join(dir, `ingest-127.0.0.1-${/(\d+)"$/.exec(dir)![1]!}.state`));
      assert.match(is(unusable.moved_to), /\.corrupt-/);

      const push = one(/^OTLP push failing/);
      assert.equal(push.level, 'warn');
      assert.equal(push.exporter, `http://127.0.0.1:${pushPort}/v1/metrics`);
      assert.equal(push.error, 'ECONNREFUSED');
      assert.equal(is(push.attempts), '1');

      const access = records.filter((r) => r.msg === 'request completed');
      assert.deepEqual(
        access.map((r) => [r.method, r.path, is(r.status), r.remote]),
        [
          ['GET', '/api/v1/metrics', '200', '127.0.0.1'],
          ['GET', ODD_PATH, '404', '127.0.0.1'],
        ],
        all,
      );
      for (const r of access) {
        assert.equal(r.level, 'info');
        assert.match(is(r.request_id), /^[0-9a-f]{16}$/);
        assert.match(is(r.duration_ms), /^\d+$/);
        assert.ok(Number(r.bytes) > 0, is(r.bytes));
      }

      const reload = one(/^configuration re-read$/);
      assert.deepEqual(
        [reload.level, reload.trigger, reload.result],
        ['info', 'SIGHUP', 'unchanged'],
      );
      const shutdown = records.at(-1)!;
      assert.ok(
        records.some((r) => r.msg === 'shutting down' && r.signal === 'SIGTERM'),
        all,
      );
      assert.notEqual(shutdown.level, 'error', all);
    },
  );
}

it(
  'an unknown --log-format exits 2 naming the flag, the value and the formats',
  { timeout: 30_000 },
  async () => {
    const { code, stderr } = await run([
      'serve',
      '--listen',
      '127.0.0.1:0',
      '--log-format',
      'yaml',
    ]);
    assert.equal(code, 2, stderr);
    assert.match(stderr, /--log-format/);
    assert.match(stderr, /yaml/);
    assert.match(stderr, /text, json or logfmt/);
  },
);

it(
  'validate --log-format json writes its error as a JSON line at level error',
  { timeout: 30_000 },
  async () => {
    const { code, stderr } = await run(['validate', '--log-format', 'json', '--listen', 'nowhere']);
    assert.equal(code, 2, stderr);
    const entry = JSON.parse(stderr.trimEnd()) as { level: string; msg: string };
    assert.equal(entry.level, 'error');
    assert.match(entry.msg, /^invalid --listen=/);
  },
);

it('a failure is at level error', { timeout: 30_000 }, async () => {
  const { code, stderr } = await run([
    'serve',
    '--log-format',
    'json',
    '--profile',
    'no-such-profile',
  ]);
  assert.equal(code, 2, stderr);
  const entries = stderr
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as { level: string; msg: string });
  assert.equal(entries.at(-1)!.level, 'error');
  assert.match(entries.at(-1)!.msg, /--profile/);
});
