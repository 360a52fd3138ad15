/**
 * ingest/clock-refusals.ts over a store's real answers, on a fake clock: when every point is
 * refused for its time `/ready` has a reason and one line says so; one sender with a wrong clock
 * among good ones never turns it; it ends with one line when a point is accepted or when none has
 * been refused for its time for the window. Serve as a child, under libfaketime:
 * test/cli/serve-clock-refusals.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ClockRefusals, CLOCK_WINDOW_MILLIS } from '../../src/ingest/clock-refusals.ts';
import { IngestStore } from '../../src/ingest/ingest-store.ts';
import { notReadyReasons } from '../../src/http/health-route.ts';
import { EPOCH_SECONDS, fakeClock, gauge, metric, numberPoint, request, sum } from './helpers.ts';
import { logTo } from '../../src/common/log.ts';

function watched(expiryMillis?: number) {
  const clock = fakeClock();
  const store = new IngestStore({ clock, ...(expiryMillis !== undefined && { expiryMillis }) });
  const lines: string[] = [];
  const watch = new ClockRefusals({
    maxAgeMillis: store.maxAgeMillis,
    log: logTo((line) => lines.push(line)),
    clock,
  });
  /** One export of `service`, its point stamped `offset` s off jobmeter's wall clock; `bad`: a negative counter value too (refused as invalid_point). */
  const send = (service: string, offset: number, bad = false): void => {
    const time = (clock.wallMillis() - EPOCH_SECONDS * 1000) / 1000 + offset;
    const metrics = [metric(`${service}.depth`, gauge([numberPoint(1, {}, 0, time)]))];
    if (bad)
      metrics.push(metric(`${service}.sent`, sum([numberPoint(-1, {}, time - 10, time)], 'delta')));
    watch.record(store.ingest(request(metrics, { 'service.name': service })));
  };
  return { clock, watch, lines, send };
}

describe("the ingest's clock refusals", () => {
  it('a serve 30 minutes behind every sender: refusing from the first request, one line; a point accepted ends it, one line', () => {
    const { clock, watch, lines, send } = watched();
    assert.equal(watch.refusing(), undefined);
    send('a', 1800);
    const refusing = watch.refusing();
    assert.deepEqual(refusing, {
      refused: 1,
      windowMillis: CLOCK_WINDOW_MILLIS,
      minOffsetMillis: 1_800_000,
      maxOffsetMillis: 1_800_000,
      aheadMillis: 600_000,
      maxAgeMillis: 3_600_000,
    });
    assert.deepEqual(notReadyReasons({ push: undefined, ingest: undefined, clock: { refusing } }), [
      "ingest refusing every point for its time: none accepted in the last 300 s, 1 point refused for its time; point time minus jobmeter's clock: +1800 s (accepted: -3600 s to +600 s)",
    ]);
    for (let i = 0; i < 5; i++) {
      clock.advance(10_000);
      send('a', 1795);
      send('b', 1800);
      watch.refusing();
    }
    assert.equal(watch.refusing()?.refused, 11);
    assert.deepEqual(lines, [
      "warning: ingest refusing every point for its time: none accepted in the last 300 s, 1 point refused for its time; point time minus jobmeter's clock: +1800 s, past the +600 s accepted (a fixed bound); /ready says 503 until a point is accepted: check this host's clock (NTP)",
    ]);
    assert.match(
      notReadyReasons({
        push: undefined,
        ingest: undefined,
        clock: { refusing: watch.refusing() },
      })[0]!,
      /11 points refused for their time; point time minus jobmeter's clock: \+1795 s to \+1800 s /,
    );

    clock.advance(10_000);
    send('a', 0);
    assert.equal(watch.refusing(), undefined);
    send('b', 1800);
    assert.equal(watch.refusing(), undefined, 'a point accepted within the window: not refusing');
    assert.deepEqual(lines.slice(1), [
      'ingest accepting points again, after 11 refused for their time over 50 s',
    ]);
  });

  it('one sender with a wrong clock among good ones pushing every 60 s never turns it', () => {
    const { clock, watch, lines, send } = watched();
    send('good', 0);
    for (let s = 1; s <= 1800; s++) {
      clock.advance(1000);
      if (s % 5 === 0) send('bad', 1800);
      if (s % 60 === 0) send('good', 0);
      assert.equal(watch.refusing(), undefined, `at ${s} s`);
    }
    assert.deepEqual(lines, []);
  });

  it("jobmeter's clock stepped 2 hours ahead mid-run: refusing once the window has passed without a point accepted, naming the behind bound", () => {
    const { clock, watch, lines, send } = watched();
    send('a', 0);
    clock.step(7_200_000);
    let turned: number | undefined;
    for (let s = 1; s <= CLOCK_WINDOW_MILLIS / 1000 + 60; s++) {
      clock.advance(1000);
      if (s % 10 === 0) send('a', -7200);
      if (turned === undefined && watch.refusing() !== undefined) turned = s;
    }
    assert.equal(turned, CLOCK_WINDOW_MILLIS / 1000, 'not before the window has passed');
    assert.equal(lines.length, 1, lines.join('\n'));
    assert.match(
      lines[0]!,
      /: -7200 s, past the -3600 s accepted \(the longer of 1 hour and \[ingest\] expiry_ms\); /,
    );
  });

  it('the behind bound is expiry_ms when that is longer', () => {
    const { watch, send } = watched(3 * 3_600_000);
    send('a', -4 * 3600);
    assert.equal(watch.refusing()?.maxAgeMillis, 3 * 3_600_000);
    assert.equal(watch.refusing()?.minOffsetMillis, -4 * 3_600_000);
  });

  it('nothing refused for its time for the window: it ends, one line saying so', () => {
    const { clock, watch, lines, send } = watched();
    send('a', 1800);
    assert.notEqual(watch.refusing(), undefined);
    clock.advance(CLOCK_WINDOW_MILLIS - 60_000);
    assert.notEqual(watch.refusing(), undefined, 'still within the window');
    clock.advance(CLOCK_WINDOW_MILLIS);
    assert.equal(watch.refusing(), undefined);
    assert.equal(watch.refusing(), undefined);
    assert.deepEqual(lines.slice(1), [
      'ingest no longer refusing every point for its time, after 1 refused for their time over 0 s: none refused for it in the last 300 s',
    ]);
  });

  it('points mostly refused for other reasons are no clock of jobmeter', () => {
    const { watch, send } = watched();
    send('a', 1800, true);
    assert.equal(watch.refusing(), undefined, 'one of two refused for its time');
  });
});
