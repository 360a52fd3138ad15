/**
 * The ingest's record of its senders (src/ingest/senders.ts), fed by a real store as it ingests
 * OTLP/JSON requests: a sender per resource identity (its other attributes tell series apart, not
 * senders), each resource of a request counted on its own sender, refusals by reason, the
 * temporalities sent, the series held; bounded at its limit whatever the churn, the least recently
 * pushed dropped and counted; a sender's untrusted values cut as they are recorded, said so.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';

import type { StatusSender } from '../../src/http/status-data.ts';
import { IngestStore } from '../../src/ingest/ingest-store.ts';
import {
  MAX_IDENTITY_LENGTH,
  MAX_RESOURCES,
  MAX_SENDERS,
  SenderRecord,
  senderKey,
} from '../../src/ingest/senders.ts';
import { decodeExportRequest } from '../../src/otlp/codec.ts';

const NOW = BigInt(Date.now()) * 1_000_000n;

/** A sum (or a gauge, `temporality` 0) of one point of `value` per attribute set `sets`. */
function metric(name: string, temporality: 0 | 1 | 2, value: number, sets = 1): unknown {
  const dataPoints = Array.from({ length: sets }, (_, i) => ({
    asDouble: value,
    attributes: [{ key: 'i', value: { intValue: String(i) } }],
    startTimeUnixNano: String(NOW - 60_000_000_000n),
    timeUnixNano: String(NOW),
  }));
  return temporality === 0
    ? { name, gauge: { dataPoints } }
    : { name, sum: { aggregationTemporality: temporality, isMonotonic: true, dataPoints } };
}

/** One request of `resources`, each its attributes and its metrics. */
/** `resources` pushed to `store`, from `peer` when one is given (the front's address). */
function push(
  store: IngestStore | { store: IngestStore; peer: string },
  ...resources: [Record<string, string>, unknown[]][]
): ReturnType<IngestStore['ingest']> {
  const body = JSON.stringify({
    resourceMetrics: resources.map(([attributes, metrics]) => ({
      resource: {
        attributes: Object.entries(attributes).map(([key, v]) => ({
          key,
          value: { stringValue: v },
        })),
      },
      scopeMetrics: [{ scope: { name: 's' }, metrics }],
    })),
  });
  const request = decodeExportRequest(Buffer.from(body), 'json');
  return 'peer' in store ? store.store.ingest(request, store.peer) : store.ingest(request);
}

const report = (store: IngestStore) => store.senders.report(store.seriesByResource());
const byName = (store: IngestStore, name: string): StatusSender | undefined =>
  report(store).senders.find((s) => s.identity['service.name'] === name);

it('counts each resource of a request on its own sender: points by outcome, temporality, series', () => {
  const store = new IngestStore();
  const result = push(
    store,
    [
      { 'service.name': 'a', 'service.instance.id': '1', 'process.pid': '10' },
      [metric('done', 2, 1, 3), metric('level', 0, 5)],
    ],
    [{ 'service.name': 'b' }, [metric('sent', 1, 2, 2), metric('done', 2, -1)]],
  );
  // b's negative point on a monotonic sum is refused; the rest accepted.
  assert.equal(result.acceptedDataPoints, 6);
  assert.equal(result.rejectedDataPoints, 1);
  // The same sender under another pid: its other attributes do not make another sender.
  push(store, [
    { 'service.name': 'a', 'service.instance.id': '1', 'process.pid': '11' },
    [metric('done', 2, 2, 2)],
  ]);

  const a = byName(store, 'a')!;
  assert.deepEqual(a.identity, { 'service.instance.id': '1', 'service.name': 'a' });
  assert.equal(a.acceptedPoints, 6);
  assert.deepEqual(a.refusedPoints, {});
  assert.deepEqual(a.temporality, ['cumulative']);
  // 3 + 1 series under pid 10, 2 under pid 11: both resources are a's.
  assert.equal(a.series, 6);
  assert.ok(a.firstPush <= a.lastPush);
  assert.equal(a.address, '', 'no front told where it came from');

  const b = byName(store, 'b')!;
  assert.equal(b.acceptedPoints, 2);
  assert.deepEqual(b.refusedPoints, { invalid_point: 1 });
  assert.deepEqual(b.temporality, ['delta', 'cumulative'].sort());
  assert.equal(b.series, 2);
  // Every series held is some sender's.
  assert.equal(a.series + b.series, store.seriesCount);
  // The latest push first.
  assert.deepEqual(
    report(store).senders.map((s) => s.identity['service.name']),
    ['a', 'b'],
  );

  // The front tells where the request came from: its senders' address from then on.
  push({ store, peer: '192.0.2.7' }, [{ 'service.name': 'b' }, [metric('sent', 1, 1)]]);
  assert.equal(byName(store, 'b')!.address, '192.0.2.7');
  assert.equal(byName(store, 'a')!.address, '');
});

it(`holds at most ${MAX_SENDERS} senders whatever the churn, the least recently pushed dropped and counted`, () => {
  const store = new IngestStore({ maxSeries: 100_000 });
  const churn = MAX_SENDERS * 3;
  for (let i = 0; i < churn; i++) {
    push(store, [
      { 'service.name': 'svc', 'service.instance.id': String(i) },
      [metric('up', 0, 1)],
    ]);
    // The first sender keeps pushing: it is never the least recent.
    if (i % 100 === 0) push(store, [{ 'service.name': 'kept' }, [metric('up', 0, 1)]]);
  }
  const held = report(store);
  assert.equal(store.senders.size, MAX_SENDERS);
  assert.equal(held.senders.length, MAX_SENDERS);
  assert.equal(held.limit, MAX_SENDERS);
  assert.equal(held.evicted, churn + 1 - MAX_SENDERS);
  assert.ok(held.senders.some((s) => s.identity['service.name'] === 'kept'));
  const instances = held.senders.map((s) => Number(s.identity['service.instance.id'] ?? -1));
  // The latest pushes are held, the oldest dropped.
  assert.ok(instances.includes(churn - 1));
  assert.ok(!instances.includes(0));
  assert.ok(!instances.includes(churn - MAX_SENDERS));

  // A small record, by hand: the same rule at its own limit.
  const record = new SenderRecord(2);
  const meet = (name: string) =>
    record.request().arrive({ resource: { 'service.name': name }, scopeMetrics: [] }, name, 1);
  meet('x');
  meet('y');
  meet('x');
  meet('z');
  assert.deepEqual(
    record.report(new Map()).senders.map((s) => s.identity['service.name']),
    ['z', 'x'],
  );
  assert.equal(record.evicted, 1);
});

it(`keeps at most ${MAX_RESOURCES} resources of a sender, the latest`, () => {
  const store = new IngestStore();
  for (let pid = 0; pid < MAX_RESOURCES + 2; pid++)
    push(store, [{ 'service.name': 'a', 'process.pid': String(pid) }, [metric('up', 0, 1)]]);
  // Every resource's series is still held; the sender is told those of its latest resources.
  assert.equal(store.seriesCount, MAX_RESOURCES + 2);
  assert.equal(byName(store, 'a')!.series, MAX_RESOURCES);
});

it('cuts an identifying value as it is recorded and says so; keys every value whole', () => {
  const store = new IngestStore();
  const huge = 'v'.repeat(100_000);
  const hostile = `<script>alert("x")</script>'\n\ud800`;
  push(store, [{ 'service.name': huge, 'host.name': hostile }, [metric('up', 0, 1)]]);
  push(store, [{ 'service.name': `${huge}w`, 'host.name': hostile }, [metric('up', 0, 1)]]);
  const senders = report(store).senders;
  // Two senders: their names differ past the cut.
  assert.equal(senders.length, 2);
  const name = senders[1]!.identity['service.name']!;
  assert.equal(name, `${'v'.repeat(MAX_IDENTITY_LENGTH)}… (cut: 100000 characters)`);
  // Markup and control characters are kept as text: the page escapes them (status-json.test.ts);
  // the lone surrogate went to the wire as U+FFFD.
  assert.equal(senders[1]!.identity['host.name'], hostile.replace('\ud800', '\ufffd'));
  assert.notEqual(senderKey({ 'service.name': huge }), senderKey({ 'service.name': `${huge}w` }));
  assert.ok(senderKey({ 'service.name': huge }).length <= 512);
});
