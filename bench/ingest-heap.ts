/**
 * What the ingest store holds per live series, in one process under `--expose-gc`: a fleet's shape
 * (collector-fleet.ts: senders each under their own resource, 11 cumulative counters, two
 * attributes `sender` and `route`) ingested twice (the second export updates every value), then
 * read by the native naming pass once and twice (what a scrape leaves held). Prints the heap
 * (`heapUsed + arrayBuffers` after full GCs) per series at each step, as one JSON line.
 *
 * `node --expose-gc bench/ingest-heap.ts [senders] [perInstrument] [snapshot-file]`: with a third
 * argument, a heap snapshot is written after the scrape (read it with bench/heap-snapshot-top.ts).
 */
import { writeHeapSnapshot } from 'node:v8';
import { IngestStore } from '../src/ingest/ingest-store.ts';
import { nativeClaimedNames } from '../src/naming/prometheus-names.ts';
import { otelProfile } from '../src/naming/profiles/otel.ts';
import { createNamer } from '../src/naming/to-families.ts';
import type { OtlpExportRequest, OtlpMetric, OtlpNumberPoint } from '../src/otlp/types.ts';

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run under node --expose-gc');

const senders = Number(process.argv[2] ?? 10);
const perInstrument = Number(process.argv[3] ?? 1000);
const snapshotFile = process.argv[4];
const INSTRUMENTS = 11;
const series = senders * INSTRUMENTS * perInstrument;

/** A flat string (as a decoder hands it over), not a rope. */
const flat = (s: string): string => JSON.parse(JSON.stringify(s)) as string;

function exportOf(k: number, round: number): OtlpExportRequest {
  const start = BigInt(Date.now() - 60_000) * 1_000_000n;
  const time = BigInt(Date.now()) * 1_000_000n;
  const metrics: OtlpMetric[] = [];
  for (let m = 0; m < INSTRUMENTS; m++) {
    const points: OtlpNumberPoint[] = [];
    for (let r = 0; r < perInstrument; r++) {
      points.push({
        attributes: { sender: flat(`sender-${k}`), route: flat(`/api/route-${r}`) },
        startTimeUnixNano: start,
        timeUnixNano: time + BigInt(round),
        noRecordedValue: false,
        value: round + r,
      });
    }
    metrics.push({
      name: `fleet.requests.${m}`,
      description: '',
      unit: '',
      data: { type: 'sum', monotonic: true, temporality: 'cumulative', points },
    });
  }
  const resource = {
    'service.name': flat('fleet'),
    'service.instance.id': flat(`sender-${k}`),
    'host.name': flat(`node-${k}`),
  };
  return {
    resourceMetrics: [
      { resource, scopeMetrics: [{ scope: { name: 'fleet-app', version: '1.0.0' }, metrics }] },
    ],
  };
}

function heap(): number {
  for (let i = 0; i < 4; i++) gc!();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

const base = heap();
const store = new IngestStore({
  maxSeries: 10 * series,
  maxSeriesPerInstrument: senders * perInstrument + 1,
  maxMemoryBytes: 2 ** 36,
  exposedNames: nativeClaimedNames,
});
for (let k = 0; k < senders; k++) store.ingest(exportOf(k, 1));
const ingested = heap();
for (let k = 0; k < senders; k++) store.ingest(exportOf(k, 2));
const updated = heap();
const namer = createNamer(otelProfile(false), {
  hostname: 'h',
  hostInstruments: 'native',
  ownInstruments: new Set(),
});
const { scrapedFamilies } = await import('../test/ingest/helpers.ts');
// As a scrape reads the ingest: its series sets (the Collection's `ingested` part).
const collect = () => scrapedFamilies(store, namer);
// The first rendering is held (unread) while heap() measures it.
// eslint-disable-next-line no-useless-assignment
let families = await collect();
const scraped = heap();
families = await collect();
const scraped2 = heap();
const lines = families.reduce((n, f) => n + f.series.length, 0);
if (snapshotFile !== undefined) writeHeapSnapshot(snapshotFile);
const per = (b: number) => Math.round((b - base) / series);
console.log(
  JSON.stringify({
    series,
    lines,
    estimate: Math.round(store.memoryBytes / series),
    ingested: per(ingested),
    updated: per(updated),
    scraped: per(scraped),
    scraped2: per(scraped2),
  }),
);
