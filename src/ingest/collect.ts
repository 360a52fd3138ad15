/**
 * The ingest store's collection as OpenTelemetry MetricData (what the pull reader's producers and
 * the OTLP push read today): its output series sets (output-series.ts), compacted, each read at
 * one instant into cumulative points by the series layer (every series with its own start time),
 * grouped by scope. The order is what it has always been: instruments in the order they were
 * made, an instrument's scopes in the order of their oldest series, a scope's series in the order
 * they were made (across a histogram's bucket layouts too).
 */
import type { HrTime } from '@opentelemetry/api';
import type { DataPoint, MetricData, ScopeMetrics } from '@opentelemetry/sdk-metrics';
import { SnapshotArena } from '../domain/series/snapshot.ts';
import type { OutputSet } from './output-series.ts';
import type { Instrument, ScopeSeries } from './series-state.ts';

/** The series of `instruments` (compacted) at `endTime`, one ScopeMetrics per scope. */
export function collectScopes(instruments: Iterable<Instrument>, endTime: HrTime): ScopeMetrics[] {
  const scopes = new Map<string, ScopeMetrics>();
  for (const instrument of instruments) {
    for (const [key, held] of scopesOf(instrument)) {
      const metric = metricOf(held, endTime);
      if (metric === undefined) continue;
      let sm = scopes.get(key);
      if (sm === undefined) scopes.set(key, (sm = { scope: { ...held.scope }, metrics: [] }));
      sm.metrics.push(metric);
    }
  }
  return [...scopes.values()];
}

/** `instrument`'s scopes (by key) in the order of their oldest series. */
function scopesOf(instrument: Instrument): Iterable<[string, ScopeSeries]> {
  const scopes = instrument.scopes;
  if (scopes.size <= 1) return scopes;
  return [...scopes].sort((a, b) => oldest(a[1]) - oldest(b[1]));
}

function oldest(scope: ScopeSeries): number {
  let min = Infinity;
  for (const out of scope.sets) {
    if (!out.unordered) min = Math.min(min, out.set.size > 0 ? out.seq(0) : Infinity);
    else for (let i = 0; i < out.set.size; i++) min = Math.min(min, out.seq(i));
  }
  return min;
}

/** The scope's series as one MetricData: one set's points, or several sets' merged in the order their series were made. */
function metricOf(scope: ScopeSeries, endTime: HrTime): MetricData | undefined {
  const sets = scope.sets;
  if (sets.length === 1 && !sets[0]!.unordered) return pointsOf(sets[0]!, endTime);
  const made: { seq: number; point: DataPoint<unknown> }[] = [];
  let head: MetricData | undefined;
  for (const out of sets) {
    const m = pointsOf(out, endTime);
    if (m === undefined) continue;
    head ??= m;
    const points = m.dataPoints as DataPoint<unknown>[];
    for (let i = 0; i < points.length; i++) made.push({ seq: out.seq(i), point: points[i]! });
  }
  if (head === undefined) return undefined;
  made.sort((a, b) => a.seq - b.seq);
  return { ...head, dataPoints: made.map((m) => m.point) } as MetricData;
}

function pointsOf(out: OutputSet, endTime: HrTime): MetricData | undefined {
  const set = out.set;
  const snap = set.snapshot(new SnapshotArena(new Float64Array(set.snapshotLength())));
  // Every series has its own start (the set keeps them): the set's start time is not read.
  return set.cumulative(snap, endTime, endTime);
}
