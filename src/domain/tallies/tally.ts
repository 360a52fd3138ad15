/**
 * What every tally shares: a tally is a series set of the store (series/) with the record
 * face of an OpenTelemetry API instrument — `add` / `record` with attributes and a context, and
 * `bind` — checked by the record guard, and marked BOUNDED: it bounds itself (its index applies
 * the spec's folds or the host budget).
 */
import type { GaugeTally } from './gauge.ts';
import type { HistogramTally } from './histogram.ts';
import type { SumTally } from './sum.ts';

export type Tally = SumTally | GaugeTally | HistogramTally;
