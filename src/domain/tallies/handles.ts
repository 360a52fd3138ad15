/**
 * What a host records through: the declared instruments' handles and their pre-bound forms. A
 * tally is one (jobmeter's provider hands it out as the OpenTelemetry API instrument it also is).
 */
import type { Attributes, Context } from '@opentelemetry/api';
import type { InstrumentKind } from '../types.ts';

/**
 * A declared counter or up-down counter. A value that is not a finite number (or, for a counter,
 * is negative) is not recorded: a `diag` warning and a count in `jobmeter.records.dropped`.
 */
export interface DeclaredCounter {
  /** `context`: where a trace-linked exemplar comes from (domain/exemplars.ts). @default the active context */
  add(value: number, attributes?: Attributes, context?: Context): void;
  /** The series of `attributes`, resolved once: `add` is then one array write. */
  bind(attributes?: Attributes): BoundCounter;
}
export interface BoundCounter {
  add(value: number): void;
}

/** A declared histogram. Negative values, NaN, infinities and non-numbers are dropped (warned and counted). */
export interface DeclaredHistogram {
  record(value: number, attributes?: Attributes, context?: Context): void;
  bind(attributes?: Attributes): BoundHistogram;
}
export interface BoundHistogram {
  record(value: number): void;
}

/** A declared synchronous gauge: the last value recorded per attribute set (NaN, infinities and non-numbers dropped). */
export interface DeclaredGauge {
  record(value: number, attributes?: Attributes): void;
  bind(attributes?: Attributes): BoundGauge;
}
export interface BoundGauge {
  record(value: number): void;
}

/** The synchronous kinds a tally records; observable kinds stay with the SDK (recorder.ts). */
export const TALLY_KINDS: ReadonlySet<InstrumentKind> = new Set(['counter', 'upDownCounter', 'histogram', 'gauge']);
