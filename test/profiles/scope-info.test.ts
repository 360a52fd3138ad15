// `target_info` and the `otel_scope_*` labels: the native profile's, never a legacy profile's.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runDemo } from '../../src/demo/scenarios.ts';
import { render } from '../../src/exposition/render.ts';
import type { ProfileName } from '../../src/options.ts';
import { LEGACY, testJobmeter } from './helpers.ts';

async function demoText(profile: ProfileName, otelScopeInfo?: boolean): Promise<string> {
  const jm = await testJobmeter(profile, {
    processMetrics: true,
    ...(otelScopeInfo !== undefined ? { otelScopeInfo } : {}),
  });
  try {
    runDemo(jm, profile);
    const families = await jm.scrape();
    return render('text', families) + render('openmetrics', families);
  } finally {
    await jm.shutdown();
  }
}

for (const profile of LEGACY) {
  test(`${profile}: no target_info and no otel_scope_* labels, even with otelScopeInfo: true`, async () => {
    for (const scopeInfo of [undefined, true]) {
      const text = await demoText(profile, scopeInfo);
      assert.ok(text.length > 0);
      assert.doesNotMatch(text, /target_info|^# (TYPE|HELP) target /m);
      assert.doesNotMatch(text, /otel_scope_/);
      assert.doesNotMatch(text, /service_name=/, 'no resource attributes either');
    }
  });
}

test('otel: target_info first, and otel_scope_name/otel_scope_version on every series', async () => {
  const text = await demoText('otel');
  const prom = text.slice(0, text.indexOf('# TYPE target info'));
  assert.match(
    prom,
    /^# HELP target_info Target metadata\n# TYPE target_info gauge\ntarget_info\{service_name="jobmeter"\} 1\n/,
  );
  const samples = prom
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#') && !l.startsWith('target_info'));
  assert.ok(samples.length > 50);
  for (const line of samples)
    assert.match(line, /otel_scope_name="jobmeter",otel_scope_version="[^"]+"/, line);
});

test('otel with otelScopeInfo: false: neither target_info nor scope labels', async () => {
  const text = await demoText('otel', false);
  assert.match(text, /^jobmeter_run_finished_total\{/m, 'the native families are still there');
  assert.doesNotMatch(text, /target_info|^# (TYPE|HELP) target /m);
  assert.doesNotMatch(text, /otel_scope_/);
});
