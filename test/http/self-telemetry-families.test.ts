/**
 * jobmeter's own telemetry families, as the telemetry listener serves them: every family of a
 * jobmeter with the ingest, the push and a configuration source, its type, unit, HELP and series,
 * from the first collection at 0 (self-telemetry.golden.txt; the process' and event loop's values,
 * which move, and the build's labels are left out). A family's place in the body is no part of it.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { selfTelemetryOf, servedJobmeter } from '../support/served-jobmeter.ts';
import { buildCommit, VERSION } from '../../src/version.ts';

const MOVING = /^(jobmeter_)?(process|nodejs)_/;

test('every family of the self-telemetry, from the first collection', async () => {
  const jm = await servedJobmeter({
    listener: false,
    global: false,
    log: () => {},
    ingest: { port: 0 },
    // Port 1 refuses at once: the last export fails fast at shutdown.
    otlp: {
      endpoint: 'http://127.0.0.1:1/v1/metrics',
      intervalMillis: 600_000,
      timeoutMillis: 200,
    },
  });
  try {
    const telemetry = selfTelemetryOf(jm)!;
    telemetry.configFrom(() => ({ successful: true, successSeconds: 1_700_000_000 }));
    telemetry.scraped(0.003);
    telemetry.scraped(0.2);
    const blocks = (await telemetry.families()).map((f) =>
      [
        `# ${f.name} ${f.type} ${f.unit} ${f.help}`,
        ...f.series.map((s) => {
          const labels = s.labels
            .replace(`version="${VERSION}"`, 'version="VERSION"')
            .replace(`commit="${buildCommit()}"`, 'commit="COMMIT"')
            .replace(`runtime_version="${process.version}"`, 'runtime_version="RUNTIME"');
          if (!('value' in s))
            return `  ${labels} ${JSON.stringify([s.bounds, s.counts, s.sum, s.count])}`;
          return `  ${labels} ${MOVING.test(f.name) ? 'X' : s.value}`;
        }),
      ].join('\n'),
    );
    const golden = readFileSync(new URL('self-telemetry.golden.txt', import.meta.url), 'utf8');
    assert.deepEqual(
      blocks.sort(),
      golden
        .trimEnd()
        .split(/\n(?=# )/)
        .sort(),
    );
  } finally {
    await jm.shutdown();
  }
});
