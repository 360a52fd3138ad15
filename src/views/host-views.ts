/**
 * The host's own Views (`createJobmeter({ views })`): OTel `ViewOptions` for the instruments a host
 * creates on jobmeter's provider (through `jm.meter` or the global API) — an attribute allow-list
 * that drops a `job_id`, buckets, a cardinality limit of their own.
 *
 * jobmeter's own instruments (the catalog's, process metrics, those declared in
 * `options.instruments`) are bounded by their specs and their one View each (build-views.ts); a
 * host View selecting one of them too would make the SDK export it twice, so such a View is a
 * ConfigError naming it, not a silent no-op.
 *
 * The same Views decide the series budget of a host instrument (attribute-set-cap.ts): its limit
 * is the View's `aggregationCardinalityLimit`, else the jobmeter's `cardinalityLimit`, and its
 * attribute sets are counted as the View's processors leave them.
 */
import type { Attributes } from '@opentelemetry/api';
import { InstrumentType, type ViewOptions } from '@opentelemetry/sdk-metrics';
import { ConfigError } from '../config/errors.ts';
import { AttributeSetCap } from '../domain/attribute-set-cap.ts';
import type { CapFor, InstrumentIdentity, SyncKind } from '../domain/guarded-meter.ts';

/** The meter jobmeter's own instruments are created on. */
export const JOBMETER_METER = 'jobmeter';

const TYPE_OF: Readonly<Record<SyncKind, InstrumentType>> = {
  counter: InstrumentType.COUNTER,
  upDownCounter: InstrumentType.UP_DOWN_COUNTER,
  histogram: InstrumentType.HISTOGRAM,
  gauge: InstrumentType.GAUGE,
};

/** The SDK's instrument-name pattern: `*` matches any run of characters, the rest is literal. */
function namePattern(pattern: string | undefined): (name: string) => boolean {
  if (pattern === undefined || pattern === '*') return () => true;
  const re = new RegExp('^' + pattern.split('*').map((part) => part.replace(/[\^$\\.+?()[\]{}|]/g, '\\$&')).join('.*') + '$');
  return (name) => re.test(name);
}

function selects(view: ViewOptions, i: InstrumentIdentity): boolean {
  return (
    namePattern(view.instrumentName)(i.name) &&
    (view.instrumentType === undefined || view.instrumentType === TYPE_OF[i.kind]) &&
    (view.instrumentUnit === undefined || view.instrumentUnit === i.unit) &&
    (view.meterName === undefined || view.meterName === i.meter.name) &&
    (view.meterVersion === undefined || view.meterVersion === i.meter.version) &&
    (view.meterSchemaUrl === undefined || view.meterSchemaUrl === i.meter.schemaUrl)
  );
}

/**
 * Refuses a View that could select one of jobmeter's own instruments (`ownNames`): its meter is
 * unset or jobmeter's, and its instrument-name pattern matches an own name.
 */
export function checkHostViews(views: readonly ViewOptions[], ownNames: readonly string[], key = 'views'): void {
  views.forEach((view, i) => {
    if (typeof view !== 'object' || view === null) throw new ConfigError(`${key}[${i}]`, view, 'an OpenTelemetry ViewOptions object');
    if (view.meterName !== undefined && view.meterName !== JOBMETER_METER) return;
    const match = namePattern(view.instrumentName);
    const own = ownNames.find((name) => match(name));
    if (own !== undefined) {
      throw new ConfigError(
        `${key}[${i}].instrumentName`,
        view.instrumentName ?? '*',
        `a View that selects only the host's instruments (it selects jobmeter's own ${own}, bounded by its spec): ` +
          `name the host's instruments, or set meterName to the host's meter`,
      );
    }
  });
}

export interface HostCapsOptions {
  readonly views: readonly ViewOptions[];
  /** Instruments jobmeter's own Views bound (by name, on any meter, as those Views select them). */
  readonly ownNames: ReadonlySet<string>;
  /** Series per host instrument, overflow included, when its View sets no limit. */
  readonly cardinalityLimit: number;
}

/** The series budget of each host instrument, from the host's Views (see the file comment). */
export function hostCaps(options: HostCapsOptions): CapFor {
  return (instrument) => {
    if (options.ownNames.has(instrument.name)) return undefined;
    const view = options.views.find((v) => selects(v, instrument));
    const processors = view?.attributesProcessors ?? [];
    const process =
      processors.length === 0 ? undefined : (a: Attributes) => processors.reduce((acc, p) => p.process(acc), a);
    return new AttributeSetCap(view?.aggregationCardinalityLimit ?? options.cardinalityLimit, process);
  };
}
