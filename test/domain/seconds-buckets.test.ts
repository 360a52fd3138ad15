/**
 * A host histogram in seconds that chose no buckets gets second-scale ones (the semantic
 * conventions' duration advice), on either engine of jobmeter's provider and through
 * `guardMeter(meter)`: the SDK's default millisecond-scale bounds would put every duration under
 * 5 s in one bucket. Advice the host gave, a View's aggregation, and any other unit keep theirs.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type { Meter } from '@opentelemetry/api';
import { AggregationType, MeterProvider, type ViewOptions } from '@opentelemetry/sdk-metrics';
import { SDK_DEFAULT_BOUNDARIES, SECONDS_BOUNDARIES } from '../../src/domain/host-buckets.ts';
import { guardMeter } from '../../src/host-guard.ts';
import { createJobmeter, type Jobmeter } from '../../src/jobmeter.ts';
import { JobmeterReader } from '../../src/jobmeter-reader.ts';

const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});

const les = (bounds: readonly number[]): string[] => [...bounds.map(String), '+Inf'];

/** `name`'s bucket lines as `le → cumulative count`, from a text scrape of `port`. */
async function buckets(port: number, name: string): Promise<Map<string, number>> {
  const body = await (
    await fetch(`http://127.0.0.1:${port}/metrics`, {
      headers: { accept: 'text/plain;version=0.0.4' },
    })
  ).text();
  const out = new Map<string, number>();
  for (const m of body.matchAll(new RegExp(`^${name}_bucket\\{[^}]*le="([^"]+)"\\} (\\S+)$`, 'gm')))
    out.set(m[1]!, Number(m[2]));
  assert.ok(out.size > 0, `${name}_bucket in\n${body}`);
  return out;
}

async function jobmeter(views: ViewOptions[] = []): Promise<Jobmeter> {
  const jm = await createJobmeter({
    listener: { port: 0 },
    global: false,
    processMetrics: false,
    views,
  });
  closers.push(() => jm.shutdown());
  return jm;
}

/** Records 0.2 s and 3 s on a histogram `name` of `meter`. */
function recordTwo(
  meter: Meter,
  name: string,
  options: Parameters<Meter['createHistogram']>[1],
): void {
  const h = meter.createHistogram(name, options);
  h.record(0.2);
  h.record(3);
}

describe('buckets of a host histogram in seconds', () => {
  it('on a local storage (no View): second-scale, so 0.2 s and 3 s fall in different buckets', async () => {
    const jm = await jobmeter();
    recordTwo(jm.meter, 'app.job.latency', { unit: 's' });
    const b = await buckets(jm.pullAddress!.port, 'app_job_latency_seconds');
    assert.deepEqual([...b.keys()], les(SECONDS_BOUNDARIES));
    assert.equal(b.get('0.1'), 0);
    assert.equal(b.get('0.25'), 1);
    assert.equal(b.get('2.5'), 1);
    assert.equal(b.get('5'), 2);
  });

  it('on the SDK (a host View that renames it, choosing no aggregation): the same', async () => {
    const jm = await jobmeter([{ instrumentName: 'app.job.wait', name: 'app.job.queue_wait' }]);
    recordTwo(jm.meter, 'app.job.wait', { unit: 's' });
    const b = await buckets(jm.pullAddress!.port, 'app_job_queue_wait_seconds');
    assert.deepEqual([...b.keys()], les(SECONDS_BOUNDARIES));
    assert.equal(b.get('0.25'), 1);
  });

  it("the host's advice, a View's aggregation and another unit keep their buckets", async () => {
    const jm = await jobmeter([
      {
        instrumentName: 'app.viewed',
        aggregation: {
          type: AggregationType.EXPLICIT_BUCKET_HISTOGRAM,
          options: { boundaries: [2] },
        },
      },
    ]);
    recordTwo(jm.meter, 'app.advised', { unit: 's', advice: { explicitBucketBoundaries: [1] } });
    recordTwo(jm.meter, 'app.viewed', { unit: 's' });
    recordTwo(jm.meter, 'app.millis', { unit: 'ms' });
    const port = jm.pullAddress!.port;
    assert.deepEqual([...(await buckets(port, 'app_advised_seconds')).keys()], les([1]));
    assert.deepEqual([...(await buckets(port, 'app_viewed_seconds')).keys()], les([2]));
    assert.deepEqual(
      [...(await buckets(port, 'app_millis_milliseconds')).keys()],
      les(SDK_DEFAULT_BOUNDARIES),
    );
  });

  it("on a host's own provider: through guardMeter(meter) second-scale; the bare meter keeps the SDK's", async () => {
    const reader = new JobmeterReader({ listener: { port: 0 } });
    const provider = new MeterProvider({ readers: [reader] });
    closers.push(() => provider.shutdown());
    const meter = provider.getMeter('host');
    recordTwo(guardMeter(meter), 'app.guarded', { unit: 's' });
    recordTwo(meter, 'app.bare', { unit: 's' });
    await reader.ready;
    const port = reader.pullAddress!.port;
    assert.deepEqual(
      [...(await buckets(port, 'app_guarded_seconds')).keys()],
      les(SECONDS_BOUNDARIES),
    );
    assert.deepEqual(
      [...(await buckets(port, 'app_bare_seconds')).keys()],
      les(SDK_DEFAULT_BOUNDARIES),
    );
  });
});
