/**
 * The ingest store's options: what each one means and its default (the option table's). The
 * option table's rows are checked once, by their rules, where createJobmeter resolves them
 * (resolve-options.ts `resolveIngest`), so a bad value fails at start naming the option; a store
 * is made from those values and checks none again.
 */
import { OPTION_DEFAULTS } from '../common/option-defaults.ts';
import { DOMAIN_INSTRUMENTS } from '../domain/catalog.ts';
import { replacedBy, type Convention } from '../domain/convention.ts';
import { SYSTEM_CLOCK, type Clock } from '../series/clock.ts';
import type { SourceTotals } from '../series/carry.ts';
import { PROCESS_INSTRUMENTS } from '../domain/process-metrics.ts';
import type { InstrumentSpec } from '../domain/types.ts';
import type { IngestOptions } from '../options.ts';
import type { ExposedNames } from './name-claims.ts';

/** Distinct instrument names a store holds (no row of the option table: a store's own option). */
const DEFAULT_MAX_INSTRUMENTS = 1_000;

/**
 * The store's options: the ingest rows' bounds (their docs and defaults the option table's; a
 * canonical instrument may hold more series than `maxSeriesPerInstrument` when its attribute specs
 * allow more sets, up to the views' ceiling of 10000, as on an embedded host), and the store's own.
 */
export interface IngestStoreOptions extends Pick<
  IngestOptions,
  'expiryMillis' | 'maxSeriesPerInstrument' | 'maxSeries' | 'maxMemoryBytes'
> {
  /**
   * The canonical instruments: their names fix the data type and unit a sender must use, and
   * their attribute specs bound the attributes as an embedded host's views do. Names not listed
   * are accepted as they come, under {@link maxSeriesPerInstrument}.
   * @default the domain catalog and the process instruments (DOMAIN_INSTRUMENTS, PROCESS_INSTRUMENTS)
   */
  instruments?: readonly InstrumentSpec[];
  /** Distinct instrument names; metrics under new names past it are refused. @default 1000 */
  maxInstruments?: number;
  /**
   * The clocks (series/clock.ts): the monotonic one decides expiry, the point one stamps
   * points, the wall one bounds the point times accepted. @default SYSTEM_CLOCK
   */
  clock?: Clock;
  /**
   * The names an instrument takes on the pull endpoint (every family and sample name, in either
   * format: the native profile's `nativeClaimedNames`). When given, a new instrument that would
   * take a name another one holds, one of {@link reservedNames} or of `PROMETHEUS_SCRAPE_SERIES`
   * (name-claims.ts), is refused (`name_clash`):
   * served side by side, two families under one name break the scrape. @default none (the legacy
   * profiles serve canonical names only, which cannot clash)
   */
  exposedNames?: ExposedNames;
  /**
   * Names jobmeter serves itself (its own instruments', `target_info`, its self-metrics'), each
   * with its owner: an instrument name (a sender may feed that instrument, not another) or a
   * description. @default none
   */
  reservedNames?: ReadonlyMap<string, string>;
  /**
   * The profile's closed vocabularies over canonical attributes (naming/types.ts): a point of a
   * canonical instrument with a value outside them — or outside a closed attribute that drops
   * (`outside: 'drop'`) — is refused, as an embedded host drops the record. @default none
   */
  vocabularies?: Readonly<Record<string, readonly string[]>>;
  /**
   * The semantic convention the profile records in place of the canonical instruments it names
   * (naming/profiles/semconv.ts): a sender's points of those are held as sent, and the
   * convention's instruments are derived from them as an embedded host's recorder derives them
   * (domain/convention.ts); the ones it replaces are not served. @default none
   */
  convention?: Convention;
  /**
   * What a profile's series carry of this store's series (series/carry.ts): told what a series held
   * when it leaves with its last source, while any is carried, so that a new series of a carried
   * source goes on from the source's own last report. @default none
   */
  sources?: SourceTotals;
}

/** Options that stay unset when not given: they have no default. */
type WithoutDefault = 'exposedNames' | 'reservedNames' | 'vocabularies' | 'convention' | 'sources';

/** The options with their defaults, checked, and the canonical instruments by name (`specs`). */
export type StoreSettings = Readonly<
  Required<Omit<IngestStoreOptions, 'instruments' | WithoutDefault>> &
    Pick<IngestStoreOptions, WithoutDefault> & { specs: ReadonlyMap<string, InstrumentSpec> }
>;

export function resolveStoreOptions(options: IngestStoreOptions): StoreSettings {
  const defaults = OPTION_DEFAULTS.ingest;
  const specs = new Map(
    (options.instruments ?? [...DOMAIN_INSTRUMENTS, ...PROCESS_INSTRUMENTS]).map((s) => [
      s.name,
      s,
    ]),
  );
  // The canonical instruments a convention replaces stay canonical here: their points are checked
  // and bounded by their own specs, as an embedded host's records are before it derives.
  const replaced = replacedBy(options.convention);
  for (const spec of DOMAIN_INSTRUMENTS)
    if (replaced.has(spec.name) && !specs.has(spec.name)) specs.set(spec.name, spec);
  return {
    ...options,
    specs,
    expiryMillis: options.expiryMillis ?? defaults.expiryMillis,
    maxSeriesPerInstrument: options.maxSeriesPerInstrument ?? defaults.maxSeriesPerInstrument,
    maxSeries: options.maxSeries ?? defaults.maxSeries,
    maxInstruments: options.maxInstruments ?? DEFAULT_MAX_INSTRUMENTS,
    maxMemoryBytes: options.maxMemoryBytes ?? defaults.maxMemoryBytes,
    clock: options.clock ?? SYSTEM_CLOCK,
  };
}
