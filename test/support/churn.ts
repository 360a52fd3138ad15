/**
 * Label churn for heap tests: a forced-GC heap reading, and OTLP/JSON bodies whose series come
 * and go round after round (a counter of its own each round), the job ids the same each round so
 * what the decoder remembers of attribute sets does not grow with the churn.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** The heap in use after two full collections. */
export function heapAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/** One OTLP/JSON request of round `round`: counter `churn.jobs.r<round>`, a point for each of `n` job ids. */
export function churnBody(round: number, n: number): string {
  const now = `${BigInt(Date.now()) * 1_000_000n}`;
  const dataPoints = [];
  for (let i = 0; i < n; i++)
    dataPoints.push({
      attributes: [{ key: 'job_id', value: { stringValue: `job-${i}` } }],
      startTimeUnixNano: now,
      timeUnixNano: now,
      asInt: '1',
    });
  const metric = {
    name: `churn.jobs.r${round}`,
    sum: { aggregationTemporality: 2, isMonotonic: true, dataPoints },
  };
  const scope = { scope: { name: 'churner' }, metrics: [metric] };
  const resource = { attributes: [{ key: 'service.name', value: { stringValue: 'churner' } }] };
  return JSON.stringify({ resourceMetrics: [{ resource, scopeMetrics: [scope] }] });
}
