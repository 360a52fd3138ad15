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
import { DataPointType } from '../common/otel-sdk.ts';
import type { Attributes, HrTime } from '@opentelemetry/api';
import type { MetricData } from '@opentelemetry/sdk-metrics';
import { RUN_FINISHED, RUN_HISTORY, RUN_LAST_FAILURE } from '../domain/catalog.ts';
import { isMetricData, startOf, type CollectedSeries } from '../series/collection.ts';

/**
 * The metrics to add to a collection of the ingest's `entries` (its sets as columns, MetricData
 * where they fit none), all read at `endTime`; none when nothing is derived. They are MetricData:
 * a few points made from other series (one per outcome), no series of a set.
 */
export function derivedRunMetrics(
  entries: Iterable<CollectedSeries | MetricData>,
  lastFailureSeconds: number | undefined,
  endTime: HrTime,
): MetricData[] {
  const names = new Set<string>();
  const finished: CollectedSeries[] = [];
  for (const m of entries) {
    names.add(m.descriptor.name);
    const name = m.descriptor.name;
    if (name === RUN_FINISHED.name && !isMetricData(m) && m.dataPointType === DataPointType.SUM)
      finished.push(m);
  }
  if (finished.length === 0) return [];
  const out: MetricData[] = [];
  const template = finished[0]!;
  const descriptorOf = ({ name, description, unit }: typeof RUN_HISTORY) => ({
    ...template.descriptor,
    name,
    description,
    unit,
  });
  const sum = {
    aggregationTemporality: template.aggregationTemporality,
    dataPointType: DataPointType.SUM,
    isMonotonic: template.isMonotonic,
  };
  if (!names.has(RUN_HISTORY.name)) {
    const byOutcome = new Map<string, { startTime: HrTime; value: number }>();
    for (const m of finished) {
      for (let i = 0; i < m.n; i++) {
        const outcome = String(m.attributes[i]!['outcome'] ?? '');
        const at = byOutcome.get(outcome);
        if (at === undefined)
          byOutcome.set(outcome, { startTime: startOf(m, i), value: m.values[i]! });
        else at.value += m.values[i]!;
      }
    }
    const dataPoints = [...byOutcome].map(([outcome, { startTime, value }]) => ({
      startTime,
      endTime,
      attributes: outcomeAttributes(outcome),
      value,
    }));
    out.push({
      descriptor: descriptorOf(RUN_HISTORY),
      ...sum,
      dataPoints,
    });
  }
  if (!names.has(RUN_LAST_FAILURE.name) && lastFailureSeconds !== undefined) {
    const startTime = startOf(template, 0);
    out.push({
      descriptor: descriptorOf(RUN_LAST_FAILURE),
      dataPointType: DataPointType.GAUGE,
      aggregationTemporality: template.aggregationTemporality,
      dataPoints: [{ startTime, endTime, attributes: {}, value: lastFailureSeconds }],
    });
  }
  return out;
}

/** The latest time a sender's `jobmeter.run.finished{outcome="failure"}` went up, the last failure's time. */
export class LastFailure {
  /** In seconds; undefined before the first failure. */
  seconds: number | undefined;

  /** Notes a point of `instrument` that made its stream's value go up. */
  rose(
    instrument: string,
    point: { readonly attributes: Attributes; readonly timeUnixNano: bigint },
  ): void {
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
