/**
 * `[[views]]` tables → OpenTelemetry `ViewOptions`. The tables take the shape of OpenTelemetry's
 * declarative configuration (`selector` + `stream`, aggregation names and keys spelled as there),
 * so a View written for an SDK's config file reads the same here:
 *
 *   [[views]]
 *   selector = { instrument_name = "jobmeter.run.duration" }
 *   stream = { aggregation = { explicit_bucket_histogram = { boundaries = [1, 10, 60] } } }
 *
 * The schema (json-schema.ts) has checked every key and type; what it cannot say — boundaries
 * in increasing order — is checked here by the domain's rule (check-specs.ts), naming the key.
 */
import { AggregationType, InstrumentType } from '../common/otel-sdk.ts';
import {
  createAllowListAttributesProcessor,
  createDenyListAttributesProcessor,
  type AggregationOption,
  type ViewOptions,
} from '@opentelemetry/sdk-metrics';
import { isBucketBounds } from '../domain/check-specs.ts';
import { ConfigError } from '../errors.ts';
import { BOUNDARIES_EXPECTED } from './error-wording.ts';
import { VIEW_SELECTOR, VIEW_STREAM, type ViewKeys } from './json-schema.ts';

/** A `[[views]]` table as the schema has validated it (file spelling: json-schema.ts VIEW_SELECTOR, VIEW_STREAM). */
export interface ViewTable {
  readonly selector: Readonly<Partial<Record<keyof typeof VIEW_SELECTOR, string>>>;
  readonly stream?: {
    readonly [K in keyof typeof VIEW_STREAM]?: K extends 'aggregation'
      ? Readonly<Record<string, Readonly<Record<string, unknown>> | null>>
      : K extends 'attribute_keys'
        ? { readonly included?: readonly string[]; readonly excluded?: readonly string[] }
        : unknown;
  };
}

function aggregation(
  spec: NonNullable<NonNullable<ViewTable['stream']>['aggregation']>,
  key: string,
): AggregationOption {
  const [name, raw] = Object.entries(spec)[0]!;
  const options = raw ?? {};
  const recordMinMax = (options.record_min_max as boolean | undefined) ?? true;
  if (name === 'base2_exponential_bucket_histogram')
    return {
      type: AggregationType.EXPONENTIAL_HISTOGRAM,
      options: { maxSize: (options.max_size as number | undefined) ?? 160, recordMinMax },
    };
  const boundaries = options.boundaries as number[] | undefined;
  // Without settings of its own, an aggregation is the SDK's of its name in upper case (a histogram
  // without boundaries: the instrument's advice, else the SDK's defaults).
  if (name !== 'explicit_bucket_histogram' || boundaries === undefined)
    return { type: AggregationType[name.toUpperCase() as keyof typeof AggregationType] };
  if (!isBucketBounds(boundaries))
    throw new ConfigError(
      `${key}.explicit_bucket_histogram.boundaries`,
      boundaries,
      BOUNDARIES_EXPECTED,
    );
  return { type: AggregationType.EXPLICIT_BUCKET_HISTOGRAM, options: { boundaries, recordMinMax } };
}

/** The `ViewOptions` of one table; `key` is where it sits (`views[0]`), for errors. */
export function viewOptions(table: ViewTable, key: string): ViewOptions {
  const { selector, stream = {} } = table;
  // Each key sets its field as it is; the three below read theirs.
  const out: Record<string, unknown> = {};
  const tables: [Readonly<Record<string, unknown>>, ViewKeys][] = [
    [selector, VIEW_SELECTOR],
    [stream, VIEW_STREAM],
  ];
  for (const [given, keys] of tables)
    for (const [file, [field]] of Object.entries(keys))
      if (given[file] !== undefined) out[field] = given[file];
  if (selector.instrument_type !== undefined)
    out.instrumentType =
      InstrumentType[selector.instrument_type.toUpperCase() as keyof typeof InstrumentType];
  if (stream.aggregation !== undefined)
    out.aggregation = aggregation(stream.aggregation, `${key}.stream.aggregation`);
  const keys = stream.attribute_keys;
  if (keys !== undefined) {
    out.attributesProcessors = [
      ...(keys.included !== undefined
        ? [createAllowListAttributesProcessor([...keys.included])]
        : []),
      ...(keys.excluded !== undefined
        ? [createDenyListAttributesProcessor([...keys.excluded])]
        : []),
    ];
  }
  return out;
}
