/**
 * What a record must be to be recorded, and what happens when it is not: the value checks every
 * record path shares (jobmeter's storages, the guarded OTel meter of guarded-meter.ts, the domain
 * API), kept apart from any one engine so a recorder built on OTel API instruments can reuse them.
 *
 * A bad record is never recorded (a NaN or an infinity would stick to a cumulative series for
 * good), gets one warning (common/warn.ts: the app's `diag` logger, else the console) per instrument and reason, and is counted in
 * `jobmeter.records.dropped{reason}`. A record after shutdown gets one warning, once.
 *
 * A host's attribute value longer than the account's attribute value length limit is cut
 * (bounded-attributes.ts `limitLengths`), the record kept: one warning per instrument, each value
 * cut counted in `jobmeter.attribute_values.truncated`, so a label never carries an unbounded
 * value and the cut is said.
 */
import type { Attributes } from '@opentelemetry/api';
import { warn } from '../common/warn.ts';
import { limitLengths } from './bounded-attributes.ts';

/** Why a record was dropped: the closed vocabulary of `jobmeter.records.dropped`'s `reason`. */
export type DropReason = keyof typeof WHY;

/** Each reason a record is dropped for, in order, with what its warning says. */
const WHY = {
  not_a_number: 'the value is not a number',
  nan: 'the value is NaN',
  infinite: 'the value is infinite',
  negative: 'the instrument only takes values \u2265 0',
  not_a_time:
    "the time is not a job's: before 2000 or after 2099 (epoch seconds or microseconds where milliseconds are taken?)",
  bad_attribute: "an attribute is not a string (a run's attempt: not a whole number \u2265 1)",
  vocabulary: 'an attribute value is outside the closed set of values the original documents',
} as const;
export const DROP_REASONS = Object.keys(WHY) as readonly DropReason[];

/**
 * Why `value` cannot be recorded, or undefined when it can. `nonNegative`: a counter's or a
 * histogram's value (an up-down counter and a gauge take negative values).
 */
export function invalidValue(value: unknown, nonNegative: boolean): DropReason | undefined {
  if (typeof value !== 'number') return 'not_a_number';
  if (value !== value) return 'nan';
  if (value === Infinity || value === -Infinity) return 'infinite';
  if (nonNegative && value < 0) return 'negative';
  return undefined;
}

/** True when `value` can be recorded: the fast check, one branch for the common case. */
export function isRecordable(value: unknown, nonNegative: boolean): value is number {
  // x - x is 0 for every finite number, NaN for NaN and +/-Infinity.
  return typeof value === 'number' && value - value === 0 && (!nonNegative || value >= 0);
}

export interface RecordGuardOptions {
  /**
   * Longest attribute value of a host's record (the OTel SDK's `AttributeValueLengthLimit`), or
   * undefined where values pass whole (another stage cuts them). @default undefined
   */
  readonly valueLengthLimit?: number;
}

/** One jobmeter's account of dropped records and cut attribute values: warnings (once each) and the counts. */
export class RecordGuard {
  readonly #warned = new Set<string>();
  #count: ((reason: DropReason) => void) | undefined;
  #countCut: (() => void) | undefined;
  #closed = false;
  #warnedClosed = false;
  /** Longest attribute value a host's record keeps (see {@link RecordGuardOptions.valueLengthLimit}). */
  readonly valueLengthLimit: number | undefined;

  constructor(options: RecordGuardOptions = {}) {
    this.valueLengthLimit = options.valueLengthLimit;
  }

  /** Where drops are counted (the `jobmeter.records.dropped` counter), once it exists. */
  countInto(count: (reason: DropReason) => void): void {
    this.#count = count;
  }

  /** Where cut values are counted (the `jobmeter.attribute_values.truncated` counter), once it exists. */
  countCutsInto(count: () => void): void {
    this.#countCut = count;
  }

  /**
   * `attributes` of a record of `instrument`, its values cut to {@link valueLengthLimit} (call it
   * for a set with a value past the limit: bounded-attributes.ts `withinLength`): each value cut
   * counted, a warning the first time for the instrument.
   */
  cut(instrument: string, attributes: Attributes): Attributes {
    const limit = this.valueLengthLimit!;
    return limitLengths(attributes, limit, (key) => {
      this.#countCut?.();
      const warnKey = instrument + '\0cut';
      if (this.#warned.has(warnKey)) return;
      this.#warned.add(warnKey);
      warn(
        `jobmeter: ${instrument}: the value of attribute ${describe(key)} cut to ${limit} characters, the attribute value length limit (attributeValueLengthLimit) ` +
          `(counted in jobmeter.attribute_values.truncated; further cuts of this instrument are counted without a warning)`,
      );
    });
  }

  /** From now on every record is refused with one warning (the jobmeter was shut down). */
  close(): void {
    this.#closed = true;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Drops one record of `instrument` for `reason`: a warning the first time, a count every time. */
  drop(instrument: string, reason: DropReason, value: unknown): void {
    if (this.#closed) return this.afterShutdown(instrument);
    this.#count?.(reason);
    const key = instrument + '\0' + reason;
    if (this.#warned.has(key)) return;
    this.#warned.add(key);
    warn(
      `jobmeter: ${instrument}: record of ${describe(value)} dropped: ${WHY[reason]} ` +
        `(counted in jobmeter.records.dropped{reason="${reason}"}; further ${reason} drops of this instrument are counted without a warning)`,
    );
  }

  /** Drops a record of `instrument` the fast check ({@link isRecordable}) refused, or made after {@link close}. */
  refuse(instrument: string, value: unknown, nonNegative: boolean): void {
    this.drop(instrument, invalidValue(value, nonNegative) ?? 'not_a_number', value);
  }

  /** Whether an observation's `value` may be kept; otherwise it is dropped ({@link refuse}). */
  admits(instrument: string, value: unknown, nonNegative: boolean): value is number {
    if (isRecordable(value, nonNegative)) return true;
    this.refuse(instrument, value, nonNegative);
    return false;
  }

  /** A record made after shutdown: one warning, the first time. */
  afterShutdown(instrument: string): void {
    if (this.#warnedClosed) return;
    this.#warnedClosed = true;
    warn(
      `jobmeter: ${instrument}: record after shutdown() dropped; nothing is collected any more (further records are dropped without a warning)`,
    );
  }
}

/**
 * Counts drops into a counter with a `reason` attribute, every reason's series made at once (so
 * every reason is served from the start, at 0, as Prometheus counters should be).
 */
export function dropCounter(counter: {
  add(value: number, attributes: { reason: DropReason }): void;
}): (reason: DropReason) => void {
  const byReason = new Map(DROP_REASONS.map((reason) => [reason, { reason }]));
  for (const attributes of byReason.values()) counter.add(0, attributes);
  return (reason) => counter.add(1, byReason.get(reason)!);
}

/** Counts one at a time into a counter, its series made at once (served from the start, at 0). */
export function countFromZero(counter: { add(value: number): void }): () => void {
  counter.add(0);
  return () => counter.add(1);
}

/** A value as a warning shows it: short, never an object's contents. */
export function describe(value: unknown): string {
  if (typeof value === 'string')
    return JSON.stringify(value.length > 40 ? value.slice(0, 40) + '\u2026' : value);
  if (
    typeof value === 'number' ||
    typeof value === 'boolean' ||
    value === undefined ||
    value === null
  )
    return String(value);
  return typeof value;
}
