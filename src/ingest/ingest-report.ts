/**
 * What the ingest tells about the points it refuses. Each request gets a report: its accepted and
 * rejected counts and, in `partial_success.error_message`, the reasons by metric with their counts
 * and the warnings (attributes dropped, not refused — as on an embedded host). Over the life of
 * the store the refusals are also counted by reason and served as the self-metric
 * `jobmeter.ingest.refused{reason}` (a name no sender may use).
 */
import type { OtlpPartialSuccess } from '../otlp/types.ts';
import { counter, REFUSED_METRIC } from '../domain/catalog.ts';
import { StorageRegistry } from '../domain/storage/registry.ts';
import type { SumStorage } from '../domain/storage/sum.ts';
import type { DeclaredCounter } from '../domain/storage/handles.ts';
import { cutString } from '../domain/bounded-attributes.ts';

/**
 * Every reason data points are refused for: the `reason` attribute of {@link REFUSED_METRIC},
 * each served at 0 from start, in this order.
 */
export const REFUSAL_REASONS = [
  'no_name',
  'too_long',
  'reserved_name',
  'name_clash',
  'unsupported_type',
  'type_conflict',
  'unit_conflict',
  'invalid_point',
  'invalid_histogram',
  'time_ahead',
  'time_too_old',
  'time_before_start',
  'bounds_conflict',
  'delta_repeat',
  'delta_overlap',
  'instrument_cap',
  'series_cap',
  'memory_budget',
  'vocabulary',
] as const;

/** Why data points were refused: one of {@link REFUSAL_REASONS}. */
export type RefusalReason = (typeof REFUSAL_REASONS)[number];

/** A refusal: its reason and the words the sender reads. */
export interface Refusal {
  readonly code: RefusalReason;
  readonly text: string;
  /** A refusal for the point's time (`time_ahead`, `time_too_old`): that time minus jobmeter's clock, in ms. */
  readonly offsetMillis?: number;
}

/** The points of one request refused for their time, and how far their times were from jobmeter's clock (ms, point minus clock). */
export interface TimeRefused {
  readonly points: number;
  readonly minOffsetMillis: number;
  readonly maxOffsetMillis: number;
}

/** Longest `partial_success.error_message`; the rest is cut with `…`. */
export const MAX_ERROR_MESSAGE_LENGTH = 1_024;

/** Most warnings one message carries. */
const MAX_WARNINGS = 16;

/** What one export request did. */
export interface IngestResult extends OtlpPartialSuccess {
  readonly acceptedDataPoints: number;
  /** Of its refused points, those refused for their time (ingest/clock-refusals.ts tells a wrong clock by them); undefined: none. */
  readonly timeRefused?: TimeRefused;
}

/** {@link REFUSED_METRIC}: a counter of jobmeter's own engine (domain/storage/), a series per reason. */
const REFUSED = counter(
  REFUSED_METRIC,
  '{data_point}',
  'OTLP data points the ingest refused, by reason (the reasons are in each partial_success).',
  [{ key: 'reason', values: REFUSAL_REASONS }],
);

/**
 * {@link REFUSED}'s storage, read as a sum's series set (its columns, its values): the store's
 * count of the points it refused since it was made, served on a meter of its own.
 *
 * Every reason is a series from the start, at 0 (as `jobmeter.records.dropped`'s, record-guard.ts
 * `dropCounter`): a series that first appears at its first refusal hides that refusal from
 * Prometheus' `increase()`, which counts from a series' first sample.
 */
export function refusedCounter(): SumStorage {
  const registry = new StorageRegistry([REFUSED], { scope: { name: 'jobmeter' } });
  const storage = registry.storage(REFUSED_METRIC, 'counter') as SumStorage;
  for (const reason of REFUSAL_REASONS) storage.add(0, { reason });
  return storage;
}

/** Accepted/refused counts and reasons of one request. */
export class IngestReport {
  accepted = 0;
  rejected = 0;
  readonly #reasons = new Map<string, number>();
  readonly #warnings = new Set<string>();
  readonly #refused: DeclaredCounter<{ reason: RefusalReason }>;
  /** The sender of the resource being ingested, its refusals counted on it too (senders.ts). */
  sender: { refuse(code: RefusalReason, count: number): void } | undefined;
  #time: { points: number; minOffsetMillis: number; maxOffsetMillis: number } | undefined;

  /** `refused`: the store's {@link refusedCounter}, added to as points are refused. */
  constructor(refused: DeclaredCounter<{ reason: RefusalReason }>) {
    this.#refused = refused;
  }

  refuse(metric: string, count: number, refusal: Refusal): void {
    if (count <= 0) return;
    this.rejected += count;
    this.#refused.add(count, { reason: refusal.code });
    this.sender?.refuse(refusal.code, count);
    const offset = refusal.offsetMillis;
    if (offset !== undefined) {
      const time = (this.#time ??= { points: 0, minOffsetMillis: offset, maxOffsetMillis: offset });
      time.points += count;
      time.minOffsetMillis = Math.min(time.minOffsetMillis, offset);
      time.maxOffsetMillis = Math.max(time.maxOffsetMillis, offset);
    }
    const key = `${cutString(metric, 64) || '(unnamed)'}: ${refusal.text}`;
    this.#reasons.set(key, (this.#reasons.get(key) ?? 0) + count);
  }

  warn(metric: string, text: string): void {
    if (this.#warnings.size < MAX_WARNINGS) this.#warnings.add(`${cutString(metric, 64)}: ${text}`);
  }

  result(): IngestResult {
    let message = '';
    if (this.rejected > 0) {
      const reasons = [...this.#reasons].map(([reason, n]) => `${reason} (${n})`).join('; ');
      message = `${this.rejected} data point${this.rejected === 1 ? '' : 's'} rejected: ${reasons}`;
    }
    if (this.#warnings.size > 0) {
      message += `${message === '' ? '' : '. '}Warnings: ${[...this.#warnings].join('; ')}`;
    }
    if (message.length > MAX_ERROR_MESSAGE_LENGTH)
      message = message.slice(0, MAX_ERROR_MESSAGE_LENGTH - 1) + '…';
    return {
      acceptedDataPoints: this.accepted,
      rejectedDataPoints: this.rejected,
      errorMessage: message,
      ...(this.#time !== undefined && { timeRefused: { ...this.#time } }),
    };
  }
}
