// A host instrument recorded without attributes is declared without `attributes`: left out, it
// keeps none (as `attributes: []`), on each way in — createJobmeter's `instruments`, createRecorder's
// on a host's provider, and jobmeterViews' — and the attributes a record carries are still dropped.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { MeterProvider } from '@opentelemetry/sdk-metrics';

import { renderPrometheusText } from '../../src/exposition/text.ts';
import {
  createJobmeter,
  createRecorder,
  jobmeterViews,
  JobmeterReader,
  type DeclaredInstrumentSpec,
} from '../../src/index.ts';

const DEPTH: DeclaredInstrumentSpec = {
  name: 'app.queue.depth',
  kind: 'gauge',
  unit: '{job}',
  description: 'Jobs waiting.',
};

test('createJobmeter: a gauge declared without attributes records and serves one series with none', async () => {
  const jm = await createJobmeter({
    listener: false,
    processMetrics: false,
    global: false,
    instruments: [DEPTH],
  });
  try {
    jm.gauge('app.queue.depth').record(7, { queue: 'emails' });
    const text = renderPrometheusText(await jm.scrape());
    assert.match(text, /^app_queue_depth(\{otel_scope_[^}]*\})? 7$/m, text);
    assert.doesNotMatch(
      text,
      /^app_queue_depth\{[^}]*queue=/m,
      'an attribute not declared is dropped',
    );
  } finally {
    await jm.shutdown();
  }
});

test("createRecorder and jobmeterViews on a host's provider: the same declaration, the same one series", async () => {
  const reader = new JobmeterReader({ listener: false });
  const provider = new MeterProvider({
    views: jobmeterViews('otel', { instruments: [DEPTH] }),
    readers: [reader],
  });
  try {
    const jm = createRecorder(provider.getMeter('jobmeter'), { instruments: [DEPTH] });
    jm.gauge('app.queue.depth').record(3, { queue: 'emails' });
    // Left out and given empty are the same declaration: the meter's recorder is shared, not refused.
    assert.equal(
      createRecorder(provider.getMeter('jobmeter'), {
        instruments: [{ ...DEPTH, attributes: [] }],
      }),
      jm,
    );
    const text = renderPrometheusText(await reader.scrape());
    assert.match(text, /^app_queue_depth(\{otel_scope_[^}]*\})? 3$/m, text);
    assert.doesNotMatch(text, /^app_queue_depth\{[^}]*queue=/m);
  } finally {
    await provider.shutdown();
  }
});
