/**
 * What every tally shares: a tally is a series set of the store (domain/series/) with the record
 * face of an OpenTelemetry API instrument — `add` / `record` with attributes and a context, and
 * `bind` — checked by the record guard, and marked {@link BOUNDED}: it bounds itself (its index
 * applies the spec's folds or the host budget).
 */
import type { RecordGuard } from '../record-guard.ts';
import { invalidValue } from '../record-guard.ts';
import type { GaugeTally } from './gauge.ts';
import type { HistogramTally } from './histogram.ts';
import type { SumTally } from './sum.ts';

export type Tally = SumTally | GaugeTally | HistogramTally;

/** Reports a record refused by the fast check (`nonNegative` as given to it). */
export function reject(guard: RecordGuard, name: string, value: unknown, nonNegative: boolean): void {
  guard.drop(name, invalidValue(value, nonNegative) ?? 'not_a_number', value);
}
