/**
 * otel-collector.yaml, validated structurally: no Collector binary is available where the tests
 * run (not in Debian, not on npm), so `otelcol validate --config otel-collector.yaml` is left to
 * machines that have one (docs/collector.md says so). Checked here: it parses; every component a
 * pipeline names is defined; the receivers, exporters and translation settings are the documented
 * ones; the commented-out scrape alternative is valid too once uncommented.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse, parseDocument } from 'yaml';
import { TELEMETRY_OPTIONS } from '../../src/common/option-table.ts';

const FILE = fileURLToPath(new URL('../../otel-collector.yaml', import.meta.url));
const text = readFileSync(FILE, 'utf8');

type Table = Record<string, unknown>;
const table = (v: unknown, where: string): Table => {
  assert.ok(typeof v === 'object' && v !== null && !Array.isArray(v), `${where} is not a mapping`);
  return v as Table;
};

/** The option names the Collector's components accept (from their READMEs / config structs). */
const KNOWN_OPTIONS: Readonly<Record<string, readonly string[]>> = {
  // exporter/debugexporter
  debug: [
    'verbosity',
    'sampling_initial',
    'sampling_thereafter',
    'use_internal_logger',
    'sending_queue',
  ],
  // opentelemetry-collector-contrib exporter/prometheusexporter/config.go (+ confighttp.ServerConfig's endpoint/tls)
  prometheus: [
    'endpoint',
    'tls',
    'sending_queue',
    'namespace',
    'const_labels',
    'send_timestamps',
    'metric_expiration',
    'resource_to_telemetry_conversion',
    'resource_constant_labels',
    'enable_open_metrics',
    'add_metric_suffixes',
    'translation_strategy',
    'without_scope_info',
  ],
};
const TRANSLATION_STRATEGIES = [
  'UnderscoreEscapingWithSuffixes',
  'UnderscoreEscapingWithoutSuffixes',
  'NoUTF8EscapingWithSuffixes',
  'NoTranslation',
];

function checkPipelines(config: Table): void {
  const service = table(config['service'], 'service');
  const pipelines = table(service['pipelines'], 'service.pipelines');
  assert.ok(Object.keys(pipelines).length > 0);
  for (const [name, raw] of Object.entries(pipelines)) {
    assert.match(name, /^metrics(\/[\w-]+)?$/, `pipeline ${name} must be a metrics pipeline`);
    const pipeline = table(raw, `pipeline ${name}`);
    for (const kind of ['receivers', 'processors', 'exporters'] as const) {
      const listed = pipeline[kind] ?? [];
      assert.ok(Array.isArray(listed), `${name}.${kind} is not a list`);
      if (kind !== 'processors') assert.ok(listed.length > 0, `${name} has no ${kind}`);
      const defined =
        config[kind] === undefined || config[kind] === null ? {} : table(config[kind], kind);
      for (const id of listed as string[])
        assert.ok(id in defined, `${name} uses ${kind.slice(0, -1)} ${id}, which is not defined`);
    }
  }
}

describe('otel-collector.yaml', () => {
  const config = table(parse(text), 'the document');

  it('parses without errors or warnings', () => {
    const doc = parseDocument(text);
    assert.deepEqual(doc.errors, []);
    assert.deepEqual(doc.warnings, []);
  });

  it('every component named in a pipeline is defined, and every defined one is used', () => {
    checkPipelines(config);
    const used = new Set(
      Object.values(table(table(config['service'], 'service')['pipelines'], 'pipelines')).flatMap(
        (p) => [
          ...((table(p, 'pipeline')['receivers'] as string[]) ?? []),
          ...((table(p, 'pipeline')['exporters'] as string[]) ?? []),
        ],
      ),
    );
    for (const kind of ['receivers', 'exporters'])
      for (const id of Object.keys(table(config[kind], kind)))
        assert.ok(used.has(id), `${id} is defined but unused`);
  });

  it('the otlp receiver listens for HTTP on 4318 and gRPC on 4317 (loopback)', () => {
    const otlp = table(table(config['receivers'], 'receivers')['otlp'], 'receivers.otlp');
    const protocols = table(otlp['protocols'], 'protocols');
    assert.deepEqual(Object.keys(protocols).sort(), ['grpc', 'http']);
    assert.equal(table(protocols['http'], 'http')['endpoint'], '127.0.0.1:4318');
    assert.equal(table(protocols['grpc'], 'grpc')['endpoint'], '127.0.0.1:4317');
  });

  it('the debug exporter prints in detail', () => {
    assert.deepEqual(table(config['exporters'], 'exporters')['debug'], { verbosity: 'detailed' });
  });

  it('the prometheus exporter re-exposes profile names unchanged, on a port of its own', () => {
    const prometheus = table(
      table(config['exporters'], 'exporters')['prometheus'],
      'exporters.prometheus',
    );
    assert.equal(
      prometheus['translation_strategy'],
      'UnderscoreEscapingWithoutSuffixes',
      'no second _total, no unit suffix',
    );
    assert.ok(TRANSLATION_STRATEGIES.includes(prometheus['translation_strategy']));
    assert.equal(prometheus['without_scope_info'], true);
    assert.deepEqual(prometheus['resource_to_telemetry_conversion'], { enabled: false });
    assert.equal(prometheus['enable_open_metrics'], false);
    assert.equal(prometheus['metric_expiration'], '5m');
    assert.equal(prometheus['endpoint'], '127.0.0.1:8889');
    assert.notEqual(prometheus['endpoint'], '127.0.0.1:9464', "not jobmeter's own pull port");
    assert.notEqual(
      prometheus['endpoint'],
      TELEMETRY_OPTIONS.listen.default,
      "not jobmeter serve's own telemetry port (on by default)",
    );
    assert.ok(
      !('add_metric_suffixes' in prometheus),
      'deprecated, and ignored when translation_strategy is set',
    );
  });

  it('uses only option names the components accept', () => {
    const exporters = table(config['exporters'], 'exporters');
    for (const [id, raw] of Object.entries(exporters)) {
      const known = KNOWN_OPTIONS[id.split('/')[0]!];
      assert.ok(known, `no option list for exporter ${id}`);
      for (const key of Object.keys(table(raw, id)))
        assert.ok(known.includes(key), `${id}.${key} is not an option of ${id}`);
    }
  });

  it('the commented prometheus receiver scrapes jobmeter’s loopback listener, and is valid once uncommented', () => {
    const uncommented = text.replace(
      /^(\s*)# ?(prometheus:| {2}config:| {4}scrape_configs:| {6}- job_name: jobmeter| {8}scrape_interval: 15s| {8}static_configs:| {10}- targets: \["127\.0\.0\.1:9464"\]|metrics\/scrape:| {2}receivers: \[prometheus\]| {2}exporters: \[debug, prometheus\])$/gm,
      '$1$2',
    );
    const alt = table(parse(uncommented), 'uncommented');
    const receiver = table(
      table(alt['receivers'], 'receivers')['prometheus'],
      'receivers.prometheus',
    );
    const job = (table(receiver['config'], 'config')['scrape_configs'] as Table[])[0]!;
    assert.equal(job['job_name'], 'jobmeter');
    assert.deepEqual(job['static_configs'], [{ targets: ['127.0.0.1:9464'] }]);
    checkPipelines(alt);
    assert.deepEqual(
      table(
        table(table(alt['service'], 'service')['pipelines'], 'pipelines')['metrics/scrape'],
        'metrics/scrape',
      )['receivers'],
      ['prometheus'],
    );
  });

  it('explains its choices in comments', () => {
    const comments = text.split('\n').filter((l) => l.trim().startsWith('#')).length;
    assert.ok(comments >= 40, `only ${comments} comment lines`);
    for (const phrase of [
      'otelcol validate --config otel-collector.yaml',
      'translation_strategy',
      'naming = "profile"',
      '_total',
    ]) {
      assert.ok(text.includes(phrase), `no mention of ${phrase}`);
    }
  });
});
