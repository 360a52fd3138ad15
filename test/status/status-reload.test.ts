/**
 * What the status page says the last reload changed (cli/reload.ts `lastReload`, status-data.ts):
 * the keys whose value in the file differs from the one in force, as the file spells them, and
 * never a value — a credential's least of all, though it is what changed.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { test } from 'node:test';

import { formattedIo } from '../../src/cli/io.ts';
import { HangupReloader } from '../../src/cli/reload.ts';
import { resolveServeConfig } from '../../src/config/resolve-layers.ts';
import { SelfTelemetry } from '../../src/http/self-telemetry.ts';
import { gatherStatus } from '../../src/http/status-data.ts';
import { renderStatusPage } from '../../src/http/status-page.ts';
import { tempFiles } from '../support/temp-files.ts';

const files = tempFiles('jobmeter-status-reload-');

const SECRETS = ['metrics-token-ONE', 'metrics-token-TWO', 'ingest-token-ONE', 'ingest-token-TWO'];

const configText = (metricsToken: string, ingestToken: string, processMetrics: boolean) =>
  [
    'profile = "otel"',
    `process_metrics = ${String(processMetrics)}`,
    '[listener]',
    'port = 0',
    '[metrics]',
    `token = "${metricsToken}"`,
    '[ingest]',
    'enabled = true',
    `token = "${ingestToken}"`,
    '',
  ].join('\n');

test("the last reload's changed keys are named, a secret's value never", async () => {
  const path = await files.file('serve.toml', configText(SECRETS[0]!, SECRETS[2]!, false));
  const args = ['--config', path];
  const lines: string[] = [];
  const io = formattedIo({ stdout: () => {}, stderr: (l) => lines.push(l) }, 'text');
  const hangups = new HangupReloader(args, {}, io);
  try {
    hangups.loaded(await resolveServeConfig({ argv: args, env: {} }));
    const telemetry = new SelfTelemetry({});
    telemetry.configFrom(() => hangups.lastReload());
    const status = async () => {
      const data = await gatherStatus({
        profile: 'otel',
        telemetry,
        scrape: async () => [],
        pipeline: () => ({ push: undefined, ingest: undefined }),
        reloaded: () => hangups.lastReload(),
      });
      return { data, text: JSON.stringify(data) + renderStatusPage(data) };
    };
    // At start: nothing changed.
    assert.deepEqual((await status()).data.reload?.changed, []);

    await writeFile(path, configText(SECRETS[1]!, SECRETS[3]!, true));
    const answer = await hangups.reload('SIGHUP');
    assert.ok(answer.ok, answer.said);
    const { data, text } = await status();
    assert.equal(data.reload?.successful, true);
    assert.deepEqual(data.reload.changed, ['[ingest] token', '[metrics] token', 'process_metrics']);
    assert.match(text, /<code>\[metrics\] token<\/code>/);
    for (const secret of SECRETS) {
      assert.ok(!text.includes(secret), `${secret} is on the status page`);
      assert.ok(!lines.join('\n').includes(secret), `${secret} is in a line`);
    }

    // Nothing was applied live here (no servers): the file, put back, is what is in force.
    await writeFile(path, configText(SECRETS[0]!, SECRETS[2]!, false));
    assert.ok((await hangups.reload('SIGHUP')).ok);
    assert.deepEqual((await status()).data.reload?.changed, []);
  } finally {
    hangups.dispose();
  }
});
