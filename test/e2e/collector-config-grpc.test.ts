/**
 * `jobmeter collector-config --gateway-grpc HOST:PORT` pointing a Collector at `jobmeter serve`'s
 * OTLP/gRPC ingest (`[ingest] grpc_port`): the real Collector's `validate` accepts the generated
 * configuration, and jobmeter's canonical push through that Collector (the profile's processors,
 * then `otlp_grpc`) is served by `serve` as the same series an embedded jobmeter's pull serves under
 * the profile: names, types, label sets and values. `serve` takes the names as the Collector wrote
 * them (`[naming] translation_strategy = "UnderscoreEscapingWithoutSuffixes"`, as Prometheus 3's
 * OTLP receiver does in collector-gateway.test.ts); its own families and the sender's scope labels
 * are left out of the comparison.
 */
import assert from 'node:assert/strict';
import { after, afterEach, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { collectorConfigCommand } from '../../src/cli/collector-config-command.ts';
import { runDemo } from '../../src/demo/scenarios.ts';
import { createJobmeter, type Jobmeter } from '../../src/jobmeter.ts';
import { LEGACY_PROFILES } from '../../src/naming/profiles/index.ts';
import { killChildren, START_MS } from '../cli/harness.ts';
import {
  GENERATED_PORTS,
  generatedPortFlags,
  startCollector,
  validateCollectorConfig,
  type CollectorHandle,
} from '../support/collector.ts';
import { serveWithIngest } from '../support/serve.ts';
import { diffSeries, seriesTable, type SeriesTable } from '../support/series-diff.ts';
import { tempFiles } from '../support/temp-files.ts';

const PROFILES = ['solti', 'rm'] as const;
/** crewshipd-style `hostname` labels read host.name: the pull's from the option, the push's resource. */
const HOST = { hostname: 'host-1' } as const;

const files = tempFiles('jobmeter-collector-config-grpc-');
const meters: Jobmeter[] = [];
const collectors: CollectorHandle<string>[] = [];
afterEach(killChildren);
after(async () => {
  // The pushers' last export on shutdown still finds their Collector.
  await Promise.allSettled(meters.map((m) => m.shutdown()));
  await Promise.allSettled(collectors.map((c) => c.stop()));
});

async function pulled(port: number | string): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`, {
    headers: { accept: 'text/plain;version=0.0.4' },
    signal: AbortSignal.timeout(10_000),
  });
  assert.equal(res.status, 200);
  return res.text();
}

/** The series of the profile's families (`names`) in an exposition, without the sender's scope labels. */
function profileSeries(text: string, names: ReadonlySet<string>): SeriesTable {
  const table = seriesTable(text, { dropLabels: ['otel_scope_name', 'otel_scope_version'] });
  const ours = (sample: string): boolean =>
    names.has(sample) || names.has(sample.replace(/_(bucket|sum|count)$/, ''));
  for (const key of [...table.values.keys()])
    if (!ours((JSON.parse(key) as [string])[0])) table.values.delete(key);
  for (const sample of [...table.types.keys()]) if (!ours(sample)) table.types.delete(sample);
  return table;
}

describe('collector-config --gateway-grpc: a Collector forwarding to serve over OTLP/gRPC', () => {
  for (const profile of PROFILES) {
    it(`${profile}: otelcol validate accepts it, and serve serves what the profile's pull does`, async (t) => {
      const { child, pullPort } = await serveWithIngest(files, {
        lines: [
          'grpc_port = 0',
          '[naming]',
          'translation_strategy = "UnderscoreEscapingWithoutSuffixes"',
        ],
      });
      const [, grpcPort] = await child.stderrMatches(
        /receiving OTLP\/gRPC metrics on 127\.0\.0\.1:(\d+)/,
        START_MS,
      );
      const flags = ['--profile', profile, '--gateway-grpc', `127.0.0.1:${grpcPort}`];
      const text = await collectorConfigCommand(flags);
      const { exporters } = parseYaml(text) as { exporters: Record<string, unknown> };
      assert.deepEqual(exporters, {
        otlp_grpc: { endpoint: `127.0.0.1:${grpcPort}`, tls: { insecure: true } },
      });
      const { code, output } = await validateCollectorConfig(
        await files.file(`${profile}-grpc.yaml`, text),
      );
      assert.equal(code, 0, output);

      const collector = await startCollector({
        ports: ['otlp', ...GENERATED_PORTS],
        config: async (p) =>
          parseYaml(
            await collectorConfigCommand([
              ...flags,
              '--otlp',
              `127.0.0.1:${p.otlp}`,
              ...generatedPortFlags(p),
            ]),
          ) as Record<string, unknown>,
      });
      collectors.push(collector);
      const common = { profile, ...HOST, processMetrics: false, global: false } as const;
      const pusher = await createJobmeter({
        ...common,
        serviceName: `${profile}-grpc`,
        listener: false,
        otlp: {
          endpoint: `http://127.0.0.1:${collector.ports.otlp}/v1/metrics`,
          intervalMillis: 3_600_000,
          naming: 'canonical',
        },
      });
      const scraped = await createJobmeter({ ...common, listener: { port: 0 } });
      meters.push(pusher, scraped);
      runDemo(pusher, profile);
      runDemo(scraped, profile);
      await pusher.forceFlush();

      const families = new Set(LEGACY_PROFILES[profile].rules.map((r) => r.name));
      const expected = profileSeries(await pulled(scraped.pullAddress!.port), families);
      assert.ok(expected.values.size > 0);
      // The Collector's batch processor sends within its timeout; serve has it once it is there.
      let served = profileSeries(await pulled(pullPort), families);
      for (const until = Date.now() + 20_000; served.values.size === 0 && Date.now() < until;) {
        await new Promise((r) => setTimeout(r, 200));
        served = profileSeries(await pulled(pullPort), families);
      }
      t.diagnostic(`${served.values.size} series compared`);
      const diff = diffSeries(expected, served);
      assert.deepEqual(
        diff,
        { onlyLeft: [], onlyRight: [], values: [], types: [] },
        `the profile's pull (left) vs serve behind the Collector (right):\n${JSON.stringify(diff, null, 2)}`,
      );
    });
  }

  it('--gateway-grpc takes HOST:PORT, and no --prometheus or --front beside it', async () => {
    const refused: [string[], RegExp][] = [
      [['--gateway-grpc', 'http://serve:4317'], /--gateway-grpc.*HOST:PORT/],
      [['--gateway-grpc', '127.0.0.1:4317', '--prometheus', '127.0.0.1:9464'], /--prometheus/],
      [
        ['--gateway-grpc', '127.0.0.1:4317', '--front', '--workers', 'w1:4317'],
        /no store with --front/,
      ],
    ];
    for (const [args, message] of refused)
      await assert.rejects(collectorConfigCommand(['--profile', 'solti', ...args]), message);
  });
});
