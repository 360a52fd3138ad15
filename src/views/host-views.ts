/**
 * The host's Views (`createJobmeter({ views })`, `[[views]]`): OTel `ViewOptions` for any instrument
 * on jobmeter's provider -- a host's own (through `jm.meter` or the global API: an attribute
 * allow-list that drops a `job_id`, buckets, a cardinality limit) or jobmeter's.
 *
 * They apply to jobmeter's own instruments too, as OpenTelemetry says: an own synchronous
 * instrument a View selects leaves jobmeter's storages for the SDK (domain/meter-provider.ts),
 * which then applies the View; its spec's folds still bound it at the record.
 *
 * The same Views decide the series budget of a host instrument (domain/meter-provider.ts,
 * attribute-set-cap.ts): its limit is the View's `aggregationCardinalityLimit`, else the
 * jobmeter's `cardinalityLimit`, and its attribute sets are counted as the View's processors
 * leave them.
 */
import { emptyResource, InstrumentType, sdkMetrics } from '../common/otel-sdk.ts';
import type { ViewOptions } from '@opentelemetry/sdk-metrics';
import { ConfigError } from '../errors.ts';
import type { ViewSelection } from '../domain/meter-provider.ts';
import { INSTRUMENT_TYPE_OF } from '../domain/types.ts';

/** The meter jobmeter's own instruments are created on. */
export const JOBMETER_METER = 'jobmeter';

/** The SDK's ViewRegistry: which of its Views select an instrument of a meter. */
interface SdkViewRegistry {
  findViews(
    instrument: { readonly name: string; readonly type: InstrumentType; readonly unit: string },
    meter: { readonly name: string; readonly version: string; readonly schemaUrl?: string },
  ): ReturnType<ViewSelection>;
}

/**
 * Which of `views` select an instrument, as the SDK decides it: the SDK's own ViewRegistry, of a
 * MeterProvider made with `views` and nothing else (no reader: it records nothing), made on the
 * first question, so a host without Views never loads the SDK.
 *
 * Why the SDK's and not a matcher of ours: whether a View selects decides which engine records an
 * instrument (the SDK applies the View, jobmeter's storages do not), so a selection that differs
 * from the SDK's serves attributes a View drops. The SDK's rules have corners a restatement
 * misses (only the first `*` of a name pattern is a wildcard, a later one a regular-expression
 * `*`; a meterSchemaUrl selects a meter with no schema URL), and they are the installed SDK's,
 * whatever its version. The SDK exports no selector, so this reads the provider's
 * `_sharedState.viewRegistry`, and says so loudly if an SDK has moved it.
 * test/views/view-selection-matches-sdk.test.ts pins the selection to a plain SDK provider's.
 */
export function viewSelection(views: readonly ViewOptions[]): ViewSelection {
  if (views.length === 0) return () => [];
  let registry: SdkViewRegistry | undefined;
  return (i) => {
    if (registry === undefined) {
      const provider = new (sdkMetrics().MeterProvider)({
        views: [...views],
        resource: emptyResource(),
      }) as unknown as { _sharedState?: { viewRegistry?: Partial<SdkViewRegistry> } };
      const found = provider._sharedState?.viewRegistry;
      if (typeof found?.findViews !== 'function')
        throw new Error(
          "jobmeter: this @opentelemetry/sdk-metrics has no MeterProvider._sharedState.viewRegistry.findViews, which jobmeter's View selection reads",
        );
      registry = found as SdkViewRegistry;
    }
    return registry.findViews(
      { name: i.name, type: INSTRUMENT_TYPE_OF[i.kind], unit: i.unit },
      {
        name: i.meter.name,
        version: i.meter.version,
        ...(i.meter.schemaUrl !== undefined && { schemaUrl: i.meter.schemaUrl }),
      },
    );
  };
}

/** Each View is an object (the SDK would throw a TypeError of its own at the first instrument). */
export function checkViews(views: readonly ViewOptions[]): void {
  views.forEach((view, i) => {
    if (typeof view !== 'object' || view === null)
      throw new ConfigError(`views[${i}]`, view, 'an OpenTelemetry ViewOptions object');
  });
}
