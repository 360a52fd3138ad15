/**
 * What jobmeter takes from the OpenTelemetry SDK (`@opentelemetry/sdk-metrics`, `resources`,
 * `core`) without loading it: the enums' values MetricData is written with, the time conversion
 * its points carry, and the modules themselves, loaded the first time something needs them.
 *
 * Why: the SDK and what it imports (`core`, `resources`, the semantic conventions) are most of what
 * a process that imports it pays before its first scrape (~11 MiB of resident memory more than
 * `@opentelemetry/api` alone here, bench/README.md's `startup` row). A host that serves a pull
 * endpoint and makes no instrument the SDK records (a host's observable instrument, one a View
 * selects), no reader of its own and no push never needs it: jobmeter's storages and the series
 * store write MetricData's shapes with these values (test/package/pull-host-modules.test.ts pins
 * that such a host loads none of the three).
 *
 * What must stay true:
 * - Each value equals the SDK's (test/common/otel-sdk.test.ts compares every member).
 * - A module is loaded through the path of its ESM entry: `require('@opentelemetry/sdk-metrics')`
 *   would take the package's CommonJS build, a second copy beside the one a host's `import` loads,
 *   whose classes and enums are other objects. `require` of an ES module shares the loader's
 *   cache with `import` (Node >= 22.12), so both get one instance (but while a host's own
 *   `import()` of it is in flight: {@link esm}).
 * - A bundler sees each module: `require` of its name, which is what a bundle defines `require`
 *   as (esbuild bundles the package there); in Node's ES modules `require` is not defined, so
 *   Node takes {@link esm} (test/package/bundlers.test.ts).
 */
const { createRequire } = process.getBuiltinModule('node:module');
const { fileURLToPath } = process.getBuiltinModule('node:url');
import type { HrTime } from '@opentelemetry/api';
import type * as Resources from '@opentelemetry/resources';
import type * as SdkMetrics from '@opentelemetry/sdk-metrics';
import type {
  AggregationTemporality as SdkAggregationTemporality,
  AggregationType as SdkAggregationType,
  DataPointType as SdkDataPointType,
  InstrumentType as SdkInstrumentType,
} from '@opentelemetry/sdk-metrics';

export const AggregationTemporality = {
  DELTA: 0 as SdkAggregationTemporality.DELTA,
  CUMULATIVE: 1 as SdkAggregationTemporality.CUMULATIVE,
} as const;
export type AggregationTemporality = SdkAggregationTemporality;

export const DataPointType = {
  HISTOGRAM: 0 as SdkDataPointType.HISTOGRAM,
  EXPONENTIAL_HISTOGRAM: 1 as SdkDataPointType.EXPONENTIAL_HISTOGRAM,
  GAUGE: 2 as SdkDataPointType.GAUGE,
  SUM: 3 as SdkDataPointType.SUM,
} as const;
export type DataPointType = SdkDataPointType;

export const InstrumentType = {
  COUNTER: 'COUNTER' as SdkInstrumentType.COUNTER,
  GAUGE: 'GAUGE' as SdkInstrumentType.GAUGE,
  HISTOGRAM: 'HISTOGRAM' as SdkInstrumentType.HISTOGRAM,
  UP_DOWN_COUNTER: 'UP_DOWN_COUNTER' as SdkInstrumentType.UP_DOWN_COUNTER,
  OBSERVABLE_COUNTER: 'OBSERVABLE_COUNTER' as SdkInstrumentType.OBSERVABLE_COUNTER,
  OBSERVABLE_GAUGE: 'OBSERVABLE_GAUGE' as SdkInstrumentType.OBSERVABLE_GAUGE,
  OBSERVABLE_UP_DOWN_COUNTER:
    'OBSERVABLE_UP_DOWN_COUNTER' as SdkInstrumentType.OBSERVABLE_UP_DOWN_COUNTER,
} as const;
export type InstrumentType = SdkInstrumentType;

export const AggregationType = {
  DEFAULT: 0 as SdkAggregationType.DEFAULT,
  DROP: 1 as SdkAggregationType.DROP,
  SUM: 2 as SdkAggregationType.SUM,
  LAST_VALUE: 3 as SdkAggregationType.LAST_VALUE,
  EXPLICIT_BUCKET_HISTOGRAM: 4 as SdkAggregationType.EXPLICIT_BUCKET_HISTOGRAM,
  EXPONENTIAL_HISTOGRAM: 5 as SdkAggregationType.EXPONENTIAL_HISTOGRAM,
} as const;
export type AggregationType = SdkAggregationType;

/** Epoch milliseconds as the `[seconds, nanoseconds]` a data point carries (`core`'s `millisToHrTime`). */
export function millisToHrTime(epochMillis: number): HrTime {
  const seconds = Math.trunc(epochMillis / 1000);
  return [seconds, Math.round((epochMillis % 1000) * 1_000_000)];
}

/** A data point's `[seconds, nanoseconds]` as epoch milliseconds, unrounded ({@link millisToHrTime}'s inverse). */
export function hrTimeMillis(t: HrTime): number {
  return t[0] * 1000 + t[1] / 1e6;
}

/**
 * Module `name` as a host's `import` gets it. While the host's own `import()` of it (or of a
 * module it imports) is still loading, Node refuses to `require` it
 * (ERR_REQUIRE_ESM_RACE_CONDITION): the package's CommonJS build serves then, a second copy in
 * memory that works alike (the SDK takes readers, Views and resources by their shape).
 */
function esm(name: string): unknown {
  const require = createRequire(import.meta.url);
  try {
    return require(fileURLToPath(import.meta.resolve(name)));
  } catch (err) {
    if ((err as { code?: unknown }).code !== 'ERR_REQUIRE_ESM_RACE_CONDITION') throw err;
    return require(name);
  }
}

let metricsModule: typeof SdkMetrics | undefined;
let resourcesModule: typeof Resources | undefined;
let empty: Resources.Resource | undefined;

/**
 * Module `name`: in a bundle, the bundle's copy (`bundled`, its `require` of the name, which a
 * bundler sees); in Node, where an ES module has no `require`, {@link esm}'s.
 */
function load(name: string, bundled: () => unknown): unknown {
  return typeof require === 'function' ? bundled() : esm(name);
}

/* eslint-disable @typescript-eslint/no-require-imports -- a bundle's require (see load) */
/** `@opentelemetry/sdk-metrics`, loaded on the first call. */
export function sdkMetrics(): typeof SdkMetrics {
  return (metricsModule ??= load('@opentelemetry/sdk-metrics', () =>
    require('@opentelemetry/sdk-metrics'),
  ) as typeof SdkMetrics);
}

/** `@opentelemetry/resources`, loaded on the first call. */
export function sdkResources(): typeof Resources {
  return (resourcesModule ??= load('@opentelemetry/resources', () =>
    require('@opentelemetry/resources'),
  ) as typeof Resources);
}
/* eslint-enable @typescript-eslint/no-require-imports */

/**
 * The empty Resource, made on the first call: what a producer's MetricData carries where the
 * reader's provider puts its own (the series store's, the ingest's). Only a reader of the SDK's
 * reads it, so the SDK is loaded by then.
 */
export function emptyResource(): Resources.Resource {
  return (empty ??= sdkResources().emptyResource());
}
