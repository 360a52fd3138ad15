/**
 * The memory budget (`ingest.maxMemoryBytes`) is checked against the store's own estimate
 * (memory-estimate.ts), which docs/collector.md says errs high. Measured here, not taken on trust:
 * for each shape of ingested series, a child process under `--expose-gc` (held-heap-probe.ts)
 * holds them in a store and the native naming stage, and the heap they grew must be at most the
 * estimate. Counts are just past a power of two, so the maps' tables are about half empty: the
 * most a map entry costs.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';

const PROBE = fileURLToPath(new URL('./held-heap-probe.ts', import.meta.url));

/** Shape (held-heap-probe.ts SHAPES) and source series held. */
const CASES: ReadonlyArray<readonly [string, number]> = [
  ['small', 2_100],
  ['bare', 1_100],
  ['named', 2_100],
  ['long', 2_100],
  ['cut', 2_100],
  ['huge', 600],
  ['unicode', 1_100],
  ['histograms', 2_100],
  ['narrow', 2_100],
  ['exponential', 1_100],
  ['senders', 2_100],
  ['histogramSenders', 2_100],
  ['scoped', 2_100],
  ['scopes', 2_100],
];
/** Less than any shape holds a source series in: a probe that measured less measured nothing. */
const AT_LEAST_PER_SERIES = 200;

async function probe(shape: string, count: number): Promise<{ grown: number; estimate: number }> {
  // Single-threaded: no concurrent compile or GC lands between the two readings, so the figures
  // are the same from run to run.
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--expose-gc', '--single-threaded', PROBE, shape, String(count)],
    { timeout: 120_000 },
  );
  return JSON.parse(stdout) as { grown: number; estimate: number };
}

describe(
  'the heap that ingested series hold is at most the store estimate',
  { concurrency: 2 },
  () => {
    for (const [shape, count] of CASES) {
      it(`${shape}: ${count} source series`, async () => {
        const { grown, estimate } = await probe(shape, count);
        const figures = `heap grew ${grown} B (${(grown / count).toFixed(0)} a series), estimate ${estimate} B (${(estimate / count).toFixed(0)})`;
        assert.ok(grown >= count * AT_LEAST_PER_SERIES, `${shape}: ${figures}`);
        assert.ok(grown <= estimate, `${shape}: ${figures}`);
      });
    }
  },
);
