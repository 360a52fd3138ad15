/**
 * A daemon in Go or Rust that records the CI/CD conventions' instruments itself and pushes them to
 * `jobmeter serve --profile semconv`: the ingest bounds them by the semconv profile's specs, whose
 * closed sets are the conventions' whole enums (a sender's `pending` state or `skip` result is
 * kept, not folded into `other`), and whose `error.type` is open as the convention leaves it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_RUN_DURATION_BUCKETS } from '../../src/domain/catalog.ts';
import { IngestStore } from '../../src/ingest/ingest-store.ts';
import { profileCatalog } from '../../src/jobmeter-views.ts';
import { fakeClock, histogram, histogramPoint, histograms, metric, request } from './helpers.ts';

test("a sender's cicd.pipeline.run.duration keeps every state, result and error.type the convention allows", async () => {
  const store = new IngestStore({
    clock: fakeClock(),
    instruments: [...profileCatalog('semconv').domain],
  });
  const bounds = [...DEFAULT_RUN_DURATION_BUCKETS];
  const point = (attributes: Record<string, string>) =>
    histogramPoint(bounds, bounds.map(() => 0).concat([1]), 7200, attributes, 0, 1);
  const sent: Record<string, string>[] = [
    {
      'cicd.pipeline.name': 'build',
      'cicd.pipeline.run.state': 'pending',
      'cicd.pipeline.result': 'skip',
    },
    {
      'cicd.pipeline.name': 'build',
      'cicd.pipeline.run.state': 'finalizing',
      'cicd.pipeline.result': 'error',
      'error.type': 'java.lang.IllegalStateException',
    },
  ];
  const result = store.ingest(
    request([metric('cicd.pipeline.run.duration', histogram(sent.map(point)), 's')]),
  );
  assert.equal(result.rejectedDataPoints, 0, result.errorMessage);
  const stored = await histograms(store, 'cicd.pipeline.run.duration');
  assert.deepEqual(Object.keys(stored).sort(), sent.map((a) => JSON.stringify(a)).sort());
});
