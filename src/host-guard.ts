/**
 * `guardMeter(meter)`: jobmeter's value guard, opt-in, for a host's own Meter (its NodeSDK's or
 * MeterProvider's). On jobmeter's provider every instrument is guarded already; on a host's own
 * one the SDK checks little (it drops a non-number, and a negative counter add), so a NaN or an
 * infinity recorded or observed there sticks to its series. Through the guarded meter:
 *
 *   const meter = guardMeter(metrics.getMeter('my-scheduler'));
 *   meter.createObservableCounter('app.bytes').addCallback((r) => r.observe(NaN)); // dropped
 *
 * every instrument's records and observations (batch callbacks included) go through the checks
 * of domain/record-guard.ts: a bad value is dropped, warned once per instrument and reason
 * through `diag`, and counted in `jobmeter.records.dropped{reason}` on that meter. Attribute sets
 * pass as they are (the host's Views and cardinality limits bound them), values whole: the
 * `JobmeterReader` reading the provider cuts them to its own `attributeValueLengthLimit`
 * (readers/collected-length-limit.ts), which a cut here, at another length, would pre-empt.
 */
import type { Counter, Meter } from '@opentelemetry/api';
import { RECORDS_DROPPED } from './domain/catalog.ts';
import { guardMeter as guardInstruments, HOST_METER } from './domain/guarded-meter.ts';
import { createInstrument } from './domain/observed-instruments.ts';
import { dropCounter, RecordGuard } from './domain/record-guard.ts';

const GUARDS = new WeakMap<Meter, RecordGuard>();
const GUARDED = new WeakMap<Meter, Meter>();

/**
 * The guard of `meter`, made once: its drops are counted in `jobmeter.records.dropped` on
 * `meter`, so `createRecorder(meter)` and `guardMeter(meter)` share one account and one warning
 * per instrument and reason.
 */
export function guardOf(meter: Meter): RecordGuard {
  let guard = GUARDS.get(meter);
  if (guard === undefined) {
    guard = new RecordGuard();
    guard.countInto(dropCounter(createInstrument(meter, RECORDS_DROPPED) as Counter));
    GUARDS.set(meter, guard);
  }
  return guard;
}

/**
 * `meter` with every instrument's values checked: a NaN, an infinity or a negative counter add is
 * dropped, warned once through `diag` and counted in `jobmeter.records.dropped{reason}`. The same
 * wrapper for the same meter.
 * @example
 *   const meter = guardMeter(metrics.getMeter('my-scheduler'));
 *   meter.createCounter('app.uploads').add(NaN); // dropped and counted, never served
 */
export function guardMeter(meter: Meter): Meter {
  let guarded = GUARDED.get(meter);
  if (guarded === undefined) {
    guarded = guardInstruments(meter, HOST_METER, { guard: guardOf(meter) });
    GUARDED.set(meter, guarded);
  }
  return guarded;
}
