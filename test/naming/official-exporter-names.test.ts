/**
 * A switch from `@opentelemetry/exporter-prometheus` keeps every series: the official
 * `PrometheusExporter` and a `JobmeterReader` with `unitSuffixes: false`, each the one reader of a
 * MeterProvider of the same shape given the same recordings, serve the same series names with the
 * same label names, for every instrument kind and unit. Under the default the names with a unit
 * differ by exactly its word (`app_job_latency` → `app_job_latency_seconds`), as docs/host-apps.md warns.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import type { Meter } from '@opentelemetry/api';
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { ConfigError } from '../../src/errors.ts';
import { createJobmeter, type Jobmeter } from '../../src/jobmeter.ts';
import { JobmeterReader, type JobmeterReaderOptions } from '../../src/jobmeter-reader.ts';
import { parseExposition, type Meta, type Sample } from '../support/exposition-parser.ts';

type Kind = 'counter' | 'updown' | 'gauge' | 'histogram' | 'observable';
/** Each unit, its tag in the instrument name, and its Prometheus word (for a gauge-typed family: `1` is `ratio`). */
const UNITS: ReadonlyArray<
  [unit: string | undefined, tag: string, word: string, gaugeWord: string]
> = [
  ['s', 's', 'seconds', 'seconds'],
  ['ms', 'ms', 'milliseconds', 'milliseconds'],
  ['By', 'by', 'bytes', 'bytes'],
  ['1', 'one', '', 'ratio'],
  ['{job}', 'jobs', '', ''],
  [undefined, 'none', '', ''],
];
const KINDS: readonly Kind[] = ['counter', 'updown', 'gauge', 'histogram', 'observable'];
const SCOPE = ['app', '1.4.0', { schemaUrl: 'https://opentelemetry.io/schemas/1.30.0' }] as const;

/** The same instruments and recordings, whatever reads them. */
function record(meter: Meter): void {
  meter.createHistogram('app.job.latency', { unit: 's' }).record(0.25, { 'job.queue': 'emails' });
  for (const kind of KINDS) {
    for (const [unit, tag] of UNITS) {
      const name = `app.${kind}.${tag}`;
      const options = unit === undefined ? {} : { unit };
      const attributes = { 'job.queue': 'emails', 'http-method': 'GET' };
      if (kind === 'counter') meter.createCounter(name, options).add(3, attributes);
      if (kind === 'updown') meter.createUpDownCounter(name, options).add(-2, attributes);
      if (kind === 'gauge') meter.createGauge(name, options).record(7, attributes);
      if (kind === 'histogram') meter.createHistogram(name, options).record(2, attributes);
      if (kind === 'observable')
        meter.createObservableGauge(name, options).addCallback((r) => r.observe(5, attributes));
    }
  }
}

/** `name{label,…}` for every sample line: what a switch must keep. */
const seriesShape = (s: Sample): string =>
  `${s.name}{${s.labels
    .map(([k]) => k)
    .sort()
    .join(',')}}`;

/** The series shapes the official exporter serves, with the unit word added where `withUnits`. */
function expected(withUnits: boolean): Set<string> {
  const scope = 'otel_scope_name,otel_scope_schema_url,otel_scope_version';
  const labels = `http_method,job_queue,${scope}`;
  const out = new Set<string>([
    'target_info{service_name,telemetry_sdk_language,telemetry_sdk_name,telemetry_sdk_version}',
    `app_job_latency${withUnits ? '_seconds' : ''}_count{job_queue,${scope}}`,
    `app_job_latency${withUnits ? '_seconds' : ''}_sum{job_queue,${scope}}`,
    `app_job_latency${withUnits ? '_seconds' : ''}_bucket{job_queue,le,${scope}}`,
  ]);
  for (const kind of KINDS) {
    for (const [, tag, word, gaugeWord] of UNITS) {
      const w = withUnits ? (kind === 'counter' || kind === 'histogram' ? word : gaugeWord) : '';
      const family = `app_${kind}_${tag}${w === '' ? '' : `_${w}`}`;
      if (kind === 'counter') out.add(`${family}_total{${labels}}`);
      else if (kind === 'histogram')
        for (const s of ['_count', '_sum']) out.add(`${family}${s}{${labels}}`);
      else out.add(`${family}{${labels}}`);
      if (kind === 'histogram')
        out.add(`${family}_bucket{${labels.replace('job_queue,', 'job_queue,le,')}}`);
    }
  }
  return out;
}

const closers: Array<() => Promise<unknown>> = [];
after(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});

/** A provider whose one reader is `reader`, given the recordings. */
function providerOf(reader: PrometheusExporter | JobmeterReader): void {
  const provider = new MeterProvider({ readers: [reader] });
  closers.push(() => provider.shutdown());
  record(provider.getMeter(...SCOPE));
}

/** The official exporter's series shapes, scraped from its own request handler. */
async function officialShapes(): Promise<Set<string>> {
  const exporter = new PrometheusExporter({ preventServerStart: true });
  providerOf(exporter);
  const server: Server = createServer((req, res) => exporter.getMetricsRequestHandler(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise((resolve) => server.close(resolve)));
  const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`);
  // It writes OpenMetrics' `# UNIT` into text 0.0.4, where Prometheus reads it as a comment.
  return shapes((await res.text()).replace(/^# UNIT .*\n/gm, ''), 'text');
}

function shapes(body: string, format: 'text' | 'openmetrics'): Set<string> {
  return new Set(
    parseExposition(body, format)
      .filter((l): l is Sample => l.kind === 'sample')
      .map(seriesShape),
  );
}

/** jobmeter's series shapes, as Prometheus 2 (text 0.0.4) and 3 (OpenMetrics) scrape them. */
async function jobmeterShapes(
  options: Pick<JobmeterReaderOptions, 'unitSuffixes'>,
): Promise<Array<[string, Set<string>]>> {
  const reader = new JobmeterReader({ listener: { port: 0 }, ...options });
  providerOf(reader);
  await reader.ready;
  const url = `http://127.0.0.1:${reader.pullAddress!.port}/metrics`;
  const text = await fetch(url, { headers: { accept: 'text/plain;version=0.0.4' } });
  const om = await fetch(url, {
    headers: { accept: 'application/openmetrics-text;version=1.0.0' },
  });
  return [
    ['text 0.0.4', shapes(await text.text(), 'text')],
    ['OpenMetrics', shapes(await om.text(), 'openmetrics')],
  ];
}

const sorted = (s: Set<string>): string[] => [...s].sort();

/** A jobmeter whose host names leave out the unit word, listening on a free port. */
async function unsuffixedJobmeter(): Promise<Jobmeter> {
  const jm = await createJobmeter({
    unitSuffixes: false,
    global: false,
    processMetrics: false,
    listener: { port: 0 },
  });
  closers.push(() => jm.shutdown());
  return jm;
}

/** `jm`'s pull endpoint in text 0.0.4. */
async function textOf(jm: Jobmeter): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${jm.pullAddress!.port}/metrics`, {
    headers: { accept: 'text/plain;version=0.0.4' },
  });
  return res.text();
}

describe('series names against @opentelemetry/exporter-prometheus', () => {
  it('the official exporter adds `_total` to counters and no unit word', async () => {
    assert.deepEqual(sorted(await officialShapes()), sorted(expected(false)));
  });

  it('unitSuffixes: false serves exactly its series names and label names', async () => {
    const official = await officialShapes();
    for (const [format, got] of await jobmeterShapes({ unitSuffixes: false })) {
      assert.deepEqual(sorted(got), sorted(official), format);
    }
  });

  it('the default adds the unit word: app_job_latency is served as app_job_latency_seconds', async () => {
    const official = await officialShapes();
    for (const [format, got] of await jobmeterShapes({})) {
      assert.deepEqual(sorted(got), sorted(expected(true)), format);
      assert.ok(
        got.has(
          'app_job_latency_seconds_count{job_queue,otel_scope_name,otel_scope_schema_url,otel_scope_version}',
        ),
        format,
      );
      assert.ok(
        !got.has(
          'app_job_latency_count{job_queue,otel_scope_name,otel_scope_schema_url,otel_scope_version}',
        ),
        format,
      );
      assert.notDeepEqual(sorted(got), sorted(official), format);
    }
  });

  it("unitSuffixes: false keeps jobmeter's own names, which its dashboards read, and drops the host's unit words", async () => {
    const jm = await unsuffixedJobmeter();
    jm.recordRun({ task: 't', outcome: 'success', durationSeconds: 1 });
    jm.meter.createHistogram('app.job.latency', { unit: 's' }).record(0.25);
    const names = new Set([...shapes(await textOf(jm), 'text')].map((s) => s.split('{')[0]));
    assert.ok(names.has('jobmeter_run_duration_seconds_count'));
    assert.ok(names.has('jobmeter_run_finished_total'));
    assert.ok(!names.has('jobmeter_run_duration_count'));
    assert.ok(names.has('app_job_latency_count'));
    assert.ok(!names.has('app_job_latency_seconds_count'));
  });

  it("a family of an instrument made on two meters takes the first description there is as its help, as the exporter's does", async () => {
    const make = (provider: { getMeter: MeterProvider['getMeter'] }): void => {
      provider.getMeter('app.plain').createCounter('app.jobs').add(1);
      provider
        .getMeter('app.described')
        .createCounter('app.jobs', { description: 'Jobs done' })
        .add(2);
    };
    const exporter = new PrometheusExporter({ preventServerStart: true });
    const provider = new MeterProvider({ readers: [exporter] });
    closers.push(() => provider.shutdown());
    make(provider);
    const jm = await unsuffixedJobmeter();
    make(jm.meterProvider);
    const helpOf = (body: string): string | undefined =>
      parseExposition(body, 'text').find(
        (l): l is Meta => l.kind === 'HELP' && l.name === 'app_jobs_total',
      )?.text;
    const official = new PrometheusSerializer().serialize(
      (await exporter.collect()).resourceMetrics,
    );
    assert.equal(helpOf(official), 'Jobs done');
    assert.equal(helpOf(await textOf(jm)), 'Jobs done');
  });

  it('a legacy profile, whose names never change, refuses unitSuffixes', () => {
    assert.throws(
      () => new JobmeterReader({ listener: false, profile: 'rm', unitSuffixes: false }),
      (e: unknown) => e instanceof ConfigError && e.key === 'unitSuffixes',
    );
  });
});
