/**
 * Instrument specs -> SDK views: one view per instrument carrying its allow-list/fold processor,
 * its histogram buckets and its cardinality limit.
 */
import { AggregationType } from '../common/otel-sdk.ts';
import type { ViewOptions } from '@opentelemetry/sdk-metrics';
import type { InstrumentSpec } from '../domain/types.ts';
import {
  createBoundedAttributesProcessor,
  maxAttributeSets,
} from '../domain/bounded-attributes.ts';

export function buildViews(specs: readonly InstrumentSpec[]): ViewOptions[] {
  return specs.map((spec) => {
    const view: ViewOptions = {
      instrumentName: spec.name,
      attributesProcessors: [createBoundedAttributesProcessor(spec.attributes)],
      // +1: the SDK counts its overflow series inside the limit.
      aggregationCardinalityLimit: maxAttributeSets(spec.attributes) + 1,
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
