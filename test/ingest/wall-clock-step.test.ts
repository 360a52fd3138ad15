/**
 * A step of jobmeter's wall clock (NTP at boot, a VM's resume, `date -s`), forwards or back, while
 * its monotonic clock runs on (series/clock.ts): the ingest expires nothing early, keeps
 * nothing late, and a delta sender's total goes on. The same across a restart whose wall clock is
 * another day's. The senders' clocks are not stepped: their point times go on as before.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeCheckpoint, encodeCheckpoint } from '../../src/ingest/checkpoint.ts';
import { IngestStore } from '../../src/ingest/ingest-store.ts';
import { fakeClock, gauge, metric, numberPoint, request, sum, values } from './helpers.ts';

const EXPIRY = 300_000;
const DAY = 86_400_000;

/** One push of each sender: a delta counter (`delta` more), a cumulative counter at `total`, a gauge; point times `time` s after the helpers' epoch. */
function push(store: IngestStore, time: number, delta: number, total: number): void {
  store.ingest(
    request([metric('daemon.sent', sum([numberPoint(delta, {}, time - 10, time)], 'delta'))], {
      'service.name': 'd',
    }),
  );
  store.ingest(
    request([metric('daemon.jobs', sum([numberPoint(total, {}, 1, time)]))], {
      'service.name': 'c',
    }),
  );
  store.ingest(
    request([metric('daemon.depth', gauge([numberPoint(total % 7, {}, 0, time)]))], {
      'service.name': 'g',
    }),
  );
}

/** A store fed for 100 s: daemon.sent at 100, daemon.jobs at 50. */
function fed(clock: ReturnType<typeof fakeClock>): IngestStore {
  const store = new IngestStore({ clock, expiryMillis: EXPIRY });
  for (let i = 1; i <= 10; i++) {
    push(store, 10 * i, 10, 5 * i);
    clock.advance(10_000);
  }
  return store;
}

describe('a wall-clock step', () => {
  for (const step of [400_000, -400_000]) {
    it(`of ${step / 1000} s while senders push expires nothing and a delta counter keeps its total`, async () => {
      const clock = fakeClock();
      const store = fed(clock);
      clock.step(step);
      clock.advance(3_000);
      push(store, 103, 5, 52);
      assert.equal(store.seriesCount, 3);
      assert.deepEqual(await values(store, 'daemon.sent'), { '{}': 105 });
      assert.deepEqual(await values(store, 'daemon.jobs'), { '{}': 52 });
      assert.deepEqual(await values(store, 'daemon.depth'), { '{}': 52 % 7 });
    });

    it(`of ${step / 1000} s while senders are silent expires them one expiry after their last point, not before, not after`, async () => {
      const clock = fakeClock();
      const store = fed(clock);
      clock.step(step);
      // The last points arrived 10 s before the step.
      clock.advance(EXPIRY - 10_000 - 1);
      assert.equal(store.seriesCount, 3, 'not yet idle for the expiry');
      assert.deepEqual(await values(store, 'daemon.sent'), { '{}': 100 });
      clock.advance(1);
      await store.collect();
      assert.equal(store.seriesCount, 0, 'idle for the expiry: gone');
    });
  }
});

describe('a restart whose wall clock is stepped', () => {
  for (const step of [400_000, -400_000, DAY, -DAY]) {
    const words = Math.abs(step) === DAY ? `${step > 0 ? '+' : '-'}1 day` : `${step / 1000} s`;
    it(`(${words}) restores every series as idle as it was, and expires each by its own idle time`, async () => {
      const before = fakeClock();
      const store = fed(before);
      // daemon.jobs goes silent: for 250 s only the other two push.
      for (let i = 1; i <= 24; i++) {
        before.advance(10_000);
        store.ingest(
          request(
            [
              metric(
                'daemon.sent',
                sum([numberPoint(1, {}, 100 + 10 * i - 10, 100 + 10 * i)], 'delta'),
              ),
            ],
            { 'service.name': 'd' },
          ),
        );
        store.ingest(
          request([metric('daemon.depth', gauge([numberPoint(3, {}, 0, 100 + 10 * i)]))], {
            'service.name': 'g',
          }),
        );
      }
      const payload = encodeCheckpoint(store.snapshot());
      // Another process: its monotonic clock starts anew, its wall clock is off by `step`.
      const after = fakeClock(before.wallMillis() + step);
      const restored = new IngestStore({ clock: after, expiryMillis: EXPIRY });
      restored.restore(decodeCheckpoint(payload));
      assert.equal(restored.seriesCount, 3);
      assert.deepEqual(await values(restored, 'daemon.sent'), { '{}': 124 });
      assert.deepEqual(await values(restored, 'daemon.jobs'), { '{}': 50 });
      // daemon.jobs was idle 250 s at the write: 50 s more expires it, and only it.
      after.advance(50_000 - 1);
      await restored.collect();
      assert.equal(restored.seriesCount, 3);
      after.advance(1);
      await restored.collect();
      assert.equal(restored.seriesCount, 2);
      if (Math.abs(step) < DAY) {
        // The delta sender (its clock not stepped: within the point times jobmeter accepts) goes on from its total.
        restored.ingest(
          request([metric('daemon.sent', sum([numberPoint(6, {}, 340, 350)], 'delta'))], {
            'service.name': 'd',
          }),
        );
        assert.deepEqual(await values(restored, 'daemon.sent'), { '{}': 130 });
      }
      after.advance(EXPIRY);
      await restored.collect();
      assert.equal(
        restored.seriesCount,
        0,
        'every series expires after a full expiry without points',
      );
    });
  }
});

/**
 * `clock` with the system's monotonic clock of one boot (series/clock.ts `boot`): `id` names the
 * boot, and the reading is `clock`'s monotonic one plus `origin` (another process's origin).
 */
function booted(clock: ReturnType<typeof fakeClock>, id: string, origin: number) {
  return Object.assign(clock, {
    boot: () => ({ id, monotonicMillis: clock.monotonicMillis() + origin }),
  });
}

/** A store fed for 100 s, then 240 s in which daemon.jobs is silent (250 s since its last point); its snapshot's payload. */
function jobsSilent(clock: ReturnType<typeof fakeClock>): string {
  const store = fed(clock);
  for (let i = 1; i <= 24; i++) {
    clock.advance(10_000);
    const time = 100 + 10 * i;
    store.ingest(
      request([metric('daemon.sent', sum([numberPoint(1, {}, time - 10, time)], 'delta'))], {
        'service.name': 'd',
      }),
    );
    store.ingest(
      request([metric('daemon.depth', gauge([numberPoint(3, {}, 0, time)]))], {
        'service.name': 'g',
      }),
    );
  }
  return encodeCheckpoint(store.snapshot());
}

describe('a restart in the same boot', () => {
  for (const step of [0, DAY, -DAY]) {
    const wall = step === 0 ? 'as it was' : step > 0 ? 'a day ahead' : 'a day behind';
    it(`(its wall clock ${wall}) counts the time jobmeter was down as idle`, async () => {
      const before = booted(fakeClock(), 'boot-1', 1_000_000);
      const payload = jobsSilent(before);
      // Down 40 s: another process, whose monotonic clock starts anew, under the same boot.
      const after = booted(fakeClock(before.wallMillis() + step), 'boot-1', 1_040_000 + 340_000);
      const restored = new IngestStore({ clock: after, expiryMillis: EXPIRY });
      const summary = restored.restore(decodeCheckpoint(payload));
      assert.equal(summary.downtimeCounted, true);
      assert.equal(restored.seriesCount, 3);
      // daemon.jobs: idle 250 s at the write, 40 s down; 10 s more and it is dormant (not pushed
      // since the restart: the file cannot know its sender is silent), gone the expiry after the
      // restart.
      after.advance(10_000 - 1);
      await restored.collect();
      assert.equal(restored.seriesCount, 3);
      after.advance(1);
      await restored.collect();
      assert.equal(restored.seriesCount, 2);
      assert.deepEqual(await values(restored, 'daemon.jobs'), {});
      assert.equal(restored.expiredSeries, 0);
      after.advance(EXPIRY - 10_000);
      await restored.collect();
      assert.equal(restored.expiredSeries, 3);
    });
  }

  it('holds a source series idle for the expiry by then dormant: not served, gone (counted) the expiry after the restore', async () => {
    const before = booted(fakeClock(), 'boot-1', 0);
    const payload = jobsSilent(before);
    // Down 50 s: daemon.jobs is silent for the expiry as far as the file knows.
    const after = booted(fakeClock(before.wallMillis()), 'boot-1', 340_000 + 50_000);
    const restored = new IngestStore({ clock: after, expiryMillis: EXPIRY });
    const summary = restored.restore(decodeCheckpoint(payload));
    assert.deepEqual(
      { series: summary.series, streams: summary.streams, dormant: summary.dormantStreams },
      { series: 3, streams: 3, dormant: 1 },
    );
    assert.deepEqual(await values(restored, 'daemon.jobs'), {});
    assert.equal(restored.expiredSeries, 0);
    // The two others, idle 50 s, are dormant 250 s on (not pushed since the restart); all three
    // go the expiry after the restore.
    after.advance(EXPIRY - 1);
    await restored.collect();
    assert.equal(restored.expiredSeries, 0);
    assert.equal(restored.seriesCount, 0);
    after.advance(1);
    await restored.collect();
    assert.equal(restored.expiredSeries, 3);
  });

  const fallbacks: [string, (id: string) => string, number][] = [
    ['after a reboot (another boot id)', () => 'boot-2', 10_000],
    ['whose system clock reads behind the write (another time namespace)', (id) => id, 0],
  ];
  for (const [what, id, origin] of fallbacks) {
    it(`${what}: idle as at the newest point, the time since not counted`, async () => {
      const before = booted(fakeClock(), 'boot-1', 1_000_000);
      const payload = jobsSilent(before);
      const after = booted(fakeClock(before.wallMillis()), id('boot-1'), origin);
      const restored = new IngestStore({ clock: after, expiryMillis: EXPIRY });
      assert.equal(restored.restore(decodeCheckpoint(payload)).downtimeCounted, false);
      // daemon.jobs was idle 250 s before the newest point: 50 s more expires it.
      after.advance(50_000 - 1);
      await restored.collect();
      assert.equal(restored.seriesCount, 3);
      after.advance(1);
      await restored.collect();
      assert.equal(restored.seriesCount, 2);
    });
  }

  it('is written only with a boot clock: a file without it restores as before', () => {
    assert.equal('written' in JSON.parse(jobsSilent(fakeClock())), false);
    const written = JSON.parse(jobsSilent(booted(fakeClock(), 'boot-1', 0)));
    assert.deepEqual(Object.keys(written.written), ['wall', 'boot', 'monotonic']);
  });
});
