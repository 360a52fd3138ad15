/**
 * common/log.ts: one record is one line in each format, `level`, `time` and `msg` first and the
 * fields as top-level keys, whatever a value holds (quotes, backslashes, `=`, line breaks, line
 * separators), as JSON.parse and go-logfmt read them back; a host's line writer gets the sentence,
 * a host's logger (pino itself) gets the fields and the message at the record's level.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { pino } from 'pino';

import {
  formatRecord,
  isLevelLogger,
  lineLogger,
  logTo,
  type LogFields,
} from '../../src/common/log.ts';
import { createJobmeter } from '../../src/index.ts';
import { logRecords } from '../support/log-records.ts';
import { freePort } from '../support/free-port.ts';

const NASTY = {
  exporter: 'http://127.0.0.1:1/v1/metrics',
  error: 'said "no" \\ then=quit\nsecond line\r\u2028\u2029 and\ttab',
  path: '/a b/"q"=x',
  empty: '',
  unicode: 'café ✓',
  attempts: 3,
  ok: false,
  unset: undefined,
} satisfies LogFields;
const TIME = Date.parse('2026-11-25T02:30:00.123Z');

for (const format of ['json', 'logfmt'] as const) {
  test(`${format}: one line, level time msg then the fields as top-level keys, every value read back`, () => {
    const line = formatRecord(format, 'warn', 'OTLP push "failing"=x', NASTY, TIME);
    assert.ok(!/[\n\r\u2028\u2029]/.test(line), line);
    const [record] = logRecords(format, [line]);
    const { unset: _, ...defined } = NASTY;
    const expected = {
      level: 'warn',
      time: '2026-11-25T02:30:00.123Z',
      msg: 'OTLP push "failing"=x',
      ...defined,
    };
    assert.deepEqual(Object.keys(record!), Object.keys(expected));
    const typed =
      format === 'json'
        ? expected
        : Object.fromEntries(Object.entries(expected).map(([k, v]) => [k, String(v)]));
    assert.deepEqual(record, typed);
  });
}

test('logfmt writes plain tokens bare and quotes what needs it', () => {
  const line = formatRecord(
    'logfmt',
    'info',
    'configuration re-read',
    { trigger: 'SIGHUP', n: 2, empty: '', eq: 'a=b' },
    TIME,
  );
  assert.equal(
    line,
    'level=info time=2026-11-25T02:30:00.123Z msg="configuration re-read" trigger=SIGHUP n=2 empty="" eq="a=b"',
  );
});

test("a line writer gets the record's sentence (its msg without one); a level logger its fields and msg", () => {
  const lines: string[] = [];
  const toLines = logTo((line) => lines.push(line));
  toLines(
    'warn',
    'OTLP push failing',
    { error: 'ECONNREFUSED' },
    'OTLP push to x failing (ECONNREFUSED)',
  );
  toLines('info', 'shutting down');
  assert.deepEqual(lines, ['OTLP push to x failing (ECONNREFUSED)', 'shutting down']);

  const calls: unknown[] = [];
  const logger = {
    debug: (f: LogFields, m: string) => calls.push(['debug', f, m]),
    info: (f: LogFields, m: string) => calls.push(['info', f, m]),
    warn: (f: LogFields, m: string) => calls.push(['warn', f, m]),
    error: (f: LogFields, m: string) => calls.push(['error', f, m]),
  };
  assert.ok(isLevelLogger(logger));
  assert.ok(!isLevelLogger({ info() {} }));
  logTo(logger)(
    'warn',
    'OTLP push failing',
    { error: 'ECONNREFUSED', gone: undefined },
    'the sentence',
  );
  assert.deepEqual(calls, [['warn', { error: 'ECONNREFUSED' }, 'OTLP push failing']]);
});

test('lineLogger stamps each record with its clock', () => {
  const lines: string[] = [];
  lineLogger(
    'json',
    (l) => lines.push(l),
    () => TIME,
  ).error({ code: 7 }, 'boom');
  assert.equal(
    lines[0],
    '{"level":"error","time":"2026-11-25T02:30:00.123Z","msg":"boom","code":7}',
  );
});

test('createJobmeter refuses a log that is neither a line writer nor a logger, naming what it takes', async () => {
  await assert.rejects(
    createJobmeter({ listener: false, global: false, log: { info() {} } as never }),
    /log.*a function taking a line, or a logger with debug, info, warn and error methods/s,
  );
});

test("pino as the host's log: a push to a closed port is one warn record with the exporter, the error and the attempts as fields", async () => {
  const port = await freePort();
  const records: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n'))
        if (line !== '') records.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const jm = await createJobmeter({
    listener: false,
    global: false,
    log: pino({ base: undefined }, sink),
    otlp: {
      endpoint: `http://127.0.0.1:${port}/v1/metrics`,
      intervalMillis: 200,
      timeoutMillis: 150,
    },
  });
  try {
    const deadline = Date.now() + 20_000;
    while (
      !records.some(
        (r) =>
          r.msg ===
          'OTLP push failing: retrying, nothing is queued, the pull endpoint is unaffected',
      ) &&
      Date.now() < deadline
    )
      await new Promise((r) => setTimeout(r, 50));
  } finally {
    await jm.shutdown();
  }
  const failing = records.find((r) => String(r.msg).startsWith('OTLP push failing'));
  assert.ok(failing !== undefined, JSON.stringify(records));
  assert.equal(failing.level, pino.levels.values.warn);
  assert.equal(failing.exporter, `http://127.0.0.1:${port}/v1/metrics`);
  assert.equal(failing.error, 'ECONNREFUSED');
  assert.equal(failing.attempts, 1);
});
