/**
 * What every synchronous storage shares: it is a series set of the store (series/) with the record
 * face of an OpenTelemetry API instrument — `add` / `record` with attributes and a context, and
 * `bind` — checked by the record guard; it bounds itself (its index applies the spec's folds or
 * the host budget).
 */
import { diag, ValueType, type MetricOptions } from '@opentelemetry/api';
import type { MetricDescriptor } from '@opentelemetry/sdk-metrics';
import { INSTRUMENT_TYPE_OF, type InstrumentKind } from '../types.ts';
import type { GaugeStorage } from './gauge.ts';
import type { HistogramStorage } from './histogram.ts';
import { SumStorage } from './sum.ts';

export type SyncStorage = SumStorage | GaugeStorage | HistogramStorage;

/** The descriptor the SDK gives an instrument of `kind` made with `options`. */
export function descriptorOf(
  name: string,
  kind: InstrumentKind,
  options: MetricOptions,
): MetricDescriptor {
  return {
    name,
    description: options.description ?? '',
    unit: options.unit ?? '',
    valueType: options.valueType ?? ValueType.DOUBLE,
    // Not in the MetricDescriptor type, but on every descriptor the SDK produces.
    type: INSTRUMENT_TYPE_OF[kind],
    advice: options.advice ?? {},
  } as MetricDescriptor;
}

/**
 * `storage`'s record face for an integer-valued instrument: each value's integer part, warned of as
 * the SDK does. A NaN or an infinity stays one, for the storage to refuse.
 */
export function integral(
  storage: SyncStorage,
): Pick<SumStorage, 'add'> | Pick<HistogramStorage, 'record'> {
  const method = storage instanceof SumStorage ? 'add' : 'record';
  // Its add or record, typed as a histogram's (the widest: a gauge's leaves the context unread).
  const record = (storage as HistogramStorage)[method as 'record'].bind(storage);
  const truncated = (...[value, ...rest]: Parameters<HistogramStorage['record']>): void => {
    const whole = Math.trunc(value);
    if (whole !== value && whole === whole)
      diag.warn(
        `INT value type cannot accept a floating-point value for ${storage.descriptor.name}, ignoring the fractional digits.`,
      );
    record(whole, ...rest);
  };
  return { [method]: truncated } as Pick<HistogramStorage, 'record'>;
}
