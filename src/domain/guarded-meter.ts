/**
 * jobmeter's MeterProvider: the SDK's, whose meters check every synchronous record before the SDK
 * sees it — the value checks of record-guard.ts (a NaN never reaches a cumulative sum), and for
 * instruments jobmeter has no spec for, the series budget of attribute-set-cap.ts. It is what
 * `jm.meter`, `jm.meterProvider` and the global API (when jobmeter registers it) hand out, so an
 * instrument a host creates anywhere on it is checked and bounded alike.
 *
 * Observable instruments pass through: the SDK reads them once per collection and already bounds
 * their attribute sets over their life.
 */
import type { Attributes, Context, Counter, Gauge, Histogram, Meter, MeterOptions, UpDownCounter } from '@opentelemetry/api';
import { MeterProvider, type MeterProviderOptions } from '@opentelemetry/sdk-metrics';
import type { AttributeSetCap } from './attribute-set-cap.ts';
import { invalidValue, isRecordable, type RecordGuard } from './record-guard.ts';

export type SyncKind = 'counter' | 'upDownCounter' | 'histogram' | 'gauge';

/** What identifies an instrument to a View: its name, kind, unit and meter. */
export interface InstrumentIdentity {
  readonly name: string;
  readonly kind: SyncKind;
  readonly unit: string;
  readonly meter: { readonly name: string; readonly version: string; readonly schemaUrl: string | undefined };
}

/** The series budget of an instrument; undefined when jobmeter's own views already bound it. */
export type CapFor = (instrument: InstrumentIdentity) => AttributeSetCap | undefined;

export interface GuardOptions {
  readonly guard: RecordGuard;
  readonly capFor: CapFor;
}

type Method = 'add' | 'record';
type Records<M extends Method> = { [K in M]: (value: number, attributes?: Attributes, context?: Context) => void };

/** `inner` whose `add` / `record` checks the value and, with a cap, the attribute set first. */
function checked<M extends Method, T extends Records<M>>(inner: T, method: M, name: string, nonNegative: boolean, guard: RecordGuard, cap: AttributeSetCap | undefined): T {
  const record = inner[method].bind(inner);
  const check = (value: number, attributes?: Attributes, context?: Context): void => {
    if (!isRecordable(value, nonNegative) || guard.closed) return guard.drop(name, invalidValue(value, nonNegative) ?? 'not_a_number', value);
    record(value, cap === undefined ? attributes : cap.admit(attributes), context);
  };
  return { [method]: check } as unknown as T;
}

/** `meter` with every synchronous instrument checked (see the file comment). */
export function guardMeter(meter: Meter, scope: InstrumentIdentity['meter'], options: GuardOptions): Meter {
  const { guard, capFor } = options;
  const cap = (name: string, kind: SyncKind, unit: string | undefined) => capFor({ name, kind, unit: unit ?? '', meter: scope });
  return {
    createCounter: (name, o) => checked<'add', Counter>(meter.createCounter(name, o), 'add', name, true, guard, cap(name, 'counter', o?.unit)),
    createUpDownCounter: (name, o) => checked<'add', UpDownCounter>(meter.createUpDownCounter(name, o), 'add', name, false, guard, cap(name, 'upDownCounter', o?.unit)),
    createHistogram: (name, o) => checked<'record', Histogram>(meter.createHistogram(name, o), 'record', name, true, guard, cap(name, 'histogram', o?.unit)),
    createGauge: (name, o) => checked<'record', Gauge>(meter.createGauge(name, o), 'record', name, false, guard, cap(name, 'gauge', o?.unit)),
    createObservableGauge: (name, o) => meter.createObservableGauge(name, o),
    createObservableCounter: (name, o) => meter.createObservableCounter(name, o),
    createObservableUpDownCounter: (name, o) => meter.createObservableUpDownCounter(name, o),
    addBatchObservableCallback: (callback, observables) => meter.addBatchObservableCallback(callback, observables),
    removeBatchObservableCallback: (callback, observables) => meter.removeBatchObservableCallback(callback, observables),
  };
}

/** The SDK's MeterProvider, handing out guarded meters (one per name, version and schema URL). */
export class GuardedMeterProvider extends MeterProvider {
  readonly #meters = new Map<string, Meter>();
  readonly #options: GuardOptions;

  constructor(providerOptions: MeterProviderOptions, guardOptions: GuardOptions) {
    super(providerOptions);
    this.#options = guardOptions;
  }

  override getMeter(name: string, version = '', options: MeterOptions = {}): Meter {
    const key = `${name}\0${version}\0${options.schemaUrl ?? ''}`;
    let meter = this.#meters.get(key);
    if (meter === undefined) {
      meter = guardMeter(super.getMeter(name, version, options), { name, version, schemaUrl: options.schemaUrl }, this.#options);
      this.#meters.set(key, meter);
    }
    return meter;
  }
}
