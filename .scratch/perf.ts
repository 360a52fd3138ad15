import { EventEmitter } from 'node:events';
import { createJobmeter } from '/work/wt-jobs/src/index.ts';
import { instrumentRunner } from '/work/wt-jobs/src/integrations/graphile-worker.ts';
const jm = await createJobmeter({ listener: false, processMetrics: false, otelScopeInfo: false });
const mode = process.argv[2];
const events = new EventEmitter() as any;
if (mode === 'int') instrumentRunner(events, { jobmeter: jm });
const N = 300000;
function once() {
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    const job = { id: String(i), attempts: 1, task_identifier: 'emails' };
    if (mode === 'int') { events.emit('job:start', { job }); events.emit('job:success', { job }); }
    else { events.emit('job:start', { job }); const r = jm.startRun({ task: 'emails' }); events.emit('job:success', { job }); r.finish('success', { durationSeconds: 0.25 }); }
  }
  return ((performance.now() - t0) * 1e6) / N;
}
for (let k = 0; k < 6; k++) console.log(mode, once().toFixed(0), 'ns/job');
