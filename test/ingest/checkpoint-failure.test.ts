/**
 * A checkpoint that cannot be written (state-keeper.ts): what is served never runs ahead of what a
 * restart would restore. While writes fail, collections — the push's MetricData and a scrape's
 * series sets — serve the last file written; the store keeps taking points and the first write
 * that succeeds serves them; the failures are counted and said once per change; the shutdown write
 * failing rejects. The failure is a real one of the file system: the state directory is a small
 * tmpfs remounted read-only (this needs root, and fails saying so otherwise). A full or read-only
 * disk under `jobmeter serve`: test/cli/serve-checkpoint-failure.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MetricProducer } from '@opentelemetry/sdk-metrics';
import { ingestProducer, IngestStore } from '../../src/ingest/ingest-store.ts';
import { REFUSAL_REASONS } from '../../src/ingest/ingest-report.ts';
import { StateKeeper } from '../../src/ingest/state-keeper.ts';
import { smallDisks } from '../support/small-disk.ts';
import { fakeClock, metric, numberPoint, request, sum } from './helpers.ts';
import { logTo } from '../../src/common/log.ts';
import { createJobmeter } from '../../src/jobmeter.ts';
import { freePort } from '../support/free-port.ts';
import {
  applyPush,
  cloneState,
  fileSeries,
  KEYS,
  refusal,
  served,
  type ModelState,
} from '../model/model.ts';
import { scrapeModelSeries, Sender } from '../model/system.ts';

const disks = smallDisks();

function keeperOn(
  clock: ReturnType<typeof fakeClock>,
  lines: string[],
  dir = disks.mount(),
  expiryMillis?: number,
) {
  const settings = { clock, ...(expiryMillis !== undefined && { expiryMillis }) };
  const store = new IngestStore(settings);
  const keeper = StateKeeper.open(store, {
    dir,
    host: '127.0.0.1',
    port: 4318,
    maxBytes: 1e6,
    log: logTo((l) => lines.push(l)),
    emptyStore: () => new IngestStore(settings),
  });
  return { store, keeper, dir };
}

/** A cumulative counter's total, as one sender (`daemon` by default) pushes it. */
function push(store: IngestStore, total: number, daemon = 'daemon'): void {
  assert.equal(
    store.ingest(
      request([metric('daemon.jobs', sum([numberPoint(total, {}, 100, 100 + total)]))], {
        'service.name': daemon,
      }),
    ).acceptedDataPoints,
    1,
  );
}

/** The counter as the push would read it (the keeper's producer). */
async function pushed(producer: MetricProducer): Promise<number | undefined> {
  const { resourceMetrics } = await producer.collect();
  for (const sm of resourceMetrics.scopeMetrics)
    for (const m of sm.metrics)
      if (m.descriptor.name === 'daemon.jobs') return m.dataPoints[0]!.value as number;
  return undefined;
}

/** The counter as a scrape would read it (the keeper's series sets: columns). */
async function scraped(keeper: StateKeeper): Promise<number | undefined> {
  const part = await keeper.series().collectSeries();
  try {
    const set = part.scopes
      .flatMap((s) => s.series)
      .find((s) => s.descriptor.name === 'daemon.jobs');
    return set === undefined || !('values' in set) ? undefined : set.values[0];
  } finally {
    part.done();
  }
}

describe('a checkpoint that cannot be written', () => {
  it('serves the last file written until a write succeeds, then what the store holds', async () => {
    const clock = fakeClock();
    const lines: string[] = [];
    const { store, keeper, dir } = keeperOn(clock, lines);
    const producer = ingestProducer(keeper.series());
    push(store, 100);
    assert.equal(await pushed(producer), 100);

    disks.remount(dir, 'ro');
    push(store, 150);
    assert.equal(await pushed(producer), 100, 'held at the last checkpoint written');
    push(store, 175);
    assert.equal(await pushed(producer), 100);
    const health = keeper.health();
    assert.equal(health.failures, 2);
    assert.equal(health.failing?.reason, 'EROFS');
    assert.equal(health.failing?.inRow, 2);
    const warnings = lines.filter((l) => l.startsWith('warning: '));
    assert.equal(warnings.length, 1, `one line while the reason stays: ${warnings.join('\n')}`);
    assert.match(
      warnings[0]!,
      /served as of the last checkpoint written \(what a restart restores\) until a write succeeds/,
    );

    disks.remount(dir, 'rw');
    assert.equal(await pushed(producer), 175, 'written, then served');
    assert.equal(keeper.health().failing, undefined);
    assert.match(lines.at(-1)!, /^ingest state written again to .* after 2 failed writes/);
    await keeper.close();
  });

  it("holds a scrape's series sets the same way", async () => {
    const clock = fakeClock();
    const { store, keeper, dir } = keeperOn(clock, []);
    push(store, 100);
    assert.equal(await scraped(keeper), 100);
    disks.remount(dir, 'ro');
    push(store, 150);
    assert.equal(await scraped(keeper), 100);
    disks.remount(dir, 'rw');
    assert.equal(await scraped(keeper), 150);
    await keeper.close();
  });

  it('a series forgotten and made again since the last write is not served from the file: the one in the file is gone', async () => {
    // The file holds one sender's 5; while no write succeeds, that sender expires (the series is
    // forgotten) and another makes the series again with 2. What is served is the file less the
    // series forgotten since, and the new one is not written: nothing, never the file's 5 with it.
    const clock = fakeClock();
    const { store, keeper, dir } = keeperOn(clock, [], disks.mount(), 10_000);
    const producer = ingestProducer(keeper.series());
    push(store, 5, 'old');
    assert.equal(await pushed(producer), 5);
    disks.remount(dir, 'ro');
    clock.advance(20_000);
    push(store, 2, 'new');
    assert.equal(await pushed(producer), undefined, 'pushed while writes fail');
    assert.equal(await scraped(keeper), undefined, 'scraped while writes fail');
    disks.remount(dir, 'rw');
    assert.equal(await pushed(producer), 2, 'written, then served');
    await keeper.close();
  });

  it('serves nothing of the ingest when no file was ever written: a restart would start afresh', async () => {
    const clock = fakeClock();
    const { store, keeper, dir } = keeperOn(clock, []);
    disks.remount(dir, 'ro');
    push(store, 150);
    assert.equal(await pushed(ingestProducer(keeper.series())), undefined);
    disks.remount(dir, 'rw');
    await keeper.close();
  });

  it('rejects at shutdown when the last write fails, and a restart restores the last file written', async () => {
    const clock = fakeClock();
    const { store, keeper, dir } = keeperOn(clock, []);
    push(store, 100);
    await keeper.save();
    disks.remount(dir, 'ro');
    push(store, 150);
    await assert.rejects(
      keeper.close(),
      /^StateFileError: ingest state .* at shutdown: not written \(EROFS.*\); a restart restores the last checkpoint written, without what was received since$/,
    );
    disks.remount(dir, 'rw');
    const lines: string[] = [];
    const next = keeperOn(clock, lines, dir);
    assert.match(lines[0]!, /restored 1 series/);
    assert.equal(await pushed(ingestProducer(next.keeper.series())), 100);
    await next.keeper.close();
  });
});

describe('jobmeter_ingest_refused_total while checkpoints fail', () => {
  it('counts every refusal before, while and after writes fail: never down, never gone', async () => {
    // A real jobmeter (pull endpoint, OTLP/HTTP ingest, state on the small disk) and two senders
    // of the model (test/model): what it refuses and what it serves are the model's. The refused
    // counter is jobmeter's own, no state of the file: it goes on whatever the disk does (jobmeter's
    // restart alone starts it again, with its start time).
    const dir = disks.mount();
    const jm = await createJobmeter({
      global: false,
      processMetrics: false,
      listener: { port: 0 },
      ingest: { port: await freePort(), stateDir: dir },
      log: () => {},
    });
    const pull = `http://127.0.0.1:${jm.pullAddress!.port}/metrics`;
    const ingest = `http://127.0.0.1:${jm.ingestAddress!.port}/v1/metrics`;
    const senders = [new Sender(0), new Sender(1)];
    const state: ModelState = new Map();
    let order = 0;
    let refused = 0;
    let frozen: { state: ModelState; at: number } | undefined;
    let last = 0;
    /** One export of `sender`, posted as the SDK posts it; the model takes it point by point. */
    const exportOf = async (sender: Sender): Promise<void> => {
      const { body, points } = await sender.export(KEYS, 3, 4);
      const res = await fetch(ingest, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      assert.equal(res.status, 200, await res.text());
      order++;
      for (const point of points) {
        if (refusal(state, sender.resource, point) !== undefined) refused++;
        applyPush(state, sender.resource, [point], order);
      }
    };
    /** A scrape: the senders' series as the model says (`failing`: the last file written's), and the refused counter never down. */
    const scrape = async (failing: boolean): Promise<void> => {
      if (!failing) frozen = { state: cloneState(state), at: order };
      const want = failing ? fileSeries(frozen!.state, state, frozen!.at) : state;
      assert.deepEqual(await scrapeModelSeries(pull), served(want));
      const text = await (await fetch(pull)).text();
      const counted = [
        ...text.matchAll(/^jobmeter_ingest_refused_total\{[^}]*reason="([a-z_]+)"[^}]*\} (\S+)$/gm),
      ].map(([, reason, value]) => [reason, Number(value)]);
      assert.deepEqual(
        counted,
        REFUSAL_REASONS.map((r) => [r, r === 'bounds_conflict' ? refused : 0]),
        text,
      );
      assert.ok(refused >= last, 'the model counts up');
      last = refused;
    };
    try {
      for (const s of senders) await exportOf(s);
      // Sender 0 comes back with the other bucket layout: its histogram points conflict with
      // sender 1's, alive, and are refused.
      senders[0]!.restart(false, true);
      await exportOf(senders[0]!);
      assert.ok(refused > 0);
      await scrape(false);

      disks.remount(dir, 'ro');
      await exportOf(senders[0]!);
      await scrape(true);
      await exportOf(senders[1]!);
      await exportOf(senders[0]!);
      await scrape(true);

      disks.remount(dir, 'rw');
      await scrape(false);
      await exportOf(senders[0]!);
      await scrape(false);
    } finally {
      disks.remount(dir, 'rw');
      await jm.shutdown();
    }
  });
});
