/**
 * jobmeter's `--debug` blocks against the real Collector's `debug` exporter at `verbosity: normal`
 * (the release pinned in test/peers/versions.env), for the same data:
 *
 * - pushed: for every profile (and canonical naming too), jobmeter pushes its demo scenario to a
 *   real Collector; the lines of jobmeter's `pushed` block equal the lines the Collector prints for
 *   that very request, and the header's counts equal the Collector's summary line.
 * - received: a foreign OpenTelemetry SDK exports the same collection to jobmeter's ingest and to
 *   the Collector (two readers on one provider; the normal form prints no timestamps); the
 *   `received` block equals the Collector's output.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { DEBUG_PREFIX } from '../../src/debug/debug-printer.ts';
import { runDemo } from '../../src/demo/scenarios.ts';
import { createJobmeter, type Jobmeter } from '../../src/jobmeter.ts';
import type { OtlpPushOptions, ProfileName } from '../../src/options.ts';
import { startDebugCollector, type CollectorHandle } from '../support/collector.ts';

const PROFILES: readonly ProfileName[] = ['otel', 'runwisp', 'wasmrun', 'crewshipd', 'rm', 'solti'];

interface Block {
  header: string;
  lines: string[];
}

/** jobmeter's debug lines, grouped into blocks by their `jobmeter: debug: ` headers. */
function blocksOf(lines: readonly string[]): Block[] {
  const out: Block[] = [];
  for (const line of lines) {
    if (line.startsWith(DEBUG_PREFIX))
      out.push({ header: line.slice(DEBUG_PREFIX.length), lines: [] });
    else out.at(-1)?.lines.push(line);
  }
  return out;
}

/** The Collector's output file: one `Metrics\t{counts}` line per export, its lines, a blank line. */
function collectorBlocks(text: string): Array<{ counts: string; lines: string[] }> {
  const out: Array<{ counts: string; lines: string[] }> = [];
  for (const line of text.split('\n')) {
    const m = /^Metrics\t(\{.*\})$/.exec(line);
    if (m) out.push({ counts: m[1]!, lines: [] });
    else if (line !== '') out.at(-1)?.lines.push(line);
  }
  return out;
}

let collector: CollectorHandle<'otlp'>;
before(async () => {
  collector = await startDebugCollector('normal');
});
after(async () => {
  await collector?.stop();
});

/** Waits for the Collector to have printed `n` exports, and returns them. */
async function printed(n: number): Promise<Array<{ counts: string; lines: string[] }>> {
  const text = await collector.waitForOutput('debug.txt', (t) => collectorBlocks(t).length >= n);
  return collectorBlocks(text);
}

let exportsSoFar = 0;

async function pushOnce(
  profile: ProfileName,
  otlp: Partial<OtlpPushOptions>,
): Promise<{ mine: Block; theirs: { counts: string; lines: string[] } }> {
  const lines: string[] = [];
  let jm: Jobmeter | undefined;
  try {
    jm = await createJobmeter({
      profile,
      serviceName: `${profile}-daemon`,
      listener: false,
      processMetrics: false,
      hostname: 'host-1',
      debug: (line) => lines.push(line),
      otlp: {
        endpoint: `http://127.0.0.1:${collector.ports.otlp}/v1/metrics`,
        intervalMillis: 3_600_000,
        ...otlp,
      },
    });
    runDemo(jm, profile);
    await jm.forceFlush();
  } finally {
    await jm?.shutdown();
  }
  // Shutdown exports once more: both exports, in order, on both sides.
  const mine = blocksOf(lines).filter((b) => b.header.startsWith('pushed '));
  assert.equal(mine.length, 2, lines.join('\n'));
  exportsSoFar += 2;
  const theirs = (await printed(exportsSoFar)).slice(exportsSoFar - 2, exportsSoFar);
  return { mine: mine[0]!, theirs: theirs[0]! };
}

describe('--debug pushed blocks equal the real debug exporter (normal)', () => {
  const cases: Array<[ProfileName, Partial<OtlpPushOptions>]> = [
    ...PROFILES.map((p): [ProfileName, Partial<OtlpPushOptions>] => [p, {}]),
    ['rm', { naming: 'canonical' }],
    ['solti', { protocol: 'http/json' }],
  ];
  for (const [profile, otlp] of cases) {
    it(`${profile} ${JSON.stringify(otlp)}`, async () => {
      const { mine, theirs } = await pushOnce(profile, otlp);
      assert.ok(mine.lines.length > 0);
      assert.deepEqual(mine.lines, theirs.lines);
      assert.match(mine.header, /^pushed (\{[^}]*\}) \(OTLP\/HTTP (protobuf|json)\): delivered$/);
      assert.equal(/^pushed (\{[^}]*\})/.exec(mine.header)![1], theirs.counts);
    });
  }
});

describe('--debug received blocks equal the real debug exporter (normal)', () => {
  it('a foreign SDK exporting one collection to both', async () => {
    const lines: string[] = [];
    const jm = await createJobmeter({
      listener: false,
      processMetrics: false,
      ingest: { port: 0 },
      debug: (l) => lines.push(l),
    });
    const provider = new MeterProvider({
      resource: resourceFromAttributes({
        'service.name': 'go-daemon',
        'service.instance.id': 'go-daemon-1',
      }),
      readers: [jm.ingestAddress!, collector.ports].map(
        (to) =>
          new PeriodicExportingMetricReader({
            exporter: new OTLPMetricExporter({
              url: `http://127.0.0.1:${'port' in to ? to.port : to.otlp}/v1/metrics`,
            }),
            exportIntervalMillis: 3_600_000,
          }),
      ),
    });
    try {
      const meter = provider.getMeter('go-daemon', '1.4.2');
      meter
        .createCounter('daemon.jobs', { unit: '{job}' })
        .add(3, { queue: 'default', urgent: true });
      meter.createGauge('daemon.queue.depth').record(7.5, { queue: 'default' });
      meter.createUpDownCounter('daemon.workers').add(-4);
      const h = meter.createHistogram('daemon.job.duration', {
        unit: 's',
        advice: { explicitBucketBoundaries: [0.1, 1, 10] },
      });
      h.record(0.25, { queue: 'default', 'weird key': 'a "quoted" value' });
      h.record(20, { queue: 'default', 'weird key': 'a "quoted" value' });
      meter.createCounter('jobmeter.run.finished').add(2, { task: 'nightly', outcome: 'success' });
      await provider.shutdown();
      const mine = blocksOf(lines).filter((b) => b.header.startsWith('received '));
      assert.equal(mine.length, 1, lines.join('\n'));
      exportsSoFar += 1;
      const theirs = (await printed(exportsSoFar)).at(-1)!;
      assert.deepEqual(mine[0]!.lines, theirs.lines);
      assert.equal(/^received (\{[^}]*\})/.exec(mine[0]!.header)![1], theirs.counts);
    } finally {
      await jm.shutdown();
    }
  });
});
