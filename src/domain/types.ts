/**
 * The domain vocabulary: what a job-running daemon reports, independent of any naming profile.
 * Instrument specs are data; the views and naming stages read them, nothing here reads them back.
 */
import type { AnyValue, Attributes } from '@opentelemetry/api';
import { DataPointType, InstrumentType } from '../common/otel-sdk.ts';
import type {
  ATTRIBUTE_SPEC_OPTIONS,
  BUILD_OPTIONS,
  INSTRUMENT_SPEC_OPTIONS,
  OptionsOf,
} from '../common/option-table.ts';
import type { Shape } from '../series/output-set.ts';

/** Canonical terminal outcome of a run. Profiles map it to their own words. */
export type Outcome = 'success' | 'failure' | 'cancelled' | 'timeout';
/**
 * Every {@link Outcome}, in order: the closed vocabulary of a run's `outcome`.
 * @example
 *   console.log(OUTCOMES.includes('timeout')); // true
 */
export const OUTCOMES: readonly Outcome[] = ['success', 'failure', 'cancelled', 'timeout'];

/**
 * The value every out-of-vocabulary or over-cap attribute value folds into.
 * @example
 *   console.log(OTHER); // 'other'
 */
export const OTHER = 'other';

/**
 * One attribute an instrument accepts (the option table's attributeSpec rows). Exactly one of
 * `values` / `cap` bounds it, so no host can turn an unbounded value (a job id, a path) into a label.
 */
export type AttributeSpec = OptionsOf<
  typeof ATTRIBUTE_SPEC_OPTIONS,
  { key: string; values: readonly string[]; outside: 'other' | 'drop'; cap: number }
>;

/**
 * The SDK's instrument type of each OpenTelemetry instrument kind an {@link InstrumentSpec}
 * declares (a View's `instrumentType`, a descriptor's `type`).
 */
export const INSTRUMENT_TYPE_OF = {
  counter: InstrumentType.COUNTER,
  upDownCounter: InstrumentType.UP_DOWN_COUNTER,
  histogram: InstrumentType.HISTOGRAM,
  gauge: InstrumentType.GAUGE,
  observableCounter: InstrumentType.OBSERVABLE_COUNTER,
  observableGauge: InstrumentType.OBSERVABLE_GAUGE,
  observableUpDownCounter: InstrumentType.OBSERVABLE_UP_DOWN_COUNTER,
} as const satisfies Record<string, InstrumentType>;

/** The OpenTelemetry instrument kinds an {@link InstrumentSpec} declares, one per SDK instrument type. */
export type InstrumentKind = keyof typeof INSTRUMENT_TYPE_OF;

/** The observable kinds: observed by callbacks at each collection. */
export type ObservedKind = Extract<InstrumentKind, `observable${string}`>;

/** Whether `kind` is observable; the others are synchronous, recorded as they happen. */
export const isObserved = (kind: InstrumentKind): kind is ObservedKind =>
  kind.startsWith('observable');

/** The series shape each instrument kind's points are kept in. */
export const SHAPE_OF_KIND: Readonly<Record<InstrumentKind, Shape>> = {
  counter: 'monotonicSum',
  observableCounter: 'monotonicSum',
  upDownCounter: 'sum',
  observableUpDownCounter: 'sum',
  gauge: 'gauge',
  observableGauge: 'gauge',
  histogram: 'histogram',
};

/** The OTel data point type of each series shape: what a MetricData of its series says. */
export const POINT_TYPE_OF_SHAPE: Readonly<Record<Shape, DataPointType>> = {
  monotonicSum: DataPointType.SUM,
  sum: DataPointType.SUM,
  gauge: DataPointType.GAUGE,
  histogram: DataPointType.HISTOGRAM,
  exponentialHistogram: DataPointType.EXPONENTIAL_HISTOGRAM,
};

/** The instrument kinds the exposition tells apart. */
export type ExposedKind = 'counter' | 'gauge' | 'histogram';

/** The Prometheus type each series shape is exposed as. */
export const EXPOSED_KIND: Readonly<Record<Shape, ExposedKind>> = {
  monotonicSum: 'counter',
  sum: 'gauge',
  gauge: 'gauge',
  histogram: 'histogram',
  exponentialHistogram: 'histogram',
};

/**
 * An instrument as a host declares it (`instruments` of createJobmeter, createRecorder and
 * jobmeterViews; the option table's instrumentSpec rows): `attributes` may be left out, for an
 * instrument recorded without attributes.
 * @example { name: 'app.queue.depth', kind: 'gauge', unit: '{job}', description: 'Jobs waiting.' }
 */
export type DeclaredInstrumentSpec = OptionsOf<
  typeof INSTRUMENT_SPEC_OPTIONS,
  {
    name: string;
    kind: InstrumentKind;
    unit: string;
    description: string;
    attributes: readonly AttributeSpec[];
    buckets: readonly number[];
  }
>;

/** An instrument as jobmeter declares it (its catalog, `jobmeter/catalog`): its `attributes` given. */
export type InstrumentSpec = DeclaredInstrumentSpec &
  Required<Pick<DeclaredInstrumentSpec, 'attributes'>>;

/**
 * The names of the instruments among `D` whose kind is one of `K`: the declared names when the
 * declarations are literal (`createJobmeter`'s and `createRecorder`'s `instruments` written in
 * the call, or `as const`), any string when a declaration's name or kind is a plain `string` or
 * `InstrumentKind` (declarations built at run time keep the untyped path).
 */
export type DeclaredName<
  D extends DeclaredInstrumentSpec,
  K extends InstrumentKind,
> = D extends unknown ? ([Extract<D['kind'], K>] extends [never] ? never : D['name']) : never;

/** The attribute keys the declaration of `N` among `D` lists (none when it leaves `attributes` out; any string when untyped). */
export type DeclaredKeys<D extends DeclaredInstrumentSpec, N extends string> = D extends unknown
  ? N extends D['name']
    ? 'attributes' extends keyof D
      ? NonNullable<D['attributes']>[number]['key']
      : never
    : never
  : never;

/**
 * The attributes a record of an instrument declaring `Key`s may carry: those keys only (another
 * is a compile error; none for an instrument declared without attributes), any `Attributes` when
 * the keys are plain strings.
 */
export type DeclaredAttributes<Key extends string> = string extends Key
  ? Attributes
  : [Key] extends [never]
    ? { readonly [key: string]: never }
    : { readonly [P in Key]?: AnyValue };

/** What `jobmeter.build.info` reports (runwisp_build_info, rm_build_info): the option table's build rows. */
export type BuildInfo = OptionsOf<typeof BUILD_OPTIONS>;
