/**
 * What the ingest tells about the points it refuses. Each request gets a report: its accepted and
 * rejected counts and, in `partial_success.error_message`, the reasons by metric with their counts
 * and the warnings (attributes dropped, not refused — as on an embedded host). Over the life of
 * the store the refusals are also counted by reason and served as the self-metric
 * `jobmeter.ingest.refused{reason}` (a name no sender may use).
 */
import type { HrTime } from '@opentelemetry/api';
import type { OtlpPartialSuccess } from '../otlp/types.ts';
import { counter, REFUSED_METRIC } from '../domain/catalog.ts';
import { StorageRegistry } from '../domain/storage/registry.ts';
import { SumStorage } from '../domain/storage/sum.ts';
import type { CollectedSeries } from '../series/collection.ts';
import { SnapshotArena } from '../series/snapshot.ts';
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
 * Data points refused since the store was made, by reason: the self-metric, recorded on a meter of
 * its own (as http/self-telemetry.ts records jobmeter's), its series held by the storage.
 *
 * Every reason is a series from the start, at 0 (as `jobmeter.records.dropped`'s, record-guard.ts
 * `dropCounter`): a series that first appears at its first refusal hides that refusal from
 * Prometheus' `increase()`, which counts from a series' first sample.
 */
export class RefusedCounts {
  readonly #counter = refusedCounter();
  readonly #start: HrTime;

  /** `start`: when counting began, the self-metric's start time. */
  constructor(start: HrTime) {
    this.#start = start;
    for (const reason of REFUSAL_REASONS) this.#counter.add(0, { reason });
  }

  add(code: RefusalReason, count: number): void {
    this.#counter.add(count, { reason: code });
  }

  /** The running counts by reason (serve's self-telemetry reads them). */
  counts(): ReadonlyMap<RefusalReason, number> {
    const { attributes, values } = this.#counter;
    return new Map(attributes.map((a, i) => [a['reason'] as RefusalReason, values.data[i]!]));
  }

  /** {@link REFUSED_METRIC} as columns (of a copy). */
  series(): CollectedSeries | undefined {
    const arena = new SnapshotArena(new Float64Array(this.#counter.snapshotLength()));
    return this.#counter.collected(this.#counter.snapshot(arena), this.#start);
  }
}

/** {@link REFUSED}'s storage, read as a sum's series set (its columns, its values). */
function refusedCounter(): SumStorage {
  const storage = new StorageRegistry([REFUSED], { scope: { name: 'jobmeter' } }).counter(
    REFUSED_METRIC,
  );
  if (storage instanceof SumStorage) return storage;
  throw new Error(`${REFUSED_METRIC} is a counter's sum`);
}

/** Accepted/refused counts and reasons of one request. */
export class IngestReport {
  accepted = 0;
  rejected = 0;
  readonly #reasons = new Map<string, number>();
  readonly #warnings = new Set<string>();
  readonly #refused: RefusedCounts;
  /** The sender of the resource being ingested, its refusals counted on it too (senders.ts). */
  sender: { refuse(code: RefusalReason, count: number): void } | undefined;
  #time: { points: number; minOffsetMillis: number; maxOffsetMillis: number } | undefined;

  /** `refused`: the store's running counts, added to as points are refused. */
  constructor(refused: RefusedCounts) {
    this.#refused = refused;
  }

  refuse(metric: string, count: number, refusal: Refusal): void {
    if (count <= 0) return;
    this.rejected += count;
    this.#refused.add(refusal.code, count);
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
