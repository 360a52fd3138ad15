// Under a flood of label values the series set stays bounded and the overflow is summed in `other`.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LLM_PROVIDER_CAP } from '../../src/domain/catalog.ts';
import type { NumberSeries } from '../../src/exposition/types.ts';
import { numberSeries, scrapeByName, testJobmeter } from './helpers.ts';

test('crewshipd: 10 000 distinct assignment statuses → still 7 series, other holds their sum', async () => {
  const jm = await testJobmeter('crewshipd');
  try {
    const assignments: Record<string, number> = { pending: 1, running: 2 };
    for (let i = 0; i < 10_000; i++) assignments[`status-${i}`] = 1 + (i % 3); // 1, 2, 3, 1, …
    const expectedOther = Object.entries(assignments).reduce(
      (n, [k, v]) => (k.startsWith('status-') ? n + v : n),
      0,
    );
    jm.setSnapshotSource(() => ({ assignments }));
    const series = numberSeries((await scrapeByName(jm)).get('crewshipd_assignments'));
    assert.equal(series.length, 7);
    assert.deepEqual(series, [
      ['status="pending",hostname="demo-host"', 1],
      ['status="queued",hostname="demo-host"', 0],
      ['status="running",hostname="demo-host"', 2],
      ['status="completed",hostname="demo-host"', 0],
      ['status="failed",hostname="demo-host"', 0],
      ['status="cancelled",hostname="demo-host"', 0],
      ['status="other",hostname="demo-host"', expectedOther],
    ]);
  } finally {
    await jm.shutdown();
  }
});

test('crewshipd: 1 000 LLM providers → at most cap + 1 provider series; the rest summed in other, calls and cost', async () => {
  const jm = await testJobmeter('crewshipd');
  try {
    const llm = Array.from({ length: 1_000 }, (_, i) => ({
      provider: `p${i}`,
      calls: i + 1,
      costUsd: (i + 1) / 4,
    }));
    jm.setSnapshotSource(() => ({ llm }));
    const f = await scrapeByName(jm);
    for (const [family, field] of [
      ['crewshipd_llm_calls_total', 'calls'],
      ['crewshipd_llm_cost_usd_total', 'costUsd'],
    ] as const) {
      const series = numberSeries(f.get(family));
      assert.equal(series.length, LLM_PROVIDER_CAP + 1, `${family}: cap + other`);
      // The first `cap` providers seen keep their own series.
      assert.deepEqual(
        series.slice(0, LLM_PROVIDER_CAP),
        llm
          .slice(0, LLM_PROVIDER_CAP)
          .map((l) => [`provider="${l.provider}",hostname="demo-host"`, l[field]]),
      );
      const rest = llm.slice(LLM_PROVIDER_CAP).reduce((n, l) => n + l[field], 0);
      assert.deepEqual(
        series[LLM_PROVIDER_CAP],
        ['provider="other",hostname="demo-host"', rest],
        `${family}: other is the sum of the rest`,
      );
    }
  } finally {
    await jm.shutdown();
  }
});

test('crewshipd: providers beyond the cap stay in other on later scrapes (the cap is first-come)', async () => {
  const jm = await testJobmeter('crewshipd');
  try {
    const first = Array.from({ length: LLM_PROVIDER_CAP }, (_, i) => ({
      provider: `p${i}`,
      calls: 1,
      costUsd: 1,
    }));
    jm.setSnapshotSource(() => ({ llm: first }));
    await jm.scrape();
    jm.setSnapshotSource(() => ({ llm: [...first, { provider: 'late', calls: 7, costUsd: 0.5 }] }));
    const series = numberSeries((await scrapeByName(jm)).get('crewshipd_llm_calls_total'));
    assert.equal(series.length, LLM_PROVIDER_CAP + 1);
    assert.ok(
      !series.some(([l]) => l.includes('"late"')),
      'a provider past the cap never gets its own series',
    );
    assert.deepEqual(series.at(-1), ['provider="other",hostname="demo-host"', 7]);
  } finally {
    await jm.shutdown();
  }
});

test('runwisp: 100 000 distinct task names on task_active_runs → 500 task series + other', async () => {
  const jm = await testJobmeter('runwisp');
  try {
    const TASKS = 100_000;
    const CAP = 500;
    for (let i = 0; i < TASKS; i++) jm.startRun({ task: `task-${i}`, kind: 'task' });
    const series = (await scrapeByName(jm)).get('runwisp_task_active_runs')!
      .series as readonly NumberSeries[];
    assert.equal(series.length, CAP + 1);
    const other = series.filter((s) => s.labels === 'task="other",kind="task"');
    assert.equal(other.length, 1);
    assert.equal(other[0]!.value, TASKS - CAP, 'the in-flight runs of every task past the cap');
    assert.equal(
      series.reduce((n, s) => n + s.value, 0),
      TASKS,
      'no run lost',
    );
    assert.equal(
      series.filter((s) => s.value === 1).length,
      CAP,
      'the first 500 tasks keep one run each',
    );
  } finally {
    await jm.shutdown();
  }
});
