/**
 * The ingest's default caps, as docs/collector.md states them — 2000 source series per
 * instrument, 50000 in all, 1000 instruments — pinned through what `createJobmeter({ ingest })`
 * (and so `jobmeter serve`) really does with no cap configured: the last series or instrument
 * that fits is kept, the next one is refused with `partial_success` and its reason.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createJobmeter, type Jobmeter } from '../../src/jobmeter.ts';
import { decodeExportResponse } from '../support/otlp-response.ts';

const NOW = String(BigInt(Date.now()) * 1_000_000n);

/** One gauge per name with `points` series each (attribute `i`), as OTLP/JSON. */
function body(metrics: ReadonlyArray<{ name: string; points: number; from?: number }>): string {
  return JSON.stringify({
    resourceMetrics: [
      {
        scopeMetrics: [
          {
            scope: { name: 'caps' },
            metrics: metrics.map(({ name, points, from = 0 }) => ({
              name,
              gauge: {
                dataPoints: Array.from({ length: points }, (_, i) => ({
                  asDouble: 1,
                  timeUnixNano: NOW,
                  attributes: [{ key: 'i', value: { intValue: String(from + i) } }],
                })),
              },
            })),
          },
        ],
      },
    ],
  });
}

/** The answer's partial_success (none: nothing refused). */
async function send(jm: Jobmeter, json: string): Promise<{ rejected: number; message: string }> {
  const res = await fetch(`http://127.0.0.1:${jm.ingestAddress!.port}/v1/metrics`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: json,
  });
  assert.equal(res.status, 200);
  const result = decodeExportResponse(new Uint8Array(await res.arrayBuffer()), 'json');
  return { rejected: result?.rejectedDataPoints ?? 0, message: result?.errorMessage ?? '' };
}

async function withJobmeter(run: (jm: Jobmeter) => Promise<void>): Promise<void> {
  const jm = await createJobmeter({
    listener: false,
    processMetrics: false,
    global: false,
    ingest: { port: 0 },
  });
  try {
    await run(jm);
  } finally {
    await jm.shutdown();
  }
}

describe('default caps', { timeout: 120_000 }, () => {
  it('2000 source series per instrument', () =>
    withJobmeter(async (jm) => {
      assert.deepEqual(await send(jm, body([{ name: 'caps.one', points: 2000 }])), {
        rejected: 0,
        message: '',
      });
      const past = await send(jm, body([{ name: 'caps.one', points: 1, from: 2000 }]));
      assert.equal(past.rejected, 1);
      assert.equal(
        past.message,
        '1 data point rejected: caps.one: over the cap of 2000 source series per instrument (1)',
      );
    }));

  it('50000 source series in all', () =>
    withJobmeter(async (jm) => {
      const full = Array.from({ length: 25 }, (_, i) => ({ name: `caps.all.${i}`, points: 2000 }));
      assert.equal((await send(jm, body(full))).rejected, 0);
      const past = await send(jm, body([{ name: 'caps.all.extra', points: 1 }]));
      assert.equal(past.rejected, 1);
      assert.equal(
        past.message,
        '1 data point rejected: caps.all.extra: over the cap of 50000 source series in all (1)',
      );
    }));

  it('1000 instruments', () =>
    withJobmeter(async (jm) => {
      const names = Array.from({ length: 1000 }, (_, i) => ({
        name: `caps.instrument.${i}`,
        points: 1,
      }));
      assert.equal((await send(jm, body(names))).rejected, 0);
      const past = await send(jm, body([{ name: 'caps.instrument.extra', points: 1 }]));
      assert.equal(past.rejected, 1);
      assert.equal(
        past.message,
        '1 data point rejected: caps.instrument.extra: over the cap of 1000 instruments (1)',
      );
    }));
});
