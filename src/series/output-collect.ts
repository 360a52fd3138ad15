/**
 * The collection of a stream store's output sets (streams.ts, output-set.ts: the ingest's) as the
 * naming pass reads it ({@link collectSeries}: the sets as columns, a Collection's `ingested` part,
 * collection.ts): each set compacted before, read at one instant (every series with its own start
 * time) and grouped by scope. A reader of OpenTelemetry MetricData (the OTLP push, the cluster
 * report) has the same part converted once, at the edge ({@link ingestedMetrics}).
 *
 * The order is what it has always been: instruments in the order they were made, an instrument's
 * scopes in the order of their oldest series, a scope's series in the order they were made --
 * across a histogram's bucket layouts too: as columns, a scope whose series are spread over
 * several sets (or out of order in one) is one view of them in that order ({@link merged}), each
 * series with its own bounds.
 */
import type { Attributes, HrTime } from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
import type { ScopeMetrics } from '@opentelemetry/sdk-metrics';
import {
  isMetricData,
  metricDataOf,
  type CollectedSeries,
  type IngestedPart,
  type IngestedScope,
} from './collection.ts';
import type { OutputSet } from './output-set.ts';
import type { SnapshotArena } from './snapshot.ts';
import type { InstrumentSeries as Instrument, ScopeSeries } from './streams.ts';

/**
 * The ingest's `part` as OpenTelemetry MetricData, one ScopeMetrics per scope in its order: its
 * columns made points at its instant, figures copied (the part is done once this returns); its
 * sets keep no min or max (output-set.ts), which columns would not carry.
 */
export function ingestedMetrics(part: IngestedPart): ScopeMetrics[] {
  const scopeMetrics = part.scopes.map(({ scope, series }) => ({
    scope,
    metrics: series.map((m) => (isMetricData(m) ? m : metricDataOf(m, part.endTime))),
  }));
  part.done();
  return scopeMetrics;
}

/**
 * The series of `instruments` (compacted) at `endTime` as columns, one IngestedScope per scope,
 * their figures copied into an arena of `arena(figures)`: views of it, read until the reader is done.
 */
export function collectSeries(
  instruments: readonly Instrument[],
  endTime: HrTime,
  arena: (figures: number) => SnapshotArena,
): { scopes: IngestedScope[]; arena: SnapshotArena } {
  // Counted and copied in one turn: no set changes in between.
  let figures = 0;
  for (const instrument of instruments)
    for (const held of instrument.scopes.values())
      for (const out of held.sets) figures += out.set.snapshotLength();
  const into = arena(figures);
  const scopes = new Map<string, { scope: InstrumentationScope; series: CollectedSeries[] }>();
  for (const instrument of instruments) {
    for (const [key, held] of scopesOf(instrument)) {
      const series = seriesOf(held, into, endTime);
      if (series === undefined) continue;
      let group = scopes.get(key);
      if (group === undefined) scopes.set(key, (group = { scope: { ...held.scope }, series: [] }));
      group.series.push(series);
    }
  }
  return { scopes: [...scopes.values()], arena: into };
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

/**
 * The scope's series as columns: of its one set when they are that set's, in its order; else one
 * view of each set's, in the order they were made. Every series has its own start (the set keeps
 * them): the set's start time is not read.
 */
function seriesOf(
  scope: ScopeSeries,
  arena: SnapshotArena,
  endTime: HrTime,
): CollectedSeries | undefined {
  const read = (out: OutputSet) => out.set.collected(out.set.snapshot(arena), endTime);
  const sets = scope.sets;
  if (sets.length === 1 && !sets[0]!.unordered) return read(sets[0]!);
  const parts: { out: OutputSet; series: CollectedSeries }[] = [];
  for (const out of sets) {
    const series = read(out);
    if (series !== undefined) parts.push({ out, series });
  }
  return parts.length === 0 ? undefined : merged(parts);
}

/**
 * Several sets' series (a histogram's bucket layouts, or one set whose series moved in from
 * another layout) as one view in the order they were made, each with its own bounds: copies of
 * their figures (a new attributes array at every collection).
 */
function merged(parts: readonly { out: OutputSet; series: CollectedSeries }[]): CollectedSeries {
  const order: { part: number; at: number; seq: number }[] = [];
  let stride = 0;
  for (let p = 0; p < parts.length; p++) {
    const { out, series } = parts[p]!;
    stride = Math.max(stride, series.stride);
    for (let at = 0; at < series.n; at++) order.push({ part: p, at, seq: out.seq(at) });
  }
  order.sort((a, b) => a.seq - b.seq);
  const n = order.length;
  const values = new Float64Array(n * stride);
  const sums = new Float64Array(n);
  const counts = new Float64Array(n);
  const startSeconds = new Float64Array(n);
  const startNanos = new Float64Array(n);
  const attributes = new Array<Attributes>(n);
  const seriesBounds = new Array<readonly number[]>(n);
  for (let i = 0; i < n; i++) {
    const { part, at } = order[i]!;
    const s = parts[part]!.series;
    values.set(s.values.subarray(at * s.stride, (at + 1) * s.stride), i * stride);
    sums[i] = s.sums[at]!;
    counts[i] = s.counts[at]!;
    startSeconds[i] = s.startSeconds![at]!;
    startNanos[i] = s.startNanos![at]!;
    attributes[i] = s.attributes[at]!;
    seriesBounds[i] = s.bounds;
  }
  const head = parts[0]!.series;
  return {
    descriptor: head.descriptor,
    dataPointType: head.dataPointType,
    aggregationTemporality: head.aggregationTemporality,
    n,
    attributes,
    startTime: head.startTime,
    compactedFrom: undefined,
    isMonotonic: head.isMonotonic,
    stride,
    bounds: head.bounds,
    values,
    sums,
    counts,
    exemplars: undefined,
    startSeconds,
    startNanos,
    seriesBounds,
  };
}
