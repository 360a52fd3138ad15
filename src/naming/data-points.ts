/**
 * What the rule compilers read off a series' columns, in exposition terms: its start time in Unix
 * ms, its exemplars as the renderers write them, a value in the rule's unit.
 */
import { hrTimeMillis } from '../common/otel-sdk.ts';
import type { CollectedSeries } from '../series/collection.ts';
import type { Exemplar } from '../domain/exemplars.ts';
import type { ExpositionExemplar, FamilyType } from '../exposition/types.ts';

/** Series `i`'s start time in Unix ms: its own when the set keeps one per series (collection.ts), else the set's. */
export function seriesStartMillis(
  series: Pick<CollectedSeries, 'startTime' | 'startSeconds' | 'startNanos'>,
  i: number,
): number {
  const seconds = series.startSeconds;
  return seconds === undefined
    ? hrTimeMillis(series.startTime)
    : seconds[i]! * 1000 + series.startNanos![i]! / 1e6;
}

/**
 * An exemplar as the renderers write it, with the exemplar in OTel terms it was made from (its
 * value scaled as the series'), which the profile-named push sends: nothing is read back from the
 * label text.
 */
export interface NamedExemplar extends ExpositionExemplar {
  readonly otel: Exemplar;
}

/** An exemplar as the renderers write it; `scale` as the series' values are scaled. */
function expositionExemplar(e: Exemplar, scale: number): NamedExemplar {
  const value = scaled(e.value, scale);
  return {
    labels: `trace_id="${e.traceId}",span_id="${e.spanId}"`,
    value,
    timestamp: e.timeMillis / 1000,
    otel: value === e.value ? e : { ...e, value },
  };
}

/** A counter series' latest exemplar (a store's series set keeps one), rendered; undefined without one (or for other types). */
export function seriesExemplar(
  e: Exemplar | undefined,
  type: FamilyType,
  scale: number,
): ExpositionExemplar | undefined {
  return e === undefined || type !== 'counter' ? undefined : expositionExemplar(e, scale);
}

/** Whether an exemplar of `timestamp` (Unix s) takes the place of `had`: the latest wins, the later one of a tie. */
export const replaces = (had: ExpositionExemplar | undefined, timestamp: number): boolean =>
  had === undefined || had.timestamp <= timestamp;

/**
 * A histogram series' exemplars as the renderers write them, by bucket: its `n` slots from `from`
 * of `held` (a set keeps the latest per bucket: series/histogram.ts); undefined when it has none.
 */
export function bucketExemplars(
  held: readonly (Exemplar | undefined)[],
  from: number,
  n: number,
  scale: number,
): (ExpositionExemplar | undefined)[] | undefined {
  let out: (ExpositionExemplar | undefined)[] | undefined;
  for (let k = 0; k < n; k++) {
    const e = held[from + k];
    if (e !== undefined)
      (out ??= new Array<ExpositionExemplar | undefined>(n))[k] = expositionExemplar(e, scale);
  }
  return out;
}

/**
 * Scaling a float sum of seconds to milliseconds leaves binary noise (4199.999999999999); the
 * originals sum whole units, so round off what lies below a nanosecond's worth of precision.
 */
export function scaled(value: number, scale: number): number {
  return scale === 1 ? value : Math.round(value * scale * 1e6) / 1e6;
}
