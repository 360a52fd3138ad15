// A host's attribute values are bounded by default, as OpenTelemetry's attribute value length limit
// has it (a string cut to the limit, each string of an array too, other values kept), on every path
// a host's value takes: jobmeter's storages (a synchronous instrument no View selects), the SDK (an
// observable, an instrument a View selects) and a host's own provider read by JobmeterReader. Each
// value cut is counted in jobmeter_attribute_values_truncated_total and warned about once per
// instrument; the limit is an option (OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT under `jobmeter serve`).
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { diag, DiagLogLevel, metrics, type DiagLogger } from '@opentelemetry/api';
import { AggregationType, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { envLayer } from '../../src/config/env-layer.ts';
import { parseServiceConfig } from '../../src/config/file-layer.ts';
import { resolveServiceConfig } from '../../src/config/resolve-layers.ts';
import { toJobmeterOptions } from '../../src/config/to-options.ts';
import { OPTION_DEFAULTS } from '../../src/common/option-defaults.ts';
import { MAX_VALUE_LENGTH } from '../../src/domain/bounded-attributes.ts';
import { ConfigError } from '../../src/errors.ts';
import {
  createJobmeter,
  JobmeterReader,
  type Jobmeter,
  type JobmeterOptions,
} from '../../src/index.ts';

const LONG = 'x'.repeat(10_000);
/** What the default limit leaves of a longer value: 255 characters and the mark. */
const CUT = 'x'.repeat(255) + '…';

/** A reader that only collects when asked: the source of a host's MetricProducer. */
class ProducerReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

const warnings: string[] = [];
const logger: DiagLogger = {
  error: (message: string) => void warnings.push(`error: ${message}`),
  warn: (message: string) => void warnings.push(message),
  info: () => {},
  debug: () => {},
  verbose: () => {},
};
before(() =>
  diag.setLogger(logger, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true }),
);
after(() => diag.disable());
beforeEach(() => {
  warnings.length = 0;
});

const warningsAbout = (name: string): string[] => warnings.filter((w) => w.includes(`: ${name}: `));

function samples(body: string, name: string): string[] {
  return body.split('\n').filter((l) => l.startsWith(name + '{') || l.startsWith(name + ' '));
}

/** The one value of the attribute-less counter `name`, or undefined when it is not served. */
function value(body: string, name: string): number | undefined {
  const lines = samples(body, name);
  assert.ok(lines.length <= 1, lines.join('\n'));
  return lines.length === 0 ? undefined : Number(lines[0]!.split(' ').at(-1));
}

const truncated = (body: string): number | undefined =>
  value(body, 'jobmeter_attribute_values_truncated_total');

async function pull(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`, {
    headers: { accept: 'text/plain' },
  });
  assert.equal(res.status, 200);
  return res.text();
}

describe("jobmeter's provider: a host's attribute values are cut to the limit", () => {
  let jm: Jobmeter | undefined;
  const start = async (options: JobmeterOptions = {}): Promise<Jobmeter> =>
    (jm = await createJobmeter({
      listener: { port: 0 },
      processMetrics: false,
      otelScopeInfo: false,
      ...options,
    }));
  afterEach(async () => {
    await jm?.shutdown();
    jm = undefined;
    metrics.disable();
  });

  test('a global-API counter with a 10,000-character value is served cut to 256 characters, every cut counted, one warning', async () => {
    const jm = await start();
    const counter = metrics.getMeter('host-app').createCounter('host.jobs');
    counter.add(1, { job: LONG, queue: 'emails' });
    counter.add(2, { job: LONG + 'differs past the limit', queue: 'emails' });
    const body = await pull(jm.pullAddress!.port);
    assert.deepEqual(samples(body, 'host_jobs_total'), [
      `host_jobs_total{job="${CUT}",queue="emails"} 3`,
    ]);
    assert.equal(truncated(body), 2);
    const about = warningsAbout('host.jobs');
    assert.equal(about.length, 1, warnings.join('\n'));
    assert.match(
      about[0]!,
      /attribute "job" cut to 256 characters.*jobmeter\.attribute_values\.truncated/,
    );
  });

  test('served at 0 before anything is cut, as jobmeter_records_dropped_total is', async () => {
    const jm = await start();
    metrics.getMeter('host-app').createCounter('host.jobs').add(1, { job: 'short' });
    assert.equal(truncated(await pull(jm.pullAddress!.port)), 0);
  });

  test("an observable's value and a batch callback's (the SDK records them) are cut and counted at each observation", async () => {
    const jm = await start();
    const meter = metrics.getMeter('host-app');
    meter.createObservableGauge('host.pool').addCallback((r) => r.observe(4, { pool: LONG }));
    const level = meter.createObservableUpDownCounter('host.level');
    meter.addBatchObservableCallback((r) => r.observe(level, 7, { queue: LONG }), [level]);
    const first = await pull(jm.pullAddress!.port);
    assert.deepEqual(samples(first, 'host_pool'), [`host_pool{pool="${CUT}"} 4`]);
    assert.deepEqual(samples(first, 'host_level'), [`host_level{queue="${CUT}"} 7`]);
    assert.equal(truncated(first), 2);
    assert.equal(truncated(await pull(jm.pullAddress!.port)), 4, 'each collection observes again');
    assert.equal(warningsAbout('host.pool').length, 1, warnings.join('\n'));
    assert.equal(warningsAbout('host.level').length, 1, warnings.join('\n'));
  });

  test('a counter a host View selects (the SDK records it) is cut before the View and the series budget see it', async () => {
    const jm = await start({ views: [{ instrumentName: 'host.viewed', name: 'host.renamed' }] });
    const counter = metrics.getMeter('host-app').createCounter('host.viewed');
    counter.add(1, { job: LONG + 'a' });
    counter.add(1, { job: LONG + 'b' });
    const body = await pull(jm.pullAddress!.port);
    assert.deepEqual(samples(body, 'host_renamed_total'), [`host_renamed_total{job="${CUT}"} 2`]);
    assert.equal(truncated(body), 2);
  });

  test('an array of strings has each long string cut; short strings, numbers and booleans are kept', async () => {
    const jm = await start();
    metrics
      .getMeter('host-app')
      .createHistogram('host.wait')
      .record(1, { tags: [LONG, 'b'], n: 12345, ok: true, short: 'kept' });
    const body = await pull(jm.pullAddress!.port);
    const [line] = samples(body, 'host_wait_count');
    assert.equal(
      line,
      `host_wait_count{tags="[\\"${CUT}\\",\\"b\\"]",n="12345",ok="true",short="kept"} 1`,
    );
    assert.equal(truncated(body), 1);
  });

  test('attributeValueLengthLimit sets the limit: 1000 keeps 999 characters and the mark; a value of exactly 1000 is kept whole', async () => {
    const jm = await start({ attributeValueLengthLimit: 1000 });
    const counter = metrics.getMeter('host-app').createCounter('host.jobs');
    counter.add(1, { job: LONG });
    counter.add(1, { job: 'y'.repeat(1000) });
    const body = await pull(jm.pullAddress!.port);
    assert.deepEqual(samples(body, 'host_jobs_total').sort(), [
      `host_jobs_total{job="${'x'.repeat(999)}…"} 1`,
      `host_jobs_total{job="${'y'.repeat(1000)}"} 1`,
    ]);
    assert.equal(truncated(body), 1);
  });

  test("a host MetricProducer's points (metricProducers) are cut, counted once per series, and those that become one added", async () => {
    const other = new ProducerReader();
    const source = new MeterProvider({ readers: [other] });
    const counter = source.getMeter('elsewhere').createCounter('elsewhere.jobs');
    counter.add(1, { job: LONG + 'a' });
    counter.add(2, { job: LONG + 'b' });
    try {
      const jm = await start({ metricProducers: [{ collect: (o) => other.collect(o) }] });
      for (const scrape of [1, 2]) {
        const body = await pull(jm.pullAddress!.port);
        assert.deepEqual(
          samples(body, 'elsewhere_jobs_total'),
          [`elsewhere_jobs_total{job="${CUT}"} 3`],
          `scrape ${scrape}`,
        );
        assert.equal(truncated(body), 2, `scrape ${scrape}`);
      }
    } finally {
      await source.shutdown();
    }
  });

  test('attributeValueLengthLimit refuses 0, a fraction and a value past 65536 (no label is unbounded)', async () => {
    for (const bad of [0, 2.5, 65_537, Infinity]) {
      await assert.rejects(
        createJobmeter({ listener: false, attributeValueLengthLimit: bad }),
        (err: unknown) => {
          assert.ok(err instanceof ConfigError, String(err));
          assert.match(err.message, /attributeValueLengthLimit.*an integer from 1 to 65536/);
          return true;
        },
      );
    }
  });
});

describe("JobmeterReader: a host's own provider's attribute values are cut as the reader collects them", () => {
  let provider: MeterProvider | undefined;
  afterEach(async () => {
    await provider?.shutdown();
    provider = undefined;
  });

  test('a 10,000-character value on a counter is served cut and counted once per series, from the first cut; values that differ past the limit add into one series', async () => {
    const reader = new JobmeterReader({ listener: { port: 0 }, otelScopeInfo: false });
    provider = new MeterProvider({ readers: [reader] });
    await reader.ready;
    const counter = provider.getMeter('host-app').createCounter('host.jobs');
    counter.add(5, { job: 'short' });
    assert.equal(
      truncated(await pull(reader.pullAddress!.port)),
      undefined,
      "nothing cut: no family of jobmeter's joins the host's",
    );
    counter.add(1, { job: LONG });
    counter.add(2, { job: LONG + 'differs past the limit' });
    const body = await pull(reader.pullAddress!.port);
    assert.deepEqual(samples(body, 'host_jobs_total'), [
      'host_jobs_total{job="short"} 5',
      `host_jobs_total{job="${CUT}"} 3`,
    ]);
    assert.equal(truncated(body), 2);
    counter.add(1, { job: LONG });
    const again = await pull(reader.pullAddress!.port);
    assert.deepEqual(samples(again, 'host_jobs_total'), [
      'host_jobs_total{job="short"} 5',
      `host_jobs_total{job="${CUT}"} 4`,
    ]);
    assert.equal(truncated(again), 2, 'a series is counted when first cut, not at every scrape');
    assert.equal(warningsAbout('host.jobs').length, 1, warnings.join('\n'));
  });

  test("an observable's value, and histograms (explicit and exponential) whose series become one add their buckets", async () => {
    const reader = new JobmeterReader({
      listener: false,
      otelScopeInfo: false,
      attributeValueLengthLimit: 100,
    });
    provider = new MeterProvider({
      readers: [reader],
      views: [
        {
          instrumentName: 'host.exp',
          aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM },
        },
      ],
    });
    const meter = provider.getMeter('host-app');
    meter.createObservableGauge('host.pool').addCallback((r) => r.observe(4, { pool: LONG }));
    for (const name of ['host.wait', 'host.exp']) {
      const h = meter.createHistogram(name);
      h.record(2, { job: LONG + 'a' });
      h.record(300, { job: LONG + 'b' });
    }
    const families = new Map((await reader.scrape()).map((f) => [f.name, f]));
    const cut = 'x'.repeat(99) + '…';
    const pool = families.get('host_pool')!;
    assert.deepEqual(
      pool.series.map((s) => s.labels),
      [`pool="${cut}"`],
    );
    for (const name of ['host_wait', 'host_exp']) {
      const series = families.get(name)!.series as readonly {
        labels: string;
        count: number;
        sum: number;
      }[];
      assert.deepEqual(
        series.map((s) => [s.labels, s.count, s.sum]),
        [[`job="${cut}"`, 2, 302]],
        name,
      );
    }
    const counted = families.get('jobmeter_attribute_values_truncated_total')!.series as readonly {
      value: number;
    }[];
    assert.deepEqual(
      counted.map((s) => s.value),
      [5],
    );
  });
});

describe('the option: its default, the config file and OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT under `jobmeter serve`', () => {
  test('the default is the length jobmeter cuts its own label values to', () => {
    assert.equal(OPTION_DEFAULTS.attributeValueLengthLimit, MAX_VALUE_LENGTH);
  });

  test('attribute_value_length_limit in a config file is the option', () => {
    assert.deepEqual(
      toJobmeterOptions(parseServiceConfig({ attribute_value_length_limit: 512 }, 'jobmeter.toml')),
      { attributeValueLengthLimit: 512 },
    );
  });

  test('OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT is read as the option; 0, a non-integer and an unbounded one are refused naming the variable', async () => {
    assert.equal(
      (await resolveServiceConfig({ argv: [], env: { OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: '1024' } }))
        .attributeValueLengthLimit,
      1024,
    );
    assert.equal(
      (await resolveServiceConfig({ argv: [], env: { OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: '' } }))
        .attributeValueLengthLimit,
      256,
      'empty is unset',
    );
    for (const bad of ['0', '12.5', '1e3', '100000', 'none']) {
      assert.throws(
        () => envLayer({ OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: bad }),
        (err: unknown) => {
          assert.ok(err instanceof ConfigError, String(err));
          assert.match(
            err.message,
            /OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT.*an integer from 1 to 65536/,
          );
          return true;
        },
      );
    }
  });
});
