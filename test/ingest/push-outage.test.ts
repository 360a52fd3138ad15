/**
 * OTLP push through collector outages (src/readers/otlp-push.ts), against a loopback collector
 * that goes down and comes back, or answers retryable statuses: no lost increments, nothing
 * queued (bounded memory), one log line per state change with no secret in it, the OTLP retry
 * rules, and `jobmeter serve` exiting 0 on SIGTERM within its grace whether the collector is up
 * or down.
 *
 * Exports are driven by forceFlush() (the interval is a minute), so every request is one the test
 * asked for. Lives in test/ingest/ with the rest of the Collector-path tests; it exercises
 * src/readers/otlp-push.ts.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import {
  createOtlpPushReader,
  type OtlpPushHooks,
  type ResolvedOtlpPushOptions,
} from '../../src/readers/otlp-push.ts';
import { ANY_TELEMETRY_PORT } from '../cli/harness.ts';
import { namesOf, startFlakyCollector, totalOf, type FlakyCollector } from './flaky-collector.ts';
import { logTo } from '../../src/common/log.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const NODE = join(ROOT, 'node_modules/.bin/node');
const MAIN = join(ROOT, 'src/cli/bin.ts');
const SECRET = 's3cr3t-token';

let collector: FlakyCollector;
before(async () => {
  collector = await startFlakyCollector();
});
after(async () => {
  await collector.close();
});
beforeEach(async () => {
  collector.requests.length = 0;
  collector.answer = () => ({ status: 200 });
  await collector.start();
});

function setup(overrides: Partial<ResolvedOtlpPushOptions> = {}, hooks: OtlpPushHooks = {}) {
  const lines: string[] = [];
  const u = new URL(collector.url);
  // Userinfo and a query token in the endpoint, a token header: none may reach a log line.
  u.username = 'user';
  u.password = SECRET;
  u.searchParams.set('token', SECRET);
  const reader = createOtlpPushReader(
    {
      endpoint: u.toString(),
      headers: { authorization: `Bearer ${SECRET}` },
      protocol: 'http/protobuf',
      intervalMillis: 60_000,
      // Below the exporter's first backoff (1 s ± 20 %): a refused connection fails the export at once.
      timeoutMillis: 500,
      temporality: 'cumulative',
      ...overrides,
    },
    { log: logTo((line) => lines.push(line)), ...hooks },
  );
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': 'outage-test' }),
    readers: [reader],
  });
  const meter = provider.getMeter('outage');
  const counter = meter.createCounter('runs');
  return { reader, provider, meter, counter, lines };
}

function assertNoSecrets(lines: readonly string[]): void {
  for (const line of lines) {
    assert.ok(!line.includes(SECRET), `a secret leaked: ${line}`);
    // The URL posted to is named (scheme, host, port, path), never its userinfo or query.
    assert.ok(
      !line.includes('user@') && !line.includes('?'),
      `userinfo or query in a log line: ${line}`,
    );
  }
}

describe('collector down, then back', () => {
  it('keeps no backlog, logs two lines in all, and the first export after the outage carries every increment', async () => {
    const { reader, provider, counter, lines } = setup();
    counter.add(1);
    await provider.forceFlush();
    assert.equal(totalOf(collector.requests[0], 'runs'), 1);

    await collector.stop();
    const OUTAGE_EXPORTS = 30;
    for (let i = 0; i < OUTAGE_EXPORTS; i++) {
      counter.add(1);
      await provider.forceFlush();
    }
    assert.deepEqual(reader.stats(), {
      state: 'failing',
      failedExports: OUTAGE_EXPORTS,
      inFlight: 0,
      maxInFlight: 1,
    });
    assert.equal(lines.length, 1, lines.join('\n'));
    assert.match(
      lines[0]!,
      /^OTLP push to http:\/\/127\.0\.0\.1:\d+\/v1\/metrics failing \((?:ECONNREFUSED|ECONNRESET)\); retrying every 60 s, nothing is queued, the pull endpoint is unaffected$/,
    );

    await collector.start();
    counter.add(1);
    await provider.forceFlush();
    assert.equal(collector.requests.length, 2, 'one export after the outage, no replayed backlog');
    assert.equal(
      totalOf(collector.requests[1], 'runs'),
      1 + OUTAGE_EXPORTS + 1,
      'the cumulative total holds every increment',
    );
    assert.equal(lines.length, 2, lines.join('\n'));
    assert.match(
      lines[1]!,
      /^OTLP push to http:\/\/127\.0\.0\.1:\d+\/v1\/metrics recovered after 30 failed exports; this export carried the full cumulative totals, no increment was lost$/,
    );
    assert.equal(reader.stats().state, 'ok');
    assertNoSecrets(lines);
    await provider.shutdown();
  });

  it('keeps memory flat through a long outage with many series', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const { provider, counter, lines } = setup();
    // Under the SDK's default cardinality limit (2000 per instrument).
    const SERIES = 1_500;
    const record = () => {
      for (let i = 0; i < SERIES; i++) counter.add(1, { job: `job-${i}` });
    };
    record();
    await provider.forceFlush();
    const payload = collector.requests[0]!.resourceMetrics[0]!.scopeMetrics[0]!.metrics[0]!;
    assert.ok(payload.data.type === 'sum', payload.data.type);
    assert.equal(payload.data.points.length, SERIES);

    await collector.stop();
    // Warm up: the first failures allocate the exporter's lazy state.
    for (let i = 0; i < 5; i++) await provider.forceFlush();
    gc();
    const before = process.memoryUsage().heapUsed;
    const EXPORTS = 100;
    for (let i = 0; i < EXPORTS; i++) {
      record();
      await provider.forceFlush();
    }
    gc();
    const grown = process.memoryUsage().heapUsed - before;
    // A kept export holds its 1500 points (about 100 kB); 100 of them would be ~10 MB.
    assert.ok(
      grown < 4 * 1024 * 1024,
      `heap grew by ${(grown / 1024 / 1024).toFixed(1)} MiB over ${EXPORTS} failed exports`,
    );
    assert.equal(lines.length, 1);

    await collector.start();
    await provider.forceFlush();
    const last = collector.requests.at(-1);
    assert.equal(totalOf(last, 'runs'), SERIES * (EXPORTS + 1));
    await provider.shutdown();
  });
});

describe('retries follow the OTLP specification', () => {
  for (const status of [429, 502, 503, 504]) {
    it(`${status} is retried within the export's timeout, honouring Retry-After`, async () => {
      const { provider, counter, lines } = setup({ timeoutMillis: 5_000 });
      collector.answer = (i) =>
        i === 0 ? { status, headers: { 'retry-after': '1' } } : { status: 200 };
      counter.add(4);
      await provider.forceFlush();
      assert.equal(collector.requests.length, 2, 'one retry');
      assert.equal(totalOf(collector.requests[1], 'runs'), 4);
      assert.deepEqual(lines, [], 'a retried success is no state change');
      await provider.shutdown();
    });
  }

  it('a Retry-After beyond the remaining timeout is not waited for: the export fails, once', async () => {
    const { provider, counter, lines } = setup({ timeoutMillis: 2_000 });
    // Without Retry-After the exporter would retry after ~1 s, inside the 2 s budget.
    collector.answer = () => ({ status: 503, headers: { 'retry-after': '30' } });
    counter.add(1);
    await provider.forceFlush();
    assert.equal(collector.requests.length, 1);
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /failing \(HTTP 429\/502\/503\/504 until the export timeout\)/);
    await provider.shutdown();
  });

  it('another status is not retried', async () => {
    const { provider, counter, lines } = setup({ timeoutMillis: 5_000 });
    collector.answer = () => ({ status: 400 });
    counter.add(1);
    await provider.forceFlush();
    assert.equal(collector.requests.length, 1);
    assert.match(lines[0]!, /failing \(HTTP 400\)/);
    assertNoSecrets(lines);
    await provider.shutdown();
  });
});

describe('shutdown', () => {
  it('makes one last export within its budget while the collector is unreachable, then returns', async () => {
    const { provider, counter, lines } = setup(
      { timeoutMillis: 30_000 },
      { shutdownTimeoutMillis: 300 },
    );
    await collector.stop();
    counter.add(1);
    // With 30 s of exporter timeout, a refused connection is retried for ~13 s; shutdown does not wait.
    await provider.shutdown();
    assert.match(
      lines.at(-1)!,
      /the last export did not complete within 300 ms of shutdown; exiting without it$/,
    );
  });

  it('jobmeter serve: SIGTERM sends the last export and exits 0', async () => {
    const run = await serve(collector.url);
    assert.equal(run.code, 0, run.stderr);
    // The previous test's exporter may still be retrying its `runs` export into this collector
    // (same process, same port): only the requests of the serve process count here.
    const fromServe = collector.requests.filter((r) => namesOf(r).some((n) => n !== 'runs'));
    assert.ok(fromServe.length >= 1, 'the last export arrived');
    assert.ok(namesOf(fromServe.at(-1)).includes('jobmeter.build.info'));
  });

  it('jobmeter serve: SIGTERM with the collector down still exits 0, within the CLI grace', async () => {
    await collector.stop();
    const run = await serve(collector.url);
    assert.equal(run.code, 0, run.stderr);
    assert.match(
      run.stderr,
      /the last export did not complete within 5 s of shutdown; exiting without it/,
    );
    assert.ok(!run.stderr.includes('did not finish within'), 'the CLI did not have to give up');
  });
});

/** `jobmeter serve` pushing to `endpoint`, SIGTERM once it serves; exit code and stderr. */
async function serve(endpoint: string): Promise<{ code: number | string; stderr: string }> {
  const child = spawn(NODE, [MAIN, 'serve', '--listen', '127.0.0.1:0'], {
    env: {
      PATH: process.env['PATH'] ?? '',
      HOME: process.env['HOME'] ?? '',
      OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: endpoint,
      ...ANY_TELEMETRY_PORT,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<number | string>((resolve) =>
    child.once('close', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
  const kill = setTimeout(() => child.kill('SIGKILL'), 20_000);
  try {
    await new Promise<void>((resolve, reject) => {
      const check = (): void => {
        if (/serving otel metrics/.test(stderr)) resolve();
      };
      child.stderr.on('data', check);
      void exited.then((code) =>
        reject(new Error(`serve exited (${code}) before serving:\n${stderr}`)),
      );
    });
    child.kill('SIGTERM');
    return { code: await exited, stderr };
  } finally {
    clearTimeout(kill);
  }
}
