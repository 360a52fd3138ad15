/**
 * An idle Node process that only measures its own event-loop delay, started by the event-loop
 * scenario next to the measured one: a process that does nothing still sees its timers late when
 * the machine has no free core for it, so its max over the same window is the floor the machine
 * set for that window (2 shared cores, the client and other work on them), not anything the
 * measured process did. `start` and `stop` arrive over IPC; `stop` answers with the max and p99, ms.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';

const h = monitorEventLoopDelay({ resolution: 1 });
process.on('message', (m: 'start' | 'stop') => {
  if (m === 'start') {
    h.reset();
    h.enable();
    process.send!({ started: true });
  } else {
    h.disable();
    process.send!({ maxMs: h.max / 1e6, p99Ms: h.percentile(99) / 1e6 });
  }
});
process.on('disconnect', () => h.disable());
