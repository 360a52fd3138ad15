/**
 * A real `jobmeter serve` pushing OTLP to the real Collector (otlp receiver → prometheus exporter)
 * while its wall clock steps back 300 s (libfaketime, the monotonic clock untouched: NTP, a VM's
 * resume, `date -s`). The Collector's prometheus exporter, as any TSDB, keeps only a point at or
 * after the one it holds: serve's pushed point times must never go back within its process, or
 * the Collector serves the values from before the step until the wall clock has caught up.
 *
 * The Collector also forwards each push, as received, to a loopback receiver, so the test reads
 * every point time serve pushed: per series, no time before the one pushed before it, and no start
 * time after its point's time (a series made after the step too). The sender's clock is this
 * process's, not stepped: serve's ingest still judges its point times against serve's own wall
 * clock, 300 s behind, within what it accepts ahead. Then serve restarts on that clock: its points
 * go on after the first process's (its state file holds its point clock), across both processes.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { EXIT_MS, killChildren } from './harness.ts';
import { startCollector, type CollectorHandle } from '../support/collector.ts';
import { steppedClockEnv, stepTo } from '../support/faketime.ts';
import { startOtlpReceiver, type OtlpReceiver } from '../support/otlp-receiver.ts';
import { freePort } from '../support/free-port.ts';
import { serveWithIngest } from '../support/serve.ts';
import { tempFiles } from '../support/temp-files.ts';

const files = tempFiles('jobmeter-push-clock-step-');
afterEach(killChildren);

const PUSH_MS = 500;
const STEP_SECONDS = -300;
/** Generous on a loaded machine: 40 push intervals, where the defect holds the old values 300 s. */
const CATCH_UP_MS = 20_000;

interface Case {
  readonly label: string;
  readonly args: readonly string[];
  readonly naming: 'canonical' | 'profile';
  /** The instrument the sender counts, and its attributes (a profile's words where it has them). */
  readonly instrument: string;
  readonly attributes: Record<string, string>;
  /** The family the Collector serves it under. */
  readonly family: string;
  /** A delta counter first sent after the step (a series made then), and its attributes. */
  readonly fresh: string;
  readonly freshAttributes: Record<string, string>;
}

const CASES: readonly Case[] = [
  {
    label: 'canonical naming',
    args: [],
    naming: 'canonical',
    instrument: 'daemon.jobs',
    attributes: { queue: 'q1' },
    family: 'daemon_jobs_total',
    fresh: 'daemon.fresh',
    freshAttributes: {},
  },
  {
    label: 'profile naming (solti)',
    args: ['--profile', 'solti'],
    naming: 'profile',
    instrument: 'jobmeter.run.finished',
    attributes: { task: 't0', kind: 'task', runner: 'wasm', outcome: 'success' },
    family: 'solti_runner_tasks_completed_total',
    fresh: 'jobmeter.run.started',
    freshAttributes: { task: 't0', kind: 'task', runner: 'wasm' },
  },
];

function collectorFor(receiver: OtlpReceiver): Promise<CollectorHandle<'otlp' | 'prom'>> {
  return startCollector({
    ports: ['otlp', 'prom'],
    config: (p) => ({
      receivers: { otlp: { protocols: { http: { endpoint: `127.0.0.1:${p.otlp}` } } } },
      exporters: {
        // No queue and no retry: each push is forwarded, as received, before it is answered.
        otlp_http: {
          metrics_endpoint: receiver.url,
          compression: 'none',
          sending_queue: { enabled: false },
          retry_on_failure: { enabled: false },
        },
        prometheus: { endpoint: `127.0.0.1:${p.prom}`, metric_expiration: '60m' },
      },
      service: {
        pipelines: { metrics: { receivers: ['otlp'], exporters: ['otlp_http', 'prometheus'] } },
      },
    }),
  });
}

/** The sum of the values the Collector serves of `family` (undefined: none). */
async function collectorTotal(port: number, family: string): Promise<number | undefined> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`, {
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  assert.equal(res.status, 200, text);
  let total: number | undefined;
  for (const m of text.matchAll(new RegExp(`^${family}(?:\\{[^}]*\\})? (\\S+)`, 'gm')))
    total = (total ?? 0) + Number(m[1]);
  return total;
}

describe('serve pushes point times that never go back when its wall clock steps back', () => {
  let receiver: OtlpReceiver;
  let collector: CollectorHandle<'otlp' | 'prom'> | undefined;
  before(async () => {
    receiver = await startOtlpReceiver();
  });
  afterEach(async () => {
    await collector?.stop();
    collector = undefined;
  });
  after(async () => {
    await receiver?.close();
  });

  for (const c of CASES) {
    it(`${c.label}: the Collector serves the values pushed after a step of ${STEP_SECONDS} s`, async () => {
      receiver.requests.length = 0;
      const peer = (collector = await collectorFor(receiver));
      const offset = join(files.dir, `offset-${c.naming}`);
      // A fixed ingest port: the restart below finds its state file (named after the address).
      const options = {
        ingestPort: await freePort(),
        lines: [
          '[otlp]',
          `endpoint = "http://127.0.0.1:${peer.ports.otlp}/v1/metrics"`,
          `interval_ms = ${PUSH_MS}`,
          `naming = "${c.naming}"`,
        ],
        args: c.args,
        env: { XDG_STATE_HOME: files.dir, ...steppedClockEnv(offset) },
      };
      const { child, ingestPort } = await serveWithIngest(files, options);

      const startNanos = BigInt(Date.now() - 60_000) * 1_000_000n;
      let total = 0;
      let windowEnd = BigInt(Date.now()) * 1_000_000n;
      /** One export: the cumulative counter 5 more; with `fresh`, a delta counter too (a series made then). */
      const push = async (fresh: boolean): Promise<void> => {
        total += 5;
        const now = BigInt(Date.now()) * 1_000_000n;
        const attributesOf = (a: Record<string, string>) =>
          Object.entries(a).map(([key, v]) => ({ key, value: { stringValue: v } }));
        const attributes = attributesOf(c.attributes);
        const metrics: unknown[] = [
          {
            name: c.instrument,
            sum: {
              aggregationTemporality: 2,
              isMonotonic: true,
              dataPoints: [
                {
                  attributes,
                  asDouble: total,
                  startTimeUnixNano: String(startNanos),
                  timeUnixNano: String(now),
                },
              ],
            },
          },
        ];
        if (fresh)
          metrics.push({
            name: c.fresh,
            sum: {
              aggregationTemporality: 1,
              isMonotonic: true,
              dataPoints: [
                {
                  attributes: attributesOf(c.freshAttributes),
                  asDouble: 1,
                  startTimeUnixNano: String(windowEnd),
                  timeUnixNano: String(now),
                },
              ],
            },
          });
        windowEnd = now;
        const body = {
          resourceMetrics: [
            {
              resource: {
                attributes: [{ key: 'service.name', value: { stringValue: 'daemon' } }],
              },
              scopeMetrics: [{ scope: { name: 'daemon' }, metrics }],
            },
          ],
        };
        const res = await fetch(`http://127.0.0.1:${ingestPort}/v1/metrics`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        const answer = await res.text();
        assert.equal(res.status, 200, answer);
        assert.doesNotMatch(answer, /rejectedDataPoints/, 'the ingest accepts every point');
      };
      /** Until the Collector serves `want` of the family (bounded), what it served last. */
      const collectorReaches = async (want: number): Promise<number | undefined> => {
        const until = performance.now() + CATCH_UP_MS;
        let got: number | undefined;
        while (performance.now() < until) {
          got = await collectorTotal(peer.ports.prom, c.family);
          if (got === want) return got;
          await sleep(PUSH_MS / 2);
        }
        return got;
      };

      for (let i = 0; i < 3; i++) await push(false);
      assert.equal(await collectorReaches(total), total, 'the Collector serves the total');

      stepTo(offset, STEP_SECONDS);
      // Pushes of serve's from before the step may still be in flight: wait for two after it.
      await receiver.waitForRequests(receiver.requests.length + 2, CATCH_UP_MS);
      await push(true);
      await push(false);
      const pushedAfter = receiver.requests.length;
      assert.equal(
        await collectorReaches(total),
        total,
        `the Collector serves the total pushed after the step within ${CATCH_UP_MS / 1000} s`,
      );
      await receiver.waitForRequests(pushedAfter + 2, CATCH_UP_MS);

      child.child.kill('SIGTERM');
      assert.equal(await child.exited(EXIT_MS), 0, child.stderr());

      // Restarted with the wall clock still 300 s behind the first process's point clock: its
      // points go on after the last ones pushed (the state file says where), or the Collector keeps
      // the values from before the restart until the wall clock has caught up.
      const again = await serveWithIngest(files, options);
      await push(false);
      assert.equal(
        await collectorReaches(total),
        total,
        `the Collector serves the total pushed after a restart on the stepped-back clock within ${CATCH_UP_MS / 1000} s`,
      );
      await receiver.waitForRequests(receiver.requests.length + 2, CATCH_UP_MS);
      again.child.child.kill('SIGTERM');
      assert.equal(await again.child.exited(EXIT_MS), 0, again.child.stderr());

      // Every point time serve pushed, series by series, in push order.
      const last = new Map<string, bigint>();
      let points = 0;
      let fresh = 0;
      for (const [i, request] of receiver.requests.entries()) {
        for (const m of request.metrics) {
          for (const p of m.points) {
            const key = `${m.scope} ${m.name} ${JSON.stringify(p.attributes)}`;
            const time = BigInt(p.timeUnixNano ?? '0');
            assert.ok(time > 0n, `${key}: push ${i + 1} has no point time`);
            if (p.startTimeUnixNano !== undefined && p.startTimeUnixNano !== '0')
              assert.ok(
                BigInt(p.startTimeUnixNano) <= time,
                `${key}: push ${i + 1}'s start time ${p.startTimeUnixNano} is after its time ${time}`,
              );
            const before = last.get(key);
            if (before !== undefined && time < before)
              assert.fail(
                `${key}: push ${i + 1}'s time ${time} is ${Number(before - time) / 1e9} s before the previous push's ${before}`,
              );
            last.set(key, time);
            points++;
            if (/fresh|started/.test(m.name)) fresh++;
          }
        }
      }
      assert.ok(points > 0, 'serve pushed points');
      assert.ok(fresh > 0, 'serve pushed the series made after the step');
    });
  }
});
