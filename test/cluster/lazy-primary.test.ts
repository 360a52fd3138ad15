// The primary before its code has loaded: it has an id to tell members, is not active, and the
// messages a member sends while the code loads reach the primary in the order they were sent.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { emptyResource } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  DataPointType,
  MeterProvider,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { LazyPrimary } from '../../src/cluster/lazy-primary.ts';
import { mergePolicies } from '../../src/domain/merge-rules.ts';
import { ReportEncoder } from '../../src/cluster/report-encoder.ts';
import { WIRE_TAG, type ToMember } from '../../src/cluster/wire.ts';
import { newPullReader } from '../../src/readers/pull-reader.ts';

const EMPTY: ResourceMetrics = { resource: emptyResource(), scopeMetrics: [] };

function lazyPrimary(
  failed: (err: unknown) => void = (err) => assert.fail(String(err)),
  load?: () => Promise<typeof import('../../src/cluster/primary.ts')>,
) {
  return new LazyPrimary(
    () => ({
      resource: emptyResource(),
      policyFor: mergePolicies(),
      temporality: () => AggregationTemporality.CUMULATIVE,
      // A collection waits this long for a member that does not answer (this test's never does).
      timeoutMillis: 10,
      collectOwn: () => Promise.resolve(EMPTY),
    }),
    failed,
    load,
  );
}

test('a primary no member has said hello to is not active and has an id to tell members', () => {
  const primary = lazyPrimary();
  assert.equal(primary.active, undefined);
  assert.match(primary.id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  // A link that leaves before saying anything loads nothing and changes nothing.
  primary.gone('worker 1');
  assert.equal(primary.active, undefined);
});

test("a member's hello and report sent while the primary's code loads are merged in the order sent", async () => {
  const primary = lazyPrimary();
  // A member: its own provider, read and encoded as a member reports.
  const reader = newPullReader([], { cardinalityLimit: 100 });
  const provider = new MeterProvider({ readers: [reader] });
  provider.getMeter('app').createCounter('jobs').add(5);
  const { resourceMetrics } = await reader.collect();
  const instance = 'member-1';
  const replies: ToMember[] = [];
  const reply = (m: ToMember): void => {
    replies.push(m);
  };
  // Both before the load completes: a report applied ahead of its hello would be dropped (the
  // primary keeps only what a member it has welcomed sends).
  primary.received('thread 1', { tag: WIRE_TAG, t: 'hello', instance }, reply);
  for (const chunk of new ReportEncoder(instance).chunks(resourceMetrics, 0))
    primary.received('thread 1', chunk, reply);
  // Not narrowed to undefined by an assertion: the loop below waits for it to change.
  assert.equal(
    primary.active === undefined,
    true,
    'not active before the hello has reached the primary',
  );
  for (let i = 0; i < 100 && !primary.active; i++) await new Promise((r) => setTimeout(r, 5));
  const active = primary.active;
  assert.ok(active !== undefined);
  assert.deepEqual(replies, [{ tag: WIRE_TAG, t: 'welcome', aggregate: primary.id }]);
  const merged = (await active.collect(EMPTY)).scopeMetrics
    .flatMap((s) => s.metrics)
    .find((m) => m.descriptor.name === 'jobs');
  assert.ok(
    merged !== undefined && merged.dataPointType === DataPointType.SUM,
    'the report merged',
  );
  assert.deepEqual(
    merged.dataPoints.map((p) => p.value),
    [5],
  );
  await provider.shutdown();
});

test("a primary whose code cannot load says so once and drops every member's message", async () => {
  const failures: unknown[] = [];
  let loads = 0;
  const primary = lazyPrimary(
    (err) => failures.push(err),
    () => {
      loads++;
      return Promise.reject(new Error('chunk missing'));
    },
  );
  const replies: ToMember[] = [];
  const reply = (m: ToMember): void => {
    replies.push(m);
  };
  for (let i = 0; i < 5; i++)
    primary.received(`thread ${i}`, { tag: WIRE_TAG, t: 'hello', instance: `m${i}` }, reply);
  primary.gone('thread 0');
  await new Promise((r) => setTimeout(r, 10));
  // Later messages are dropped too, with no second attempt and no second line.
  primary.received('thread 9', { tag: WIRE_TAG, t: 'hello', instance: 'm9' }, reply);
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(loads, 1);
  assert.deepEqual(
    failures.map((e) => (e as Error).message),
    ['chunk missing'],
  );
  assert.equal(primary.active, undefined);
  assert.deepEqual(replies, [], 'no member is welcomed: each says nobody aggregates');
});
