/**
 * SIGHUP rotates the ingest gate's credentials live, as it rotates the metrics route's: a new
 * `[ingest] token_file` content is in force at once and the old token is refused; the SIGHUP line
 * names the key, never the value. Taking the last credential out keeps the running gate until a
 * restart (the gate never opens live) and the line says so. API keys (`api_keys_file`) rotate the
 * same way. A child serve, its ingest posted to.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { afterEach, it } from 'node:test';

import { EXIT_MS, killChildren, start, START_MS } from './harness.ts';
import { tempFiles } from '../support/temp-files.ts';

const files = tempFiles('jobmeter-sighup-ingest-');
afterEach(killChildren);

const BODY = JSON.stringify({ resourceMetrics: [] });

it(
  'SIGHUP rotates the ingest token live and keeps the gate when the token is taken out',
  { timeout: 120_000 },
  async () => {
    const tokenFile = await files.file('ingest-token', 'FIRSTINGEST\n');
    const config = (withToken: boolean): string =>
      [
        'profile = "otel"',
        '[listener]',
        'port = 0',
        '[ingest]',
        'enabled = true',
        'port = 0',
        ...(withToken ? [`token_file = "${tokenFile}"`] : []),
        '',
      ].join('\n');
    const path = await files.file('jobmeter.toml', config(true));
    const child = start(['serve', '--config', path]);
    const [, url] = await child.stderrMatches(
      /receiving OTLP\/HTTP metrics on (http:\/\/\S+)\n/,
      START_MS,
    );
    const post = async (token?: string): Promise<number> => {
      const res = await fetch(url!, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(token !== undefined && { authorization: `Bearer ${token}` }),
        },
        body: BODY,
      });
      await res.arrayBuffer();
      return res.status;
    };
    const hangup = async (n: number): Promise<string> => {
      child.child.kill('SIGHUP');
      const lines = await child.stderrMatches(
        new RegExp(`^(?:jobmeter: SIGHUP: .*\\n){${n}}`, 'm'),
        START_MS,
      );
      return lines[0].trim().split('\n').at(-1)!;
    };
    assert.deepEqual([await post(), await post('FIRSTINGEST')], [401, 200]);

    await writeFile(tokenFile, 'SECONDINGEST\n');
    assert.equal(
      await hangup(1),
      'jobmeter: SIGHUP: configuration re-read; applied now: [ingest] token',
    );
    assert.deepEqual(
      [await post('SECONDINGEST'), await post('FIRSTINGEST'), await post()],
      [200, 401, 401],
    );

    await writeFile(path, config(false));
    assert.equal(
      await hangup(2),
      'jobmeter: SIGHUP: configuration re-read; [ingest] token removed: takes effect at restart',
    );
    assert.deepEqual(
      [await post(), await post('SECONDINGEST')],
      [401, 200],
      'the gate stays until a restart',
    );

    assert.doesNotMatch(child.stderr(), /FIRSTINGEST|SECONDINGEST/);
    child.child.kill('SIGTERM');
    assert.equal(await child.exited(EXIT_MS), 0, child.stderr());
  },
);

it(
  'SIGHUP rotates the ingest API keys live: a key taken out of api_keys_file is refused, a new one accepted',
  { timeout: 120_000 },
  async () => {
    const keysFile = await files.file('ingest-keys', 'billing:FIRSTKEY\nops:STAYINGKEY\n');
    const path = await files.file(
      'keys.toml',
      [
        'profile = "otel"',
        '[listener]',
        'port = 0',
        '[ingest]',
        'enabled = true',
        'port = 0',
        'state_dir = false',
        `api_keys_file = "${keysFile}"`,
        '',
      ].join('\n'),
    );
    const child = start(['serve', '--config', path]);
    const [, url] = await child.stderrMatches(
      /receiving OTLP\/HTTP metrics on (http:\/\/\S+)\n/,
      START_MS,
    );
    const post = async (key?: string): Promise<number> => {
      const res = await fetch(url!, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(key !== undefined && { authorization: `Bearer ${key}` }),
        },
        body: BODY,
      });
      await res.arrayBuffer();
      return res.status;
    };
    assert.deepEqual(
      [await post(), await post('FIRSTKEY'), await post('STAYINGKEY'), await post('NEWKEY')],
      [401, 200, 200, 401],
    );

    await writeFile(keysFile, 'ops:STAYINGKEY\nbilling:NEWKEY\n');
    child.child.kill('SIGHUP');
    await child.stderrMatches(
      /^jobmeter: SIGHUP: configuration re-read; applied now: \[ingest\] api_keys$/m,
      START_MS,
    );
    assert.deepEqual(
      [await post('NEWKEY'), await post('STAYINGKEY'), await post('FIRSTKEY'), await post()],
      [200, 200, 401, 401],
    );

    assert.doesNotMatch(child.stderr(), /FIRSTKEY|STAYINGKEY|NEWKEY/);
    child.child.kill('SIGTERM');
    assert.equal(await child.exited(EXIT_MS), 0, child.stderr());
  },
);
