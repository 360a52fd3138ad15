/**
 * What an embedded host's recorder derives from its runs, derived the same way from a sender's.
 *
 * On an embedded host, `recordRun` counts `jobmeter.run.finished` and, from the same runs, the
 * run history by outcome (`jobmeter.run.history`, when the host keeps none of its own) and the last
 * failure's time (`jobmeter.run.last_failure.time`). A daemon that pushes only
 * `jobmeter.run.finished` must get the same profile series (runwisp's `runwisp_runs_total` and
 * `runwisp_runs_last_failure_timestamp_seconds`), so the ingest derives these two when the senders
 * push `run.finished` and not the derived name itself.
 */
import type { Attributes } from '@opentelemetry/api';
import { DataPointType, type DataPoint, type MetricData, type ScopeMetrics } from '@opentelemetry/sdk-metrics';
import { RUN_FINISHED, RUN_HISTORY, RUN_LAST_FAILURE } from '../domain/catalog.ts';

/** The metrics to add to a collection of ingested `scopeMetrics`; none when nothing is derived. */
export function derivedRunMetrics(scopeMetrics: readonly ScopeMetrics[], lastFailureSeconds: number | undefined): MetricData[] {
  const names = new Set<string>();
  const finished: MetricData[] = [];
  for (const sm of scopeMetrics) {
    for (const m of sm.metrics) {
      names.add(m.descriptor.name);
      if (m.descriptor.name === RUN_FINISHED.name && m.dataPointType === DataPointType.SUM) finished.push(m);
    }
  }
  if (finished.length === 0) return [];
  const out: MetricData[] = [];
  const template = finished[0]!;
  if (!names.has(RUN_HISTORY.name)) {
    const byOutcome = new Map<string, { point: DataPoint<number>; value: number }>();
    for (const m of finished) {
      for (const p of m.dataPoints as DataPoint<number>[]) {
        const outcome = String(p.attributes['outcome'] ?? '');
        const at = byOutcome.get(outcome);
        if (at === undefined) byOutcome.set(outcome, { point: p, value: p.value });
        else at.value += p.value;
      }
    }
    const dataPoints = [...byOutcome].map(([outcome, { point, value }]) => ({
      startTime: point.startTime,
      endTime: point.endTime,
      attributes: outcomeAttributes(outcome),
      value,
    }));
    out.push({
      ...template,
      descriptor: { ...template.descriptor, name: RUN_HISTORY.name, description: RUN_HISTORY.description, unit: RUN_HISTORY.unit },
      dataPoints,
    } as MetricData);
  }
  if (!names.has(RUN_LAST_FAILURE.name) && lastFailureSeconds !== undefined) {
    const p = (template.dataPoints as DataPoint<number>[])[0]!;
    out.push({
      descriptor: { ...template.descriptor, name: RUN_LAST_FAILURE.name, description: RUN_LAST_FAILURE.description, unit: RUN_LAST_FAILURE.unit },
      dataPointType: DataPointType.GAUGE,
      aggregationTemporality: template.aggregationTemporality,
      dataPoints: [{ startTime: p.startTime, endTime: p.endTime, attributes: {}, value: lastFailureSeconds }],
    } as MetricData);
  }
  return out;
}

/** The latest time a sender's `jobmeter.run.finished{outcome="failure"}` went up, the last failure's time. */
export class LastFailure {
  /** In seconds; undefined before the first failure. */
  seconds: number | undefined;

  /** Notes a point of `instrument` that made its stream's value go up. */
  rose(instrument: string, point: { readonly attributes: Attributes; readonly timeUnixNano: bigint }): void {
    if (instrument !== RUN_FINISHED.name || point.attributes['outcome'] !== 'failure') return;
    const seconds = Number(point.timeUnixNano / 1_000_000n) / 1000;
    if (this.seconds === undefined || seconds > this.seconds) this.seconds = seconds;
  }
}

/** One frozen attributes object per outcome: the naming stage caches label strings by identity. */
const OUTCOME_ATTRIBUTES = new Map<string, Attributes>();
function outcomeAttributes(outcome: string): Attributes {
  let a = OUTCOME_ATTRIBUTES.get(outcome);
  if (a === undefined) {
    if (OUTCOME_ATTRIBUTES.size >= 16) return Object.freeze({ outcome });
    OUTCOME_ATTRIBUTES.set(outcome, (a = Object.freeze({ outcome })));
  }
  return a;
}
