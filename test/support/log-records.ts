/**
 * serve's log lines read back as records, by the parsers their readers use: `JSON.parse` for
 * `--log-format json`, go-logfmt (test/peers/logfmt-decode, the decoder of go-kit/log and Loki)
 * for `logfmt`. Each line must be exactly one record; its keys keep their order. logfmt values are
 * strings (logfmt has no types).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';

import { logfmtDecodeBinary } from './peers.ts';

export type LogRecord = Readonly<Record<string, unknown>>;

/** Each of `lines` as one record; throws naming a line that is not one. */
export function logRecords(format: 'json' | 'logfmt', lines: readonly string[]): LogRecord[] {
  if (format === 'json')
    return lines.map((line) => {
      assert.ok(!line.includes('\n'), `one line: ${line}`);
      const record = JSON.parse(line) as unknown;
      assert.ok(typeof record === 'object' && record !== null && !Array.isArray(record), line);
      return record as LogRecord;
    });
  for (const line of lines) assert.ok(!/[\n\r]/.test(line), `one line: ${line}`);
  const out = execFileSync(logfmtDecodeBinary(), {
    input: `${lines.join('\n')}\n`,
    encoding: 'utf8',
  });
  const decoded = out
    .trimEnd()
    .split('\n')
    .filter((l) => l !== '');
  assert.equal(decoded.length, lines.length, out);
  return decoded.map((json, i) => {
    const pairs = JSON.parse(json) as [string, string][];
    const record = Object.fromEntries(pairs);
    assert.equal(Object.keys(record).length, pairs.length, `no key twice: ${lines[i]!}`);
    return record;
  });
}
