/**
 * bench/targets.ts: the generated targets table keeps every target's row, replaces only the rows
 * a run measured, says "no" when a threshold is missed, and refuses a verdict for a target it
 * does not know. bench/README.md's section is that table as the last runs left it.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { sectionOf } from '../../bench/readme-sections.ts';
import { TARGETS, targetsTable, type TargetResult } from '../../bench/targets.ts';
import { scenario as collector } from '../../bench/collector.ts';
import { scenario as eventLoop } from '../../bench/event-loop.ts';
import { scenario as recordCounter } from '../../bench/record-counter.ts';
import { scenario as scrapeChanges } from '../../bench/scrape-changes.ts';
import { scenario as throughput } from '../../bench/throughput.ts';

const rowOf = (table: string, id: string) =>
  table.split('\n').find((l) => l.startsWith(`| \`${id}\` |`));

describe('bench targets table', () => {
  it('lists every target, measured or not, in order', () => {
    const table = targetsTable(
      [
        {
          result: { id: 'heap-host', measured: '722 vs 224 B: 3.22×', met: false },
          run: 'abc1234, 2026-11-23 06:13 UTC',
        },
      ],
      '',
    );
    const ids = table
      .split('\n')
      .slice(2)
      .map((l) => /^\| `([^`]+)` \|/.exec(l)?.[1]);
    assert.deepEqual(
      ids,
      TARGETS.map((t) => t.id),
    );
    assert.match(
      rowOf(table, 'heap-host')!,
      /\| 722 vs 224 B: 3\.22× \| \*\*no\*\* \| abc1234, 2026-11-23 06:13 UTC \|$/,
    );
    assert.match(
      rowOf(table, 'ingest-points')!,
      /not measured yet \| — \| `npm run bench -- collector` \|$/,
    );
  });

  it('keeps the rows a run did not measure as the previous table had them', () => {
    const first = targetsTable(
      [{ result: { id: 'scrape-1.1k', measured: '3.1× faster', met: false }, run: 'old' }],
      '',
    );
    const second = targetsTable(
      [{ result: { id: 'heap-churn', measured: 'flat', met: true }, run: 'new' }],
      first,
    );
    assert.equal(rowOf(second, 'scrape-1.1k'), rowOf(first, 'scrape-1.1k'));
    assert.match(rowOf(second, 'heap-churn')!, /\| flat \| \*\*yes\*\* \| new \|$/);
  });

  it('without a previous table, shows only what the run measured', () => {
    const table = targetsTable([
      { result: { id: 'heap-declared', measured: 'x', met: 'measured' }, run: 'this run' },
    ]);
    assert.equal(table.split('\n').length, 3);
    assert.match(rowOf(table, 'heap-declared')!, /\| x \| measured \| this run \|$/);
  });

  it('refuses a verdict for a target it does not know', () => {
    assert.throws(
      () => targetsTable([{ result: { id: 'heap-typo', measured: 'x', met: true }, run: 'r' }]),
      /no target "heap-typo"; targets: heap-host/,
    );
  });

  it('bench/README.md holds the table, every target in it', () => {
    const readme = readFileSync(new URL('../../bench/README.md', import.meta.url), 'utf8');
    const at = sectionOf(readme, 'targets');
    assert.ok(at !== undefined, 'bench/README.md has <!-- bench:targets:start --> … end');
    const section = readme.slice(at.from, at.to);
    for (const t of TARGETS) assert.ok(rowOf(section, t.id) !== undefined, `row ${t.id}`);
    assert.equal(
      targetsTable([], section).trim(),
      section.trim(),
      'the section is what the generator writes',
    );
  });

  // The rows that must stay met: each scenario's verdict follows its threshold.
  describe('stays-met rows: the verdict follows the threshold', () => {
    const met = (r: readonly TargetResult[], id: string) => {
      const row = r.find((x) => x.id === id);
      assert.ok(row !== undefined, `a ${id} verdict`);
      return row.met;
    };
    const results = (entries: Record<string, unknown[]>) =>
      new Map(Object.entries(entries)) as never;

    it('scrape-110k-1pct: ≤ 10 ms and ≥ 30× @prometheus-io/client at 1% changed', () => {
      const at = (jm: number, io: number) =>
        met(
          scrapeChanges.targets!(
            { n: 100_000, warmup: 1, runs: 1 },
            results({
              jobmeter: [{ ms: { '0.01': [jm, jm, jm] } }],
              'prometheus-io': [{ ms: { '0.01': [io] } }],
            }),
          ),
          'scrape-110k-1pct',
        );
      assert.equal(at(8, 320), true);
      assert.equal(at(11, 400), false, 'over 10 ms');
      assert.equal(at(9, 250), false, 'under 30×');
    });

    it('record-counter: both OTel API paths ≤ 1.0× @prometheus-io/client', () => {
      const at = (declared: number, host: number) =>
        met(
          recordCounter.targets!(
            { ops: 1, runs: 1, warmup: 0, processes: 1 },
            results({
              'jobmeter-api': [{ ns: [declared] }],
              'jobmeter-host': [{ ns: [host] }],
              'prometheus-io': [{ ns: [130] }],
            }),
          ),
          'record-counter',
        );
      assert.equal(at(28, 39), true);
      assert.equal(at(28, 131), false, 'the host path over 1.0×');
    });

    it('throughput: req/s ≥ 20× and p99 ≤ 1/10 of @prometheus-io/client', () => {
      const at = (rps: number, p99: number) =>
        met(
          throughput.targets!(
            { n: 1, connections: 1, seconds: 1, processes: 1 },
            results({ jobmeter: [{ rps, p99 }], 'prometheus-io': [{ rps: 24, p99: 1_000 }] }),
          ),
          'throughput',
        );
      assert.equal(at(906, 57), true);
      assert.equal(at(400, 57), false, 'req/s under 20×');
      assert.equal(at(906, 101), false, 'p99 over 1/10');
    });

    it('event-loop: every socket process ≤ 20 ms, with and without gzip', () => {
      const at = (plain: number[], gzip: number[]) =>
        met(
          eventLoop.targets!(
            { n: 1, warmup: 0, runs: 1, processes: 2 },
            results({
              'jobmeter-socket': plain.map((maxMs) => ({ maxMs })),
              'jobmeter-socket-gzip': gzip.map((maxMs) => ({ maxMs })),
            }),
          ),
          'event-loop',
        );
      assert.equal(at([16.5, 14.3], [13.1, 11.8]), true);
      assert.equal(at([16.5, 21], [13.1, 11.8]), false, 'one process over 20 ms');
    });
  });

  describe('ingest rows: the verdict follows the threshold', () => {
    const fleet = (
      senders: number,
      perInstrument: number,
      shape: { shared?: boolean; transport?: 'grpc' } = {},
    ) => ({ senders, instruments: 11, perInstrument, seconds: 1, ...shape });
    const small = fleet(8, 125);
    const large = fleet(4, 2_500);
    const load = (
      f: ReturnType<typeof fleet>,
      pointsPerSecond: number,
      rssMiB: number,
      refused = 0,
      rejectedPoints = 0,
    ) => ({
      pointsPerSecond,
      refused,
      rejectedPoints,
      rss: rssMiB * 2 ** 20,
      rssIdle: 80 * 2 ** 20,
      liveSeries: (f.shared === true ? 1 : f.senders) * f.instruments * f.perInstrument,
    });
    const id = (c: string, f: ReturnType<typeof fleet>) =>
      `${c}-fleet-${f.senders}x${f.instruments * f.perInstrument}` +
      (f.shared === true ? '-shared' : '') +
      (f.transport === 'grpc' ? '-grpc' : '');
    // Each fleet: [jobmeter points/s, RSS MiB, refused, points rejected], then the Collector's.
    type Side = [number, number, number?, number?];
    const verdicts = (fleets: [ReturnType<typeof fleet>, Side, Side][]) => {
      const entries: Record<string, unknown[]> = {};
      for (const [f, jm, col] of fleets) {
        entries[id('jobmeter', f)] = [{ loads: [load(f, ...jm)] }];
        entries[id('collector', f)] = [{ loads: [load(f, ...col)] }];
      }
      const rows = collector.targets!(
        { sizes: [], scrapes: 1, fleets: fleets.map(([f]) => f), repeats: 1 },
        new Map(Object.entries(entries)) as never,
      );
      return Object.fromEntries(rows.map((r) => [r.id, r]));
    };

    it('ingest-points: ≥ 2× on every fleet', () => {
      assert.equal(
        verdicts([
          [small, [900, 120], [400, 130]],
          [large, [900, 200], [400, 500]],
        ])['ingest-points']!.met,
        true,
      );
      assert.equal(
        verdicts([
          [small, [700, 120], [400, 130]],
          [large, [900, 200], [400, 500]],
        ])['ingest-points']!.met,
        false,
        'one fleet under 2×',
      );
    });

    it('ingest-rss: ≤ ½ on the fleets of 100k live series or more; a smaller fleet is shown, not judged', () => {
      const both = verdicts([
        [small, [900, 120], [400, 130]],
        [large, [900, 200], [400, 500]],
      ])['ingest-rss']!;
      assert.equal(both.met, true);
      assert.match(
        both.measured,
        /RSS per 100k live series: 4×27,500 0\.40×; under 100,000 live series, not judged: 8×1,375 0\.92×/,
      );
      assert.equal(
        verdicts([
          [small, [900, 60], [400, 130]],
          [large, [900, 260], [400, 500]],
        ])['ingest-rss']!.met,
        false,
        'the large fleet over ½',
      );
      assert.equal(
        verdicts([[small, [900, 60], [400, 130]]])['ingest-rss']!.met,
        false,
        'no fleet large enough to judge',
      );
    });

    it('shared bodies and gRPC are rows of their own, judged as the disjoint HTTP fleets are', () => {
      const sharedSmall = fleet(10, 1_000, { shared: true });
      const sharedLarge = fleet(4, 10_000, { shared: true });
      const grpcLarge = fleet(4, 10_000, { shared: true, transport: 'grpc' });
      const rows = verdicts([
        [small, [900, 120], [400, 130]],
        [sharedSmall, [500, 110], [400, 120]],
        [sharedLarge, [900, 200], [400, 500]],
        [grpcLarge, [900, 300], [400, 500]],
      ]);
      assert.equal(
        rows['ingest-points']!.measured,
        'jobmeter ÷ Collector data points/s: 8×1,375 2.25×',
      );
      assert.equal(rows['ingest-shared-points']!.met, false, 'one body of 11k under 2×');
      assert.match(
        rows['ingest-shared-points']!.measured,
        /10×11,000 one body 1\.25×, 4×110,000 one body 2\.25×/,
      );
      assert.equal(rows['ingest-shared-rss']!.met, true, 'judged on the 110k body alone');
      assert.equal(rows['ingest-grpc-points']!.met, true);
      assert.equal(rows['ingest-grpc-rss']!.met, false, '0.60× over ½');
      assert.match(rows['ingest-grpc-rss']!.measured, /4×110,000 one body gRPC 0\.60×/);
      assert.equal(
        verdicts([[small, [900, 120], [400, 130]]])['ingest-grpc-points'],
        undefined,
        'a shape not loaded keeps its row as it was',
      );
    });

    it('ingest-no-503: none refused where the Collector refused none', () => {
      assert.equal(verdicts([[small, [900, 120, 0], [400, 130, 0]]])['ingest-no-503']!.met, true);
      assert.equal(
        verdicts([[small, [900, 120, 3], [400, 130, 0]]])['ingest-no-503']!.met,
        false,
        'jobmeter refused',
      );
      const rejected = verdicts([[small, [900, 120, 0, 5], [400, 130, 0, 0]]])['ingest-no-503']!;
      assert.equal(rejected.met, false, 'points rejected in a partial_success');
      assert.match(rejected.measured, /points rejected \(partial_success\): 8×1,375 5 \/ 0/);
    });
  });
});
