/**
 * What every synchronous storage shares: it is a series set of the store (series/) with the record
 * face of an OpenTelemetry API instrument — `add` / `record` with attributes and a context, and
 * `bind` — checked by the record guard; it bounds itself (its index applies the spec's folds or
 * the host budget).
 */
import { ValueType, type MetricOptions } from '@opentelemetry/api';
import type { MetricDescriptor } from '@opentelemetry/sdk-metrics';
import { INSTRUMENT_TYPE_OF, type InstrumentKind } from '../types.ts';
import type { GaugeStorage } from './gauge.ts';
import type { HistogramStorage } from './histogram.ts';
import type { SumStorage } from './sum.ts';

export type SyncStorage = SumStorage | GaugeStorage | HistogramStorage;

/** The descriptor the SDK gives an instrument of `kind` made with `options` (every value a double). */
export function descriptorOf(
  name: string,
  kind: InstrumentKind,
  options: MetricOptions,
): MetricDescriptor {
  return {
    name,
    description: options.description ?? '',
    unit: options.unit ?? '',
    valueType: ValueType.DOUBLE,
    // Not in the MetricDescriptor type, but on every descriptor the SDK produces.
    type: INSTRUMENT_TYPE_OF[kind],
    advice: options.advice ?? {},
  } as MetricDescriptor;
}
