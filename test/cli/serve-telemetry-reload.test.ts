/**
 * The outcome of the last configuration (re)load on `jobmeter serve`'s `[telemetry]` listener,
 * under Prometheus' own names for it (`prometheus_config_last_reload_successful`,
 * `…_success_timestamp_seconds`): 1 and the start's time from the first scrape; 0 after a SIGHUP
 * that found a broken file, the time of the last success kept; 1 and a later time after the next
 * SIGHUP that reads. A child serve, its telemetry listener read over HTTP; promtool (Prometheus
 * 2.42's linter) accepts each body.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { afterEach, it } from 'node:test';

import { EXIT_MS, killChildren, start, START_MS } from './harness.ts';
import { checkMetrics } from '../support/promtool.ts';
import { tempFiles } from '../support/temp-files.ts';

const files = tempFiles('jobmeter-telemetry-reload-');
afterEach(killChildren);

const SUCCESSFUL = 'jobmeter_config_last_reload_successful';
const SUCCESS_TIME = 'jobmeter_config_last_reload_success_timestamp_seconds';

function sample(body: string, series: string): number | undefined {
  const line = body.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

it(
  'jobmeter_config_last_reload_successful and its success time follow each SIGHUP: 0 for a broken file (time kept), 1 and a new time once it reads',
  { timeout: 120_000 },
  async () => {
    const config = (port: number | string): string =>
      [
        'profile = "otel"',
        '[listener]',
        `port = ${port}`,
        '[telemetry]',
        'listen = "127.0.0.1:0"',
        '',
      ].join('\n');
    const path = await files.file('jobmeter.toml', config(0));
    const startedAt = Date.now() / 1000;
    const child = start(['serve', '--config', path]);
    const [, url] = await child.stderrMatches(
      /serving jobmeter's own telemetry on (http:\/\/\S+\/metrics)\n/,
      START_MS,
    );
    const telemetry = async (): Promise<string> => {
      const body = await (
        await fetch(url!, { headers: { accept: 'text/plain;version=0.0.4' } })
      ).text();
      const lint = await checkMetrics(body);
      assert.equal(lint.code, 0, `${lint.output}\n${body}`);
      return body;
    };
    let seen = 0;
    const hangup = async (): Promise<void> => {
      child.child.kill('SIGHUP');
      seen++;
      await child.stderrMatches(
        new RegExp(`(?:^jobmeter: SIGHUP: .*\\n[^]*?){${seen}}`, 'm'),
        START_MS,
      );
    };

    let body = await telemetry();
    assert.equal(sample(body, SUCCESSFUL), 1, body);
    const loaded = sample(body, SUCCESS_TIME)!;
    assert.ok(
      loaded >= Math.floor(startedAt) && loaded <= Date.now() / 1000,
      `loaded at ${loaded}, serve started at ${startedAt}`,
    );
    assert.match(body, new RegExp(`# TYPE ${SUCCESS_TIME} gauge\\n`));

    await writeFile(path, config('"nine"'));
    await hangup();
    body = await telemetry();
    assert.equal(sample(body, SUCCESSFUL), 0, body);
    assert.equal(sample(body, SUCCESS_TIME), loaded, 'a failed reload keeps the last success time');

    // Whole seconds apart at least, so the new time is told from the old.
    await new Promise((r) => setTimeout(r, 1100));
    await writeFile(path, config(9999));
    await hangup();
    body = await telemetry();
    assert.equal(sample(body, SUCCESSFUL), 1, body);
    assert.ok(sample(body, SUCCESS_TIME)! > loaded, body);

    child.child.kill('SIGTERM');
    assert.equal(await child.exited(EXIT_MS), 0, child.stderr());
  },
);
