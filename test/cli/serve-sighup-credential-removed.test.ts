/**
 * A SIGHUP never opens a gated metrics route: with the rm posture (token and trusted CIDRs), a
 * config whose `[metrics] token_file` is taken out keeps the running token until a restart, and
 * the SIGHUP line says the removal waits for it. A child serve, its route read over HTTP.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { afterEach, it } from 'node:test';

import { EXIT_MS, killChildren, start, START_MS } from './harness.ts';
import { tempFiles } from '../support/temp-files.ts';

const files = tempFiles('jobmeter-sighup-removed-');
afterEach(killChildren);

it(
  'SIGHUP with the last credential of a gated route removed keeps the gate until restart and says so',
  { timeout: 120_000 },
  async () => {
    const tokenFile = await files.file('token', 'RMSECRET\n');
    const config = (withToken: boolean): string =>
      [
        'profile = "rm"',
        '[listener]',
        'port = 0',
        '[metrics]',
        ...(withToken ? [`token_file = "${tokenFile}"`] : []),
        'trusted_cidrs = ["127.0.0.0/8", "::1/128"]',
        '',
      ].join('\n');
    const path = await files.file('jobmeter.toml', config(true));
    const child = start(['serve', '--config', path]);
    const [, url] = await child.stderrMatches(/serving rm metrics on (http:\/\/\S+)\n/, START_MS);
    const scrape = async (token?: string): Promise<number> =>
      (
        await fetch(
          url!,
          token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } },
        )
      ).status;
    assert.equal(await scrape(), 401, 'the token is required from the start');
    assert.equal(await scrape('RMSECRET'), 200);

    await writeFile(path, config(false));
    child.child.kill('SIGHUP');
    const [line] = await child.stderrMatches(/^jobmeter: SIGHUP: .*$/m, START_MS);
    assert.equal(
      line,
      'jobmeter: SIGHUP: configuration re-read; [metrics] token removed: takes effect at restart',
    );
    assert.equal(await scrape(), 401, 'the route still refuses a scrape without the token');
    assert.equal(await scrape('RMSECRET'), 200, 'the running token still works');

    assert.doesNotMatch(child.stderr(), /RMSECRET/);
    child.child.kill('SIGTERM');
    assert.equal(await child.exited(EXIT_MS), 0, child.stderr());
  },
);
