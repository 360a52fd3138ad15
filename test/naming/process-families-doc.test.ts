// docs/host-apps.md's table of what the library records lists every process and runtime family the native
// profile serves (it listed 6 of 9 once), the runtime metrics of instrumentation-runtime-node too.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { PROCESS_INSTRUMENTS } from '../../src/domain/process-metrics.ts';
import { createJobmeter } from '../../src/jobmeter.ts';

test('docs/host-apps.md lists every process family served under the native profile', async () => {
  const page = readFileSync(new URL('../../docs/host-apps.md', import.meta.url), 'utf8');
  const row = page.split('\n').find((l) => l.startsWith('| (automatic, `processMetrics`) |'));
  assert.ok(row, 'the docs/host-apps.md row for processMetrics');
  const jm = await createJobmeter({ listener: false, otelScopeInfo: false, global: false });
  const own = PROCESS_INSTRUMENTS.map((s) => s.name.replace(/\./g, '_'));
  let served: string[] = [];
  try {
    // The event-loop delay is served once the sampler has a sample: scrape until every instrument is.
    for (let i = 0; i < 100 && served.length < own.length; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 20));
      served = (await jm.scrape())
        .map((f) => f.name)
        .filter((name) => own.some((o) => name.startsWith(o)));
    }
  } finally {
    await jm.shutdown();
  }
  assert.equal(
    served.length,
    PROCESS_INSTRUMENTS.length,
    `one family per process instrument: ${served.join(', ')}`,
  );
  const listed = [...row.matchAll(/`([a-z0-9_]+)(?:\{[^}]*\})?`/g)].map((m) => m[1]);
  assert.deepEqual(
    served.filter((name) => !listed.includes(name)),
    [],
    'served but not in docs/host-apps.md',
  );
});
