/**
 * `jobmeter serve` restarted under a running Prometheus 3 (docs/collector.md "jobmeter's own
 * restart"): 20 senders push one counter each way — 10 cumulative, 10 delta, each under its own
 * `service.instance.id`, merged into one series per temporality — while `serve` is stopped by
 * SIGTERM and later killed by SIGKILL, and started again on the same state directory
 * (`$STATE_DIRECTORY`, as systemd's `StateDirectory=` sets it).
 *
 * Prometheus must see no counter reset (`resets()` = 0) and `increase()` over the run must equal
 * what the senders had acknowledged, within one checkpoint interval's worth of increments (the
 * most a SIGKILL may lose of delta increments; the edges' extrapolation is far less). Senders push
 * every 2 s, each at its own phase, and Prometheus scrapes every 500 ms, so a restarted service
 * that served less until every sender pushed again would be seen doing it.
 *
 * A sender counts what it sent only once acknowledged (200). A delta sender whose push fails keeps
 * the increment and sends it with the next one (one point over the longer interval); a cumulative
 * sender's next point carries its total anyway.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CHECKPOINT_INTERVAL_MILLIS } from '../../src/ingest/state-keeper.ts';
import { EXIT_MS, killChildren, start, START_MS, type Running } from '../cli/harness.ts';
import { freePort } from '../support/free-port.ts';
import { startPrometheus, type PrometheusHandle } from '../support/prometheus.ts';

const SENDERS_EACH = 10;
const PUSH_EVERY_MS = 2_000;
const STEP = 5;
/** Increments per second of each merged series. */
const RATE = (SENDERS_EACH * STEP * 1000) / PUSH_EVERY_MS;
/** One checkpoint interval's worth of increments: what the totals may differ by. */
const TOLERANCE = (RATE * CHECKPOINT_INTERVAL_MILLIS) / 1000;
const PHASE_MS = 7_000;

let dir = '';
let config = '';
let stateDir = '';
let ingestPort = 0;
let pullPort = 0;
let prom: PrometheusHandle | undefined;
let serve: Running | undefined;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'jobmeter-restart-'));
  stateDir = join(dir, 'state');
  [ingestPort, pullPort] = [await freePort(), await freePort()];
  config = join(dir, 'jobmeter.toml');
  await writeFile(
    config,
    [
      'process_metrics = false',
      '[listener]',
      `port = ${pullPort}`,
      '[ingest]',
      'enabled = true',
      `port = ${ingestPort}`,
      '',
    ].join('\n'),
  );
});

after(async () => {
  killChildren();
  await prom?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function startServe(): Promise<Running> {
  const running = start(['serve', '--config', config], { STATE_DIRECTORY: stateDir });
  await running.stderrMatches(/receiving OTLP\/HTTP metrics on/, START_MS);
  return running;
}

/** One sender: a counter of its own instance, pushed every PUSH_EVERY_MS from `phaseMs` on, as long as `running()`. */
class Sender {
  /** Acknowledged increments. */
  acked = 0;
  #pending = 0;
  #total = 0;
  #lastEnd: bigint;
  readonly #delta: boolean;
  readonly #id: string;

  constructor(delta: boolean, id: string) {
    this.#delta = delta;
    this.#id = id;
    this.#lastEnd = BigInt(Date.now()) * 1_000_000n;
  }

  async run(phaseMs: number, running: () => boolean): Promise<void> {
    const startNs = this.#lastEnd;
    await sleep(phaseMs);
    while (running()) {
      this.#pending += STEP;
      const now = BigInt(Date.now()) * 1_000_000n;
      const value = this.#delta ? this.#pending : this.#total + this.#pending;
      const point = {
        asInt: String(value),
        startTimeUnixNano: String(this.#delta ? this.#lastEnd : startNs),
        timeUnixNano: String(now),
      };
      const name = this.#delta ? 'restart.delta' : 'restart.cumulative';
      const body = {
        resourceMetrics: [
          {
            resource: {
              attributes: [{ key: 'service.instance.id', value: { stringValue: this.#id } }],
            },
            scopeMetrics: [
              {
                scope: { name: 'sender' },
                metrics: [
                  {
                    name,
                    sum: {
                      aggregationTemporality: this.#delta ? 1 : 2,
                      isMonotonic: true,
                      dataPoints: [point],
                    },
                  },
                ],
              },
            ],
          },
        ],
      };
      if (await post(body)) {
        this.acked += this.#pending;
        this.#total += this.#pending;
        this.#pending = 0;
        this.#lastEnd = now;
      }
      await sleep(PUSH_EVERY_MS);
    }
  }
}

async function post(body: unknown): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${ingestPort}/v1/metrics`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(1_500),
    });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}

async function served(): Promise<Record<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${pullPort}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^(restart_(?:cumulative|delta)_total)\{[^}]*\} (\S+)/gm))
    out[m[1]!] = Number(m[2]);
  return out;
}

const scalar = (samples: { value: [number, string] }[]): number => Number(samples[0]?.value[1]);

test(
  'a SIGTERM and a SIGKILL restart: Prometheus 3 sees no reset, and increase() is what was sent',
  { timeout: 120_000 },
  async (t) => {
    serve = await startServe();
    prom = await startPrometheus({
      major: 3,
      jobs: [{ name: 'jobmeter', target: `127.0.0.1:${pullPort}` }],
      scrapeInterval: '500ms',
    });
    await prom.waitForTargetsUp(30_000);

    let sending = true;
    const senders = [...Array(2 * SENDERS_EACH).keys()].map(
      (i) => new Sender(i % 2 === 1, `daemon-${i}`),
    );
    const runs = senders.map((s, i) => s.run((i * PUSH_EVERY_MS) / senders.length, () => sending));
    const startLines: string[] = [];
    try {
      await sleep(PHASE_MS);
      serve.child.kill('SIGTERM');
      assert.equal(await serve.exited(EXIT_MS), 0);
      serve = await startServe();
      startLines.push(serve.stderr());

      await sleep(PHASE_MS);
      serve.child.kill('SIGKILL');
      await serve.exited(EXIT_MS);
      serve = await startServe();
      startLines.push(serve.stderr());
      await sleep(PHASE_MS);
    } finally {
      sending = false;
      await Promise.all(runs);
    }
    const sent = (delta: boolean) =>
      senders.filter((_, i) => i % 2 === (delta ? 1 : 0)).reduce((n, s) => n + s.acked, 0);
    const last = await served();
    // Prometheus has scraped the last values.
    for (const [name, value] of Object.entries(last))
      await prom.waitFor(name, (r) => scalar(r) === value, 15_000);

    const seen = [];
    for (const name of ['restart_cumulative_total', 'restart_delta_total']) {
      const window = '5m';
      const resets = scalar(await prom.query(`resets(${name}[${window}])`));
      const increase = scalar(await prom.query(`increase(${name}[${window}])`));
      const expected = sent(name === 'restart_delta_total');
      t.diagnostic(
        `${name}: served ${last[name]}, resets() ${resets}, increase() ${increase}, sent ${expected}`,
      );
      seen.push({ name, resets, increase, expected });
    }
    for (const { name, resets, increase, expected } of seen) {
      assert.equal(resets, 0, `${name}: no reset`);
      assert.ok(
        Math.abs(increase - expected) <= TOLERANCE,
        `${name}: increase() ${increase} for ${expected} sent (tolerance ${TOLERANCE})`,
      );
    }
    assert.equal(
      last.restart_cumulative_total,
      sent(false),
      "cumulative senders: each one's last total, nothing lost",
    );
    assert.ok(
      Math.abs(last.restart_delta_total! - sent(true)) <= TOLERANCE,
      `delta senders: ${last.restart_delta_total} served of ${sent(true)} sent (at most ${TOLERANCE} lost)`,
    );
    assert.match(
      startLines[0]!,
      /ingest state: restored 2 series \(20 source series, 2 instruments\)/,
      'after SIGTERM',
    );
    assert.match(
      startLines[1]!,
      /ingest state: restored 2 series \(20 source series, 2 instruments\)/,
      'after SIGKILL',
    );
    serve.child.kill('SIGTERM');
    assert.equal(await serve.exited(EXIT_MS), 0);
  },
);
