/**
 * What a host records through: the declared instruments' handles and their pre-bound forms. A
 * synchronous storage is one (jobmeter's provider hands it out as the OpenTelemetry API instrument
 * it also is).
 */
import type { Attributes, Context } from '@opentelemetry/api';

/**
 * A declared counter or up-down counter. A value that is not a finite number (or, for a counter,
 * is negative) is not recorded: a `diag` warning and a count in `jobmeter.records.dropped`.
 * `A`: the attributes its declaration allows (any, untyped).
 * @example
 *   jm.counter('app.emails.sent').add(1, { queue: 'emails' });
 */
export interface DeclaredCounter<A extends Attributes = Attributes> {
  /** `context`: where a trace-linked exemplar comes from (domain/exemplars.ts). @default the active context */
  add(value: number, attributes?: A, context?: Context): void;
  /** The series of `attributes`, resolved once: `add` is then one array write. */
  bind(attributes?: A): BoundCounter;
}
/** A declared counter's series, its attributes resolved once by `bind`. */
export interface BoundCounter {
  add(value: number): void;
}

/**
 * A declared histogram. Negative values, NaN, infinities and non-numbers are dropped (warned and counted).
 * @example
 *   jm.histogram('app.email.send.duration').record(0.42, { queue: 'emails' });
 */
export interface DeclaredHistogram<A extends Attributes = Attributes> {
  record(value: number, attributes?: A, context?: Context): void;
  bind(attributes?: A): BoundHistogram;
}
/** A declared histogram's series, its attributes resolved once by `bind`. */
export interface BoundHistogram {
  record(value: number): void;
}

/**
 * A declared synchronous gauge: the last value recorded per attribute set (NaN, infinities and non-numbers dropped).
 * @example
 *   jm.gauge('app.queue.depth').record(7);
 */
export interface DeclaredGauge<A extends Attributes = Attributes> {
  record(value: number, attributes?: A): void;
  bind(attributes?: A): BoundGauge;
}
/** A declared gauge's series, its attributes resolved once by `bind`. */
export interface BoundGauge {
  record(value: number): void;
}
