/**
 * otel-collector.yaml against the real Collector release pinned in test/peers/versions.env: the
 * Collector's own `validate` accepts it (it rejects unknown keys, so a key a release dropped or
 * renamed fails here), and so it does with the commented-out scrape path switched on.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { tempFiles } from '../support/temp-files.ts';
import { validateCollectorConfig } from '../support/collector.ts';

const CONFIG = new URL('../../otel-collector.yaml', import.meta.url);

/** The file with its commented-out `prometheus` receiver and `metrics/scrape` pipeline uncommented. */
function withScrapePath(text: string): string {
  const lines = text.split('\n');
  const out: string[] = [];
  let inBlock = false;
  for (const line of lines) {
    if (/^ {2}# prometheus:$/.test(line) || /^ {4}# metrics\/scrape:$/.test(line)) inBlock = true;
    else if (inBlock && !/^ +# /.test(line)) inBlock = false;
    out.push(inBlock ? line.replace('# ', '') : line);
  }
  return out.join('\n');
}

const temp = tempFiles('jobmeter-otelcol-config-');

describe('otel-collector.yaml on the real Collector', () => {
  it('otelcol validate accepts it as committed', async () => {
    const { code, output } = await validateCollectorConfig(new URL(CONFIG).pathname);
    assert.equal(code, 0, output);
  });

  it('otelcol validate accepts it with the scrape path uncommented', async () => {
    const text = withScrapePath(readFileSync(CONFIG, 'utf8'));
    assert.match(text, /^ {2}prometheus:\n {4}config:/m, 'the prometheus receiver was uncommented');
    assert.match(
      text,
      /^ {4}metrics\/scrape:\n {6}receivers: \[prometheus\]/m,
      'the scrape pipeline was uncommented',
    );
    const { code, output } = await validateCollectorConfig(
      await temp.file('otel-collector.yaml', text),
    );
    assert.equal(code, 0, output);
  });

  it('a key the Collector does not know fails validation (the check has teeth)', async () => {
    const text = readFileSync(CONFIG, 'utf8').replace(
      '    metric_expiration: 5m',
      '    metric_expiration: 5m\n    no_such_key: true',
    );
    const { code, output } = await validateCollectorConfig(await temp.file('bad.yaml', text));
    assert.notEqual(code, 0);
    assert.match(output, /no_such_key/);
  });
});
