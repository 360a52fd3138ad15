/**
 * A source that expires while another sender keeps its series served, and comes back: counted
 * once (docs/collector.md "The model", "Expiry"; test/model/model.ts). Two senders (two
 * `service.instance.id`s) push the same counter and histogram series to a real `jobmeter serve`;
 * sender 0 falls silent past `expiry_ms` while sender 1 keeps pushing, then sender 0 comes back
 * under the same resource:
 *
 * - key `a`: sender 0 kept running and sends its unchanged total, then a higher one: the series
 *   goes on from what it served (1 + 1, then 4 + 1), never adding its kept part and its total whole;
 * - key `b`: sender 0 restarted while gone (its total, 1, below its last, 3): the new total adds
 *   whole (3 + 1 + 1).
 *
 * Under the native profile each key is a series; under solti (a legacy profile whose counter and
 * histogram merge the tasks under one `runner` label set) both keys add up in one series, carried
 * by the naming's own rule (series/carry.ts `SourceTotals`) over the ingest's series, which must
 * themselves count the returning source once. The oracle is what the senders counted.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, it } from 'node:test';
import { killChildren } from '../cli/harness.ts';
import { serveWithIngest, type Serving } from '../support/serve.ts';
import { tempFiles } from '../support/temp-files.ts';

const files = tempFiles('jobmeter-returning-source-');
afterEach(killChildren);

const EXPIRY_MS = 3_000;
/** A bound on any wait for what must happen (never a claim about speed). */
const WAIT_MS = 90_000;

interface Serve extends Serving {
  readonly telemetry: string;
}

async function serve(profile: string): Promise<Serve> {
  const serving = await serveWithIngest(files, {
    lines: [
      `state_dir = "${join(files.dir, `state-${profile}`)}"`,
      `expiry_ms = ${EXPIRY_MS}`,
      '[telemetry]',
      'listen = "127.0.0.1:0"',
    ],
    args: ['--profile', profile],
  });
  const [, telemetry] = await serving.child.stderrMatches(
    /serving jobmeter's own telemetry on (http:\/\/\S+\/metrics)\n/,
    WAIT_MS,
  );
  return { ...serving, telemetry: telemetry! };
}

/** What a profile's senders send and where its scrape serves it. */
interface Naming {
  readonly profile: string;
  readonly counter: string;
  readonly histogram: string;
  /** A key's attributes as sent. */
  attributes(key: 'a' | 'b'): Record<string, string>;
  /** The served lines read: label → pattern of its value. */
  readonly lines: Record<string, RegExp>;
}

const NATIVE: Naming = {
  profile: 'otel',
  counter: 'model.events',
  histogram: 'model.latency',
  attributes: (k) => ({ k }),
  lines: {
    'events a': /^model_events_total\{[^}]*k="a"[^}]*\} (\S+)$/m,
    'events b': /^model_events_total\{[^}]*k="b"[^}]*\} (\S+)$/m,
    'count a': /^model_latency_seconds_count\{[^}]*k="a"[^}]*\} (\S+)$/m,
    'count b': /^model_latency_seconds_count\{[^}]*k="b"[^}]*\} (\S+)$/m,
    'bucket a': /^model_latency_seconds_bucket\{[^}]*k="a"[^}]*le="0\.01"[^}]*\} (\S+)$/m,
    'bucket b': /^model_latency_seconds_bucket\{[^}]*k="b"[^}]*le="0\.01"[^}]*\} (\S+)$/m,
  },
};

const SOLTI: Naming = {
  profile: 'solti',
  counter: 'jobmeter.run.started',
  histogram: 'jobmeter.run.duration',
  attributes: (k) => ({ task: k, kind: 'task', runner: 'wasm' }),
  lines: {
    started: /^solti_runner_tasks_started_total\{runner="wasm"\} (\S+)$/m,
    count: /^solti_runner_task_duration_seconds_count\{runner="wasm"\} (\S+)$/m,
    bucket: /^solti_runner_task_duration_seconds_bucket\{runner="wasm",le="0\.01"\} (\S+)$/m,
  },
};

/** A sender's totals per key (each both the counter's and the histogram's count), and its start. */
interface Totals {
  readonly a: number;
  readonly b: number;
  /** Its start, Unix ms (a restarted sender's is new). */
  readonly start: number;
}

const nanos = (ms: number): string => (BigInt(Math.round(ms)) * 1_000_000n).toString();

/** Sender `instance`'s cumulative totals, as OTLP/JSON, to `s`'s ingest. */
async function push(s: Serve, n: Naming, instance: string, totals: Totals): Promise<void> {
  const time = nanos(Date.now());
  const start = nanos(totals.start);
  const keys = (['a', 'b'] as const).map((k) => ({
    value: totals[k],
    attributes: Object.entries(n.attributes(k)).map(([key, v]) => ({
      key,
      value: { stringValue: v },
    })),
  }));
  const body = {
    resourceMetrics: [
      {
        resource: {
          attributes: [
            { key: 'service.name', value: { stringValue: 'daemon' } },
            { key: 'service.instance.id', value: { stringValue: instance } },
          ],
        },
        scopeMetrics: [
          {
            scope: { name: 'daemon' },
            metrics: [
              {
                name: n.counter,
                sum: {
                  aggregationTemporality: 2,
                  isMonotonic: true,
                  dataPoints: keys.map(({ value, attributes }) => ({
                    attributes,
                    startTimeUnixNano: start,
                    timeUnixNano: time,
                    asDouble: value,
                  })),
                },
              },
              {
                name: n.histogram,
                unit: 's',
                histogram: {
                  aggregationTemporality: 2,
                  dataPoints: keys.map(({ value, attributes }) => ({
                    attributes,
                    startTimeUnixNano: start,
                    timeUnixNano: time,
                    count: String(value),
                    sum: value / 200,
                    bucketCounts: [String(value), '0'],
                    explicitBounds: [0.01],
                  })),
                },
              },
            ],
          },
        ],
      },
    ],
  };
  const res = await fetch(`http://127.0.0.1:${s.ingestPort}/v1/metrics`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  assert.equal(res.status, 200, text);
  assert.doesNotMatch(text, /rejected/i, `every point taken: ${text}`);
}

/** The naming's lines as served (undefined: not served), and the scrape for diagnostics. */
async function scraped(
  s: Serve,
  n: Naming,
): Promise<{ values: Record<string, number | undefined>; body: string }> {
  const body = await (await fetch(`http://127.0.0.1:${s.pullPort}/metrics`)).text();
  const values: Record<string, number | undefined> = {};
  for (const [label, pattern] of Object.entries(n.lines)) {
    const m = pattern.exec(body);
    values[label] = m === null ? undefined : Number(m[1]);
  }
  return { values, body };
}

async function expiredTotal(s: Serve): Promise<number> {
  const body = await (await fetch(s.telemetry)).text();
  const line = /^jobmeter_ingest_series_expired_total (\S+)$/m.exec(body);
  return line === null ? 0 : Number(line[1]);
}

async function expect(
  s: Serve,
  n: Naming,
  want: Record<string, number>,
  when: string,
): Promise<void> {
  const { values, body } = await scraped(s, n);
  assert.deepEqual(values, want, `${n.profile}, ${when}; the scrape:\n${body}`);
}

/** Native: each key its own series; solti: both keys add up under runner="wasm". */
function served(n: Naming, a: number, b: number): Record<string, number> {
  if (n === SOLTI) return { started: a + b, count: a + b, bucket: a + b };
  return {
    'events a': a,
    'events b': b,
    'count a': a,
    'count b': b,
    'bucket a': a,
    'bucket b': b,
  };
}

describe('a source that expires while another sender serves its series, and comes back', () => {
  for (const n of [NATIVE, SOLTI]) {
    it(`is counted once: going on from its total, or whole after a restart (${n.profile})`, async () => {
      const s = await serve(n.profile);
      const started = Date.now() - 60_000;
      const steady: Totals = { a: 1, b: 1, start: started };
      await push(s, n, 'sender-1', steady);
      await push(s, n, 'sender-0', { a: 1, b: 3, start: started });
      await expect(s, n, served(n, 2, 4), 'both senders pushed');

      // Sender 0 falls silent; sender 1 keeps its series served. Its four source series
      // (a and b, counter and histogram) expire, and the served totals keep what it counted.
      const deadline = performance.now() + WAIT_MS;
      while ((await expiredTotal(s)) < 4) {
        assert.ok(performance.now() < deadline, `sender 0 not expired ${WAIT_MS} ms on`);
        await push(s, n, 'sender-1', steady);
        await sleep(300);
      }
      await push(s, n, 'sender-1', steady);
      await expect(s, n, served(n, 2, 4), 'sender 0 expired');

      // Sender 0 is back: a kept running (its total unchanged), b restarted while gone (1 < 3).
      const restarted = Date.now() - 1_000;
      await push(s, n, 'sender-0', { a: 1, b: 1, start: restarted });
      await expect(s, n, served(n, 2, 5), 'sender 0 back with a unchanged and b restarted');
      await push(s, n, 'sender-0', { a: 4, b: 2, start: restarted });
      await expect(s, n, served(n, 5, 6), 'sender 0 counting on');
      assert.equal(await expiredTotal(s), 4, 'only sender 0 expired, once');
    });
  }
});
