/**
 * Every configuration `jobmeter collector-config` writes starts the real Collector without a
 * warning: a single daemon's (with `resource_detection`), a gateway's, a sharded tier's front and
 * worker. Each component is named as the Collector names it (`otelcol components`: no deprecated
 * alias, which it warns of at every start), the front batches and writes its queue and retries
 * out, and `--help` of both printing commands prints their usage and exits 0.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { after, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';

import { collectorConfigCommand } from '../../src/cli/collector-config-command.ts';
import { run } from '../cli/harness.ts';
import {
  GENERATED_PORTS,
  generatedPortFlags,
  startCollector,
  type CollectorHandle,
} from '../support/collector.ts';
import { otelcolBinary } from '../support/peers.ts';

const execFileP = promisify(execFile);
const PORTS = ['otlp', 'prometheus', ...GENERATED_PORTS] as const;
type Port = (typeof PORTS)[number];
/** What a Collector logs within this after "Everything is ready" is still its start. */
const SETTLE_MS = 1_500;

type Config = Record<string, Record<string, unknown>> & {
  service: { pipelines: { metrics: { processors: string[]; exporters: string[] } } };
};

const running: CollectorHandle<Port>[] = [];
after(async () => {
  await Promise.all(running.map((c) => c.stop()));
});

/** The Collector's own names of its components, by kind, as its `components` command lists them. */
async function componentNames(): Promise<Record<string, string[]>> {
  const { stdout } = await execFileP(otelcolBinary(), ['components']);
  const listed = parseYaml(stdout) as Record<string, { name: string }[] | undefined>;
  const names: Record<string, string[]> = {};
  for (const kind of ['receivers', 'processors', 'exporters', 'extensions'])
    names[kind] = (listed[kind] ?? []).map((c) => c.name);
  return names;
}

/** Starts the Collector on `args`' configuration; its log up to SETTLE_MS after ready. */
async function started(
  args: (p: Record<Port, number>) => string[],
): Promise<{ config: Config; log: string }> {
  let config: Config | undefined;
  const collector = await startCollector({
    ports: PORTS,
    config: async (p) => {
      config = parseYaml(
        await collectorConfigCommand([...args(p), ...generatedPortFlags(p)]),
      ) as Config;
      return config;
    },
  });
  running.push(collector);
  await sleep(SETTLE_MS);
  return { config: config!, log: collector.logs() };
}

function assertQuietStart(
  what: string,
  config: Config,
  log: string,
  names: Record<string, string[]>,
) {
  assert.doesNotMatch(log, /deprecat/i, `${what}: the Collector warns of a deprecated name`);
  const warnings = log.split('\n').filter((l) => /\twarn\t/.test(l));
  assert.deepEqual(warnings, [], `${what}: no warning at start`);
  for (const kind of ['receivers', 'processors', 'exporters', 'extensions']) {
    for (const id of Object.keys(config[kind] ?? {})) {
      const type = id.split('/')[0]!;
      assert.ok(
        names[kind]!.includes(type),
        `${what}: ${kind} ${id}: the Collector names it ${names[kind]!.join(', ')}`,
      );
    }
  }
}

describe('the Collector starts quietly on what collector-config writes', () => {
  it('a daemon, a gateway, a front and its worker: no deprecated alias, no warning, every component by its current name', async () => {
    const names = await componentNames();
    const daemon = await started((p) => [
      '--profile',
      'crewshipd',
      '--otlp',
      `127.0.0.1:${p.otlp}`,
      '--prometheus',
      `127.0.0.1:${p.prometheus}`,
    ]);
    assert.ok('resource_detection/system' in daemon.config['processors']!);
    assertQuietStart('daemon', daemon.config, daemon.log, names);

    const gateway = await started((p) => [
      '--profile',
      'solti',
      '--otlp',
      `127.0.0.1:${p.otlp}`,
      '--gateway',
      `http://127.0.0.1:${p.prometheus}/api/v1/otlp`,
      '--remote-write',
      `http://127.0.0.1:${p.prometheus}/api/v1/write`,
    ]);
    assertQuietStart('gateway', gateway.config, gateway.log, names);

    const worker = await started((p) => [
      '--worker',
      '--otlp',
      `127.0.0.1:${p.otlp}`,
      '--prometheus',
      `127.0.0.1:${p.prometheus}`,
    ]);
    assert.deepEqual(worker.config.service.pipelines.metrics.processors, [
      'memory_limiter',
      'delta_to_cumulative',
      'batch',
    ]);
    assertQuietStart('worker', worker.config, worker.log, names);
    const workerOtlp = (
      worker.config['receivers']!['otlp'] as { protocols: { grpc: { endpoint: string } } }
    ).protocols.grpc.endpoint;

    const front = await started((p) => [
      '--profile',
      'crewshipd',
      '--front',
      '--workers',
      workerOtlp,
      '--otlp',
      `127.0.0.1:${p.otlp}`,
    ]);
    assertQuietStart('front', front.config, front.log, names);
    const { processors, exporters } = front.config.service.pipelines.metrics;
    assert.deepEqual(exporters, ['load_balancing']);
    assert.equal(processors[0], 'memory_limiter');
    assert.equal(processors.at(-1), 'batch', 'the front batches after the profile ran');
    const lb = front.config['exporters']!['load_balancing'] as {
      sending_queue?: { enabled?: boolean };
      retry_on_failure?: { enabled?: boolean };
      protocol: {
        otlp: { sending_queue?: { enabled?: boolean }; retry_on_failure?: { enabled?: boolean } };
      };
    };
    for (const [where, at] of [
      ['load_balancing', lb],
      ['load_balancing.protocol.otlp', lb.protocol.otlp],
    ] as const) {
      assert.equal(at.sending_queue?.enabled, true, `${where}: sending_queue written out`);
      assert.equal(at.retry_on_failure?.enabled, true, `${where}: retry_on_failure written out`);
    }
  });

  it('collector-config --help and views --help print their usage and exit 0', async () => {
    for (const [command, usage] of [
      ['collector-config', /jobmeter collector-config --profile NAME/],
      ['views', /jobmeter views --profile NAME/],
    ] as const) {
      for (const flag of ['--help', '-h']) {
        const { code, stdout, stderr } = await run([command, flag]);
        assert.equal(code, 0, `${command} ${flag}: ${stderr}`);
        assert.equal(stderr, '');
        assert.match(stdout, /^Usage: /);
        assert.match(stdout, usage);
        assert.match(stdout, /--profile NAME {2,}/, `${command} ${flag}: its options`);
      }
    }
  });
});
