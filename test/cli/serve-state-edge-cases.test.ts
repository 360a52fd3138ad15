/**
 * `jobmeter serve`'s state file at its edges, against real children.
 *
 * - Whatever sits where a checkpoint's temporary file might go — a directory (with something in
 *   it), a file nobody may write, a link to someone else's file, a FIFO — left by a crash or
 *   planted, checkpoints succeed: the ingested counter is served, SIGTERM exits 0, the state file
 *   is written and a restart restores the counter. The link's target is never written.
 * - A checksum-valid state file (written by the project's own writer, state-file.ts, so its
 *   header and SHA-256 are right) holding values the ingest refuses on arrival — a negative
 *   bucket count, a negative, NaN or infinite counter, an infinite count, buckets that do not add
 *   up to the count — restores the rest: each such value is left out (not served) and counted
 *   as the ingest counts a refused point (`jobmeter_ingest_refused_points_total{reason}`), one
 *   line says what was refused, and every other series is served as it was.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';

import { CHECKPOINT_VERSION } from '../../src/ingest/checkpoint.ts';
import { readStateFile, writeStateFile } from '../../src/ingest/state-file.ts';
import { EXIT_MS, killChildren } from './harness.ts';
import { freePort } from '../support/free-port.ts';
import { serveWithState, type StateServe } from '../support/serve-with-state.ts';
import { tempFiles } from '../support/temp-files.ts';

const files = tempFiles('jobmeter-state-edges-');
afterEach(killChildren);

const MAX_BYTES = 64 * 1024 * 1024;

type Serve = StateServe;

const serve = (stateDir: string, port: number): Promise<Serve> =>
  serveWithState(files, stateDir, port);

const attrs = (c: string) => [{ key: 'case', value: { stringValue: c } }];

/** One sender's request: a cumulative counter and a cumulative histogram (bounds [1, 5]) per case. */
async function push(
  s: Serve,
  counters: Readonly<Record<string, number>>,
  histograms: Readonly<Record<string, readonly [number, number, number]>> = {},
): Promise<void> {
  const now = `${Date.now()}000000`;
  const metrics: unknown[] = [
    {
      name: 'daemon.jobs',
      sum: {
        aggregationTemporality: 2,
        isMonotonic: true,
        dataPoints: Object.entries(counters).map(([c, v]) => ({
          attributes: attrs(c),
          asDouble: v,
          startTimeUnixNano: '1000000000',
          timeUnixNano: now,
        })),
      },
    },
  ];
  if (Object.keys(histograms).length > 0)
    metrics.push({
      name: 'daemon.latency',
      histogram: {
        aggregationTemporality: 2,
        dataPoints: Object.entries(histograms).map(([c, counts]) => ({
          attributes: attrs(c),
          startTimeUnixNano: '1000000000',
          timeUnixNano: now,
          count: String(counts[0] + counts[1] + counts[2]),
          sum: 9,
          bucketCounts: counts.map(String),
          explicitBounds: [1, 5],
        })),
      },
    });
  const body = {
    resourceMetrics: [
      {
        resource: {
          attributes: [{ key: 'service.instance.id', value: { stringValue: 'daemon-1' } }],
        },
        scopeMetrics: [{ scope: { name: 'daemon' }, metrics }],
      },
    ],
  };
  const res = await fetch(s.ingest, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  assert.equal(res.status, 200, text);
  assert.doesNotMatch(text, /rejected/, text);
}

/** The pull endpoint's samples of the ingested families, `name{labels} value` each. */
async function scraped(s: Serve): Promise<string[]> {
  const body = await (await fetch(`${s.base}/metrics`)).text();
  return body
    .split('\n')
    .filter((l) => /^daemon_(jobs_total|latency_(bucket|count|sum))\{/.test(l));
}

async function telemetry(s: Serve, series: string): Promise<number | undefined> {
  const body = await (await fetch(`${s.telemetry}/metrics`)).text();
  const line = body.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

async function stop(s: Serve): Promise<void> {
  s.running.child.kill('SIGTERM');
  assert.equal(await s.running.exited(EXIT_MS), 0, s.running.stderr());
}

/** A state directory of its own for a serve on a fixed port, and the state file's path in it. */
async function stateOf(label: string): Promise<{ port: number; dir: string; path: string }> {
  const port = await freePort();
  const dir = join(files.dir, `${label}-${port}`);
  mkdirSync(dir);
  return { port, dir, path: join(dir, `ingest-127.0.0.1-${port}.state`) };
}

describe('a leftover at the temporary file of a checkpoint', () => {
  const leftovers: [string, (temp: string, dir: string) => void][] = [
    [
      'a directory with a file in it',
      (temp) => {
        mkdirSync(temp);
        writeFileSync(join(temp, 'inside'), 'x');
      },
    ],
    [
      'a file nobody may write',
      (temp) => {
        writeFileSync(temp, 'left behind');
        chmodSync(temp, 0o000);
      },
    ],
    [
      "a link to someone else's file",
      (temp, dir) => {
        writeFileSync(join(dir, 'victim'), 'not yours\n');
        symlinkSync(join(dir, 'victim'), temp);
      },
    ],
    ['a FIFO', (temp) => execFileSync('mkfifo', [temp])],
  ];

  for (const [what, plant] of leftovers) {
    it(
      `${what}: checkpoints succeed, SIGTERM exits 0, a restart restores`,
      { timeout: 120_000 },
      async () => {
        const { port, dir, path } = await stateOf('leftover');
        plant(`${path}.tmp`, dir);
        const first = await serve(dir, port);
        await push(first, { ok: 7 });
        // Served only once a checkpoint holds it (serve never serves past the last file written).
        assert.deepEqual(await scraped(first), [
          'daemon_jobs_total{case="ok",otel_scope_name="daemon"} 7',
        ]);
        assert.equal(await telemetry(first, 'jobmeter_ingest_checkpoint_failures_total'), 0);
        await stop(first);
        assert.doesNotMatch(first.running.stderr(), /not written/);
        assert.equal(readStateFile(path, CHECKPOINT_VERSION, MAX_BYTES).status, 'ok');
        if (what.startsWith('a link'))
          assert.equal(readFileSync(join(dir, 'victim'), 'utf8'), 'not yours\n');

        const second = await serve(dir, port);
        assert.match(second.running.stderr(), /ingest state: restored 1 series/);
        assert.deepEqual(await scraped(second), [
          'daemon_jobs_total{case="ok",otel_scope_name="daemon"} 7',
        ]);
        await push(second, { ok: 9 });
        assert.deepEqual(await scraped(second), [
          'daemon_jobs_total{case="ok",otel_scope_name="daemon"} 9',
        ]);
        await stop(second);
      },
    );
  }
});

type Payload = {
  instruments: {
    name: string;
    series: { attributes: [string, unknown][]; streams: unknown[][] }[];
  }[];
};

/**
 * The state file `path` (written by a serve's SIGTERM), its payload changed by `spoil` and written
 * back with the project's writer: a header and checksum that match.
 */
async function spoilState(path: string, spoil: (p: Payload) => void): Promise<void> {
  const read = readStateFile(path, CHECKPOINT_VERSION, MAX_BYTES);
  assert.equal(read.status, 'ok');
  const payload = JSON.parse((read as { payload: string }).payload) as Payload;
  spoil(payload);
  await writeStateFile(path, CHECKPOINT_VERSION, JSON.stringify(payload), MAX_BYTES);
  assert.equal(readStateFile(path, CHECKPOINT_VERSION, MAX_BYTES).status, 'ok');
}

/** The saved source series of `instrument` whose `case` attribute is `c`: [origin, key, start, time, points, value, hist, exp, updatedAt]. */
function stream(p: Payload, instrument: string, c: string): unknown[] {
  const series = p.instruments
    .find((i) => i.name === instrument)!
    .series.find((s) => s.attributes.some(([k, v]) => k === 'case' && v === c))!;
  return series.streams[0]!;
}

type Hist = { counts: unknown[]; sum: unknown; count: unknown };

describe('a checksum-valid state file holding values the ingest refuses', () => {
  it(
    'a negative bucket count that adds up to the count is refused, not served',
    { timeout: 120_000 },
    async () => {
      const { port, dir, path } = await stateOf('negative-bucket');
      const first = await serve(dir, port);
      await push(first, { ok: 3 }, { neg: [2, 1, 1] });
      await stop(first);
      await spoilState(path, (p) => {
        // Still 4 in all: only the sign is wrong, as `le="1"} -1` was served.
        (stream(p, 'daemon.latency', 'neg')[6] as Hist).counts = [-1, 4, 1];
      });

      const second = await serve(dir, port);
      const served = await scraped(second);
      assert.ok(
        !served.some((l) => l.includes('case="neg"')),
        `the refused histogram is not served:\n${served.join('\n')}`,
      );
      assert.deepEqual(
        served,
        ['daemon_jobs_total{case="ok",otel_scope_name="daemon"} 3'],
        'the rest is restored',
      );
      assert.equal(
        await telemetry(second, 'jobmeter_ingest_refused_points_total{reason="invalid_histogram"}'),
        1,
      );
      await stop(second);
    },
  );

  it(
    'each value is refused as the ingest refuses it, counted and said; the rest is restored',
    { timeout: 120_000 },
    async () => {
      const { port, dir, path } = await stateOf('refused-values');
      const first = await serve(dir, port);
      await push(
        first,
        { ok: 3, negative: 4, nan: 5, infinite: 6 },
        { fine: [2, 1, 1], negbucket: [2, 1, 1], unequal: [2, 1, 1], infinite: [2, 1, 1] },
      );
      const before = await scraped(first);
      await stop(first);
      await spoilState(path, (p) => {
        stream(p, 'daemon.jobs', 'negative')[5] = -4;
        stream(p, 'daemon.jobs', 'nan')[5] = 'NaN';
        stream(p, 'daemon.jobs', 'infinite')[5] = 'Infinity';
        (stream(p, 'daemon.latency', 'negbucket')[6] as Hist).counts = [-1, 4, 1];
        (stream(p, 'daemon.latency', 'unequal')[6] as Hist).count = 5;
        const inf = stream(p, 'daemon.latency', 'infinite')[6] as Hist;
        inf.counts = [2, 'Infinity', 1];
        inf.count = 'Infinity';
      });

      const second = await serve(dir, port);
      const served = await scraped(second);
      const kept = before.filter((l) => /case="(ok|fine)"/.test(l));
      assert.ok(kept.length > 1);
      assert.deepEqual(served, kept, 'the valid series as they were, and nothing else');
      assert.equal(
        await telemetry(second, 'jobmeter_ingest_refused_points_total{reason="invalid_point"}'),
        3,
      );
      assert.equal(
        await telemetry(second, 'jobmeter_ingest_refused_points_total{reason="invalid_histogram"}'),
        3,
      );
      const stderr = second.running.stderr();
      assert.match(stderr, /ingest state: restored 2 series \(2 source series, 2 instruments\)/);
      assert.match(stderr, /6 data points rejected: /);
      assert.match(stderr, /daemon\.jobs: a negative or NaN value on a monotonic Sum \(2\)/);
      assert.match(stderr, /daemon\.jobs: an infinite value on a monotonic Sum \(1\)/);
      assert.match(stderr, /daemon\.latency: an invalid Histogram point \(/);
      // The file stays in use: a sender goes on from the restored values.
      await push(second, { ok: 8 });
      assert.ok(
        (await scraped(second)).includes('daemon_jobs_total{case="ok",otel_scope_name="daemon"} 8'),
      );
      await stop(second);
    },
  );
});
