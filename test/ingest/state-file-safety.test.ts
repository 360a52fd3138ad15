/**
 * What a state file may put into the store, and what a checkpoint write may touch. A checksum-valid
 * file is still checked value by value with the ingest's own rules (stream-rules.ts): a value the
 * ingest would refuse on arrival (a negative, NaN or +Inf counter, a histogram whose counts are not
 * counts or do not add up, a negative sum) is left out and counted as the ingest counts a refused
 * point, and the rest of the file is restored. The temporary file of a write is made anew under a
 * name of its own, never opened through a link placed where it goes, and what a crash left of one
 * goes at the next start. A FIFO or a link to /dev/zero as the state file under `serve`:
 * test/cli/serve-state-path.test.ts; leftovers and refused values under `serve`:
 * test/cli/serve-state-edge-cases.test.ts.
 */
import assert from 'node:assert/strict';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  CHECKPOINT_VERSION,
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
import { logTo } from '../../src/common/log.ts';

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
  it('are checked with the rules the ingest applies on arrival: each it refuses is left out', () => {
    const good = payload();
    assert.equal(
      decodeCheckpoint(JSON.stringify(good)).refused,
      undefined,
      'a NaN gauge is a gauge the ingest takes',
    );
    const hist = (p: Payload) =>
      series(p, 'daemon.latency').streams[0]![6] as {
        counts: unknown[];
        sum: unknown;
        count: unknown;
      };
    const cases: [string, (p: Payload) => void, string, string, RegExp][] = [
      [
        'negative counter',
        (p) => (series(p, 'daemon.jobs').streams[0]![5] = -5),
        'daemon.jobs',
        'invalid_point',
        /^a negative or NaN value on a monotonic Sum$/,
      ],
      [
        'NaN counter',
        (p) => (series(p, 'daemon.jobs').streams[0]![5] = 'NaN'),
        'daemon.jobs',
        'invalid_point',
        /a negative or NaN value on a monotonic Sum/,
      ],
      [
        '+Inf counter',
        (p) => (series(p, 'daemon.jobs').streams[0]![5] = 'Infinity'),
        'daemon.jobs',
        'invalid_point',
        /an infinite value on a monotonic Sum/,
      ],
      [
        'negative base',
        (p) => (series(p, 'daemon.jobs').base = -3),
        'daemon.jobs',
        'invalid_point',
        /a negative or NaN value on a monotonic Sum/,
      ],
      [
        'histogram with a negative sum',
        (p) => (hist(p).sum = -9),
        'daemon.latency',
        'invalid_histogram',
        /an invalid Histogram point \(negative sum\)/,
      ],
      [
        'histogram whose buckets do not add up',
        (p) => (hist(p).count = 5),
        'daemon.latency',
        'invalid_histogram',
        /bucketCounts add up to 4, count is 5/,
      ],
      [
        'histogram with a negative bucket that adds up',
        (p) => (hist(p).counts = [-1, 4, 1]),
        'daemon.latency',
        'invalid_histogram',
        /an invalid Histogram point \(a negative, NaN or infinite count\)/,
      ],
      [
        'histogram with an infinite count',
        (p) => {
          hist(p).counts = [2, 'Infinity', 1];
          hist(p).count = 'Infinity';
        },
        'daemon.latency',
        'invalid_histogram',
        /a negative, NaN or infinite count/,
      ],
      [
        'exponential with an infinite sum',
        (p) => ((series(p, 'daemon.size').streams[0]![7] as { sum: unknown }).sum = 'Infinity'),
        'daemon.size',
        'invalid_histogram',
        /an invalid ExponentialHistogram point \(infinite sum\)/,
      ],
      [
        'exponential with a negative zero count',
        (p) => ((series(p, 'daemon.size').streams[0]![7] as { zeroCount: unknown }).zeroCount = -1),
        'daemon.size',
        'invalid_histogram',
        /an invalid ExponentialHistogram point \(a negative, NaN or infinite count\)/,
      ],
    ];
    for (const [what, spoil, name, code, text] of cases) {
      const p = payload();
      spoil(p);
      const snapshot = decodeCheckpoint(JSON.stringify(p));
      assert.equal(snapshot.refused?.length, 1, what);
      const refused = snapshot.refused[0]!;
      assert.equal(refused.name, name, what);
      assert.equal(refused.refusal.code, code, what);
      assert.match(refused.refusal.text, text, what);
      assert.equal(refused.points, 1, what);
      const kept = snapshot.instruments.map((i) => [
        i.name,
        i.series.reduce((n, x) => n + x.streams.length, 0),
      ]);
      assert.deepEqual(
        kept,
        good.instruments.map((i) => [i.name, i.name === name ? 0 : 1]),
        `${what}: its source series left out, every other kept`,
      );
    }
  });

  it('a checksum-valid file with a negative counter restores the rest, the counter refused and counted', async () => {
    const dir = freshDir();
    const path = join(dir, ingestStateFileName('127.0.0.1', 4318));
    const p = payload();
    series(p, 'daemon.jobs').streams[0]![5] = -5;
    await writeStateFile(path, CHECKPOINT_VERSION, JSON.stringify(p), 1e6);
    const lines: string[] = [];
    const store = new IngestStore();
    StateKeeper.open(store, {
      dir,
      host: '127.0.0.1',
      port: 4318,
      maxBytes: 1e6,
      log: logTo((l) => lines.push(l)),
      emptyStore: () => new IngestStore(),
    });
    assert.equal(store.seriesCount, 3, 'the gauge and both histograms');
    assert.deepEqual(
      [...store.refusedByReason()].filter(([, n]) => n > 0),
      [['invalid_point', 1]],
    );
    assert.match(lines[0]!, /^ingest state: restored 3 series \(3 source series, 3 instruments\)/);
    assert.equal(
      lines[1],
      `warning: ingest state file ${path} holds values the ingest refuses, left out (counted in jobmeter.ingest.refused): 1 data point rejected: daemon.jobs: a negative or NaN value on a monotonic Sum (1)`,
    );
    assert.deepEqual(readdirSync(dir), [ingestStateFileName('127.0.0.1', 4318)], 'not moved aside');
  });

  it('a histogram point with a negative bucket count is refused on arrival, by the same rule', () => {
    const store = new IngestStore();
    const result = store.ingest(
      request([
        metric('daemon.latency', histogram([histogramPoint([1, 5], [-1, 4, 1], 9, {}, 100, 110)])),
      ]),
    );
    assert.equal(result.rejectedDataPoints, 1);
    assert.match(result.errorMessage, /a negative, NaN or infinite count/);
    assert.deepEqual(
      [...store.refusedByReason()].filter(([, n]) => n > 0),
      [['invalid_histogram', 1]],
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
    await writeStateFile(path, 1, '{}', 1e6);
    assert.equal(readFileSync(victim, 'utf8'), 'not yours\n');
    assert.ok(lstatSync(path).isFile(), 'the state file is a file of its own, not the link');
    assert.equal(lstatSync(path).mode & 0o777, 0o600);
    assert.equal(readStateFile(path, 1, 1e6).status, 'ok');
  });

  it('is in no way stopped by what is left where a temporary file went', async () => {
    const dir = freshDir();
    const path = join(dir, 'ingest.state');
    mkdirSync(`${path}.tmp`);
    writeFileSync(join(`${path}.tmp`, 'inside'), 'x');
    await writeStateFile(path, 1, '{}', 1e6);
    assert.equal(readStateFile(path, 1, 1e6).status, 'ok');
    assert.deepEqual(readdirSync(dir).sort(), ['ingest.state', 'ingest.state.tmp']);
  });

  it("what a crash left of a write goes at the next start, a directory and a link's target stay", () => {
    const dir = freshDir();
    const name = ingestStateFileName('127.0.0.1', 4318);
    const path = join(dir, name);
    const victim = join(freshDir(), 'victim');
    writeFileSync(victim, 'not yours\n');
    writeFileSync(`${path}.tmp-0123456789abcdef`, 'half a write');
    writeFileSync(`${path}.tmp`, 'half a write');
    symlinkSync(victim, `${path}.tmp-link`);
    mkdirSync(`${path}.tmp-dir`);
    writeFileSync(`${path}.tmpx`, 'not a temporary file of ours');
    StateKeeper.open(new IngestStore(), {
      dir,
      host: '127.0.0.1',
      port: 4318,
      maxBytes: 1e6,
      log: () => {},
      emptyStore: () => new IngestStore(),
    });
    assert.deepEqual(readdirSync(dir).sort(), [`${name}.tmp-dir`, `${name}.tmpx`]);
    assert.ok(existsSync(victim));
    assert.equal(readFileSync(victim, 'utf8'), 'not yours\n');
  });
});
