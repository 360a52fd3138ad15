/**
 * Instrument specs → SDK views: one view per instrument carrying its allow-list/fold processor,
 * its histogram buckets and its cardinality limit.
 */
import { AggregationType, type ViewOptions } from '@opentelemetry/sdk-metrics';
import type { InstrumentSpec } from '../domain/types.ts';
import { createBoundedAttributesProcessor, maxAttributeSets } from '../domain/bounded-attributes.ts';

/**
 * Ceiling on series per instrument, whatever the vocabularies multiply to. Past it the SDK folds
 * new attribute sets into its single overflow series (`otel.metric.overflow=true`), which the
 * naming stage renders with every label set to `other`.
 */
export const MAX_SERIES_PER_INSTRUMENT = 10_000;

export function buildViews(specs: readonly InstrumentSpec[]): ViewOptions[] {
  return specs.map((spec) => {
    const view: ViewOptions = {
      instrumentName: spec.name,
      attributesProcessors: [createBoundedAttributesProcessor(spec.attributes)],
      // +1: the SDK counts its overflow series inside the limit.
      aggregationCardinalityLimit: Math.min(maxAttributeSets(spec.attributes), MAX_SERIES_PER_INSTRUMENT) + 1,
    };
    if (spec.kind === 'histogram') {
      view.aggregation = {
        type: AggregationType.EXPLICIT_BUCKET_HISTOGRAM,
        options: { boundaries: [...(spec.buckets ?? [])], recordMinMax: false },
      };
    }
    return view;
  });
}
