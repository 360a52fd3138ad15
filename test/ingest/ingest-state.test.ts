/**
 * The ingest state across a restart (checkpoint.ts, state-file.ts, state-keeper.ts): a store
 * restored from its checkpoint serves exactly what it served and goes on from it; a file that
 * cannot be used is a warning and a fresh start; a failed write leaves the old file; the library
 * option and `[ingest] state_dir` wire it in.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ValueType } from '@opentelemetry/api';
import { DataPointType } from '../../src/common/otel-sdk.ts';
import { ConfigError } from '../../src/errors.ts';
import {
  CHECKPOINT_VERSION,
  CheckpointError,
  decodeCheckpoint,
  encodeCheckpoint,
} from '../../src/ingest/checkpoint.ts';
import { ingestProducer, IngestStore } from '../../src/ingest/ingest-store.ts';
import { StateKeeper } from '../../src/ingest/state-keeper.ts';
import { buildCommit, VERSION } from '../../src/version.ts';
import {
  ingestStateFileName,
  readStateFile,
  StateFileError,
  writeStateFile,
} from '../../src/ingest/state-file.ts';
import { defaultStateDir, withServeStateDir } from '../../src/config/service-defaults.ts';
import { parseServiceConfig } from '../../src/config/file-layer.ts';
import { toJobmeterOptions } from '../../src/config/to-options.ts';
import { createJobmeter } from '../../src/jobmeter.ts';
import { EXIT_MS, run, start, START_MS } from '../cli/harness.ts';
import { freePort } from '../support/free-port.ts';
import { smallDisks } from '../support/small-disk.ts';
import { tempFiles } from '../support/temp-files.ts';
import {
  collected,
  heldNames,
  EPOCH_SECONDS,
  ns,
  exponential,
  exponentialPoint,
  fakeClock,
  gauge,
  histogram,
  histogramPoint,
  histograms,
  metric,
  numberPoint,
  request,
  sum,
  values,
} from './helpers.ts';
import { logTo } from '../../src/common/log.ts';

const disks = smallDisks();
const files = tempFiles('jobmeter-state-');
let dirs = 0;
const freshDir = (): string => {
  const dir = join(files.dir, `d${++dirs}`);
  mkdirSync(dir);
  return dir;
};

/** A store holding one of everything: three senders merged into one counter (one of them reset), a delta sum, a NaN gauge, histograms of both kinds. */
function filledStore(clock: ReturnType<typeof fakeClock>): IngestStore {
  const store = new IngestStore({ clock });
  for (const [i, daemon] of ['a', 'b', 'c'].entries()) {
    store.ingest(
      request([metric('daemon.jobs', sum([numberPoint(50 + i * 10, { q: 'x' }, 100, 110)]))], {
        'service.instance.id': daemon,
      }),
    );
  }
  // Daemon a restarted in memory: 50 → its base, counting on from 5.
  store.ingest(
    request([metric('daemon.jobs', sum([numberPoint(5, { q: 'x' }, 200, 210)]))], {
      'service.instance.id': 'a',
    }),
  );
  store.ingest(request([metric('daemon.sent', sum([numberPoint(3, {}, 100, 110)], 'delta'))]));
  store.ingest(request([metric('daemon.sent', sum([numberPoint(4, {}, 110, 120)], 'delta'))]));
  store.ingest(
    request([
      metric(
        'daemon.temp',
        gauge([numberPoint(Number.NaN, { n: 1, on: true, list: ['x', 'y'] }, 0, 120)]),
      ),
    ]),
  );
  store.ingest(
    request([
      metric('daemon.latency', histogram([histogramPoint([1, 5], [2, 1, 1], 9, {}, 100, 110)])),
    ]),
  );
  store.ingest(
    request([
      metric('daemon.size', exponential([exponentialPoint(2, -3, [1, 0, 4], 6.5)], 'delta')),
    ]),
  );
  // A failed run: the last failure's time is derived from it (and served).
  store.ingest(
    request([
      metric(
        'jobmeter.run.finished',
        sum([
          numberPoint(
            1,
            { task: 'backup', kind: 'task', runner: 'subprocess', outcome: 'failure' },
            100,
            110,
          ),
        ]),
      ),
    ]),
  );
  return store;
}

/** `store` through a checkpoint into a new store on `clock`. */
function roundTrip(
  store: IngestStore,
  clock: ReturnType<typeof fakeClock>,
  options = {},
): IngestStore {
  const restored = new IngestStore({ clock, ...options });
  restored.restore(decodeCheckpoint(encodeCheckpoint(store.snapshot())));
  return restored;
}

describe('checkpoint: snapshot → restore', () => {
  it('serves exactly the same families, start times included', async () => {
    const clock = fakeClock();
    const store = filledStore(clock);
    const restored = roundTrip(store, clock);
    assert.deepEqual(await collected(restored), await collected(store));
    assert.equal(restored.seriesCount, store.seriesCount);
    assert.equal(restored.memoryBytes, store.memoryBytes, 'charged as the originals were');
    assert.deepEqual(await values(restored, 'daemon.jobs'), { '{"q":"x"}': 50 + 5 + 60 + 70 });
    assert.deepEqual(await values(restored, 'jobmeter.run.last_failure.time'), {
      '{}': EPOCH_SECONDS + 110,
    });
  });

  it('goes on from what it held: a cumulative sender is no reset, a delta total grows, a retried delta is skipped, a reset base stays', async () => {
    const clock = fakeClock();
    const restored = roundTrip(filledStore(clock), clock);
    // Daemon b pushes its next total: 60 → 65 (not 65 more, not a reset).
    restored.ingest(
      request([metric('daemon.jobs', sum([numberPoint(65, { q: 'x' }, 100, 130)]))], {
        'service.instance.id': 'b',
      }),
    );
    assert.deepEqual(await values(restored, 'daemon.jobs'), { '{"q":"x"}': 50 + 5 + 65 + 70 });
    // Daemon c restarts in memory after the restore: its 70 goes to the base too.
    restored.ingest(
      request([metric('daemon.jobs', sum([numberPoint(1, { q: 'x' }, 300, 310)]))], {
        'service.instance.id': 'c',
      }),
    );
    assert.deepEqual(await values(restored, 'daemon.jobs'), { '{"q":"x"}': 50 + 5 + 65 + 70 + 1 });
    // The delta sender retries the export it made before the restart, then sends the next one.
    restored.ingest(request([metric('daemon.sent', sum([numberPoint(4, {}, 110, 120)], 'delta'))]));
    restored.ingest(request([metric('daemon.sent', sum([numberPoint(2, {}, 120, 130)], 'delta'))]));
    assert.deepEqual(await values(restored, 'daemon.sent'), { '{}': 3 + 4 + 2 });
    restored.ingest(
      request([
        metric('daemon.latency', histogram([histogramPoint([1, 5], [2, 2, 1], 12, {}, 100, 130)])),
      ]),
    );
    assert.deepEqual(
      (await histograms(restored, 'daemon.latency'))['{}']!.buckets.counts,
      [2, 2, 1],
    );
  });

  it("keeps a delta stream's uncounted spans: a late window is added after the restore, a retry still skipped", async () => {
    const clock = fakeClock();
    const store = new IngestStore({ clock });
    const send = (s: IngestStore, v: number, start: number, end: number) =>
      s.ingest(request([metric('daemon.sent', sum([numberPoint(v, {}, start, end)], 'delta'))]));
    send(store, 3, 100, 110);
    send(store, 5, 120, 130);
    const payload = encodeCheckpoint(store.snapshot());
    const restored = new IngestStore({ clock });
    restored.restore(decodeCheckpoint(payload));
    assert.equal(
      send(restored, 2, 110, 120).acceptedDataPoints,
      1,
      'the window queued through the restart',
    );
    assert.equal(send(restored, 5, 120, 130).rejectedDataPoints, 1);
    assert.deepEqual(await values(restored, 'daemon.sent'), { '{}': 10 });
    // A state written without windows (before they were kept) reads as before: nothing late is added twice.
    const old = JSON.parse(payload) as {
      windows?: unknown;
      instruments: { series: { streams: unknown[][] }[] }[];
    };
    assert.ok(old.windows !== undefined);
    assert.equal(
      old.instruments[0]!.series[0]!.streams[0]!.length,
      9,
      'the row as before: a reader that does not know windows reads the rest',
    );
    assert.throws(
      () => decodeCheckpoint(JSON.stringify({ ...old, windows: [[0, 0, 5, '1']] })),
      /windows\[0\]: no such source series/,
    );
    assert.throws(
      () => decodeCheckpoint(JSON.stringify({ ...old, windows: [[0, 0, 0, '1', '2']] })),
      /windows\[0\]: not a stream's windows/,
    );
    delete old.windows;
    const fromOld = new IngestStore({ clock });
    fromOld.restore(decodeCheckpoint(JSON.stringify(old)));
    assert.equal(send(fromOld, 2, 110, 120).rejectedDataPoints, 1);
    assert.deepEqual(await values(fromOld, 'daemon.sent'), { '{}': 8 });
  });

  it("keeps an expired source's part apart, so that coming back it is counted once, not its part and its total both", async () => {
    const clock = fakeClock();
    const store = new IngestStore({ clock, expiryMillis: 10_000 });
    const push = (s: IngestStore, daemon: string, total: number, time: number) =>
      s.ingest(
        request(
          [
            metric('daemon.jobs', sum([numberPoint(total, {}, 100, time)])),
            metric(
              'daemon.latency',
              histogram([histogramPoint([1], [total, 0], total, {}, 100, time)]),
            ),
          ],
          { 'service.instance.id': daemon },
        ),
      );
    push(store, 'a', 5, 110);
    push(store, 'b', 2, 110);
    clock.advance(6_000);
    push(store, 'b', 3, 116);
    clock.advance(6_000);
    // a expired; its 5 stay in the series b keeps served.
    assert.deepEqual(await values(store, 'daemon.jobs'), { '{}': 8 });
    const payload = encodeCheckpoint(store.snapshot());
    const restored = new IngestStore({ clock, expiryMillis: 10_000 });
    restored.restore(decodeCheckpoint(payload));
    assert.deepEqual(await values(restored, 'daemon.jobs'), { '{}': 8 });
    // a comes back with the total it had: it goes on from its part (5 + 3), then counts on.
    push(restored, 'a', 5, 122);
    assert.deepEqual(await values(restored, 'daemon.jobs'), { '{}': 8 });
    assert.equal((await histograms(restored, 'daemon.latency'))['{}']!.count, 8);
    push(restored, 'a', 7, 124);
    assert.deepEqual(await values(restored, 'daemon.jobs'), { '{}': 10 });
    assert.equal((await histograms(restored, 'daemon.latency'))['{}']!.count, 10);
    // A reader that does not know the gone parts reads the series' base as before: all it carries.
    const old = JSON.parse(payload) as {
      gone?: unknown;
      instruments: { series: { base: number }[] }[];
    };
    assert.ok(old.gone !== undefined);
    assert.equal(old.instruments.find((_, i) => i === 0)!.series[0]!.base, 5);
    delete old.gone;
    const fromOld = new IngestStore({ clock, expiryMillis: 10_000 });
    fromOld.restore(decodeCheckpoint(JSON.stringify(old)));
    assert.deepEqual(await values(fromOld, 'daemon.jobs'), { '{}': 8 });
    assert.throws(
      () => decodeCheckpoint(JSON.stringify({ ...old, gone: [[0, 9, 0, null, null, []]] })),
      /gone\[0\]: no such series/,
    );
  });

  it("keeps where an expired delta source's windows end, and their gaps, in a field of its own: the rows an older reader checks keep their length, and a file without it restores", async () => {
    const clock = fakeClock();
    const store = new IngestStore({ clock, expiryMillis: 10_000 });
    const send = (s: IngestStore, daemon: string, v: number, start: number, end: number) =>
      s.ingest(
        request([metric('daemon.sent', sum([numberPoint(v, {}, start, end)], 'delta'))], {
          'service.instance.id': daemon,
        }),
      );
    // a leaves (110, 120] open; b keeps the series while a is gone.
    send(store, 'a', 3, 100, 110);
    send(store, 'a', 2, 120, 130);
    send(store, 'b', 1, 100, 110);
    clock.advance(6_000);
    send(store, 'b', 1, 110, 126);
    clock.advance(6_000);
    assert.deepEqual(await values(store, 'daemon.sent'), { '{}': 7 });
    const payload = encodeCheckpoint(store.snapshot());
    const file = JSON.parse(payload) as { goneWindows?: unknown[][]; goneSpans?: unknown };
    assert.deepEqual(
      file.goneWindows?.map((r) => r.length),
      [4],
      'the rows a reader that does not know goneSpans checks, as they were',
    );
    assert.ok(file.goneSpans !== undefined);
    const restored = new IngestStore({ clock, expiryMillis: 10_000 });
    restored.restore(decodeCheckpoint(payload));
    // a is back: a window it counted is a repeat, the one it never sent is late and added.
    assert.equal(send(restored, 'a', 2, 120, 130).rejectedDataPoints, 1);
    assert.equal(send(restored, 'a', 4, 110, 120).acceptedDataPoints, 1);
    assert.deepEqual(await values(restored, 'daemon.sent'), { '{}': 11 });
    assert.throws(
      () => decodeCheckpoint(JSON.stringify({ ...file, goneSpans: [[0, 0, 5, '1']] })),
      /goneSpans\[0\]: no such delta gone source/,
    );
    assert.throws(
      () => decodeCheckpoint(JSON.stringify({ ...file, goneSpans: [[0, 0, 0, '1', '2']] })),
      /goneSpans\[0\]: not a gone source's windows/,
    );
    // A file written without it restores; a's next window counts.
    delete file.goneSpans;
    const fromOld = new IngestStore({ clock, expiryMillis: 10_000 });
    fromOld.restore(decodeCheckpoint(JSON.stringify(file)));
    assert.equal(send(fromOld, 'a', 4, 130, 140).acceptedDataPoints, 1);
    assert.deepEqual(await values(fromOld, 'daemon.sent'), { '{}': 11 });
  });

  it('expires restored series by their own times, as the originals would', async () => {
    const clock = fakeClock();
    const store = filledStore(clock);
    clock.advance(4 * 60_000);
    store.ingest(request([metric('daemon.sent', sum([numberPoint(1, {}, 120, 130)], 'delta'))]));
    const restored = roundTrip(store, clock);
    clock.advance(60_000);
    // 5 minutes after their last point everything but daemon.sent (fed a minute later) is gone.
    assert.deepEqual(await heldNames(restored), ['daemon.sent']);
    assert.deepEqual(await heldNames(store), ['daemon.sent']);
    // The others are dormant in the restored store (not pushed since the restore: their senders
    // may have pushed what the file never held) until the expiry after the restore; then it holds
    // what the original holds.
    clock.advance(4 * 60_000);
    assert.deepEqual(await heldNames(restored), []);
    assert.deepEqual(await heldNames(store), []);
    assert.equal(restored.memoryBytes, store.memoryBytes);
  });

  it('restores through the caps of the store it goes into, counting what is left out', () => {
    const clock = fakeClock();
    const restored = new IngestStore({ clock, maxSeries: 2 });
    const summary = restored.restore(filledStore(clock).snapshot());
    assert.equal(restored.seriesCount, 2);
    assert.equal(summary.streams, 2);
    assert.equal(summary.skippedStreams, 6);
  });

  it("carries a profile's source parts, sums and histograms, and refuses parts that do not fit", () => {
    const carry = {
      rules: [
        {
          key: 'daemon\0\0\0jobmeter.run.started\0solti_runner_tasks_started_total',
          family: 'solti_runner_tasks_started_total',
          sources: [
            { key: '[["task","a"]]', labels: 'runner="wasm"', total: 5, last: 5, start: 0 },
          ],
          folded: [],
        },
        {
          key: 'daemon\0\0\0jobmeter.run.duration\0solti_runner_task_duration_seconds',
          family: 'solti_runner_task_duration_seconds',
          sources: [
            {
              key: '[["task","b"]]',
              labels: 'runner="wasm"',
              total: 3,
              last: Number.NaN,
              start: 7,
              bounds: [0.01],
              acc: { count: 3, sum: 0.5, counts: [3, 0] },
              lastAcc: { count: 2, sum: 0.25, counts: [2, 0] },
            },
          ],
          folded: [],
        },
      ],
    };
    const payload = encodeCheckpoint({ instruments: [], lastFailureSeconds: undefined, carry });
    assert.deepEqual(decodeCheckpoint(payload).carry, carry);
    const root = JSON.parse(payload) as { carry: { sources: unknown[][] }[] };
    // The file's shape, which a jobmeter restarting on another build reads: a part is a row, its
    // histograms rows `[count, sum, ...bucket counts]`.
    assert.deepEqual(root.carry[1]!.sources[0], [
      ...['[["task","b"]]', 'runner="wasm"', 3, 'NaN', 7, [0.01]],
      ...[
        [3, 0.5, 3, 0],
        [2, 0.25, 2, 0],
      ],
    ]);
    for (const bad of [
      (r: unknown[]) => r.splice(6, 1),
      (r: unknown[]) => (r[6] = [3, 0.5, 3]),
      (r: unknown[]) => (r[7] = [2, 0.25]),
      (r: unknown[]) => (r[2] = 'lots'),
    ]) {
      const copy = structuredClone(root);
      bad(copy.carry[1]!.sources[0]!);
      assert.throws(() => decodeCheckpoint(JSON.stringify(copy)), CheckpointError);
    }
    assert.equal(
      decodeCheckpoint(encodeCheckpoint({ instruments: [], lastFailureSeconds: undefined })).carry,
      undefined,
      'a state with no carry is written without the field',
    );
  });

  it('carries the departures no pass counted yet, sums and histograms, and refuses rows that do not fit or figures no counter holds', () => {
    const departed = (
      name: string,
      figures: number[],
      last: number[] | undefined,
      bounds?: number[],
    ) => {
      const of = (r: number[]) =>
        bounds === undefined ? r[0]! : { count: r[0]!, sum: r[1]!, counts: r.slice(2) };
      const rows = { figures: of(figures), ...(bounds && { bounds }) };
      const histogram = bounds !== undefined;
      return {
        left: { ...rows, last: last && of(last) },
        series: {
          scope: { name: 'daemon', version: '' },
          metric: {
            descriptor: { name, description: '', unit: '', valueType: ValueType.DOUBLE },
            dataPointType: histogram ? DataPointType.HISTOGRAM : DataPointType.SUM,
            isMonotonic: !histogram,
          },
          series: [{ attributes: { task: 'a' }, start: 7, ...rows }],
        },
      };
    };
    const carry = {
      rules: [],
      departed: [
        departed('jobmeter.run.started', [5], [4]),
        departed('jobmeter.run.started', [3], undefined),
        departed('jobmeter.run.duration', [3, 0.5, 3, 0], [2, 0.25, 2, 0], [0.01]),
      ],
    };
    const payload = encodeCheckpoint({ instruments: [], lastFailureSeconds: undefined, carry });
    assert.deepEqual(decodeCheckpoint(payload).carry, carry);
    const root = JSON.parse(payload) as { departed: Record<string, unknown>[] };
    // The file's shape: figures as rows, a number's `[value]`, a histogram's `[count, sum, ...]`.
    assert.deepEqual(
      root.departed.map((d) => [d.figures, d.last]),
      [
        [[5], [4]],
        [[3], null],
        [
          [3, 0.5, 3, 0],
          [2, 0.25, 2, 0],
        ],
      ],
    );
    for (const bad of [
      (d: Record<string, unknown>) => (d.figures = [3, 0.5, 3]),
      (d: Record<string, unknown>) => (d.last = [2]),
      (d: Record<string, unknown>) => (d.histogram = 'yes'),
    ]) {
      const copy = structuredClone(root);
      bad(copy.departed[2]!);
      assert.throws(() => decodeCheckpoint(JSON.stringify(copy)), CheckpointError);
    }
    const negative = structuredClone(root);
    negative.departed[0]!.figures = [-5];
    const read = decodeCheckpoint(JSON.stringify(negative));
    assert.deepEqual(
      read.carry?.departed,
      carry.departed.slice(1),
      'a negative figure is left out',
    );
    assert.deepEqual(
      read.refused?.map((r) => [r.name, r.refusal.code]),
      [['jobmeter.run.started', 'invalid_point']],
    );
  });

  it('refuses a payload that is not a checkpoint, with the reason', () => {
    for (const payload of [
      '',
      '{"instruments":[{"name":"x"}]}',
      '{"instruments":[{"name":"x","shape":"summary","description":"","unit":"","series":[]}]}',
      '[]',
    ]) {
      assert.throws(() => decodeCheckpoint(payload), CheckpointError, payload);
    }
  });
});

describe('state file', () => {
  const payload = encodeCheckpoint({ instruments: [], lastFailureSeconds: undefined });

  it('reads back what it wrote, each telling its size; a missing file is a first start', async () => {
    const path = join(freshDir(), 'ingest.state');
    assert.deepEqual(readStateFile(path, 1, 1e6), { status: 'missing' });
    const bytes = await writeStateFile(path, 1, payload, 1e6);
    assert.equal(bytes, statSync(path).size);
    assert.deepEqual(readStateFile(path, 1, 1e6), {
      status: 'ok',
      version: 1,
      payload,
      bytes,
    });
    assert.equal(statSync(path).mode & 0o777, 0o600, 'private to the user');
  });

  it('finds a truncated, corrupt, foreign, other-kind, too-new or too-large file unusable, and says why', async () => {
    const path = join(freshDir(), 'ingest.state');
    await writeStateFile(path, 1, payload, 1e6);
    const good = readFileSync(path);
    const cases: [string, Buffer, RegExp][] = [
      ['truncated', good.subarray(0, good.length - 3), /truncated/],
      [
        'corrupt',
        Buffer.concat([good.subarray(0, good.length - 2), Buffer.from('X}')]),
        /checksum/,
      ],
      ['foreign', Buffer.from('{"instruments":[]}\n'), /not a jobmeter state file/],
      ['empty', Buffer.alloc(0), /not a jobmeter state file/],
      [
        'other kind',
        Buffer.from(good.toString().replace('state ingest', 'state other')),
        /not a jobmeter ingest state file/,
      ],
      ['too new', Buffer.from(good.toString().replace(' v1 ', ' v2 ')), /newer jobmeter/],
    ];
    for (const [what, bytes, reason] of cases) {
      writeFileSync(path, bytes);
      const read = readStateFile(path, 1, 1e6);
      assert.equal(read.status, 'unusable', what);
      assert.match((read as { reason: string }).reason, reason, what);
    }
    writeFileSync(path, good);
    assert.match(
      (readStateFile(path, 1, 10) as { reason: string }).reason,
      /more than the 10 allowed/,
    );
  });

  it('leaves the old file when a write fails or would pass the cap', async () => {
    const dir = disks.mount();
    const path = join(dir, 'ingest.state');
    await writeStateFile(path, 1, payload, 1e6);
    const before = readFileSync(path);
    // The temporary file cannot be made: a real file system, read-only (a small tmpfs: root only).
    disks.remount(dir, 'ro');
    await assert.rejects(
      writeStateFile(path, 1, '{"instruments":[{}]}', 1e6),
      (err: unknown) => err instanceof StateFileError && err.code === 'EROFS',
    );
    disks.remount(dir, 'rw');
    assert.deepEqual(readFileSync(path), before);
    await assert.rejects(
      writeStateFile(`${path}2`, 1, 'x'.repeat(100), 50),
      /more than the 50 allowed/,
    );
    assert.throws(() => statSync(`${path}2`), /ENOENT/);
  });

  it('is named after the listener address, so two services never share one', () => {
    assert.equal(ingestStateFileName('127.0.0.1', 4318), 'ingest-127.0.0.1-4318.state');
    assert.equal(ingestStateFileName('::1', 4318), 'ingest-__1-4318.state');
    assert.notEqual(ingestStateFileName('127.0.0.1', 4318), ingestStateFileName('127.0.0.1', 4319));
  });
});

describe('state keeper', () => {
  const options = (dir: string, lines: string[]) => ({
    dir,
    host: '127.0.0.1',
    port: 4318,
    maxBytes: 1e6,
    log: logTo((l: string) => lines.push(l)),
    emptyStore: () => new IngestStore(),
  });

  it('writes only when something changed, and restores it in the next process', async () => {
    const clock = fakeClock();
    const dir = freshDir();
    const lines: string[] = [];
    const store = new IngestStore({ clock });
    const keeper = StateKeeper.open(store, options(dir, lines));
    assert.match(lines[0]!, /none yet/);
    store.ingest(request([metric('daemon.sent', sum([numberPoint(3, {}, 100, 110)], 'delta'))]));
    await keeper.save();
    const inode = statSync(keeper.path).ino;
    await keeper.save();
    assert.equal(statSync(keeper.path).ino, inode, 'nothing changed: not rewritten');
    store.ingest(request([metric('daemon.sent', sum([numberPoint(4, {}, 110, 120)], 'delta'))]));
    await keeper.close();
    assert.notEqual(statSync(keeper.path).ino, inode);

    const next = new IngestStore({ clock });
    StateKeeper.open(next, options(dir, lines));
    assert.match(lines.at(-1)!, /restored 1 series \(1 source series, 1 instruments\)/);
    // Written by this build: the line names no other.
    assert.doesNotMatch(lines.at(-1)!, /written by/);
    assert.deepEqual(await values(next, 'daemon.sent'), { '{}': 7 });
  });

  it("tells each write's size and duration, and the size of the file read at start", async () => {
    const clock = fakeClock();
    const dir = freshDir();
    const store = new IngestStore({ clock });
    const keeper = StateKeeper.open(store, options(dir, []));
    assert.deepEqual(
      [keeper.health().bytes, keeper.health().lastWriteSeconds],
      [undefined, undefined],
    );
    const told: number[] = [];
    keeper.start((seconds) => told.push(seconds));
    for (const [i, name] of ['daemon.sent', 'daemon.received'].entries()) {
      store.ingest(request([metric(name, sum([numberPoint(3, {}, 100, 110)], 'delta'))]));
      await keeper.save();
      const { bytes, lastWriteSeconds } = keeper.health();
      assert.equal(bytes, statSync(keeper.path).size);
      assert.equal(told.length, i + 1);
      assert.equal(lastWriteSeconds, told[i]);
      assert.ok(lastWriteSeconds! > 0 && lastWriteSeconds! < 5, String(lastWriteSeconds));
    }
    // Nothing changed: no write, nothing told.
    await keeper.save();
    assert.equal(told.length, 2);
    await keeper.close();
    const size = statSync(keeper.path).size;
    const next = StateKeeper.open(new IngestStore({ clock }), options(dir, []));
    assert.deepEqual([next.health().bytes, next.health().lastWriteSeconds], [size, undefined]);
  });

  it('names the build that wrote a state file when another one restores it', async () => {
    const dir = freshDir();
    const lines: string[] = [];
    const path = StateKeeper.open(new IngestStore(), options(dir, lines)).path;
    const snapshot = { instruments: [], lastFailureSeconds: undefined };
    const self = `${VERSION} (commit ${buildCommit()})`;
    for (const [writer, said] of [
      ['0.0.9 (commit 1234567)', 'written by jobmeter 0.0.9 (commit 1234567)'],
      [undefined, 'written by a jobmeter that did not record its version'],
    ] as const) {
      const payload = encodeCheckpoint({ ...snapshot, ...(writer !== undefined && { writer }) });
      await writeStateFile(path, CHECKPOINT_VERSION, payload, 1e6);
      StateKeeper.open(new IngestStore(), options(dir, lines));
      assert.ok(lines.at(-1)!.endsWith(`; ${said} (this is ${self})`), lines.at(-1));
    }
    // Its own files name it.
    await writeStateFile(
      path,
      CHECKPOINT_VERSION,
      encodeCheckpoint({ ...snapshot, writer: self }),
      1e6,
    );
    StateKeeper.open(new IngestStore(), options(dir, lines));
    assert.doesNotMatch(lines.at(-1)!, /written by/);
  });

  it('writes what a collection serves before it is served', async () => {
    const clock = fakeClock();
    const dir = freshDir();
    const store = new IngestStore({ clock });
    const keeper = StateKeeper.open(store, options(dir, []));
    store.ingest(request([metric('daemon.sent', sum([numberPoint(5, {}, 100, 110)], 'delta'))]));
    await ingestProducer(keeper.series()).collect();
    const read = readStateFile(keeper.path, CHECKPOINT_VERSION, 1e6);
    assert.equal(read.status, 'ok');
    const held = new IngestStore({ clock });
    held.restore(decodeCheckpoint((read as { payload: string }).payload));
    assert.deepEqual(await values(held, 'daemon.sent'), { '{}': 5 });
  });

  it('starts afresh with one warning from a file it cannot use, and replaces it', async () => {
    const dir = freshDir();
    const lines: string[] = [];
    const path = join(dir, ingestStateFileName('127.0.0.1', 4318));
    writeFileSync(path, 'jobmeter-state ingest v1 sha256:' + '0'.repeat(64) + ' 2\n{}');
    const store = new IngestStore();
    const keeper = StateKeeper.open(store, options(dir, lines));
    assert.equal(lines.length, 1);
    assert.match(
      lines[0]!,
      /^warning: ingest state file .* is unusable: its checksum does not match \(corrupt\); moved to .*\.corrupt-\S+ \(kept\), starting afresh$/,
    );
    assert.equal(store.seriesCount, 0);
    // A payload with a good checksum that is not a checkpoint: the same.
    const other = join(freshDir(), ingestStateFileName('127.0.0.1', 4318));
    await writeStateFile(other, 1, '{"origins":[],"instruments":7}', 1e6);
    const lines2: string[] = [];
    StateKeeper.open(new IngestStore(), { ...options(join(other, '..'), lines2) });
    assert.match(lines2[0]!, /unusable: unreadable \(instruments: not a list\)/);
    await keeper.close();
    assert.equal(readStateFile(path, 1, 1e6).status, 'ok');
  });

  it('refuses a directory it cannot make, naming it (a configuration error)', () => {
    const blocker = join(freshDir(), 'file');
    writeFileSync(blocker, '');
    const dir = join(blocker, 'sub');
    assert.throws(
      () => StateKeeper.open(new IngestStore(), options(dir, [])),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.message ===
          `invalid ingest.stateDir=${dir}: expected a directory jobmeter can create or use, or false to keep no state file (ENOTDIR: not a directory, stat '${dir}')`,
    );
  });
});

describe('ingest.stateDir and [ingest] state_dir', () => {
  it('a jobmeter restarted on its state directory serves what it served (library option)', async () => {
    const dir = freshDir();
    const port = await freePort();
    const lines: string[] = [];
    const options = {
      global: false,
      processMetrics: false,
      listener: false as const,
      log: (l: string) => lines.push(l),
      ingest: { port, stateDir: dir },
    };
    const first = await createJobmeter(options);
    const body = {
      resourceMetrics: [
        {
          resource: { attributes: [{ key: 'service.instance.id', value: { stringValue: 'a' } }] },
          scopeMetrics: [
            {
              scope: { name: 's' },
              metrics: [
                {
                  name: 'daemon.sent',
                  sum: {
                    aggregationTemporality: 1,
                    isMonotonic: true,
                    dataPoints: [
                      {
                        asDouble: 7,
                        startTimeUnixNano: String(ns(1)),
                        timeUnixNano: String(ns(2)),
                      },
                    ],
                  },
                },
              ],
            },
          ],
        },
      ],
    };
    const res = await fetch(`http://127.0.0.1:${port}/v1/metrics`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    assert.equal(res.status, 200);
    const served = async (jm: typeof first) =>
      (await jm.scrape())
        .find((f) => f.name.startsWith('daemon_sent'))
        ?.series.map((s) => (s as { value: number }).value);
    assert.deepEqual(await served(first), [7]);
    await first.shutdown();
    const second = await createJobmeter(options);
    try {
      assert.deepEqual(await served(second), [7]);
      assert.match(lines.join('\n'), /restored 1 series/);
    } finally {
      await second.shutdown();
    }
  });

  it('maps state_dir onto the option, refuses anything but a path or false, and defaults it under serve', () => {
    const opts = (toml: Record<string, unknown>) =>
      toJobmeterOptions(
        parseServiceConfig({ ingest: { enabled: true, ...toml } }, 'jobmeter.toml'),
      );
    assert.equal(
      (opts({ state_dir: '/var/lib/jm' }).ingest as { stateDir?: unknown }).stateDir,
      '/var/lib/jm',
    );
    assert.equal((opts({ state_dir: false }).ingest as { stateDir?: unknown }).stateDir, false);
    for (const bad of [true, '', '  ', 3]) {
      assert.throws(
        () => opts({ state_dir: bad }),
        (err: unknown) =>
          err instanceof ConfigError &&
          /ingest\.state_dir/.test(err.message) &&
          /a directory path, or false/.test(err.message),
      );
    }
    assert.equal(
      defaultStateDir({ STATE_DIRECTORY: '/var/lib/jobmeter:/other', HOME: '/home/u' }),
      '/var/lib/jobmeter',
    );
    assert.equal(
      defaultStateDir({ XDG_STATE_HOME: '/x/state', HOME: '/home/u' }),
      '/x/state/jobmeter',
    );
    assert.equal(
      defaultStateDir({ XDG_STATE_HOME: 'relative', HOME: '/home/u' }),
      '/home/u/.local/state/jobmeter',
    );
    assert.equal(defaultStateDir({}), undefined);
    const on = withServeStateDir({ ingest: {} }, { HOME: '/home/u' });
    assert.deepEqual(on, {
      options: { ingest: { stateDir: '/home/u/.local/state/jobmeter' } },
      off: undefined,
    });
    const off = withServeStateDir({ ingest: { stateDir: false } }, { HOME: '/home/u' });
    assert.match(
      off.off!,
      /^ingest state not kept \(\[ingest\] state_dir = false\): a restart starts the ingested series afresh/,
    );
    assert.deepEqual(
      withServeStateDir({}, { HOME: '/home/u' }),
      { options: {}, off: undefined },
      'no ingest, nothing to keep',
    );
  });
});

describe('jobmeter serve', () => {
  it('keeps its state in $XDG_STATE_HOME/jobmeter by default, says so when state_dir = false, and exits 2 on a bad state_dir', async () => {
    const port = await freePort();
    const config = await files.file(
      'serve.toml',
      `process_metrics = false\n[listener]\nport = 0\n[ingest]\nenabled = true\nport = ${port}\n`,
    );
    const xdg = freshDir();
    const serve = start(['serve', '--config', config], { XDG_STATE_HOME: xdg });
    await serve.stderrMatches(/receiving OTLP/, START_MS);
    const path = join(xdg, 'jobmeter', `ingest-127.0.0.1-${port}.state`);
    assert.match(
      serve.stderr(),
      new RegExp(`ingest state: none yet in ${path.replaceAll('.', '\\.')}`),
    );
    serve.child.kill('SIGTERM');
    assert.equal(await serve.exited(EXIT_MS), 0);
    assert.equal(readStateFile(path, CHECKPOINT_VERSION, 1e6).status, 'ok', 'written at shutdown');

    const off = await files.file(
      'off.toml',
      `process_metrics = false\n[listener]\nport = 0\n[ingest]\nenabled = true\nport = ${port}\nstate_dir = false\n`,
    );
    const quiet = start(['serve', '--config', off], { XDG_STATE_HOME: xdg });
    await quiet.stderrMatches(
      /ingest state not kept \(\[ingest\] state_dir = false\): a restart starts the ingested series afresh/,
      START_MS,
    );
    quiet.child.kill('SIGTERM');
    assert.equal(await quiet.exited(EXIT_MS), 0);

    const bad = await files.file('bad.toml', '[ingest]\nenabled = true\nstate_dir = true\n');
    const r = await run(['serve', '--config', bad]);
    assert.equal(r.code, 2);
    assert.match(
      r.stderr,
      /invalid ingest\.state_dir=true: expected a directory path, or false to keep no state file/,
    );
  });
});
