// The public surface of src/exposition/index.ts, name by name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as exposition from '../../src/exposition/index.ts';

test('index exports exactly the public names', () => {
  assert.deepEqual(Object.keys(exposition).sort(), [
    'CONTENT_TYPE',
    'acceptsGzip',
    'escapeHelpOpenMetrics',
    'escapeHelpText',
    'escapeLabelValue',
    'formatGoFloat',
    'formatLeOpenMetrics',
    'formatLeText',
    'formatSampleValue',
    'negotiateFormat',
    'render',
    'renderChunks',
    'renderLabelPairs',
    'renderOpenMetrics',
    'renderPrometheusText',
  ]);
  for (const [name, value] of Object.entries(exposition)) {
    if (name !== 'CONTENT_TYPE') assert.equal(typeof value, 'function', name);
  }
  assert.deepEqual(exposition.CONTENT_TYPE, {
    openmetrics: 'application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=underscores',
    text: 'text/plain; version=0.0.4; charset=utf-8',
  });
});
