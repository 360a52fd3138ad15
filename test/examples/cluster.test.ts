/**
 * examples/cluster, started as its header says (the built package): workers crash and are
 * replaced while the primary is scraped; the summed counters never go back, the in-flight gauge
 * counts live workers only, and SIGTERM stops everything with exit code 0.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startExample } from '../support/example-process.ts';

/** The example is scraped until workers crashed and were replaced this often (a count, not a time: a loaded machine starts workers slowly). */
const CRASHES = 2;
/** Past this the test fails: the replacements did not happen. */
const GIVE_UP_MS = 90_000;

function total(body: string, name: string): number {
  let sum = 0;
  for (const line of body.split('\n')) if (line.startsWith(`${name}{`)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  return sum;
}

test('the example cluster: one endpoint, counters that survive crashing workers, a clean stop', async () => {
  const example = await startExample('examples/cluster/main.ts', { WORKERS: '2', CRASH_EVERY_MS: '2000' });
  try {
    const deadline = Date.now() + 30_000;
    while (!example.output().includes('metrics of all of them')) {
      assert.ok(Date.now() < deadline && example.running(), example.output());
      await sleep(100);
    }
    const seen: number[] = [];
    const crashes = (): number => example.output().split('\n').filter((l) => l.includes('forking a replacement')).length;
    const end = Date.now() + GIVE_UP_MS;
    // Eight more scrapes (2 s) once the replacements happened, so their own reports are read too.
    for (let after = 0; after < 8 && Date.now() < end; after += crashes() >= CRASHES ? 1 : 0) {
      const body = await (await fetch(`http://127.0.0.1:${example.port}/metrics`, { headers: { accept: 'text/plain' } })).text();
      seen.push(total(body, 'jobmeter_run_finished_total'));
      await sleep(250);
    }
    assert.ok(crashes() >= CRASHES, `workers crashed and were replaced ${crashes()} times:\n${example.output()}`);
    assert.ok(seen.at(-1)! > 0, 'runs recorded');
    for (let i = 1; i < seen.length; i++) assert.ok(seen[i]! >= seen[i - 1]!, `scrape ${i}: ${seen[i - 1]} → ${seen[i]} (${seen.join(' ')})`);
  } finally {
    example.stop();
  }
  assert.equal(await example.exited, 0, example.output());
});
