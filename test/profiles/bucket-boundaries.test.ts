// Histogram buckets are upper-inclusive: a value equal to a bound counts in that bound's bucket,
// the next representable value above it in the next one (rm's and solti's own boundary tests).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { render } from '../../src/exposition/render.ts';
import type { Family } from '../../src/exposition/types.ts';
import type { ProfileName } from '../../src/options.ts';
import { histogramSeries, scrapeByName, testJobmeter } from './helpers.ts';

/** The smallest double greater than `x` (x finite, > 0). */
function nextUp(x: number): number {
  const bits = new BigUint64Array(new Float64Array([x]).buffer);
  bits[0]! += 1n;
  return new Float64Array(bits.buffer)[0]!;
}

/** The `le` of the bucket that holds the one value recorded in `family`'s series `labels`. */
function bucketOf(family: Family | undefined, labels: string): string {
  const s = histogramSeries(family, labels);
  assert.equal(s.count, 1);
  const i = s.counts.findIndex((c) => c === 1);
  return i < s.bounds.length ? String(s.bounds[i]) : '+Inf';
}

interface Case {
  readonly profile: ProfileName;
  readonly family: string;
  readonly run: { task: string; kind?: string; runner?: string };
  readonly labels: string;
  readonly bound: number;
  readonly next: string;
}

const CASES: readonly Case[] = [
  {
    profile: 'rm',
    family: 'rm_job_duration_seconds',
    run: { task: 'a', kind: 'backup' },
    labels: 'kind="backup",status="succeeded"',
    bound: 300,
    next: '1800',
  },
  {
    profile: 'rm',
    family: 'rm_job_duration_seconds',
    run: { task: 'a', kind: 'backup' },
    labels: 'kind="backup",status="succeeded"',
    bound: 1,
    next: '5',
  },
  {
    profile: 'rm',
    family: 'rm_job_duration_seconds',
    run: { task: 'a', kind: 'backup' },
    labels: 'kind="backup",status="succeeded"',
    bound: 86400,
    next: '+Inf',
  },
  {
    profile: 'solti',
    family: 'solti_runner_task_duration_seconds',
    run: { task: 't', runner: 'wasm' },
    labels: 'outcome="success",runner="wasm"',
    bound: 0.25,
    next: '0.5',
  },
  {
    profile: 'solti',
    family: 'solti_runner_task_duration_seconds',
    run: { task: 't', runner: 'wasm' },
    labels: 'outcome="success",runner="wasm"',
    bound: 0.01,
    next: '0.025',
  },
  {
    profile: 'solti',
    family: 'solti_runner_task_duration_seconds',
    run: { task: 't', runner: 'wasm' },
    labels: 'outcome="success",runner="wasm"',
    bound: 3600,
    next: '+Inf',
  },
];

for (const c of CASES) {
  test(`${c.profile}: ${c.bound} s lands in le="${c.bound}", the next double above it in le="${c.next}"`, async () => {
    for (const [value, expected] of [
      [c.bound, String(c.bound)],
      [nextUp(c.bound), c.next],
    ] as const) {
      const jm = await testJobmeter(c.profile);
      try {
        jm.recordRun({ ...c.run, outcome: 'success', durationSeconds: value });
        assert.equal(
          bucketOf((await scrapeByName(jm)).get(c.family), c.labels),
          expected,
          `value ${value}`,
        );
      } finally {
        await jm.shutdown();
      }
    }
  });
}

test('rm: the rendered buckets are cumulative at the boundary (le="300" counts 300, le="60" does not)', async () => {
  const jm = await testJobmeter('rm');
  try {
    jm.recordRun({ task: 'a', kind: 'prune', outcome: 'success', durationSeconds: 300 });
    const families = await jm.scrape();
    const s = histogramSeries(
      families.find((f) => f.name === 'rm_job_duration_seconds'),
      'kind="prune",status="succeeded"',
    );
    assert.deepEqual(s.bounds, [1, 5, 30, 60, 300, 1800, 3600, 21600, 86400]);
    assert.deepEqual(s.counts, [0, 0, 0, 0, 1, 0, 0, 0, 0, 0]);
    assert.equal(s.sum, 300);
    const lines = render('text', families)
      .split('\n')
      .filter((l) => l.startsWith('rm_job_duration_seconds_bucket{kind="prune"'));
    assert.deepEqual(
      lines.map((l) =>
        l.replace('rm_job_duration_seconds_bucket{kind="prune",status="succeeded",', ''),
      ),
      [
        'le="1"} 0',
        'le="5"} 0',
        'le="30"} 0',
        'le="60"} 0',
        'le="300"} 1',
        'le="1800"} 1',
        'le="3600"} 1',
        'le="21600"} 1',
        'le="86400"} 1',
        'le="+Inf"} 1',
      ],
    );
  } finally {
    await jm.shutdown();
  }
});
