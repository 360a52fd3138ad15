/**
 * Issue 26 item 8: SIGHUP re-reads the configuration and never stops `jobmeter serve`. Before,
 * SIGHUP killed serve (exit 129) with no flush. Here, with a child process: an unchanged file, a
 * changed one (the changed keys named, no value), a broken one (serve's message, running
 * configuration kept), a changed secret file (named, never printed); serve keeps answering
 * throughout and exits 0 on SIGTERM.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { afterEach, it } from 'node:test';

import { EXIT_MS, killChildren, start, START_MS } from './harness.ts';
import { tempFiles } from '../support/temp-files.ts';

const files = tempFiles('jobmeter-sighup-');
afterEach(killChildren);

it('SIGHUP re-reads the configuration, names what changed, keeps a broken file out, never exits', { timeout: 120_000 }, async () => {
  const tokenFile = await files.file('token', 'FIRSTSECRET\n');
  const config = (port: number | string, extra = ''): string =>
    ['profile = "otel"', '[listener]', `port = ${port}`, '[metrics]', `token_file = "${tokenFile}"`, extra, ''].join('\n');
  const path = await files.file('jobmeter.toml', config(0));
  const child = start(['serve', '--config', path]);
  const [, url] = await child.stderrMatches(/serving otel metrics on (http:\/\/\S+)\n/, START_MS);
  const scrape = async (): Promise<number> => (await fetch(url!, { headers: { authorization: 'Bearer FIRSTSECRET' } })).status;
  assert.equal(await scrape(), 200);

  let seen = 0;
  /** The next `SIGHUP:` line after a SIGHUP. */
  const hangup = async (): Promise<string> => {
    child.child.kill('SIGHUP');
    seen++;
    const pattern = new RegExp(`(?:^jobmeter: SIGHUP: .*\\n[^]*?){${seen}}`, 'm');
    await child.stderrMatches(pattern, START_MS);
    const lines = child.stderr().split('\n').filter((l) => l.startsWith('jobmeter: SIGHUP: '));
    return lines[seen - 1]!;
  };

  assert.equal(await hangup(), 'jobmeter: SIGHUP: configuration re-read: unchanged');
  assert.equal(await scrape(), 200);

  await writeFile(path, config(9999, 'access_log = true'));
  await writeFile(tokenFile, 'SECONDSECRET\n');
  assert.equal(
    await hangup(),
    'jobmeter: SIGHUP: configuration re-read and valid; nothing is applied live, these take effect at restart: listener.port, metrics.accessLog, metrics.token',
  );
  assert.equal(await scrape(), 200, 'the running configuration (token included) is unchanged');

  await writeFile(path, config('"nine"'));
  assert.equal(await hangup(), `jobmeter: SIGHUP: configuration not reloaded, the running one is kept: ${path}: invalid listener.port=nine: expected an integer from 0 to 65535 (got a string)`);
  assert.equal(await scrape(), 200);

  assert.doesNotMatch(child.stderr(), /FIRSTSECRET|SECONDSECRET/);
  child.child.kill('SIGTERM');
  assert.equal(await child.exited(EXIT_MS), 0, child.stderr());
});
