// A counter's exemplars stay on their own series when a family's series are reordered or rebuilt:
// a legacy profile's zero-fill puts the filled words first (wasmrun), a `sorted` profile sorts the
// series by label values (solti), and UTF-8 names are escaped for a scraper that did not ask for
// them. Found by reading: each carried labels, values and start times, not the exemplars, so an
// exemplar could land on another series' line or be lost.
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { escapeFamilies } from '../../src/exposition/escape-names.ts';
import { renderOpenMetrics } from '../../src/exposition/openmetrics.ts';
import { createJobmeter, type Jobmeter } from '../../src/jobmeter.ts';
import type { RunAttributes } from '../../src/domain/recorder.ts';
import type { ProfileName } from '../../src/options.ts';
import { startTracing, type Tracing } from '../support/tracing.ts';

let tracing: Tracing | undefined;
let jm: Jobmeter | undefined;
afterEach(async () => {
  await jm?.shutdown();
  await tracing?.stop();
  jm = tracing = undefined;
});

/** The sample lines of `family` that carry an exemplar, without the exemplar part. */
async function linesWithExemplars(
  profile: ProfileName,
  family: string,
  record: (jm: Jobmeter, t: Tracing) => void,
): Promise<string[]> {
  tracing = startTracing();
  jm = await createJobmeter({ profile, listener: false, processMetrics: false, global: false });
  record(jm, tracing);
  const text = renderOpenMetrics(await jm.scrape());
  return text
    .split('\n')
    .filter((l) => l.startsWith(family + '{') && l.includes(' # {'))
    .map((l) => l.slice(0, l.indexOf(' # {')));
}

function tracedRun(
  jm: Jobmeter,
  t: Tracing,
  attributes: RunAttributes,
  outcome: 'success' | 'failure' | 'timeout',
): void {
  t.tracer.startActiveSpan('job', (span) => {
    jm.startRun(attributes).finish(outcome);
    span.end();
  });
}

test('zero-fill (wasmrun): the exemplar stays on the series its run finished in', async () => {
  const lines = await linesWithExemplars('wasmrun', 'wasmrun_agent_exec_total', (jm, t) => {
    // A success without a span first, then a traced timeout: zero-fill serves success, error, timeout.
    jm.startRun({ task: 'a' }).finish('success');
    tracedRun(jm, t, { task: 'a' }, 'timeout');
  });
  assert.deepEqual(lines, ['wasmrun_agent_exec_total{result="timeout"} 1']);
});

test('sorted order (solti): the exemplar stays on the series its run finished in', async () => {
  const lines = await linesWithExemplars('solti', 'solti_runner_tasks_completed_total', (jm, t) => {
    // Recorded in the reverse of the sorted order: the traced run's series moves.
    tracedRun(jm, t, { task: 'a', runner: 'wasm' }, 'success');
    jm.startRun({ task: 'a', runner: 'subprocess' }).finish('success');
  });
  assert.deepEqual(lines, [
    'solti_runner_tasks_completed_total{outcome="success",runner="wasm"} 1',
  ]);
});

test('escaped UTF-8 names (native, NoUTF8EscapingWithSuffixes, a scraper without allow-utf-8): the exemplar is kept', async () => {
  tracing = startTracing();
  jm = await createJobmeter({
    listener: false,
    processMetrics: false,
    global: false,
    translationStrategy: 'NoUTF8EscapingWithSuffixes',
  });
  const t = tracing;
  tracedRun(jm, t, { task: 'a' }, 'success');
  const families = await jm.scrape();
  const utf8 = renderOpenMetrics(families)
    .split('\n')
    .filter((l) => l.includes('run.finished') && l.includes(' # {'));
  assert.equal(utf8.length, 1, 'served as UTF-8, the finished counter carries its exemplar');
  const escaped = renderOpenMetrics(escapeFamilies(families, 'underscores'))
    .split('\n')
    .filter((l) => l.includes('run_finished') && l.includes(' # {'));
  assert.equal(escaped.length, 1, 'escaped, it still does');
  assert.equal(
    escaped[0]!.slice(escaped[0]!.indexOf(' # {')),
    utf8[0]!.slice(utf8[0]!.indexOf(' # {')),
  );
});
