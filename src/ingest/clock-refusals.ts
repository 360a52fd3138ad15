/**
 * Whether the ingest refuses every point for its time: a point's time is held against jobmeter's
 * wall clock (stream-rules.ts `timeWindow`), so a host whose clock is wrong refuses every sender's
 * points (`time_ahead`, `time_too_old`) while each request is answered 200 and every process looks
 * well. This watches each request's outcome for that: `/ready` says it (health-route.ts, one
 * reason of its table) and one line says when it starts and one when it ends.
 *
 * It holds while, over the last {@link CLOCK_WINDOW_MILLIS} (since the start, when that is
 * shorter), no point was accepted, some were refused for their time, and those are at least
 * {@link CLOCK_REFUSED_SHARE} of the points refused. What must stay true:
 * - one sender with a wrong clock among good ones never turns it: their points are accepted
 *   within the window, which outlasts several exports at the OTel SDKs' default interval (60 s);
 * - it is judged on the monotonic clock (series/clock.ts): the wall clock is the one in doubt, and
 *   a step of it changes no window;
 * - one line when it starts and one when it ends, never one per request or per `/ready`.
 */
import { clockRefusingWords, type ClockRefusing } from '../http/health-route.ts';
import type { IngestResult } from './ingest-report.ts';
import { MAX_AHEAD_MILLIS } from './stream-rules.ts';
import { SYSTEM_CLOCK, type Clock } from '../series/clock.ts';
import type { Log } from '../common/log.ts';

/** How far back `/ready` looks for an accepted point: five exports at the OTel SDKs' default 60 s interval. */
export const CLOCK_WINDOW_MILLIS = 5 * 60_000;
/** The share of the points refused in the window that must be refused for their time ("nearly all": a few bad points of another kind do not hide a wrong clock). */
export const CLOCK_REFUSED_SHARE = 0.9;
/** The window in slots: the counts of a slot leave it whole, so the window is up to a slot longer. */
const SLOTS = 10;
const SLOT_MILLIS = CLOCK_WINDOW_MILLIS / SLOTS;

/** The refusals of one slot of the window. */
interface Slot {
  /** Its number: monotonic time / {@link SLOT_MILLIS}. */
  index: number;
  /** Points refused for their time, and for anything else. */
  time: number;
  other: number;
  /** When the first and the last of them were refused for their time (monotonic ms). */
  first: number;
  last: number;
  /** Their times minus jobmeter's clock, in ms: the least and the most. */
  minOffset: number;
  maxOffset: number;
}

export interface ClockRefusalsOptions {
  /** How far behind jobmeter's clock a point's time may be (ingest-store.ts `maxAgeMillis`). */
  readonly maxAgeMillis: number;
  /** One line when every point starts being refused for its time, one when it stops. */
  readonly log: Log;
  /** Its monotonic side measures the window (series/clock.ts). @default SYSTEM_CLOCK */
  readonly clock?: Clock;
}

export class ClockRefusals {
  readonly #options: ClockRefusalsOptions;
  readonly #clock: Clock;
  readonly #slots: (Slot | undefined)[] = new Array<Slot | undefined>(SLOTS);
  #lastAccepted = Number.NEGATIVE_INFINITY;
  /** While it holds: when its first and last points were refused for their time, and how many. */
  #episode: { first: number; last: number; refused: number } | undefined;

  constructor(options: ClockRefusalsOptions) {
    this.#options = options;
    this.#clock = options.clock ?? SYSTEM_CLOCK;
  }

  /** What one request did (ingest-store.ts `IngestBatch.result`). */
  record(result: IngestResult): void {
    const now = this.#clock.monotonicMillis();
    if (result.acceptedDataPoints > 0) this.#lastAccepted = now;
    const time = result.timeRefused;
    const other = result.rejectedDataPoints - (time?.points ?? 0);
    if (time !== undefined || other > 0) {
      const index = Math.floor(now / SLOT_MILLIS);
      let slot = this.#slots[index % SLOTS];
      if (slot?.index !== index) this.#slots[index % SLOTS] = slot = emptySlot(index);
      const refused = { ...emptySlot(index), other };
      if (time !== undefined) {
        const { points, minOffsetMillis: minOffset, maxOffsetMillis: maxOffset } = time;
        Object.assign(refused, { time: points, first: now, last: now, minOffset, maxOffset });
        if (this.#episode !== undefined) {
          this.#episode.refused += time.points;
          this.#episode.last = now;
        }
      }
      addSlot(slot, refused);
    }
    this.refusing();
  }

  /** What `/ready` reports: undefined unless every point is refused for its time (see the top of this file). */
  refusing(): ClockRefusing | undefined {
    const now = this.#clock.monotonicMillis();
    const judgement = this.#judge(now);
    const episode = this.#episode;
    if (judgement !== undefined && episode === undefined) {
      const [judged, first, last] = judgement;
      this.#episode = { first, last, refused: judged.refused };
      const past = pastWords(judged);
      this.#options.log(
        'warn',
        'ingest refusing every point for its time',
        {
          refused: judged.refused,
          window_s: judged.windowMillis / 1000,
          min_offset_s: Math.round(judged.minOffsetMillis / 1000),
          max_offset_s: Math.round(judged.maxOffsetMillis / 1000),
        },
        `warning: ${clockRefusingWords(judged)}${past === '' ? '' : `, ${past}`}; /ready says 503 until a point is accepted: check this host's clock (NTP)`,
      );
    } else if (judgement === undefined && episode !== undefined) {
      this.#episode = undefined;
      const seconds = Math.round((episode.last - episode.first) / 1000);
      const over = `${episode.refused} refused for their time over ${seconds} s`;
      const fields = { refused: episode.refused, duration_s: seconds };
      if (now - this.#lastAccepted < CLOCK_WINDOW_MILLIS)
        this.#options.log(
          'info',
          'ingest accepting points again',
          fields,
          `ingest accepting points again, after ${over}`,
        );
      else
        this.#options.log(
          'info',
          'ingest no longer refusing every point for its time',
          { ...fields, reason: this.#quietWords(now) },
          `ingest no longer refusing every point for its time, after ${over}: ${this.#quietWords(now)}`,
        );
    }
    return judgement?.[0];
  }

  /** What `/ready` reports at `now`, and when the first and the last of its points were refused; undefined while it does not hold. */
  #judge(now: number): [ClockRefusing, number, number] | undefined {
    if (now - this.#lastAccepted < CLOCK_WINDOW_MILLIS) return undefined;
    const from = Math.floor((now - CLOCK_WINDOW_MILLIS) / SLOT_MILLIS);
    const window = emptySlot(from);
    for (const slot of this.#slots)
      if (slot !== undefined && slot.index >= from) addSlot(window, slot);
    const { time, other, first, last, minOffset, maxOffset } = window;
    if (time === 0 || time < CLOCK_REFUSED_SHARE * (time + other)) return undefined;
    const judged = {
      refused: time,
      windowMillis: CLOCK_WINDOW_MILLIS,
      minOffsetMillis: minOffset,
      maxOffsetMillis: maxOffset,
      aheadMillis: MAX_AHEAD_MILLIS,
      maxAgeMillis: this.#options.maxAgeMillis,
    };
    return [judged, first, last];
  }

  /** Why it ended when no point was accepted. */
  #quietWords(now: number): string {
    const from = Math.floor((now - CLOCK_WINDOW_MILLIS) / SLOT_MILLIS);
    const refused = this.#slots.some((s) => s !== undefined && s.index >= from && s.time > 0);
    const window = `the last ${CLOCK_WINDOW_MILLIS / 1000} s`;
    return refused
      ? `most points refused in ${window} were refused for other reasons`
      : `none refused for it in ${window}`;
  }
}

/** A slot with nothing refused in it yet. */
function emptySlot(index: number): Slot {
  const [first, last] = [Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY];
  return { index, time: 0, other: 0, first, last, minOffset: first, maxOffset: last };
}

/** `from`'s refusals added into `to`'s. */
function addSlot(to: Slot, from: Slot): void {
  to.time += from.time;
  to.other += from.other;
  to.first = Math.min(to.first, from.first);
  to.last = Math.max(to.last, from.last);
  to.minOffset = Math.min(to.minOffset, from.minOffset);
  to.maxOffset = Math.max(to.maxOffset, from.maxOffset);
}

/** The bounds the offsets seen are past, and what sets each. */
function pastWords(r: ClockRefusing): string {
  const past: string[] = [];
  if (r.maxOffsetMillis > r.aheadMillis)
    past.push(`past the +${r.aheadMillis / 1000} s accepted (a fixed bound)`);
  if (r.minOffsetMillis < -r.maxAgeMillis)
    past.push(
      `past the -${r.maxAgeMillis / 1000} s accepted (the longer of 1 hour and [ingest] expiry_ms)`,
    );
  return past.join(' and ');
}
