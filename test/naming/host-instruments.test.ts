// Host instruments under legacy profiles: served after the profile's families
// under native naming unless dropped on purpose; rules of the host's own, in code and from a
// config file, validated at start.
import assert from 'node:assert/strict';
import { isNativeProfileName } from '../../src/common/option-values.ts';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, test } from 'node:test';
import { metrics } from '@opentelemetry/api';
import { ConfigError } from '../../src/errors.ts';
import { resolveServiceConfig } from '../../src/config/resolve-layers.ts';
import type { InstrumentSpec } from '../../src/domain/types.ts';
import { createJobmeter, type Jobmeter } from '../../src/jobmeter.ts';
import type { FamilyRule } from '../../src/naming/types.ts';
import { PROFILE_NAMES, type JobmeterOptions } from '../../src/options.ts';
import { killChildren, start } from '../cli/harness.ts';
import { testJobmeter } from '../profiles/helpers.ts';

const open: Jobmeter[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((jm) => jm.shutdown()));
  metrics.disable();
  killChildren();
});

async function jobmeter(
  profile: JobmeterOptions['profile'],
  options: JobmeterOptions = {},
): Promise<Jobmeter> {
  const jm = await testJobmeter('otel', { profile, ...options });
  open.push(jm);
  return jm;
}

const DECLARED: readonly InstrumentSpec[] = [
  {
    name: 'app.uploads',
    kind: 'counter',
    unit: '{upload}',
    description: 'Uploads.',
    attributes: [{ key: 'bucket', cap: 4 }],
  },
  {
    name: 'app.cache.size',
    kind: 'observableGauge',
    unit: 'By',
    description: 'Cache size.',
    attributes: [],
  },
];

/** Records one of each kind of host instrument on `jm`: declared, observed, `jm.meter`, global API. */
function recordHostInstruments(jm: Jobmeter): void {
  jm.counter('app.uploads').add(2, { bucket: 'photos' });
  jm.observe('app.cache.size', () => 4096);
  jm.meter.createCounter('app.retries').add(3);
  metrics
    .getMeter('host-lib')
    .createHistogram('app.latency', { unit: 's', advice: { explicitBucketBoundaries: [1] } })
    .record(0.5);
  jm.recordRun({ task: 't', runner: 'wasm', outcome: 'success', durationSeconds: 1 });
}

const HOST_FAMILIES = [
  'app_uploads_total',
  'app_cache_size_bytes',
  'app_retries_total',
  'app_latency_seconds',
];

describe('host instruments a legacy profile has no rule for', () => {
  for (const profile of PROFILE_NAMES.filter((p) => !isNativeProfileName(p))) {
    test(`${profile}: served after the profile's families under native names, without otel_scope labels; the profile's own series unchanged`, async () => {
      const bare = await jobmeter(profile, { global: false });
      bare.recordRun({ task: 't', runner: 'wasm', outcome: 'success', durationSeconds: 1 });
      const expected = await bare.scrape();
      const jm = await jobmeter(profile, { instruments: DECLARED });
      recordHostInstruments(jm);
      const families = await jm.scrape();
      const names = families.map((f) => f.name);
      assert.deepEqual(
        names.slice(0, expected.length),
        expected.map((f) => f.name),
        'the profile families first, as before',
      );
      // In the order the collection meets them (jobmeter's storages', then each meter's).
      assert.deepEqual(names.slice(expected.length).sort(), [...HOST_FAMILIES].sort());
      for (let i = 0; i < expected.length; i++)
        assert.deepEqual(families[i]!.series, expected[i]!.series, expected[i]!.name);
      const byName = new Map(families.map((f) => [f.name, f]));
      assert.deepEqual(byName.get('app_uploads_total')!.series, [
        { labels: 'bucket="photos"', value: 2 },
      ]);
      assert.deepEqual(byName.get('app_retries_total')!.series, [{ labels: '', value: 3 }]);
      assert.ok(!JSON.stringify(families).includes('otel_scope'));
      // jobmeter's own instruments without a rule stay out (its original has no such series).
      assert.ok(!names.some((n) => n.startsWith('jobmeter_')), names.join(' '));
    });
  }

  test("hostInstruments: 'drop' leaves them out, with a startup line saying how many declared ones", async () => {
    const lines: string[] = [];
    const jm = await jobmeter('solti', {
      instruments: DECLARED,
      hostInstruments: 'drop',
      log: (l) => lines.push(l),
    });
    recordHostInstruments(jm);
    const names = (await jm.scrape()).map((f) => f.name);
    assert.deepEqual(names, [
      'solti_runner_task_duration_seconds',
      'solti_runner_tasks_completed_total',
      'solti_runner_tasks_started_total',
    ]);
    assert.deepEqual(lines, [
      'profile solti drops host instruments it has no rule for (hostInstruments: drop): 2 declared (app.uploads, app.cache.size), and any made later on jobmeter.meter or the global API',
    ]);
  });

  test('a host counter literally named solti_runner_tasks_started_total reaches that family', async () => {
    const jm = await jobmeter('solti');
    metrics
      .getMeter('solti-port')
      .createCounter('solti_runner_tasks_started_total')
      .add(7, { runner: 'wasm' });
    const f = (await jm.scrape()).find((x) => x.name === 'solti_runner_tasks_started_total')!;
    assert.deepEqual(f.series, [{ labels: 'runner="wasm"', value: 7 }]);
  });
});

/** A solti port's own OTel instruments, named by rules of its own onto solti's exact series. */
const SOLTI_PORT_TOML = `
[profile]
name = "solti"

[[profile.rules]]
instrument = "port.tasks.started"
name = "solti_runner_tasks_started_total"
type = "counter"
help = "Total number of tasks started"
labels = [["backend", "runner"]]

[[profile.rules]]
instrument = "port.tasks.completed"
name = "solti_runner_tasks_completed_total"
type = "counter"
help = "Total number of tasks completed"
labels = [["result", "outcome"], ["backend", "runner"]]
values = { result = { cancelled = "canceled" } }

[[profile.rules]]
instrument = "port.workers"
name = "solti_runner_workers"
type = "gauge"
help = "Workers by state"
labels = [["state", "state"]]
zero_fill = { state = ["idle", "busy"] }
`;

function configFile(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'jobmeter-rules-'));
  const path = join(dir, 'jobmeter.toml');
  writeFileSync(path, text);
  return path;
}

describe('rules of the host own', () => {
  test('a solti port whose own counters reach the exact solti_runner_* series through rules from a config file', async () => {
    const options = await resolveServiceConfig({
      argv: ['--config', configFile(SOLTI_PORT_TOML)],
      env: {},
    });
    const jm = await createJobmeter({ ...options, listener: { port: 0 }, processMetrics: false });
    open.push(jm);
    const meter = metrics.getMeter('solti-port');
    const started = meter.createCounter('port.tasks.started');
    const completed = meter.createCounter('port.tasks.completed');
    started.add(3, { backend: 'wasm' });
    completed.add(2, { backend: 'wasm', result: 'success' });
    completed.add(1, { backend: 'wasm', result: 'cancelled' });
    meter.createUpDownCounter('port.workers').add(2, { state: 'busy' });
    const body = await (await fetch(`http://127.0.0.1:${jm.pullAddress!.port}/metrics`)).text();
    assert.equal(
      body,
      [
        // solti's order (the Rust prometheus crate's): families by name, series by label values.
        '# HELP solti_runner_tasks_completed_total Total number of tasks completed',
        '# TYPE solti_runner_tasks_completed_total counter',
        'solti_runner_tasks_completed_total{outcome="canceled",runner="wasm"} 1',
        'solti_runner_tasks_completed_total{outcome="success",runner="wasm"} 2',
        '# HELP solti_runner_tasks_started_total Total number of tasks started',
        '# TYPE solti_runner_tasks_started_total counter',
        'solti_runner_tasks_started_total{runner="wasm"} 3',
        '# HELP solti_runner_workers Workers by state',
        '# TYPE solti_runner_workers gauge',
        'solti_runner_workers{state="busy"} 2',
        'solti_runner_workers{state="idle"} 0',
        '',
      ].join('\n'),
    );
  });

  test('in code, on the native profile too: a rule replaces the native naming of the instrument it names', async () => {
    const rule: FamilyRule = {
      instrument: 'app.jobs',
      name: 'legacy_jobs_total',
      type: 'counter',
      help: 'Jobs.',
      labels: [['queue', 'q']],
    };
    const jm = await jobmeter({ name: 'otel', rules: [rule] }, { otelScopeInfo: false });
    metrics.getMeter('app').createCounter('app.jobs').add(1, { queue: 'a' });
    const names = (await jm.scrape()).map((f) => f.name);
    assert.ok(
      names.includes('legacy_jobs_total') && !names.includes('app_jobs_total'),
      names.join(' '),
    );
  });

  const BAD: readonly [string, unknown, string, RegExp][] = [
    [
      'a type outside the vocabulary',
      { instrument: 'a', name: 'x_total', type: 'countr', help: '' },
      'profile.rules[0].type',
      /expected one of counter, gauge, histogram, info \(rule x_total\)/,
    ],
    [
      'a name Prometheus cannot store',
      { instrument: 'a', name: 'x-total', type: 'counter', help: '' },
      'profile.rules[0].name',
      /a Prometheus metric name.*\(rule x-total\)/,
    ],
    [
      'no instrument',
      { name: 'x_total', type: 'counter', help: '' },
      'profile.rules[0].instrument',
      /\(rule x_total\)/,
    ],
    [
      'a label name with a dot',
      { instrument: 'a', name: 'x_total', type: 'counter', help: '', labels: [['a', 'b.c']] },
      'profile.rules[0].labels',
      /label names/,
    ],
    [
      'zero-fill on a label the family does not have',
      {
        instrument: 'a',
        name: 'x',
        type: 'gauge',
        help: '',
        labels: [['s', 'state']],
        zeroFill: { status: ['a'] },
      },
      'profile.rules[0].zeroFill',
      /exactly one label/,
    ],
    [
      'zero-fill with a word twice (its series would be served twice)',
      {
        instrument: 'a',
        name: 'x',
        type: 'gauge',
        help: '',
        labels: [['s', 'state']],
        zeroFill: { state: ['idle', 'busy', 'idle'] },
      },
      'profile.rules[0].zeroFill',
      /each once/,
    ],
    [
      'a built-in family with another type',
      {
        instrument: 'a',
        name: 'solti_runner_tasks_started_total',
        type: 'gauge',
        help: '',
        labels: [['runner', 'runner']],
      },
      'profile.rules[0].name',
      /is a counter with labels \[runner\]/,
    ],
    [
      'a built-in family with other labels',
      { instrument: 'a', name: 'solti_runner_tasks_started_total', type: 'counter', help: '' },
      'profile.rules[0].name',
      /labels \[runner\]/,
    ],
  ];
  for (const [what, rule, key, message] of BAD) {
    test(`a bad rule is a ConfigError naming it: ${what}`, async () => {
      await assert.rejects(
        createJobmeter({
          profile: { name: 'solti', rules: [rule as FamilyRule] },
          listener: false,
          global: false,
        }),
        (err: unknown) =>
          err instanceof ConfigError && err.key === key && message.test(err.message),
      );
    });
  }

  test('from a config file: jobmeter serve exits 2 naming the rule', async () => {
    const path = configFile(
      '[profile]\nname = "solti"\n\n[[profile.rules]]\ninstrument = "a"\nname = "x_total"\ntype = "countr"\nhelp = ""\n',
    );
    const run = start(['serve', '--config', path, '--listen', '127.0.0.1:0']);
    assert.equal(await run.exited(15_000), 2);
    assert.match(
      run.stderr(),
      /profile\.rules\[0\]\.type=countr: expected one of counter, gauge, histogram, info/,
    );
  });

  test('from a config file: an unknown key in a rule names the rule and the keys', async () => {
    const path = configFile(
      '[profile]\nname = "solti"\n\n[[profile.rules]]\ninstrument = "a"\nname = "x_total"\ntype = "counter"\nhelp = ""\nzerofill = {}\n',
    );
    await assert.rejects(
      resolveServiceConfig({ argv: ['--config', path], env: {} }),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.key === 'profile.rules[0].zerofill' &&
        /did you mean profile\.rules\[0\]\.zero_fill/.test(err.message),
    );
  });
});
