// One merge-rule table (src/domain/merge-rules.ts) for node:cluster and the ingest: the cluster's
// policy of every instrument and the ingest's combination of a level's senders are both readings
// of its rule, and what the ingest serves for a level pushed by several senders (resources) in any
// order is the rule's figure -- the largest for a time or an info, the last written otherwise --
// never the senders' values added up. Counters of events still add up.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { mergePolicies } from '../../src/domain/merge-rules.ts';
import { DOMAIN_INSTRUMENTS } from '../../src/domain/catalog.ts';
import {
  CLUSTER_POLICY,
  MERGE_RULES,
  mergeRuleOf,
  SENDER_LEVEL_RULE,
} from '../../src/domain/merge-rules.ts';
import { PROCESS_INSTRUMENTS, RUNTIME_INSTRUMENTS } from '../../src/domain/process-metrics.ts';
import { SHAPE_OF_KIND, type InstrumentSpec } from '../../src/domain/types.ts';
import { IngestStore } from '../../src/ingest/ingest-store.ts';
import type { OtlpMetric } from '../../src/otlp/types.ts';
import { fakeClock, gauge, metric, numberPoint, request, sum, values } from './helpers.ts';

const DECLARED: readonly InstrumentSpec[] = [
  ...DOMAIN_INSTRUMENTS,
  ...PROCESS_INSTRUMENTS,
  ...RUNTIME_INSTRUMENTS,
];
const shapeOf = (spec: InstrumentSpec) => SHAPE_OF_KIND[spec.kind];
const LEVELS = DECLARED.filter((s) => shapeOf(s) === 'gauge' || shapeOf(s) === 'sum');
/** A level jobmeter does not declare: accepted as sent, its rule the default. */
const UNDECLARED = 'daemon.temperature';

test('every instrument the table names is one jobmeter declares', () => {
  const declared = new Set(DECLARED.map((s) => s.name));
  for (const name of Object.keys(MERGE_RULES)) assert.ok(declared.has(name), name);
  assert.ok(Object.isFrozen(MERGE_RULES));
});

test("node:cluster's policy of every instrument is its rule's cluster reading; a time and an info are the largest in both", () => {
  const policy = mergePolicies();
  for (const name of [...DECLARED.map((s) => s.name), UNDECLARED, 'constructor', '__proto__']) {
    const rule = mergeRuleOf(name);
    assert.equal(policy(name), CLUSTER_POLICY[rule], name);
    if (rule === 'latest') assert.equal(SENDER_LEVEL_RULE[rule], 'max', name);
  }
  for (const name of ['jobmeter.run.last_failure.time', 'jobmeter.build.info'])
    assert.equal(mergeRuleOf(name), 'latest', name);
  // The rules an operator expects of a daemon restarted under a new resource: its new process's
  // cpu, memory, uptime and runs in flight, not the dead one's added or kept.
  for (const name of [
    'system.cpu.utilization',
    'process.memory.usage',
    'process.uptime',
    'jobmeter.run.active',
  ])
    assert.equal(SENDER_LEVEL_RULE[mergeRuleOf(name)], 'last', name);
});

/** One sender's point of a level: a gauge, or a cumulative up-down sum, at `time` seconds. */
function levelMetric(spec: InstrumentSpec | undefined, name: string, value: number, time: number) {
  const point = numberPoint(value, {}, 100, time);
  const data =
    spec !== undefined && shapeOf(spec) === 'sum'
      ? sum([point], 'cumulative', false)
      : gauge([point]);
  return metric(name, data);
}

test('a level pushed by several senders in any order is served by its rule: the largest for a time or an info, else the last written', async () => {
  const named = [...LEVELS.map((s) => [s.name, s] as const), [UNDECLARED, undefined] as const];
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...named),
      fc.array(
        fc.record({
          sender: fc.integer({ min: 0, max: 2 }),
          value: fc.integer({ min: 0, max: 2_000_000_000 }),
        }),
        { minLength: 1, maxLength: 8 },
      ),
      async ([name, spec], pushes) => {
        const clock = fakeClock();
        const store = new IngestStore({ clock });
        const last = new Map<number, number>();
        let written = 0;
        let time = 110;
        for (const { sender, value } of pushes) {
          clock.advance(1_000);
          const sent: OtlpMetric = levelMetric(spec, name, value, time++);
          store.ingest(
            request([sent], { 'service.name': 'daemon', 'service.instance.id': `p${sender}` }),
          );
          last.set(sender, value);
          written = value;
        }
        const expected =
          SENDER_LEVEL_RULE[mergeRuleOf(name)] === 'max' ? Math.max(...last.values()) : written;
        assert.deepEqual(Object.values(await values(store, name)), [expected], name);
      },
    ),
    { numRuns: 300 },
  );
});

test('the ingest serves a time as the largest sent, never two added; an info stays 1; events still add', async () => {
  const clock = fakeClock();
  const store = new IngestStore({ clock });
  const failure = 1_795_000_000;
  const push = (instance: string, t: number, last: number, finished: number) => {
    clock.advance(1_000);
    store.ingest(
      request(
        [
          metric('jobmeter.run.last_failure.time', gauge([numberPoint(last, {}, 100, t)])),
          metric('jobmeter.build.info', gauge([numberPoint(1, { version: '1.4.0' }, 100, t)])),
          metric(
            'jobmeter.run.finished',
            sum([numberPoint(finished, { task: 't', outcome: 'success' }, 100, t)]),
          ),
        ],
        { 'service.name': 'daemon', 'service.instance.id': instance },
      ),
    );
  };
  push('old', 110, failure - 600, 4);
  push('new', 111, failure, 6);
  assert.deepEqual(Object.values(await values(store, 'jobmeter.run.last_failure.time')), [failure]);
  assert.deepEqual(Object.values(await values(store, 'jobmeter.build.info')), [1]);
  const finished = await values(store, 'jobmeter.run.finished');
  assert.equal(
    Object.values(finished).reduce((a, b) => a + b, 0),
    10,
  );
});
