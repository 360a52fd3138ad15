/**
 * The host's Views (`createJobmeter({ views })`, `[[views]]`): OTel `ViewOptions` for any instrument
 * on jobmeter's provider -- a host's own (through `jm.meter` or the global API: an attribute
 * allow-list that drops a `job_id`, buckets, a cardinality limit) or jobmeter's.
 *
 * They apply to jobmeter's own instruments too, as OpenTelemetry says: an own synchronous
 * instrument a View selects leaves jobmeter's storages for the SDK (domain/meter-provider.ts),
 * which then applies the View; its spec's folds still bound it at the record.
 *
 * The same Views decide the series budget of a host instrument (attribute-set-cap.ts): its limit
 * is the View's `aggregationCardinalityLimit`, else the jobmeter's `cardinalityLimit`, and its
 * attribute sets are counted as the View's processors leave them.
 */
import { InstrumentType } from '../common/otel-sdk.ts';
import type { Attributes } from '@opentelemetry/api';
import type { ViewOptions } from '@opentelemetry/sdk-metrics';
import { ConfigError } from '../errors.ts';
import { AttributeSetCap } from '../domain/attribute-set-cap.ts';
import type { CapFor, InstrumentIdentity } from '../domain/guarded-meter.ts';
import type { InstrumentSpec } from '../domain/types.ts';

/** The meter jobmeter's own instruments are created on. */
export const JOBMETER_METER = 'jobmeter';

const TYPE_OF: Readonly<Record<InstrumentSpec['kind'], InstrumentType>> = {
  counter: InstrumentType.COUNTER,
  upDownCounter: InstrumentType.UP_DOWN_COUNTER,
  histogram: InstrumentType.HISTOGRAM,
  gauge: InstrumentType.GAUGE,
  observableCounter: InstrumentType.OBSERVABLE_COUNTER,
  observableUpDownCounter: InstrumentType.OBSERVABLE_UP_DOWN_COUNTER,
  observableGauge: InstrumentType.OBSERVABLE_GAUGE,
};

/** The SDK's instrument-name pattern: `*` matches any run of characters, the rest is literal. */
function namePattern(pattern: string | undefined): (name: string) => boolean {
  if (pattern === undefined || pattern === '*') return () => true;
  const re = new RegExp(
    '^' +
      pattern
        .split('*')
        .map((part) => part.replace(/[\^$\\.+?()[\]{}|]/g, '\\$&'))
        .join('.*') +
      '$',
  );
  return (name) => re.test(name);
}

function selects(
  view: ViewOptions,
  i: Omit<InstrumentIdentity, 'kind'> & { readonly kind: InstrumentSpec['kind'] },
): boolean {
  return (
    namePattern(view.instrumentName)(i.name) &&
    (view.instrumentType === undefined || view.instrumentType === TYPE_OF[i.kind]) &&
    (view.instrumentUnit === undefined || view.instrumentUnit === i.unit) &&
    (view.meterName === undefined || view.meterName === i.meter.name) &&
    (view.meterVersion === undefined || view.meterVersion === i.meter.version) &&
    (view.meterSchemaUrl === undefined || view.meterSchemaUrl === i.meter.schemaUrl)
  );
}

/** Each View is an object (the SDK would throw a TypeError of its own at the first instrument). */
export function checkViews(views: readonly ViewOptions[], key = 'views'): void {
  views.forEach((view, i) => {
    if (typeof view !== 'object' || view === null)
      throw new ConfigError(`${key}[${i}]`, view, 'an OpenTelemetry ViewOptions object');
  });
}

/** Whether one of `views` selects the own instrument `spec` (synchronous or observable), on jobmeter's meter `scope`. */
export function viewSelects(
  views: readonly ViewOptions[],
  spec: InstrumentSpec,
  scope: { readonly name: string; readonly version: string },
): boolean {
  const instrument = {
    name: spec.name,
    kind: spec.kind,
    unit: spec.unit ?? '',
    meter: { ...scope, schemaUrl: undefined },
  };
  return views.some((v) => selects(v, instrument));
}

export interface HostCapsOptions {
  readonly views: readonly ViewOptions[];
  /** Series per host instrument, overflow included, when its View sets no limit. */
  readonly cardinalityLimit: number;
}

/** Whether one of `views` selects `instrument` (then the SDK records it, and the View applies). */
export function hostViewed(
  views: readonly ViewOptions[],
): (instrument: InstrumentIdentity) => boolean {
  return (instrument) => views.some((v) => selects(v, instrument));
}

/** The series budget of each host instrument, from the host's Views (see the file comment). */
export function hostCaps(options: HostCapsOptions): CapFor {
  return (instrument) => {
    const view = options.views.find((v) => selects(v, instrument));
    const processors = view?.attributesProcessors ?? [];
    const process =
      processors.length === 0
        ? undefined
        : (a: Attributes) => processors.reduce((acc, p) => p.process(acc), a);
    return new AttributeSetCap(
      view?.aggregationCardinalityLimit ?? options.cardinalityLimit,
      process,
    );
  };
}
