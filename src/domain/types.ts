/**
 * The domain vocabulary: what a job-running daemon reports, independent of any naming profile.
 * Instrument specs are data; the views and naming stages read them, nothing here reads them back.
 */
import type { AnyValue, Attributes } from '@opentelemetry/api';
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
 * One attribute an instrument accepts. Exactly one of `values` / `cap` bounds it, so no host can
 * turn an unbounded value (a job id, a path) into a label.
 */
export interface AttributeSpec {
  readonly key: string;
  /** Closed vocabulary: any other value folds into `other` (or is dropped: {@link outside}). */
  readonly values?: readonly string[];
  /**
   * What a value outside the closed vocabulary does: fold into `other` (default), or `drop` the
   * observation, counted in `jobmeter.records.dropped{reason="vocabulary"}` -- for a set the
   * original's document closes without an `other`.
   */
  readonly outside?: 'other' | 'drop';
  /** Open vocabulary: the first `cap` distinct values are kept, later ones fold into `other`. */
  readonly cap?: number;
}

/** The OpenTelemetry instrument kinds an {@link InstrumentSpec} declares. */
export type InstrumentKind =
  | 'counter'
  | 'upDownCounter'
  | 'histogram'
  | 'gauge'
  | 'observableCounter'
  | 'observableGauge'
  | 'observableUpDownCounter';

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

/** An instrument as jobmeter declares it (its catalog, `jobmeter/catalog`): name, kind, unit, the attributes it keeps and their bounds. */
export interface InstrumentSpec {
  /** Canonical OpenTelemetry instrument name, e.g. `jobmeter.run.duration`. */
  readonly name: string;
  readonly kind: InstrumentKind;
  /** UCUM unit (`s`, `By`, `{run}`, `1`). */
  readonly unit: string;
  readonly description: string;
  /** The allow-list: attributes not listed here are dropped before aggregation. */
  readonly attributes: readonly AttributeSpec[];
  /** Histogram bucket upper bounds: finite, strictly increasing, without +Inf (else a ConfigError). Histograms only. */
  readonly buckets?: readonly number[];
  /**
   * Keep trace-linked exemplars (domain/exemplars.ts): the latest per series (counters) or per
   * bucket (histograms) of the records made while a sampled span is active. @default false
   */
  readonly exemplars?: boolean;
}

/**
 * An instrument as a host declares it (`instruments` of createJobmeter, createRecorder and
 * jobmeterViews): an {@link InstrumentSpec} whose `attributes` may be left out, for an instrument
 * recorded without attributes. @example { name: 'app.queue.depth', kind: 'gauge', unit: '{job}', description: 'Jobs waiting.' }
 */
export type DeclaredInstrumentSpec = Omit<InstrumentSpec, 'attributes'> & {
  /** The allow-list (attributes not listed are dropped before aggregation). @default [] (none kept) */
  readonly attributes?: readonly AttributeSpec[];
};

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

/** What `jobmeter.build.info` reports (runwisp_build_info, rm_build_info). */
export interface BuildInfo {
  readonly version: string;
  /** @default 'unknown' */
  readonly commit?: string;
  /**
   * The daemon's runtime (rm's `go_version` label): `jobmeter serve`'s `[build] runtime_version`
   * names the daemon's Go or Rust version. @default this Node's `process.version`
   */
  readonly runtimeVersion?: string;
}
