/**
 * `jobmeter collector-config` as a child process: what it prints (YAML under a header naming what
 * the Collector cannot reproduce) and how it refuses bad flags. That the configuration works is
 * test/e2e/collector-profiles.test.ts's, against the real Collector.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';

import { parseConfigFile } from '@opentelemetry/configuration';
import { compileCollectorConfig, GO_RUNTIME } from '../../src/cli/collector-config.ts';
import {
  collectorConfigCommand,
  commandProfile,
  ZERO_FILLED_PREFIX,
} from '../../src/cli/collector-config-command.ts';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { createNamer } from '../../src/naming/to-families.ts';
import type { TableProfile } from '../../src/naming/types.ts';
import { viewsCommand } from '../../src/cli/views-command.ts';
import { tempFiles } from '../support/temp-files.ts';
import { LEGACY_PROFILES } from '../../src/naming/profiles/index.ts';
import { DEFAULT_RUN_DURATION_BUCKETS, WAIT_BUCKETS } from '../../src/domain/catalog.ts';
import { run } from './harness.ts';

interface Config {
  receivers: { otlp: { protocols: { http: { endpoint: string } } } };
  processors: Record<
    string,
    {
      metric_statements?: { context: string; statements: string[] }[];
      metrics?: { metric?: string[]; datapoint?: string[] };
    }
  >;
  exporters: { prometheus: Record<string, unknown> };
  service: {
    pipelines: { metrics: { receivers: string[]; processors: string[]; exporters: string[] } };
  };
}

/** The families the header's zero-filled line names. */
function zeroFilledLine(text: string): string[] {
  const line = text.split('\n').find((l) => l.startsWith(ZERO_FILLED_PREFIX));
  return line === undefined ? [] : line.slice(ZERO_FILLED_PREFIX.length).trim().split(', ');
}

/** The families the pull endpoint serves under `profile` before anything is recorded: its zero fills. */
const filledByPull = (profile: TableProfile): string[] =>
  createNamer(profile, { hostname: 'h' })
    .toFamilies({ resource: resourceFromAttributes({}), scopeMetrics: [] })
    .filter((f) => f.series.length > 0)
    .map((f) => f.name);

describe('jobmeter collector-config', () => {
  it('prints YAML for the profile: the header, the addresses given, the exporter writing names as given', async () => {
    const { code, stdout, stderr } = await run([
      'collector-config',
      '--profile',
      'solti',
      '--otlp',
      '127.0.0.1:14318',
      '--prometheus',
      '0.0.0.0:19464',
    ]);
    assert.equal(code, 0, stderr);
    assert.equal(stderr, '');
    assert.match(stdout, /^# not reproduced by the Collector: \(none\)$/m);
    // solti fills nothing in with 0: no zero-filled line.
    assert.doesNotMatch(stdout, /^# zero-filled/m);
    const config = parseYaml(stdout) as Config;
    assert.equal(config.receivers.otlp.protocols.http.endpoint, '127.0.0.1:14318');
    assert.deepEqual(config.exporters.prometheus, {
      endpoint: '0.0.0.0:19464',
      translation_strategy: 'UnderscoreEscapingWithoutSuffixes',
      without_scope_info: true,
    });
    assert.deepEqual(config.service.pipelines.metrics, {
      receivers: ['otlp'],
      processors: ['filter/vocabulary', 'transform', 'filter/profile'],
      exporters: ['prometheus'],
    });
  });

  it('solti: the runner vocabulary is a drop, cancelled is written canceled, dropped attributes are summed', async () => {
    const { stdout } = await run(['collector-config', '--profile', 'solti']);
    const config = parseYaml(stdout) as Config;
    const drops = config.processors['filter/vocabulary']!.metrics!.datapoint!;
    assert.ok(
      drops.some((c) => c.includes('attributes["runner"]') && c.includes('"container"')),
      drops.join('\n'),
    );
    const statements = config.processors['transform']!.metric_statements!.flatMap(
      (g) => g.statements,
    );
    assert.ok(
      statements.includes(
        'set(attributes["outcome"], "canceled") where metric.name == "jobmeter.run.finished" and attributes["outcome"] == "cancelled"',
      ),
      statements.join('\n'),
    );
    assert.ok(
      statements.includes(
        'aggregate_on_attributes("sum", ["outcome", "runner"]) where metric.name == "jobmeter.run.finished"',
      ),
      statements.join('\n'),
    );
    assert.ok(
      statements.includes(
        'set(metric.name, "solti_runner_tasks_completed_total") where metric.name == "jobmeter.run.finished"',
      ),
      statements.join('\n'),
    );
  });

  it('every legacy profile: the final filter keeps exactly the families of its table', async () => {
    for (const [name, profile] of Object.entries(LEGACY_PROFILES)) {
      const { code, stdout, stderr } = await run(['collector-config', '--profile', name]);
      assert.equal(code, 0, stderr);
      const [kept] = (parseYaml(stdout) as Config).processors['filter/profile']!.metrics!.metric!;
      const names = [...kept!.matchAll(/metric\.name == "([^"]+)"/g)].map((m) => m[1]);
      assert.deepEqual(
        names,
        profile.rules.map((r) => r.name),
        name,
      );
    }
  });

  it('every legacy profile: nothing is left out, and the zero-filled line names exactly the families the table fills with 0', async () => {
    for (const [name, profile] of Object.entries(LEGACY_PROFILES)) {
      const text = await collectorConfigCommand(['--profile', name]);
      assert.ok(text.split('\n').includes('# not reproduced by the Collector: (none)'), name);
      assert.deepEqual(zeroFilledLine(text), filledByPull(profile), name);
    }
  });

  it('bad flags exit 2 naming the flag, the value and what was expected', async () => {
    const none = await run(['collector-config']);
    assert.equal(none.code, 2);
    assert.match(
      none.stderr,
      /^jobmeter: invalid --profile=.*: expected one of runwisp, wasmrun, crewshipd, rm, solti/,
    );
    const otel = await run(['collector-config', '--profile', 'otel']);
    assert.equal(otel.code, 2);
    assert.match(otel.stderr, /invalid --profile="?otel"?: expected one of/);
    // semconv's names are instruments a sender records itself: nothing to compile either.
    const semconv = await run(['collector-config', '--profile', 'semconv']);
    assert.equal(semconv.code, 2);
    assert.match(
      semconv.stderr,
      /invalid --profile="?semconv"?: expected one of .*they need no compiling/,
    );
    const address = await run(['collector-config', '--profile', 'rm', '--otlp', ':4318']);
    assert.equal(address.code, 2);
    assert.match(address.stderr, /invalid --otlp=:4318: expected HOST:PORT/);
    const flag = await run(['collector-config', '--profile', 'rm', '--gateway-nope']);
    assert.equal(flag.code, 2);
    assert.match(flag.stderr, /Unknown option '--gateway-nope'/);
  });
});

const temp = tempFiles('jobmeter-views-');

/** solti and a host's own rules for the queue wait, lateness, missed schedules, attempts and oldest job. */
const QUEUE_RULES_FILE = fileURLToPath(
  new URL('../fixtures/solti-queue-rules.toml', import.meta.url),
);

describe('collector-config and views --config: the host rules of a configuration file', () => {
  const statementsOf = (config: Config): string[] =>
    config.processors['transform']!.metric_statements!.flatMap((g) => g.statements);

  it("compiles the file's [[profile.rules]] after the profile's own: names, the attempt's closed set, kept by the final filter", async () => {
    const { code, stdout, stderr } = await run(['collector-config', '--config', QUEUE_RULES_FILE]);
    assert.equal(code, 0, stderr);
    assert.match(
      stdout,
      /^# OpenTelemetry Collector configuration for jobmeter's solti profile, from: jobmeter collector-config --profile solti --config \S+solti-queue-rules\.toml$/m,
    );
    const config = parseYaml(stdout) as Config;
    const statements = statementsOf(config);
    // A foreign sender's attempt outside 1, 2, 3, 4+ is folded, as jobmeter's ingest folds it.
    assert.ok(
      statements.includes(
        'set(attributes["attempt"], "other") where metric.name == "jobmeter.run.attempts" and attributes["attempt"] != nil and not (attributes["attempt"] == "1" or attributes["attempt"] == "2" or attributes["attempt"] == "3" or attributes["attempt"] == "4+")',
      ),
      statements.join('\n'),
    );
    for (const [instrument, name] of [
      ['jobmeter.queue.wait', 'solti_runner_task_queue_wait_seconds'],
      ['jobmeter.schedule.lateness', 'solti_runner_task_schedule_lateness_seconds'],
      ['jobmeter.schedule.missed', 'solti_runner_schedules_missed_total'],
      ['jobmeter.run.attempts', 'solti_runner_task_attempts_total'],
      ['jobmeter.queue.oldest.age', 'solti_runner_queue_oldest_age_seconds'],
    ])
      assert.ok(
        statements.includes(`set(metric.name, "${name}") where metric.name == "${instrument}"`),
        `${instrument}\n${statements.join('\n')}`,
      );
    const [kept] = config.processors['filter/profile']!.metrics!.metric!;
    const names = [...kept!.matchAll(/metric\.name == "([^"]+)"/g)].map((m) => m[1]);
    assert.deepEqual(names, [
      ...LEGACY_PROFILES.solti.rules.map((r) => r.name),
      'solti_runner_task_queue_wait_seconds',
      'solti_runner_task_schedule_lateness_seconds',
      'solti_runner_schedules_missed_total',
      'solti_runner_task_attempts_total',
      'solti_runner_queue_oldest_age_seconds',
    ]);
    // Without the file, the profile is its original's alone.
    const soltiOnly = await temp.file('solti.toml', 'profile = "solti"\n');
    assert.deepEqual(
      parseYaml(await collectorConfigCommand(['--profile', 'solti'])),
      parseYaml(await collectorConfigCommand(['--config', soltiOnly])),
    );
  });

  it("the zero-filled line names what the pull serves as 0 before anything is recorded, a host's rules' included: a histogram's emit_zero fills nothing", async () => {
    const file = await temp.file(
      'zero-rules.toml',
      [
        '[profile]\nname = "solti"',
        '[[profile.rules]]\ninstrument = "jobmeter.queue.wait"\nname = "solti_runner_task_queue_wait_seconds"\ntype = "histogram"\nhelp = "x"\nemit_zero = true',
        '[[profile.rules]]\ninstrument = "jobmeter.schedule.missed"\nname = "solti_runner_schedules_missed_total"\ntype = "counter"\nhelp = "x"\nemit_zero = true',
      ].join('\n'),
    );
    const filled = filledByPull(await commandProfile(undefined, file));
    assert.deepEqual(filled, ['solti_runner_schedules_missed_total']);
    assert.deepEqual(zeroFilledLine(await collectorConfigCommand(['--config', file])), filled);
  });

  it("views: the two waits get the catalog's second-scale buckets, the attempts their rule's attributes; the SDK's parser reads it", async () => {
    const text = await viewsCommand(['--config', QUEUE_RULES_FILE]);
    const parsed = parseConfigFile(await temp.file('solti-queue.yaml', text));
    const view = (name: string) =>
      parsed.meter_provider?.views?.find((v) => v.selector?.instrument_name === name)?.stream;
    for (const name of ['jobmeter.queue.wait', 'jobmeter.schedule.lateness']) {
      assert.deepEqual(
        view(name)?.aggregation?.explicit_bucket_histogram?.boundaries,
        [...WAIT_BUCKETS],
        name,
      );
      assert.deepEqual(view(name)?.attribute_keys?.included, ['runner'], name);
    }
    assert.deepEqual(view('jobmeter.run.attempts')?.attribute_keys?.included, [
      'attempt',
      'outcome',
      'runner',
    ]);
    assert.deepEqual(view('jobmeter.queue.oldest.age')?.attribute_keys?.included, ['queue']);
  });

  it('a file serve would refuse, or another profile than the flag names, exits 2 naming the key', async () => {
    const other = await run(['collector-config', '--profile', 'rm', '--config', QUEUE_RULES_FILE]);
    assert.equal(other.code, 2);
    assert.match(
      other.stderr,
      /invalid --profile="?rm"?: expected the profile of --config \(solti\) or none/,
    );
    const badRule = await temp.file(
      'bad-rule.toml',
      '[profile]\nname = "solti"\n[[profile.rules]]\ninstrument = "jobmeter.queue.wait"\nname = "solti wait"\ntype = "histogram"\nhelp = "x"\n',
    );
    const bad = await run(['views', '--config', badRule]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /profile\.rules\[0\]\.name/);
    const missing = await run(['collector-config', '--config', '/nonexistent/jobmeter.toml']);
    assert.equal(missing.code, 2);
    assert.match(
      missing.stderr,
      /invalid --config=\/nonexistent\/jobmeter\.toml: expected a readable file \(it does not exist\)/,
    );
    const otel = await run([
      'views',
      '--config',
      await temp.file('otel.toml', 'profile = "otel"\n'),
    ]);
    assert.equal(otel.code, 2);
    assert.match(otel.stderr, /invalid --profile="?otel"?: expected one of/);
  });
});

describe('collector-config: production-shaped', () => {
  type Shaped = {
    extensions: Record<string, { endpoint: string }>;
    processors: Record<string, { error_mode?: string; override?: boolean; detectors?: string[] }>;
    service: {
      extensions: string[];
      telemetry: {
        metrics: {
          level: string;
          readers: { pull: { exporter: { prometheus: { host: string; port: number } } } }[];
        };
      };
      pipelines: { metrics: { processors: string[] } };
    };
  };
  const shaped = async (args: string[]): Promise<Shaped> =>
    parseYaml(await collectorConfigCommand(args)) as Shaped;

  it('every processor that runs OTTL skips a failing statement (error_mode: ignore) rather than refusing the batch, in every profile and mode', async () => {
    for (const name of Object.keys(LEGACY_PROFILES)) {
      for (const mode of [[], ['--gateway', 'http://127.0.0.1:9090/api/v1/otlp']]) {
        const { processors } = await shaped(['--profile', name, ...mode]);
        for (const [id, p] of Object.entries(processors)) {
          if (id.startsWith('filter/') || id === 'transform')
            assert.equal(p.error_mode, 'ignore', `${name} ${id}`);
        }
      }
    }
  });

  it("a health_check extension and the Collector's own telemetry, on loopback by default and where --health / --telemetry say", async () => {
    const byDefault = await shaped(['--profile', 'rm']);
    assert.deepEqual(byDefault.extensions, { health_check: { endpoint: '127.0.0.1:13133' } });
    assert.deepEqual(byDefault.service.extensions, ['health_check']);
    assert.deepEqual(byDefault.service.telemetry.metrics.readers, [
      { pull: { exporter: { prometheus: { host: '127.0.0.1', port: 8888 } } } },
    ]);
    const given = await shaped([
      '--profile',
      'rm',
      '--health',
      '0.0.0.0:13134',
      '--telemetry',
      '[::1]:9888',
    ]);
    assert.equal(given.extensions['health_check']!.endpoint, '0.0.0.0:13134');
    assert.deepEqual(given.service.telemetry.metrics.readers[0]!.pull.exporter.prometheus, {
      host: '::1',
      port: 9888,
    });
  });

  it("the prometheus exporter is left no resource to serve a target_info of; a gateway's store and a front's workers keep service.instance.id on the resource", async () => {
    const resourceStatements = async (args: string[]): Promise<string[]> => {
      const config = parseYaml(await collectorConfigCommand(args)) as Config;
      return config.processors['transform']!.metric_statements!.filter(
        (g) => g.context === 'resource',
      ).flatMap((g) => g.statements);
    };
    for (const name of Object.keys(LEGACY_PROFILES)) {
      assert.deepEqual(
        await resourceStatements(['--profile', name]),
        ['delete_key(attributes, "service.instance.id")'],
        name,
      );
      assert.deepEqual(
        await resourceStatements([
          '--profile',
          name,
          '--gateway',
          'http://127.0.0.1:9090/api/v1/otlp',
        ]),
        [],
        name,
      );
      assert.deepEqual(
        await resourceStatements(['--profile', name, '--front', '--workers', '127.0.0.1:4317']),
        [],
        name,
      );
    }
  });

  it("crewshipd beside its daemon detects host.name on the Collector's host without overriding the sender's; a gateway does not (its host is not its senders')", async () => {
    const agent = await shaped(['--profile', 'crewshipd']);
    assert.equal(agent.service.pipelines.metrics.processors[0], 'resource_detection/system');
    assert.deepEqual(agent.processors['resource_detection/system']!.detectors, ['system']);
    assert.equal(agent.processors['resource_detection/system']!.override, false);
    const gateway = await shaped([
      '--profile',
      'crewshipd',
      '--gateway',
      'http://127.0.0.1:9090/api/v1/otlp',
    ]);
    assert.ok(!gateway.service.pipelines.metrics.processors.includes('resource_detection/system'));
    // A profile no label of which reads a host attribute gets no detection.
    assert.ok(
      !(await shaped(['--profile', 'solti'])).service.pipelines.metrics.processors.includes(
        'resource_detection/system',
      ),
    );
  });

  it('a bad --health or --telemetry exits 2 naming the flag', async () => {
    const health = await run(['collector-config', '--profile', 'rm', '--health', 'nope']);
    assert.equal(health.code, 2);
    assert.match(health.stderr, /invalid --health=nope: expected HOST:PORT/);
    const telemetry = await run([
      'collector-config',
      '--profile',
      'rm',
      '--telemetry',
      '127.0.0.1:99999',
    ]);
    assert.equal(telemetry.code, 2);
    assert.match(telemetry.stderr, /invalid --telemetry=127\.0\.0\.1:99999: expected HOST:PORT/);
  });
});

describe('docs/collector-profiles.md', () => {
  it("its solti configuration is the command's output", async () => {
    const doc = readFileSync(new URL('../../docs/collector-profiles.md', import.meta.url), 'utf8');
    const block =
      /<!-- collector-config solti:start[^\n]*-->\n## The solti configuration\n\n```yaml\n([\s\S]*?)```\n<!-- collector-config solti:end -->/.exec(
        doc,
      );
    assert.ok(block, 'the generated block and its markers');
    const expected = `${await collectorConfigCommand(['--profile', 'solti'])}\n`;
    assert.equal(
      block[1],
      expected,
      `out of date: replace the block's YAML with the output of jobmeter collector-config --profile solti`,
    );
  });
});

/** docs/fleet.md's "Many daemons" table, row by row, from what the compiler says of each profile. */
function manyDaemonsRows(): string[] {
  const list = (names: readonly string[]): string =>
    names.length === 0 ? '(none)' : names.map((n) => `\`${n}\``).join(', ');
  return Object.entries(LEGACY_PROFILES).map(([name, profile]) => {
    const { notReproduced, zeroFilled } = compileCollectorConfig(profile);
    const families = new Set(profile.rules.map((r) => r.name)).size;
    // The profile's families fed from the Go runtime entries `which` picks, in the profile's order.
    const goRuntime = (which: (g: (typeof GO_RUNTIME)[number]) => boolean): string[] => {
      const instruments = new Set(GO_RUNTIME.filter(which).map((g) => g.to));
      return [
        ...new Set(profile.rules.filter((r) => instruments.has(r.instrument)).map((r) => r.name)),
      ];
    };
    const deprecatedSet = goRuntime((g) => g.deprecated === true);
    const goOnly = goRuntime((g) => g.goOnly === true);
    const collector = [
      notReproduced.length === 0 ? 'all' : `all but ${families - notReproduced.length}`,
      ...(deprecatedSet.length > 0
        ? [
            `from the Go runtime instrumentation, ${list(deprecatedSet)} only with \`OTEL_GO_X_DEPRECATED_RUNTIME_METRICS=true\``,
          ]
        : []),
      ...(goOnly.length > 0 ? [`a Rust daemon: no ${list(goOnly)} (no goroutines)`] : []),
    ].join('; ');
    return `| \`${name}\` | ${families} | all | ${collector} | ${list(zeroFilled)} | ${list(notReproduced)} |`;
  });
}

describe("docs/fleet.md's Many daemons", () => {
  it('its table is what collector-config says of every legacy profile', () => {
    const page = readFileSync(new URL('../../docs/fleet.md', import.meta.url), 'utf8');
    const block =
      /<!-- many-daemons table:start[^\n]*-->\n\| profile [^\n]*\n\|---[^\n]*\n([\s\S]*?)<!-- many-daemons table:end -->/.exec(
        page,
      );
    assert.ok(block, 'the table and its markers');
    const expected = manyDaemonsRows();
    assert.deepEqual(
      block[1]!.trimEnd().split('\n'),
      expected,
      `out of date: the rows should be\n${expected.join('\n')}`,
    );
  });

  it('its shell commands are accepted as written', async () => {
    const page = readFileSync(new URL('../../docs/fleet.md', import.meta.url), 'utf8');
    const section = page.slice(
      page.indexOf('## Many daemons\n'),
      page.indexOf('\n## ', page.indexOf('## Many daemons\n') + 1),
    );
    const commands = [...section.matchAll(/^\s*jobmeter (views|collector-config) ([^>#\n]*)/gm)];
    assert.ok(commands.length >= 2, section);
    for (const [, command, args] of commands) {
      const text = await (command === 'views' ? viewsCommand : collectorConfigCommand)(
        args!.trim().split(/\s+/),
      );
      assert.ok(parseYaml(text) !== null, `${command} ${args}`);
    }
  });
});

describe('jobmeter views', () => {
  it("every legacy profile: the OTel SDK's own parser (@opentelemetry/configuration) reads the file, views as printed", async () => {
    for (const [name, profile] of Object.entries(LEGACY_PROFILES)) {
      const text = await viewsCommand([
        '--profile',
        name,
        '--otlp',
        'http://127.0.0.1:14318/v1/metrics',
      ]);
      const parsed = parseConfigFile(await temp.file(`${name}.yaml`, text));
      const printed = parseYaml(text) as { meter_provider: { views: unknown[] } };
      assert.deepEqual(parsed.meter_provider?.views, printed.meter_provider.views, name);
      const histogram = profile.rules.find((r) => r.type === 'histogram');
      if (histogram !== undefined) {
        const view = parsed.meter_provider.views.find(
          (v) => v.selector?.instrument_name === histogram.instrument,
        );
        assert.deepEqual(
          view?.stream?.aggregation?.explicit_bucket_histogram?.boundaries,
          [
            ...(profile.buckets?.[histogram.instrument] ??
              view!.stream.aggregation!.explicit_bucket_histogram!.boundaries!),
          ],
          name,
        );
      }
    }
  });

  /** `views --profile <native>` as the SDK's parser reads it: its instruments, and a view's stream by name. */
  async function nativeViewsOf(profile: 'otel' | 'semconv') {
    const text = await viewsCommand(['--profile', profile]);
    assert.match(
      text,
      new RegExp(
        `^# OpenTelemetry configuration file for jobmeter's ${profile} profile, from: jobmeter views --profile ${profile}$`,
        'm',
      ),
    );
    const views = parseConfigFile(await temp.file(`${profile}.yaml`, text)).meter_provider?.views;
    return {
      names: (views ?? []).map((v) => v.selector?.instrument_name),
      stream: (name: string) => views?.find((v) => v.selector?.instrument_name === name)?.stream,
    };
  }

  it("otel: every canonical instrument's catalog buckets and attributes, for a Collector that renames nothing; the SDK's parser reads it", async () => {
    const { stream } = await nativeViewsOf('otel');
    for (const [name, buckets] of [
      ['jobmeter.run.duration', DEFAULT_RUN_DURATION_BUCKETS],
      ['jobmeter.queue.wait', WAIT_BUCKETS],
      ['jobmeter.schedule.lateness', WAIT_BUCKETS],
    ] as const)
      assert.deepEqual(
        stream(name)?.aggregation?.explicit_bucket_histogram?.boundaries,
        [...buckets],
        name,
      );
    assert.deepEqual(stream('jobmeter.run.attempts')?.attribute_keys?.included, [
      'task',
      'kind',
      'runner',
      'outcome',
      'attempt',
    ]);
    assert.deepEqual(stream('jobmeter.queue.oldest.age')?.attribute_keys?.included, ['queue']);
  });

  it("semconv: the conventions' instruments in place of the canonical ones they name, the run duration's buckets its two sources' (1 ms … 6 h); the SDK's parser reads it", async () => {
    const { names, stream } = await nativeViewsOf('semconv');
    assert.ok(!names.includes('jobmeter.run.duration'));
    assert.ok(!names.includes('jobmeter.runner.error'));
    assert.deepEqual(
      stream('cicd.pipeline.run.duration')?.aggregation?.explicit_bucket_histogram?.boundaries,
      [...WAIT_BUCKETS],
    );
    assert.deepEqual(stream('cicd.pipeline.run.duration')?.attribute_keys?.included, [
      'cicd.pipeline.name',
      'cicd.pipeline.run.state',
      'cicd.pipeline.result',
      'error.type',
    ]);
    assert.deepEqual(stream('cicd.system.errors')?.attribute_keys?.included, [
      'cicd.system.component',
      'error.type',
    ]);
    // What no convention names keeps its canonical view.
    assert.deepEqual(
      stream('jobmeter.queue.wait')?.aggregation?.explicit_bucket_histogram?.boundaries,
      [...WAIT_BUCKETS],
    );
  });

  it('the parser refuses a broken view (the check has teeth)', async () => {
    const text = (await viewsCommand(['--profile', 'rm'])).replace(
      'boundaries:',
      'boundaries: nope\n            no_such:',
    );
    const path = await temp.file('bad.yaml', text);
    assert.throws(() => parseConfigFile(path));
  });

  it('bad flags exit 2 naming the flag', async () => {
    const cmd = await run(['views', '--profile', 'rm', '--otlp', '127.0.0.1:4318']);
    assert.equal(cmd.code, 2);
    assert.match(
      cmd.stderr,
      /invalid --otlp=127\.0\.0\.1:4318: expected an absolute http:\/\/ or https:\/\/ URL/,
    );
    const ok = await run(['views', '--profile', 'solti']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^file_format: "1\.0"$/m);
  });
});

describe('collector-config: a sharded tier (--front / --worker)', () => {
  type Tier = {
    receivers: { otlp: { protocols: Record<string, { endpoint: string }> } };
    processors: Record<string, unknown>;
    exporters: Record<
      string,
      {
        routing_key?: string;
        resolver?: { static: { hostnames: string[] } };
        protocol?: unknown;
        endpoint?: string;
      }
    >;
    service: { pipelines: { metrics: { processors: string[]; exporters: string[] } } };
  };
  const tier = async (args: string[]): Promise<Tier> =>
    parseYaml(await collectorConfigCommand(args)) as Tier;

  it("the front runs the profile's processors and routes each stream to one worker by its identity, over OTLP/gRPC", async () => {
    const front = await tier([
      '--profile',
      'crewshipd',
      '--front',
      '--workers',
      'w1:4317, w2:4317,[::1]:14317',
    ]);
    assert.deepEqual(Object.keys(front.receivers.otlp.protocols), ['http']);
    assert.deepEqual(front.service.pipelines.metrics.processors, [
      'memory_limiter',
      'filter/vocabulary',
      'transform',
      'filter/profile',
      'batch',
    ]);
    assert.deepEqual(front.service.pipelines.metrics.exporters, ['load_balancing']);
    const queue = { enabled: true, num_consumers: 1, queue_size: 1000 };
    const retry = {
      enabled: true,
      initial_interval: '5s',
      max_interval: '30s',
      max_elapsed_time: '300s',
    };
    assert.deepEqual(front.exporters['load_balancing'], {
      routing_key: 'streamID',
      sending_queue: queue,
      retry_on_failure: retry,
      protocol: {
        otlp: { tls: { insecure: true }, sending_queue: queue, retry_on_failure: retry },
      },
      resolver: { static: { hostnames: ['w1:4317', 'w2:4317', '[::1]:14317'] } },
    });
  });

  it('a worker takes OTLP/gRPC (on 4317 by default), makes delta streams cumulative, batches, and exports to the store given; it needs no profile', async () => {
    const worker = await tier(['--worker']);
    assert.deepEqual(worker.receivers.otlp.protocols, { grpc: { endpoint: '127.0.0.1:4317' } });
    assert.deepEqual(worker.service.pipelines.metrics.processors, [
      'memory_limiter',
      'delta_to_cumulative',
      'batch',
    ]);
    assert.deepEqual(worker.service.pipelines.metrics.exporters, ['prometheus']);
    const remote = await tier([
      '--worker',
      '--otlp',
      '0.0.0.0:24317',
      '--remote-write',
      'http://prom:9090/api/v1/write',
    ]);
    assert.equal(remote.receivers.otlp.protocols['grpc']!.endpoint, '0.0.0.0:24317');
    assert.deepEqual(remote.service.pipelines.metrics.exporters, ['prometheus_remote_write']);
    // The same worker whatever the profile: the profile's rules ran in the front.
    assert.deepEqual(
      await tier(['--worker', '--profile', 'rm']),
      await tier(['--worker', '--profile', 'solti']),
    );
  });

  it('tier flags that do not fit exit 2 naming the flag and what was expected', async () => {
    const cases: [string[], RegExp][] = [
      [
        ['--profile', 'rm', '--front'],
        /invalid --workers.*: expected one or more worker OTLP\/gRPC addresses/,
      ],
      [
        ['--profile', 'rm', '--workers', 'w1:4317'],
        /invalid --workers=w1:4317: expected --workers only with --front/,
      ],
      [
        ['--profile', 'rm', '--front', '--worker', '--workers', 'w1:4317'],
        /invalid --worker=true: expected either --front or --worker/,
      ],
      [
        ['--profile', 'rm', '--front', '--workers', 'w1:4317', '--prometheus', '127.0.0.1:9464'],
        /invalid --prometheus=127\.0\.0\.1:9464: expected no store with --front/,
      ],
      [
        ['--profile', 'rm', '--front', '--workers', 'w1:4317,nope'],
        /invalid --workers=nope: expected HOST:PORT/,
      ],
      [
        ['--profile', 'rm', '--front', '--workers', 'w1:4317,w1:4317'],
        /expected each worker once \(w1:4317 is listed twice\)/,
      ],
    ];
    for (const [args, expected] of cases) {
      const { code, stderr } = await run(['collector-config', ...args]);
      assert.equal(code, 2, args.join(' '));
      assert.match(stderr, expected, args.join(' '));
    }
  });
});
