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

/** A `[[views]]` table as the schema has validated it (file spelling). */
export interface ViewTable {
  readonly selector: {
    readonly instrument_name?: string;
    readonly instrument_type?: string;
    readonly unit?: string;
    readonly meter_name?: string;
    readonly meter_version?: string;
    readonly meter_schema_url?: string;
  };
  readonly stream?: {
    readonly name?: string;
    readonly description?: string;
    readonly aggregation?: Readonly<Record<string, Readonly<Record<string, unknown>> | null>>;
    readonly attribute_keys?: {
      readonly included?: readonly string[];
      readonly excluded?: readonly string[];
    };
    readonly aggregation_cardinality_limit?: number;
  };
}

function aggregation(
  spec: NonNullable<NonNullable<ViewTable['stream']>['aggregation']>,
  key: string,
): AggregationOption {
  const [name, raw] = Object.entries(spec)[0]!;
  const options = raw ?? {};
  switch (name) {
    case 'drop':
      return { type: AggregationType.DROP };
    case 'sum':
      return { type: AggregationType.SUM };
    case 'last_value':
      return { type: AggregationType.LAST_VALUE };
    case 'explicit_bucket_histogram': {
      const boundaries = options.boundaries as number[] | undefined;
      if (boundaries !== undefined && !isBucketBounds(boundaries)) {
        throw new ConfigError(
          `${key}.explicit_bucket_histogram.boundaries`,
          boundaries,
          BOUNDARIES_EXPECTED,
        );
      }
      // Without boundaries: the instrument's advice, else the SDK's defaults.
      if (boundaries === undefined) return { type: AggregationType.EXPLICIT_BUCKET_HISTOGRAM };
      return {
        type: AggregationType.EXPLICIT_BUCKET_HISTOGRAM,
        options: {
          boundaries,
          recordMinMax: (options.record_min_max as boolean | undefined) ?? true,
        },
      };
    }
    case 'base2_exponential_bucket_histogram':
      return {
        type: AggregationType.EXPONENTIAL_HISTOGRAM,
        options: {
          maxSize: (options.max_size as number | undefined) ?? 160,
          recordMinMax: (options.record_min_max as boolean | undefined) ?? true,
        },
      };
    default:
      return { type: AggregationType.DEFAULT };
  }
}

/** The `ViewOptions` of one table; `key` is where it sits (`views[0]`), for errors. */
export function viewOptions(table: ViewTable, key: string): ViewOptions {
  const { selector, stream = {} } = table;
  const out: ViewOptions = {
    ...(selector.instrument_name !== undefined && { instrumentName: selector.instrument_name }),
    ...(selector.instrument_type !== undefined && {
      // The declarative configuration's names are the SDK's, in lower case.
      instrumentType:
        InstrumentType[selector.instrument_type.toUpperCase() as keyof typeof InstrumentType],
    }),
    ...(selector.unit !== undefined && { instrumentUnit: selector.unit }),
    ...(selector.meter_name !== undefined && { meterName: selector.meter_name }),
    ...(selector.meter_version !== undefined && { meterVersion: selector.meter_version }),
    ...(selector.meter_schema_url !== undefined && { meterSchemaUrl: selector.meter_schema_url }),
    ...(stream.name !== undefined && { name: stream.name }),
    ...(stream.description !== undefined && { description: stream.description }),
    ...(stream.aggregation !== undefined && {
      aggregation: aggregation(stream.aggregation, `${key}.stream.aggregation`),
    }),
    ...(stream.aggregation_cardinality_limit !== undefined && {
      aggregationCardinalityLimit: stream.aggregation_cardinality_limit,
    }),
  };
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
