/**
 * A profile's side of the sender (`jobmeter views`): for a legacy profile, the buckets and attribute allow-lists
 * a foreign SDK records the canonical instruments with, as OpenTelemetry declarative
 * configuration (the configuration file's `meter_provider.views`), so that the Collector
 * configuration of collector-config.ts gets the histograms the profile serves. A Collector cannot
 * re-bucket a histogram; the sender's views can.
 *
 * Read from each profile: `rules` (instrument, labels), `buckets`, `vocabularies`; the catalog's
 * default buckets and attributes. Allow-lists keep the rules' attributes and the closed sets'
 * (the Collector's filter/vocabulary reads them before summing them away).
 */
import { DOMAIN_INSTRUMENTS } from '../domain/catalog.ts';
import type { InstrumentSpec } from '../domain/types.ts';
import type { TableProfile } from '../naming/types.ts';

/** The declarative configuration's format this output follows (what the OTel JS SDK 0.301 reads). */
export const CONFIG_FILE_FORMAT = '1.0';

const CATALOG = new Map(DOMAIN_INSTRUMENTS.map((spec) => [spec.name, spec]));

export interface ViewConfig {
  readonly selector: { readonly instrument_name: string };
  readonly stream: {
    /** Absent when the profile keeps no attribute: the Collector's aggregation sums them all. */
    readonly attribute_keys?: { readonly included: readonly string[] };
    readonly aggregation?: {
      readonly explicit_bucket_histogram: { readonly boundaries: readonly number[] };
    };
  };
}

/** The view of `instrument`: its allow-list and buckets, where each changes something. */
function view(
  instrument: string,
  included: readonly string[],
  buckets: readonly number[] | undefined,
): ViewConfig {
  return {
    selector: { instrument_name: instrument },
    stream: {
      ...(included.length > 0 && { attribute_keys: { included } }),
      ...(buckets !== undefined && {
        aggregation: { explicit_bucket_histogram: { boundaries: [...buckets] } },
      }),
    },
  };
}

/** The views that change something (a view with an empty stream keeps the SDK's default). */
const changing = (views: readonly ViewConfig[]): ViewConfig[] =>
  views.filter((v) => Object.keys(v.stream).length > 0);

/** A view per canonical instrument the profile's rules read, in the rules' order, where it changes something. */
export function profileViews(profile: TableProfile): ViewConfig[] {
  const instruments = [...new Set(profile.rules.map((r) => r.instrument))];
  return changing(
    instruments.map((instrument) => {
      const rules = profile.rules.filter((r) => r.instrument === instrument);
      const spec = CATALOG.get(instrument);
      const closed = Object.keys(profile.vocabularies ?? {}).filter((key) =>
        spec?.attributes.some((a) => a.key === key),
      );
      const labels = rules.flatMap((r) => (r.labels ?? []).map(([attribute]) => attribute));
      const buckets =
        profile.buckets?.[instrument] ?? (spec?.kind === 'histogram' ? spec.buckets : undefined);
      return view(instrument, [...new Set([...labels, ...closed])], buckets);
    }),
  );
}

/**
 * A native profile's views: every instrument of `specs` (the canonical catalog; semconv's, the
 * conventions' instruments in place of those they name) with its attributes as the allow-list
 * and, for a histogram, its buckets (the run duration's 10 ms … 1 h, the queue wait's and
 * lateness' 1 ms … 6 h), as jobmeter's own provider records them.
 */
export function nativeViews(specs: readonly InstrumentSpec[] = DOMAIN_INSTRUMENTS): ViewConfig[] {
  return changing(
    specs.map((spec) =>
      view(
        spec.name,
        spec.attributes.map((a) => a.key),
        spec.kind === 'histogram' ? spec.buckets : undefined,
      ),
    ),
  );
}

/**
 * A complete configuration file: a periodic OTLP/HTTP reader to `endpoint` (cumulative) and the
 * views of a legacy profile, or a native profile's over the instruments it records.
 */
export function viewsConfigFile(
  profile: TableProfile | { readonly native: readonly InstrumentSpec[] },
  endpoint: string,
): Record<string, unknown> {
  return {
    file_format: CONFIG_FILE_FORMAT,
    meter_provider: {
      readers: [
        {
          periodic: { exporter: { otlp_http: { endpoint, temporality_preference: 'cumulative' } } },
        },
      ],
      views: 'native' in profile ? nativeViews(profile.native) : profileViews(profile),
    },
  };
}
