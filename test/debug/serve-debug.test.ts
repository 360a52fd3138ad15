/**
 * `jobmeter serve --debug` as a child process: a foreign sender's official OTLP exporter pushes to
 * the ingest listener, jobmeter pushes to a loopback receiver, and stderr shows both sides in the
 * debug exporter's normal form — the same series, the same line. Headers and tokens never appear.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, afterEach, before, test } from 'node:test';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { EXIT_MS, killChildren, START_MS, start } from '../cli/harness.ts';
import { serveWithIngest } from '../support/serve.ts';
import { tempFiles } from '../support/temp-files.ts';
import { startOtlpReceiver, type OtlpReceiver } from '../support/otlp-receiver.ts';

const TOKEN = 's3cr3t-debug-token';

const files = tempFiles('jobmeter-debug-');
let receiver: OtlpReceiver;
before(async () => {
  receiver = await startOtlpReceiver();
});
after(async () => {
  await receiver?.close();
});
afterEach(killChildren);

/** A foreign daemon's SDK: points of each kind, pushed once through the official protobuf exporter. */
async function pushFromDaemon(url: string): Promise<void> {
  const provider = new MeterProvider({
    resource: resourceFromAttributes({
      'service.name': 'go-daemon',
      'service.instance.id': 'go-daemon-1',
    }),
    readers: [
      new PeriodicExportingMetricReader({
        exporter: new OTLPMetricExporter({ url, headers: { authorization: `Bearer ${TOKEN}` } }),
        exportIntervalMillis: 60_000,
      }),
    ],
  });
  const meter = provider.getMeter('go-daemon', '1.4.2');
  meter.createCounter('daemon.jobs', { unit: '{job}' }).add(3, { queue: 'default', urgent: true });
  meter.createCounter('daemon.jobs', { unit: '{job}' }).add(1, { queue: 'bulk', urgent: false });
  meter.createGauge('daemon.queue.depth', { unit: '{job}' }).record(7, { queue: 'default' });
  meter.createUpDownCounter('daemon.workers', { unit: '{worker}' }).add(4);
  const histogram = meter.createHistogram('daemon.job.duration', {
    unit: 's',
    advice: { explicitBucketBoundaries: [0.1, 1, 10] },
  });
  histogram.record(0.25, { queue: 'default' });
  histogram.record(2, { queue: 'default' });
  // Shutdown exports once (a forceFlush first would send the same totals twice).
  await provider.shutdown();
}

interface Block {
  header: string;
  lines: string[];
}

/** The `jobmeter: debug: received|pushed …` blocks of stderr: each header and the lines up to the next `jobmeter: ` line. */
function blocks(stderr: string): Block[] {
  const out: Block[] = [];
  let current: Block | undefined;
  for (const line of stderr.split('\n')) {
    if (line.startsWith('jobmeter: ')) {
      current = /^jobmeter: debug: (received|pushed) /.test(line)
        ? { header: line, lines: [] }
        : undefined;
      if (current !== undefined) out.push(current);
    } else if (current !== undefined && line !== '') {
      current.lines.push(line);
    }
  }
  return out;
}

/** The data point lines of the daemon's series. */
const daemonLines = (block: Block) => block.lines.filter((l) => l.startsWith('daemon.')).sort();

test('serve --debug prints what it receives and what it pushes; the same series print the same line', async () => {
  const { child, ingestPort: port } = await serveWithIngest(files, {
    lines: [
      '[otlp]',
      `endpoint = "${receiver.url}"`,
      'interval_ms = 60000',
      '[otlp.headers]',
      `authorization = "Bearer ${TOKEN}"`,
    ],
    args: ['--debug'],
  });
  await child.stderrMatches(
    /jobmeter: debug: printing every OTLP request received and every OTLP export pushed/,
    START_MS,
  );

  await pushFromDaemon(`http://127.0.0.1:${port}/v1/metrics`);
  await child.stderrMatches(
    /jobmeter: debug: received [^\n]*\n(?:[^\n]*\n)*daemon\.workers\{\} 4\n/,
    START_MS,
  );
  // SIGTERM: the last export carries what was received; its block is printed once it settles.
  child.child.kill('SIGTERM');
  assert.equal(await child.exited(EXIT_MS), 0);
  assert.ok(receiver.requests.length >= 1, 'jobmeter pushed');

  const stderr = child.stderr();
  const all = blocks(stderr);
  const received = all.filter((b) => b.header.startsWith('jobmeter: debug: received '));
  const pushed = all.filter((b) => b.header.startsWith('jobmeter: debug: pushed '));
  assert.equal(received.length, 1, stderr);
  assert.equal(pushed.length, 1, stderr);
  assert.equal(
    received[0]!.header,
    'jobmeter: debug: received {"resource metrics": 1, "metrics": 4, "data points": 5} (OTLP/HTTP protobuf)',
  );
  assert.match(
    pushed[0]!.header,
    /^jobmeter: debug: pushed \{"resource metrics": 1, "metrics": \d+, "data points": \d+\} \(OTLP\/HTTP protobuf\): delivered$/,
  );

  // Each side's resource and scope, as the debug exporter's normal verbosity prints them.
  assert.deepEqual(received[0]!.lines.slice(0, 2), [
    'ResourceMetrics #0 service.name=go-daemon service.instance.id=go-daemon-1',
    'ScopeMetrics #0 go-daemon@1.4.2',
  ]);
  assert.equal(pushed[0]!.lines[0], 'ResourceMetrics #0 service.name=jobmeter');
  assert.ok(
    pushed[0]!.lines.includes('ScopeMetrics #0 go-daemon@1.4.2'),
    'ingested scopes are kept',
  );

  const sent = daemonLines(received[0]!);
  assert.deepEqual(sent, [
    'daemon.job.duration{queue=default} count=2 sum=2.25 min=0.25 max=2 le0.1=0 le1=1 le10=1 0',
    'daemon.jobs{queue=bulk,urgent=false} 1',
    'daemon.jobs{queue=default,urgent=true} 3',
    'daemon.queue.depth{queue=default} 7',
    'daemon.workers{} 4',
  ]);
  // The same series, the same line — except that the ingest keeps no histogram min/max (it holds
  // cumulative buckets, sum and count), so the pushed histogram has none: the diff shows it.
  assert.deepEqual(
    daemonLines(pushed[0]!),
    sent.map((l) => l.replace(' min=0.25 max=2', '')),
  );

  // docs/fleet.md's sample is this run's output: its lines in order, `…` standing for any lines.
  const debugLines = all.flatMap((b) => [b.header, ...b.lines]);
  const page = readFileSync(new URL('../../docs/fleet.md', import.meta.url), 'utf8');
  const sample = /^```text\n(jobmeter: debug: received [^]*?)^```$/m.exec(page)?.[1];
  assert.ok(sample !== undefined, "docs/fleet.md's --debug sample");
  let at = 0;
  for (const segment of sample.trimEnd().split(/^…\n/m)) {
    const lines = segment.trimEnd().split('\n');
    const found = debugLines.findIndex(
      (_, i) => i >= at && lines.every((l, k) => debugLines[i + k] === l),
    );
    assert.ok(
      found !== -1,
      `docs/fleet.md's sample lines, in this order, are in the output:\n${lines.join('\n')}\n--- output:\n${debugLines.join('\n')}`,
    );
    at = found + lines.length;
  }

  assert.ok(!stderr.includes(TOKEN), 'no token on stderr');
  assert.ok(!/authorization/i.test(stderr), 'no header names either');
  assert.equal(
    receiver.requests.at(-1)!.headers.authorization,
    `Bearer ${TOKEN}`,
    'the header itself was sent',
  );
});

test('serve --debug without ingest or push says there is nothing to print', async () => {
  const child = start(['serve', '--listen', '127.0.0.1:0', '--debug']);
  await child.stderrMatches(
    /jobmeter: debug: nothing to print: \[ingest\] is off and no \[otlp\] endpoint is set/,
    START_MS,
  );
  child.child.kill('SIGTERM');
  assert.equal(await child.exited(EXIT_MS), 0);
});
