/**
 * `jobmeter serve --log-format json|logfmt`: every line serve writes carries a time and a level,
 * as Prometheus' `--log.format` writes them — one JSON object a line, or `time=… level=… msg="…"`
 * — a `warning:` line at level warn; the secrets of the configuration in neither; an unknown
 * format refused with exit 2, naming the flag, the value and the formats there are.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, it } from 'node:test';

import { EXIT_MS, killChildren, run, start, START_MS } from './harness.ts';
import { freePort } from '../support/free-port.ts';
import { tempFiles } from '../support/temp-files.ts';

const files = tempFiles('jobmeter-log-format-');
afterEach(killChildren);

const TOKEN = 'log-format-secret-token-7f3a9c';
const TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
/** logfmt: time, level, and msg always quoted, `\"` and `\\` (and `\n`) escaped inside. */
const LOGFMT = /^time=(\S+) level=(info|warn|error) msg="((?:[^"\\]|\\["\\nrtbfu/])*)"$/;

/**
 * Serve with the ingest on, its gate's token set, and an unusable state file in a directory whose
 * name has quotes and a backslash: startup says a warning naming it.
 */
async function serveLines(format: string): Promise<string[]> {
  const port = await freePort();
  const dir = join(files.dir, `${format} "q\\${port}"`);
  mkdirSync(dir);
  writeFileSync(join(dir, `ingest-127.0.0.1-${port}.state`), 'not a "state" file\n');
  const config = await files.file(
    `${format}-${port}.toml`,
    `process_metrics = false\n[listener]\nport = 0\n[ingest]\nenabled = true\nport = ${port}\nstate_dir = ${JSON.stringify(dir)}\ntoken = "${TOKEN}"\n`,
  );
  const serve = start(['serve', '--config', config, '--log-format', format]);
  await serve.stderrMatches(/receiving OTLP/, START_MS);
  // A SIGHUP's line is written through the same writer.
  serve.child.kill('SIGHUP');
  await serve.stderrMatches(/configuration re-read: unchanged/, START_MS);
  serve.child.kill('SIGTERM');
  assert.equal(await serve.exited(EXIT_MS), 0, serve.stderr());
  assert.ok(!serve.stderr().includes(TOKEN), 'the token is never printed');
  return serve.stderr().trimEnd().split('\n');
}

it(
  '--log-format json writes each line as one JSON object with time, level and msg; a warning at level warn',
  { timeout: 60_000 },
  async () => {
    const lines = await serveLines('json');
    const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    for (const e of entries) {
      assert.deepEqual(Object.keys(e), ['time', 'level', 'msg']);
      assert.match(String(e.time), TIME);
      assert.ok(typeof e.msg === 'string' && !e.msg.startsWith('jobmeter: '), e.msg as string);
    }
    assert.match(String(entries[0]!.msg), /^version /);
    assert.equal(entries[0]!.level, 'info');
    const warnings = entries.filter((e) => e.level === 'warn');
    assert.equal(warnings.length, 1, lines.join('\n'));
    assert.match(
      String(warnings[0]!.msg),
      /^warning: ingest state file .*json "q\\\d+"\/.* is unusable: /,
    );
    assert.ok(entries.some((e) => /receiving OTLP/.test(String(e.msg))));
    assert.ok(
      entries.some(
        (e) => e.msg === 'SIGHUP: configuration re-read: unchanged' && e.level === 'info',
      ),
      lines.join('\n'),
    );
    assert.equal(entries.at(-1)!.level, 'info', 'the shutdown line');
  },
);

it(
  '--log-format logfmt writes time=… level=… msg="…" lines, quotes escaped',
  { timeout: 60_000 },
  async () => {
    const lines = await serveLines('logfmt');
    const parsed = lines.map((line) => {
      const m = LOGFMT.exec(line);
      assert.ok(m !== null, `not logfmt: ${line}`);
      assert.match(m[1]!, TIME);
      return { level: m[2]!, msg: JSON.parse(`"${m[3]!}"`) as string };
    });
    const warning = parsed.filter((p) => p.level === 'warn');
    assert.equal(warning.length, 1, lines.join('\n'));
    assert.match(
      warning[0]!.msg,
      /^warning: ingest state file .*logfmt "q\\\d+"\/.* is unusable: /,
    );
    assert.match(
      lines.find((l) => l.includes('level=warn'))!,
      /logfmt \\"q\\\\\d+\\"\//,
      'quotes and backslash escaped',
    );
    assert.ok(
      parsed.every((p) => p.level === 'warn' || p.level === 'info'),
      lines.join('\n'),
    );
    assert.ok(parsed.some((p) => /receiving OTLP/.test(p.msg)));
  },
);

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
