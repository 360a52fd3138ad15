// Two series of one level landing on one served series (one instrument from several producers,
// served without scope labels; a profile that drops the attribute telling them apart) combine by
// the instrument's rule (domain/merge-rules.ts), as a cluster's members do: a figure every process
// observes (an uptime, the machine's memory) is the largest, never their sum; other levels add up;
// counters always add.
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { metrics } from '@opentelemetry/api';
import type { Jobmeter } from '../../src/jobmeter.ts';
import { numberSeries, scrapeByName, testJobmeter } from '../profiles/helpers.ts';

const open: Jobmeter[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((jm) => jm.shutdown()));
  metrics.disable();
});

const jobmeter = async (...args: Parameters<typeof testJobmeter>): Promise<Jobmeter> => {
  const jm = await testJobmeter(...args);
  open.push(jm);
  return jm;
};

/** `name`, a gauge, observed at `value` by a meter of its own named `scope`. */
function observe(jm: Jobmeter, scope: string, name: string, value: number, unit = 's'): void {
  jm.meterProvider
    .getMeter(scope)
    .createObservableGauge(name, { unit })
    .addCallback((r) => r.observe(value));
}

/** `name`, a counter, added `value` by a meter of its own named `scope`. */
function count(jm: Jobmeter, scope: string, name: string, value: number): void {
  jm.meterProvider.getMeter(scope).createCounter(name).add(value);
}

async function served(jm: Jobmeter, family: string): Promise<number[]> {
  return numberSeries((await scrapeByName(jm)).get(family)).map(([, v]) => v);
}

test("a legacy profile serves a `max` level of two producers as the largest (runwisp's uptime)", async () => {
  const jm = await jobmeter('runwisp');
  observe(jm, 'host-a', 'process.uptime', 1000);
  observe(jm, 'host-b', 'process.uptime', 2000);
  observe(jm, 'host-c', 'process.uptime', 1500);
  assert.deepEqual(await served(jm, 'runwisp_daemon_uptime_seconds'), [2000]);
});

test('the largest holds for levels below zero too (no zero taken for a series not yet fed)', async () => {
  const jm = await jobmeter('runwisp');
  observe(jm, 'host-a', 'process.uptime', -30);
  observe(jm, 'host-b', 'process.uptime', -20);
  assert.deepEqual(await served(jm, 'runwisp_daemon_uptime_seconds'), [-20]);
});

test('the native naming without scope labels serves a `max` level of two producers as the largest', async () => {
  const jm = await jobmeter('otel', { otelScopeInfo: false });
  observe(jm, 'host-a', 'process.uptime', 1000);
  observe(jm, 'host-b', 'process.uptime', 2000);
  assert.deepEqual(await served(jm, 'process_uptime_seconds'), [2000]);
});

test("a level of no listed rule adds up over producers, as a cluster's members' do", async () => {
  const jm = await jobmeter('otel', { otelScopeInfo: false });
  observe(jm, 'host-a', 'app.queue.depth', 3, '{job}');
  observe(jm, 'host-b', 'app.queue.depth', 4, '{job}');
  assert.deepEqual(await served(jm, 'app_queue_depth'), [7]);
});

test('a counter of two producers adds up, whatever its name', async () => {
  const jm = await jobmeter('otel', { otelScopeInfo: false });
  count(jm, 'host-a', 'app.retries', 2);
  count(jm, 'host-b', 'app.retries', 5);
  assert.deepEqual(await served(jm, 'app_retries_total'), [7]);
});
