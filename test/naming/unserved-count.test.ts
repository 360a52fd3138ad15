/**
 * A native family the naming pass cannot serve -- its name another family's, or that name with
 * another type -- is warned of once and counted at every pass that leaves it out (to-families.ts
 * `unserved`), so a dashboard sees it as long as it lasts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { diag, DiagLogLevel } from '@opentelemetry/api';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { otelProfile } from '../../src/naming/profiles/otel.ts';
import { createNamer } from '../../src/naming/to-families.ts';
import { newPullReader } from '../../src/readers/pull-reader.ts';

test('each instrument a pass leaves out for a name clash is counted at every pass, and warned of once', async () => {
  const warned: string[] = [];
  diag.setLogger(
    {
      error: () => {},
      warn: (m: string) => warned.push(m),
      info: () => {},
      debug: () => {},
      verbose: () => {},
    },
    DiagLogLevel.WARN,
  );
  const reader = newPullReader();
  const provider = new MeterProvider({ readers: [reader] });
  try {
    const meter = provider.getMeter('app');
    meter.createHistogram('work.h', { unit: 's' }).record(1);
    // A counter of the same name and unit: its family, `work_h_seconds_total`, claims
    // `work_h_seconds`, the histogram's.
    meter.createCounter('work.h', { unit: 's' }).add(3);
    meter.createCounter('jobs').add(1);
    // `jobs_total` again, as a gauge: the counter of that name is served.
    meter.createGauge('jobs.total').record(2);
    let unserved = 0;
    const namer = createNamer(otelProfile(false), { unserved: () => unserved++ });
    for (let pass = 1; pass <= 2; pass++) {
      const names = namer.toFamilies((await reader.collect()).resourceMetrics).map((f) => f.name);
      assert.deepEqual(names, ['work_h_seconds', 'jobs_total']);
      assert.equal(unserved, 2 * pass);
    }
    assert.deepEqual(
      warned.filter((w) => w.includes('not served')),
      [
        'jobmeter: work.h is not served: its family work_h_seconds_total takes a name another family served before it already has',
        'jobmeter: jobs.total is not served: its family jobs_total would be a gauge, and the counter of that name is already served',
      ],
    );
  } finally {
    diag.disable();
    await provider.shutdown();
  }
});
