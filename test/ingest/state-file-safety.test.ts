/**
 * What a state file may put into the store, and what a checkpoint write may touch. A checksum-valid
 * file is still checked value by value with the ingest's own rules (stream-rules.ts): a counter the
 * ingest would refuse (negative, NaN, +Inf) or a histogram it would refuse makes the file unusable
 * (moved aside, a fresh start), as any file this store could not have written. The temporary file of
 * a write is made anew, never opened through a link placed where it goes. A FIFO or a link to
 * /dev/zero as the state file under `serve`: test/cli/serve-state-path.test.ts.
 */
import assert from 'node:assert/strict';
import { lstatSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  CHECKPOINT_VERSION,
  CheckpointError,
  decodeCheckpoint,
  encodeCheckpoint,
} from '../../src/ingest/checkpoint.ts';
import { IngestStore } from '../../src/ingest/ingest-store.ts';
import { StateKeeper } from '../../src/ingest/state-keeper.ts';
import { ingestStateFileName, readStateFile, writeStateFile } from '../../src/ingest/state-file.ts';
import { tempFiles } from '../support/temp-files.ts';
import {
  exponential,
  exponentialPoint,
  gauge,
  histogram,
  histogramPoint,
  metric,
  numberPoint,
  request,
  sum,
} from './helpers.ts';

const files = tempFiles('jobmeter-state-safety-');
let dirs = 0;
const freshDir = (): string => {
  const dir = join(files.dir, `d${++dirs}`);
  mkdirSync(dir);
  return dir;
};

type Payload = {
  instruments: {
    name: string;
    series: { base: unknown; baseHist: unknown; streams: unknown[][] }[];
  }[];
};

/** A checkpoint of a counter (3 then a sender reset: a base of 3), a gauge, a histogram and an exponential one. */
function payload(): Payload {
  const store = new IngestStore();
  store.ingest(request([metric('daemon.jobs', sum([numberPoint(3, {}, 100, 110)]))]));
  store.ingest(request([metric('daemon.jobs', sum([numberPoint(2, {}, 200, 210)]))]));
  store.ingest(request([metric('daemon.temp', gauge([numberPoint(Number.NaN, {}, 0, 120)]))]));
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
  return JSON.parse(encodeCheckpoint(store.snapshot())) as Payload;
}

const series = (p: Payload, name: string) => p.instruments.find((i) => i.name === name)!.series[0]!;

describe('restored values', () => {
  it('are checked with the rules the ingest applies on arrival', () => {
    const good = payload();
    assert.doesNotThrow(
      () => decodeCheckpoint(JSON.stringify(good)),
      'a NaN gauge is a gauge the ingest takes',
    );
    const cases: [string, (p: Payload) => void, RegExp][] = [
      [
        'negative counter',
        (p) => (series(p, 'daemon.jobs').streams[0]![5] = -5),
        /streams\[0\]: a negative or NaN value on a monotonic Sum \(the ingest refuses it\)/,
      ],
      [
        'NaN counter',
        (p) => (series(p, 'daemon.jobs').streams[0]![5] = 'NaN'),
        /a negative or NaN value on a monotonic Sum/,
      ],
      [
        '+Inf counter',
        (p) => (series(p, 'daemon.jobs').streams[0]![5] = 'Infinity'),
        /streams\[0\]: an infinite value on a monotonic Sum/,
      ],
      [
        'negative base',
        (p) => (series(p, 'daemon.jobs').base = -3),
        /\.base: a negative or NaN value on a monotonic Sum/,
      ],
      [
        'histogram with a negative sum',
        (p) => ((series(p, 'daemon.latency').streams[0]![6] as { sum: number }).sum = -9),
        /an invalid Histogram point \(negative sum\)/,
      ],
      [
        'histogram whose buckets do not add up',
        (p) => ((series(p, 'daemon.latency').streams[0]![6] as { count: number }).count = 5),
        /bucketCounts add up to 4, count is 5/,
      ],
      [
        'exponential with an infinite sum',
        (p) => ((series(p, 'daemon.size').streams[0]![7] as { sum: unknown }).sum = 'Infinity'),
        /an invalid ExponentialHistogram point \(infinite sum\)/,
      ],
    ];
    for (const [what, spoil, reason] of cases) {
      const p = payload();
      spoil(p);
      assert.throws(
        () => decodeCheckpoint(JSON.stringify(p)),
        (err: unknown) => err instanceof CheckpointError && reason.test(err.message),
        what,
      );
    }
  });

  it('a checksum-valid file with a negative counter is a fresh start, moved aside', async () => {
    const dir = freshDir();
    const path = join(dir, ingestStateFileName('127.0.0.1', 4318));
    const p = payload();
    series(p, 'daemon.jobs').streams[0]![5] = -5;
    await writeStateFile(path, 'ingest', CHECKPOINT_VERSION, JSON.stringify(p), 1e6);
    const lines: string[] = [];
    const store = new IngestStore();
    StateKeeper.open(store, {
      dir,
      host: '127.0.0.1',
      port: 4318,
      maxBytes: 1e6,
      log: (l) => lines.push(l),
      emptyStore: () => new IngestStore(),
    });
    assert.equal(store.seriesCount, 0);
    assert.match(
      lines[0]!,
      /is unusable: unreadable \(instruments\[\d\]\.series\[0\]\.streams\[0\]: a negative or NaN value on a monotonic Sum \(the ingest refuses it\)\); moved to /,
    );
  });
});

describe('a checkpoint write', () => {
  it('never writes through a link placed where its temporary file goes', async () => {
    const dir = freshDir();
    const path = join(dir, 'ingest.state');
    const victim = join(freshDir(), 'victim');
    writeFileSync(victim, 'not yours\n');
    symlinkSync(victim, `${path}.tmp`);
    await writeStateFile(path, 'ingest', 1, '{}', 1e6);
    assert.equal(readFileSync(victim, 'utf8'), 'not yours\n');
    assert.ok(lstatSync(path).isFile(), 'the state file is a file of its own, not the link');
    assert.equal(lstatSync(path).mode & 0o777, 0o600);
    assert.equal(readStateFile(path, 'ingest', 1, 1e6).status, 'ok');
  });
});
