/**
 * The explicit buckets of a host histogram that chose none (no advice): what the SDK would give
 * it, except for unit `s`. The SDK's default bounds are a millisecond scale, so every duration
 * under 5 s would fall in one bucket; a histogram in seconds gets the OTel semantic conventions'
 * duration advice (`http.server.request.duration`) instead. Given as advice, so a host View with
 * an aggregation of its own still replaces it, as OpenTelemetry says.
 */
import type { MetricOptions } from '@opentelemetry/api';

/** The SDK's default explicit bucket bounds. */
export const SDK_DEFAULT_BOUNDARIES: readonly number[] = [
  0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000,
];

/** The semantic conventions' bounds for a duration in seconds. */
export const SECONDS_BOUNDARIES: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
];

/**
 * The bounds of a host histogram that advises `advice`, as the SDK's explicit bucket aggregation
 * takes them: sorted, the infinities left out (its `+Inf` bucket is always there); the SDK's
 * defaults when it advises none.
 */
export function adviceBounds(advice: readonly number[] | undefined): readonly number[] {
  if (advice === undefined) return SDK_DEFAULT_BOUNDARIES;
  return advice.filter((b) => b !== Infinity && b !== -Infinity).sort((a, b) => a - b);
}

/** A host histogram's options, with {@link SECONDS_BOUNDARIES} as advice when its unit is `s` and it has none. */
export function withHostBuckets(options: MetricOptions | undefined): MetricOptions | undefined {
  if (options?.unit !== 's' || options.advice?.explicitBucketBoundaries !== undefined)
    return options;
  return {
    ...options,
    advice: { ...options.advice, explicitBucketBoundaries: [...SECONDS_BOUNDARIES] },
  };
}
