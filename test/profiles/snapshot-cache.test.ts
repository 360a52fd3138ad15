// The host snapshot cache: crewshipd's 15 s TTL (its DB-derived block), one shared call for
// concurrent readers, a timeout that serves the last good snapshot, and failures counted by
// reason. Time is a fake clock wherever the TTL matters; the timeout tests wait 50 ms for real.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { DOMAIN_INSTRUMENTS } from '../../src/domain/catalog.ts';
import { createRecorder } from '../../src/domain/recorder.ts';
import {
  SnapshotCache,
  type HostSnapshot,
  type SnapshotFailure,
} from '../../src/domain/snapshot.ts';
import { profile as crewshipdProfile } from '../../src/naming/profiles/crewshipd.ts';
import { createNamer } from '../../src/naming/to-families.ts';
import { newPullReader } from '../../src/readers/pull-reader.ts';
import { buildViews } from '../../src/jobmeter-views.ts';
import { countingSource, numberSeries, scrapeByName, testJobmeter, within } from './helpers.ts';

const TTL = 15_000;

function fakeClock(start = 1_000_000): { now: () => number; set: (t: number) => void } {
  let t = start;
  return { now: () => t, set: (v) => void (t = v) };
}

function deferred<T>(): {
  promise: Promise<T>;
  resolve: (v: T) => void;
  reject: (e: unknown) => void;
} {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/**
 * The crewshipd pipeline with an injected clock: recorder (the profile's snapshot policy as its
 * default, as createJobmeter passes it) → reader → crewshipd namer. `createJobmeter` takes no
 * clock, hence the hand assembly.
 */
function crewshipdWithClock(now: () => number) {
  const reader = newPullReader();
  const provider = new MeterProvider({ views: buildViews(DOMAIN_INSTRUMENTS), readers: [reader] });
  const recorder = createRecorder(provider.getMeter('jobmeter'), {
    now,
    snapshotDefaults: crewshipdProfile.snapshot,
  });
  const namer = createNamer(crewshipdProfile, { hostname: 'h' });
  const queueDepth = async () => {
    const families = namer.toFamilies((await reader.collect()).resourceMetrics);
    return numberSeries(families.find((f) => f.name === 'crewshipd_assignment_queue_depth'))[0]![1];
  };
  return { reader, provider, recorder, queueDepth };
}

test('crewshipd: 100 scrapes within 15 s → one host call; at 15 s → a second; the served figures follow', async () => {
  assert.equal(crewshipdProfile.snapshot?.ttlMillis, TTL, "crewshipd's documented cache");
  const clock = fakeClock();
  const { recorder, provider, queueDepth } = crewshipdWithClock(clock.now);
  try {
    let calls = 0;
    recorder.setSnapshotSource(() => ({ queue: { depth: ++calls, groups: 1, depthMax: 1 } }));
    const t0 = clock.now();
    for (let i = 0; i < 100; i++) {
      clock.set(t0 + Math.floor((i * (TTL - 1)) / 99)); // t0 … t0 + 14 999 ms
      assert.equal(await queueDepth(), 1, `scrape ${i} serves the cached snapshot`);
    }
    assert.equal(calls, 1);
    clock.set(t0 + TTL);
    assert.equal(await queueDepth(), 2, 'stale at exactly 15 s: a fresh snapshot');
    assert.equal(calls, 2);
    clock.set(t0 + TTL + TTL - 1);
    assert.equal(await queueDepth(), 2);
    assert.equal(calls, 2, 'the TTL counts from the second call');
  } finally {
    await provider.shutdown();
  }
});

test('crewshipd: 50 concurrent collections when stale → one host call, all served its answer', async () => {
  const clock = fakeClock();
  const { reader, recorder, provider } = crewshipdWithClock(clock.now);
  try {
    let calls = 0;
    let pending = deferred<HostSnapshot>();
    recorder.setSnapshotSource(() => {
      calls++;
      return pending.promise;
    });
    const namer = createNamer(crewshipdProfile, { hostname: 'h' });
    const depthOf = (rm: Awaited<ReturnType<typeof reader.collect>>) =>
      numberSeries(
        namer
          .toFamilies(rm.resourceMetrics)
          .find((f) => f.name === 'crewshipd_assignment_queue_depth'),
      )[0]![1];

    const warm = reader.collect();
    pending.resolve({ queue: { depth: 1, groups: 1, depthMax: 1 } });
    assert.equal(depthOf(await warm), 1);
    assert.equal(calls, 1);

    clock.set(clock.now() + TTL);
    pending = deferred<HostSnapshot>();
    // reader.collect() (not the coalescing jm.scrape()): each collection runs the callback itself.
    const collections = Array.from({ length: 50 }, () => reader.collect());
    await new Promise<void>((resolve) => setImmediate(resolve));
    assert.equal(calls, 2, 'one call for 50 collections');
    pending.resolve({ queue: { depth: 9, groups: 1, depthMax: 9 } });
    for (const c of await Promise.all(collections)) assert.equal(depthOf(c), 9);
    assert.equal(calls, 2);
  } finally {
    await provider.shutdown();
  }
});

test('createJobmeter: crewshipd applies its 15 s TTL by default; options.snapshot overrides it', async () => {
  const cached = await testJobmeter('crewshipd');
  const uncached = await testJobmeter('crewshipd', { snapshot: { ttlMillis: 0 } });
  try {
    const a = countingSource({ queue: { depth: 1, groups: 1, depthMax: 1 } });
    const b = countingSource({ queue: { depth: 1, groups: 1, depthMax: 1 } });
    cached.setSnapshotSource(a.source);
    uncached.setSnapshotSource(b.source);
    for (let i = 0; i < 3; i++) {
      await cached.scrape();
      await uncached.scrape();
    }
    assert.equal(a.calls(), 1, 'back-to-back scrapes fall within 15 s');
    assert.equal(b.calls(), 3, 'ttlMillis: 0 calls on every scrape');
  } finally {
    await cached.shutdown();
    await uncached.shutdown();
  }
});

// ---------------------------------------------------------------------------------------------
// SnapshotCache on its own

test('SnapshotCache: 50 concurrent reads when stale share one call; within the TTL none', async () => {
  const clock = fakeClock();
  const failures: SnapshotFailure[] = [];
  let calls = 0;
  let pending = deferred<HostSnapshot>();
  const cache = new SnapshotCache(
    () => {
      calls++;
      return pending.promise;
    },
    { ttlMillis: TTL },
    (r) => failures.push(r),
    clock.now,
  );
  const tick = () => new Promise<void>((resolve) => setImmediate(resolve));
  const first = Array.from({ length: 50 }, () => cache.get());
  await tick(); // the callback is called on a later microtask
  assert.equal(calls, 1);
  const s1: HostSnapshot = { dbMigrationVersion: 1 };
  pending.resolve(s1);
  for (const s of await Promise.all(first)) assert.equal(s, s1);

  for (let i = 0; i < 100; i++) assert.equal(await cache.get(), s1);
  assert.equal(calls, 1);

  clock.set(clock.now() + TTL);
  pending = deferred<HostSnapshot>();
  const second = Array.from({ length: 50 }, () => cache.get());
  await tick();
  assert.equal(calls, 2);
  const s2: HostSnapshot = { dbMigrationVersion: 2 };
  pending.resolve(s2);
  for (const s of await Promise.all(second)) assert.equal(s, s2);
  assert.deepEqual(failures, []);
});

test('SnapshotCache: a hung call times out to the last good snapshot, is not called again while it hangs, and its late answer is kept', async () => {
  const failures: SnapshotFailure[] = [];
  let calls = 0;
  const good: HostSnapshot = { dbMigrationVersion: 1 };
  const hung = deferred<HostSnapshot>();
  const cache = new SnapshotCache(
    () => (++calls === 1 ? good : hung.promise),
    { ttlMillis: 0, timeoutMillis: 50 },
    (r) => failures.push(r),
  );
  assert.equal(await cache.get(), good);
  assert.equal(
    await within(cache.get(), 5_000, 'a read during a hung call'),
    good,
    'last good served',
  );
  assert.deepEqual(failures, ['timeout']);
  for (let i = 0; i < 10; i++) assert.equal(await cache.get(), good);
  assert.equal(calls, 2, 'no new call while one hangs');
  assert.deepEqual(failures, ['timeout'], 'reads while hung are served, not counted again');

  const late: HostSnapshot = { dbMigrationVersion: 2 };
  hung.resolve(late);
  await new Promise<void>((resolve) => setImmediate(resolve));
  assert.equal(cache.last, late, 'the late answer is the freshest there is');
  await cache.get();
  assert.equal(calls, 3, 'once it settles, the host is called again');
});

test('SnapshotCache: a throwing callback → error, last good served, the next read calls again', async () => {
  const failures: SnapshotFailure[] = [];
  let calls = 0;
  const good: HostSnapshot = { dbMigrationVersion: 1 };
  const cache = new SnapshotCache(
    () => {
      if (++calls === 1) return good;
      throw new Error('db down');
    },
    { ttlMillis: 0 },
    (r) => failures.push(r),
  );
  assert.equal(await cache.get(), good);
  assert.equal(await cache.get(), good);
  assert.equal(await cache.get(), good);
  assert.deepEqual(failures, ['error', 'error']);
  assert.equal(calls, 3);
});

test('SnapshotCache: failing before any success serves nothing (undefined), not a stale default', async () => {
  const failures: SnapshotFailure[] = [];
  const cache = new SnapshotCache(
    () => Promise.reject(new Error('no db')),
    {},
    (r) => failures.push(r),
  );
  assert.equal(await cache.get(), undefined);
  assert.deepEqual(failures, ['error']);
});

// ---------------------------------------------------------------------------------------------
// Seen from a scrape (otel profile: the failure counter is only named there)

const FAILURES = 'jobmeter_snapshot_failures_total';

test('otel: a hung snapshot callback — the scrape answers, last good served, timeout counted, no second call while hung', async () => {
  const jm = await testJobmeter('otel', { otelScopeInfo: false, snapshot: { timeoutMillis: 50 } });
  try {
    let calls = 0;
    jm.setSnapshotSource(() =>
      ++calls === 1
        ? { queue: { depth: 7, groups: 2, depthMax: 5 } }
        : new Promise<HostSnapshot>(() => {}),
    );
    let f = await scrapeByName(jm);
    assert.deepEqual(numberSeries(f.get('jobmeter_queue_depth')), [['', 7]]);
    assert.equal(f.has(FAILURES), false, 'no failure yet, no series');

    f = await within(scrapeByName(jm), 5_000, 'a scrape while the snapshot callback hangs');
    assert.deepEqual(
      numberSeries(f.get('jobmeter_queue_depth')),
      [['', 7]],
      'the last good snapshot',
    );
    assert.equal(calls, 2);

    f = await within(scrapeByName(jm), 5_000, 'a second scrape while the callback still hangs');
    assert.deepEqual(numberSeries(f.get('jobmeter_queue_depth')), [['', 7]]);
    assert.deepEqual(numberSeries(f.get(FAILURES)), [['reason="timeout"', 1]]);
    assert.equal(calls, 2, 'the hung callback is not called again');
  } finally {
    await jm.shutdown();
  }
});

test('otel: a throwing snapshot callback → reason="error", last good served', async () => {
  const jm = await testJobmeter('otel', { otelScopeInfo: false });
  try {
    let calls = 0;
    jm.setSnapshotSource(() => {
      if (++calls === 1) return { containers: { tracked: 3, reporting: 2 } };
      throw new Error('db down');
    });
    await jm.scrape();
    await jm.scrape();
    const f = await scrapeByName(jm);
    assert.deepEqual(numberSeries(f.get('jobmeter_container_tracked')), [['', 3]]);
    assert.deepEqual(numberSeries(f.get(FAILURES)), [['reason="error"', 2]]);
    assert.equal(calls, 3);
  } finally {
    await jm.shutdown();
  }
});

test('legacy profiles do not name the failure counter (the originals have no such series)', async () => {
  const jm = await testJobmeter('crewshipd', { snapshot: { ttlMillis: 0 } });
  try {
    jm.setSnapshotSource(() => {
      throw new Error('db down');
    });
    const names = [...(await scrapeByName(jm)).keys()];
    assert.ok(!names.some((n) => n.includes('snapshot_failures')), names.join(' '));
  } finally {
    await jm.shutdown();
  }
});
