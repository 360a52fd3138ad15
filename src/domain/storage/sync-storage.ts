/**
 * What every synchronous storage shares: it is a series set of the store (series/) with the record
 * face of an OpenTelemetry API instrument — `add` / `record` with attributes and a context, and
 * `bind` — checked by the record guard, and marked BOUNDED: it bounds itself (its index applies
 * the spec's folds or the host budget).
 */
import type { GaugeStorage } from './gauge.ts';
import type { HistogramStorage } from './histogram.ts';
import type { SumStorage } from './sum.ts';

export type SyncStorage = SumStorage | GaugeStorage | HistogramStorage;
