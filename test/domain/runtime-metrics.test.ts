/**
 * The runtime metrics of `@opentelemetry/instrumentation-runtime-node`, as a native scrape serves
 * them: its names, units and attributes, bounded; and no legacy profile serving any of them.
 */
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { after, before, describe, it } from 'node:test';

import { mergePolicies } from '../../src/domain/merge-rules.ts';
import { RUNTIME_INSTRUMENTS } from '../../src/domain/process-metrics.ts';
import type { Family, HistogramSeries } from '../../src/exposition/types.ts';
import { createJobmeter, type Jobmeter } from '../../src/index.ts';
import { PROCESS_INSTRUMENTS } from '../../src/index-catalog.ts';

/** The instrumentation's instruments (its semconv.ts), with the attribute each carries. */
const INSTRUMENTATION = [
  ['nodejs.eventloop.delay.min', 's', undefined],
  ['nodejs.eventloop.delay.max', 's', undefined],
  ['nodejs.eventloop.delay.mean', 's', undefined],
  ['nodejs.eventloop.delay.stddev', 's', undefined],
  ['nodejs.eventloop.delay.p50', 's', undefined],
  ['nodejs.eventloop.delay.p90', 's', undefined],
  ['nodejs.eventloop.delay.p99', 's', undefined],
  ['nodejs.eventloop.utilization', '1', undefined],
  ['v8js.memory.heap.space.size', 'By', 'v8js.heap.space.name'],
  ['v8js.memory.heap.used', 'By', 'v8js.heap.space.name'],
  ['v8js.memory.heap.space.available_size', 'By', 'v8js.heap.space.name'],
  ['v8js.memory.heap.space.physical_size', 'By', 'v8js.heap.space.name'],
  ['v8js.gc.duration', 's', 'v8js.gc.type'],
] as const;

/** The Prometheus family name of an instrument under the native profile. */
const family = (name: string, unit: string): string =>
  `${name.replace(/\./g, '_')}${unit === 's' ? '_seconds' : unit === 'By' ? '_bytes' : '_ratio'}`;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Scrapes until every name in `names` is served (the event-loop delay needs a sample first). */
async function scrapeUntil(jm: Jobmeter, names: readonly string[]): Promise<Map<string, Family>> {
  for (let i = 0; ; i++) {
    const families = new Map((await jm.scrape()).map((f) => [f.name, f]));
    const missing = names.filter((n) => !families.has(n));
    if (missing.length === 0) return families;
    if (i === 100) throw new Error(`never served: ${missing.join(', ')}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('native profile', () => {
  let jm: Jobmeter;
  let families: Map<string, Family>;
  before(async () => {
    jm = await createJobmeter({ listener: false, otelScopeInfo: false, global: false });
    gc();
    families = await scrapeUntil(
      jm,
      INSTRUMENTATION.map(([name, unit]) => family(name, unit)),
    );
  });
  after(() => jm.shutdown());

  it('serves every instrument of the instrumentation under its name, unit and attribute', () => {
    for (const [name, unit, attribute] of INSTRUMENTATION) {
      const f = families.get(family(name, unit))!;
      assert.equal(f.type, name === 'v8js.gc.duration' ? 'histogram' : 'gauge', name);
      assert.equal(f.unit, unit === 's' ? 'seconds' : unit === 'By' ? 'bytes' : 'ratio', name);
      const label = attribute?.replace(/\./g, '_');
      for (const s of f.series) {
        const labels = [...s.labels.matchAll(/([a-z0-9_]+)="/g)].map((m) => m[1]);
        assert.deepEqual(labels, label === undefined ? [] : [label], `${name}: ${s.labels}`);
      }
    }
    const specs = new Set([...RUNTIME_INSTRUMENTS, ...PROCESS_INSTRUMENTS].map((s) => s.name));
    assert.deepEqual(
      INSTRUMENTATION.map(([n]) => n).filter((n) => !specs.has(n)),
      [],
    );
  });

  it('event-loop delay: seconds, min ≤ p50 ≤ p90 ≤ p99 ≤ max; utilization within 0..1', () => {
    const v = (figure: string): number =>
      (families.get(`nodejs_eventloop_delay_${figure}_seconds`)!.series[0] as { value: number })
        .value;
    const order = ['min', 'p50', 'p90', 'p99', 'max'].map(v);
    assert.deepEqual(
      [...order].sort((a, b) => a - b),
      order,
    );
    // The sampler fires every 10 ms: a delay is at least that, and under a second on an idle loop.
    assert.ok(order[0]! >= 0.009 && order[4]! < 1, order.join(' '));
    const elu = (families.get('nodejs_eventloop_utilization_ratio')!.series[0] as { value: number })
      .value;
    assert.ok(elu >= 0 && elu <= 1, String(elu));
  });

  it("heap by space: V8's spaces, used within size", () => {
    const bySpace = (name: string): Map<string, number> =>
      new Map(
        families
          .get(name)!
          .series.map((s) => [/"([^"]+)"/.exec(s.labels)![1]!, (s as { value: number }).value]),
      );
    const used = bySpace('v8js_memory_heap_used_bytes');
    const size = bySpace('v8js_memory_heap_space_size_bytes');
    assert.ok(used.has('old_space') && used.has('new_space'), [...used.keys()].join(','));
    assert.deepEqual([...size.keys()], [...used.keys()]);
    for (const [space, bytes] of used) assert.ok(bytes <= size.get(space)!, space);
    const total = [...used.values()].reduce((a, b) => a + b, 0);
    assert.ok(total > 1e6, `heap in use: ${total}`);
  });

  it("GC duration by kind, in the instrumentation's buckets", () => {
    const f = families.get('v8js_gc_duration_seconds')!;
    const kinds = f.series.map((s) => /v8js_gc_type="([^"]+)"/.exec(s.labels)![1]);
    assert.ok(
      kinds.length > 0 &&
        kinds.every((k) => ['major', 'minor', 'incremental', 'weakcb'].includes(k!)),
      kinds.join(','),
    );
    const h = f.series[0] as HistogramSeries;
    assert.deepEqual(
      [...h.bounds],
      [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10],
    );
    assert.ok(h.count > 0 && h.sum > 0);
  });

  it('bounded: every attribute is a closed set or capped; a cluster keeps the busiest event loop', () => {
    for (const spec of RUNTIME_INSTRUMENTS) {
      for (const a of spec.attributes)
        assert.ok(
          a.values !== undefined || (a.cap !== undefined && a.cap <= 32),
          `${spec.name}.${a.key}`,
        );
    }
    const policy = mergePolicies();
    assert.equal(policy('nodejs.eventloop.delay.p99'), 'max');
    assert.equal(policy('nodejs.eventloop.utilization'), 'max');
    assert.equal(policy('v8js.memory.heap.used'), 'sum');
  });
});

describe('legacy profiles', () => {
  for (const profile of ['runwisp', 'wasmrun', 'crewshipd', 'rm', 'solti'] as const) {
    it(`${profile} serves none of them`, async () => {
      const jm = await createJobmeter({ profile, listener: false, global: false });
      try {
        await new Promise((r) => setTimeout(r, 50));
        gc();
        const names = (await jm.scrape()).map((f) => f.name);
        assert.deepEqual(
          names.filter((n) => /nodejs_|v8js_|eventloop|heap_space|gc_duration/.test(n)),
          [],
          profile,
        );
        if (profile === 'crewshipd') {
          const heap = (await jm.scrape()).find((f) => f.name === 'crewshipd_memory_alloc_bytes')!;
          assert.equal(heap.series.length, 1, 'the spaces summed into one series');
          assert.ok((heap.series[0] as { value: number }).value > 1e6);
        }
      } finally {
        await jm.shutdown();
      }
    });
  }
});
