/**
 * SIGHUP re-reads the configuration and never stops `jobmeter serve` (Node's default would kill it,
 * exit 129, with no flush). Here, with a child process: an unchanged file; a
 * rotated token file (applied at once: the new token in force, the old one refused) with other
 * changes (named as taking effect at restart, no value printed); a broken file (serve's message,
 * the running configuration kept). serve keeps answering throughout and exits 0 on SIGTERM.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { afterEach, it } from 'node:test';

import { EXIT_MS, killChildren, start, START_MS } from './harness.ts';
import { tempFiles } from '../support/temp-files.ts';

const files = tempFiles('jobmeter-sighup-');
afterEach(killChildren);

it(
  'SIGHUP re-reads the configuration, rotates the token live, names what waits for a restart, keeps a broken file out, never exits',
  { timeout: 120_000 },
  async () => {
    const tokenFile = await files.file('token', 'FIRSTSECRET\n');
    const config = (port: number | string, extra = ''): string =>
      [
        'profile = "otel"',
        '[listener]',
        `port = ${port}`,
        '[metrics]',
        `token_file = "${tokenFile}"`,
        extra,
        '',
      ].join('\n');
    const path = await files.file('jobmeter.toml', config(0));
    const child = start(['serve', '--config', path]);
    const [, url] = await child.stderrMatches(/serving otel metrics on (http:\/\/\S+)\n/, START_MS);
    const scrape = async (token: string): Promise<number> =>
      (await fetch(url!, { headers: { authorization: `Bearer ${token}` } })).status;
    assert.equal(await scrape('FIRSTSECRET'), 200);

    let seen = 0;
    /** The next `SIGHUP:` line after a SIGHUP. */
    const hangup = async (): Promise<string> => {
      child.child.kill('SIGHUP');
      seen++;
      const pattern = new RegExp(`(?:^jobmeter: SIGHUP: .*\\n[^]*?){${seen}}`, 'm');
      await child.stderrMatches(pattern, START_MS);
      const lines = child
        .stderr()
        .split('\n')
        .filter((l) => l.startsWith('jobmeter: SIGHUP: '));
      return lines[seen - 1]!;
    };

    assert.equal(await hangup(), 'jobmeter: SIGHUP: configuration re-read: unchanged');
    assert.equal(await scrape('FIRSTSECRET'), 200);

    // A rotated token is applied at once; the port, the access log and the push interval wait for a
    // restart. Each key is named as the config file spells it.
    await writeFile(path, config(9999, 'access_log = true\n[otlp]\ninterval_ms = 45000'));
    await writeFile(tokenFile, 'SECONDSECRET\n');
    assert.equal(
      await hangup(),
      'jobmeter: SIGHUP: configuration re-read; applied now: [metrics] token; take effect at restart: [listener] port, [metrics] access_log, [otlp] interval_ms',
    );
    assert.equal(await scrape('SECONDSECRET'), 200, 'the new token is in force');
    assert.equal(await scrape('FIRSTSECRET'), 401, 'the old one no longer is');
    assert.doesNotMatch(
      child.stderr(),
      /method=GET|GET \/metrics/,
      'the access log stays off until a restart',
    );

    // Unchanged since: only the keys still waiting for a restart are named.
    assert.equal(
      await hangup(),
      'jobmeter: SIGHUP: configuration re-read; take effect at restart: [listener] port, [metrics] access_log, [otlp] interval_ms',
    );

    await writeFile(path, config('"nine"'));
    assert.equal(
      await hangup(),
      `jobmeter: SIGHUP: configuration not reloaded, the running one is kept: ${path}: invalid listener.port=nine: expected an integer from 0 to 65535 (got a string)`,
    );
    assert.equal(await scrape('SECONDSECRET'), 200);

    assert.doesNotMatch(child.stderr(), /FIRSTSECRET|SECONDSECRET/);
    child.child.kill('SIGTERM');
    assert.equal(await child.exited(EXIT_MS), 0, child.stderr());
  },
);
