// `[[views]]`: OpenTelemetry Views in the config file, in the shape of
// OpenTelemetry's declarative configuration, applied to jobmeter's own instruments and the
// host's alike; bad ones are ConfigErrors naming the key.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { metrics } from '@opentelemetry/api';
import { AggregationType, InstrumentType } from '@opentelemetry/sdk-metrics';
import { ConfigError } from '../../src/errors.ts';
import { parseConfigText } from '../../src/config/file-parser.ts';
import { parseServiceConfig } from '../../src/config/file-layer.ts';
import { toJobmeterOptions } from '../../src/config/to-options.ts';
import { INSTRUMENT_TYPES } from '../../src/config/json-schema.ts';
import { createJobmeter, type Jobmeter } from '../../src/jobmeter.ts';

const TOML = `
profile = "solti"

[[views]]
selector = { instrument_name = "jobmeter.run.duration" }
stream = { aggregation = { explicit_bucket_histogram = { boundaries = [0.5, 5] } } }

[[views]]
[views.selector]
instrument_name = "app.jobs"
meter_name = "host-app"
instrument_type = "counter"
[views.stream]
name = "app.jobs.by_queue"
attribute_keys = { included = ["queue"] }
aggregation_cardinality_limit = 50

[[views]]
selector = { instrument_name = "app.debug.*" }
stream = { aggregation = { drop = {} } }

[[views]]
selector = { instrument_name = "app.latency" }
stream = { aggregation = { base2_exponential_bucket_histogram = { max_size = 80, max_scale = 20 } }, attribute_keys = { excluded = ["job_id"] } }
`;

const parse = (raw: unknown) => toJobmeterOptions(parseServiceConfig(raw, 'jobmeter.toml'));

const open: Jobmeter[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((jm) => jm.shutdown()));
  metrics.disable();
});

describe('[[views]]', () => {
  it("selects each instrument_type as the SDK's instrument type of that name", () => {
    const sdk: Readonly<Record<string, InstrumentType>> = {
      counter: InstrumentType.COUNTER,
      gauge: InstrumentType.GAUGE,
      histogram: InstrumentType.HISTOGRAM,
      up_down_counter: InstrumentType.UP_DOWN_COUNTER,
      observable_counter: InstrumentType.OBSERVABLE_COUNTER,
      observable_gauge: InstrumentType.OBSERVABLE_GAUGE,
      observable_up_down_counter: InstrumentType.OBSERVABLE_UP_DOWN_COUNTER,
    };
    assert.deepEqual(Object.keys(sdk), [...INSTRUMENT_TYPES]);
    for (const [type, expected] of Object.entries(sdk))
      assert.equal(
        parse({ views: [{ selector: { instrument_type: type } }] }).views![0]!.instrumentType,
        expected,
      );
  });

  it("reads each aggregation without settings as the SDK's aggregation of that name", () => {
    const sdk: Readonly<Record<string, AggregationType>> = {
      default: AggregationType.DEFAULT,
      drop: AggregationType.DROP,
      sum: AggregationType.SUM,
      last_value: AggregationType.LAST_VALUE,
      explicit_bucket_histogram: AggregationType.EXPLICIT_BUCKET_HISTOGRAM,
    };
    for (const [name, type] of Object.entries(sdk)) {
      const stream = { aggregation: { [name]: {} } };
      const view = parse({ views: [{ selector: { instrument_name: 'a' }, stream }] }).views![0]!;
      assert.deepEqual(view.aggregation, { type }, name);
    }
  });

  it('maps each table onto OTel ViewOptions', () => {
    const views = parse(parseConfigText(TOML, 'toml', 'jobmeter.toml')).views!;
    assert.equal(views.length, 4);
    assert.deepEqual(views[0], {
      instrumentName: 'jobmeter.run.duration',
      aggregation: {
        type: AggregationType.EXPLICIT_BUCKET_HISTOGRAM,
        options: { boundaries: [0.5, 5], recordMinMax: true },
      },
    });
    const { attributesProcessors, ...rest } = views[1]!;
    assert.deepEqual(rest, {
      instrumentName: 'app.jobs',
      instrumentType: InstrumentType.COUNTER,
      meterName: 'host-app',
      name: 'app.jobs.by_queue',
      aggregationCardinalityLimit: 50,
    });
    assert.deepEqual(
      attributesProcessors!.map((p) => p.process({ queue: 'q', job_id: 'j' })),
      [{ queue: 'q' }],
    );
    assert.deepEqual(views[2], {
      instrumentName: 'app.debug.*',
      aggregation: { type: AggregationType.DROP },
    });
    assert.deepEqual(views[3]!.aggregation, {
      type: AggregationType.EXPONENTIAL_HISTOGRAM,
      options: { maxSize: 80, recordMinMax: true },
    });
    assert.deepEqual(
      views[3]!.attributesProcessors!.map((p) => p.process({ queue: 'q', job_id: 'j' })),
      [{ queue: 'q' }],
    );
  });

  it("a config file's Views apply to jobmeter's own run-duration histogram and to the host's instruments", async () => {
    const options = parse(parseConfigText(TOML, 'toml', 'jobmeter.toml'));
    const jm = await createJobmeter({
      ...options,
      listener: { port: 0 },
      processMetrics: false,
      global: false,
    });
    open.push(jm);
    jm.recordRun({ task: 't', runner: 'wasm', outcome: 'success', durationSeconds: 1 });
    const host = jm.meterProvider.getMeter('host-app');
    for (let i = 0; i < 10; i++)
      host.createCounter('app.jobs').add(1, { queue: 'q', job_id: `j${i}` });
    host.createCounter('app.debug.calls').add(1);
    const text = await (
      await fetch(`http://127.0.0.1:${jm.pullAddress!.port}/metrics`, {
        headers: { accept: 'text/plain' },
      })
    ).text();
    assert.deepEqual(
      text.split('\n').filter((l) => l.startsWith('solti_runner_task_duration_seconds_bucket')),
      [
        'solti_runner_task_duration_seconds_bucket{outcome="success",runner="wasm",le="0.5"} 0',
        'solti_runner_task_duration_seconds_bucket{outcome="success",runner="wasm",le="5"} 1',
        'solti_runner_task_duration_seconds_bucket{outcome="success",runner="wasm",le="+Inf"} 1',
      ],
    );
    assert.match(text, /^app_jobs_by_queue_total\{queue="q"\} 10$/m);
    assert.doesNotMatch(text, /app_debug|job_id/);
  });

  for (const [raw, message] of [
    [
      { views: {} },
      'invalid views={}: expected a list of [[views]] tables, each with a selector and a stream',
    ],
    [
      { views: [{}] },
      'invalid views[0].selector=undefined: expected a selector table with at least one of instrument_name, instrument_type, unit, meter_name, meter_version, meter_schema_url',
    ],
    [
      { views: [{ selector: {} }] },
      'invalid views[0].selector={}: expected a selector table with at least one of instrument_name, instrument_type, unit, meter_name, meter_version, meter_schema_url',
    ],
    [
      { views: [{ selector: { instrument_nam: 'a' } }] },
      'invalid views[0].selector.instrument_nam=<redacted>: expected a key of a view selector: instrument_name, instrument_type, unit, meter_name, meter_version, meter_schema_url (did you mean views[0].selector.instrument_name?)',
    ],
    [
      { views: [{ selector: { instrument_type: 'countr' } }] },
      'invalid views[0].selector.instrument_type=countr: expected one of counter, gauge, histogram, up_down_counter, observable_counter, observable_gauge, observable_up_down_counter (did you mean counter?)',
    ],
    [
      { views: [{ selector: { instrument_name: 'a' }, stream: { aggregation: {} } }] },
      'invalid views[0].stream.aggregation={}: expected exactly one aggregation: default, drop, sum, last_value, explicit_bucket_histogram or base2_exponential_bucket_histogram',
    ],
    [
      {
        views: [
          {
            selector: { instrument_name: 'a' },
            stream: { aggregation: { explicit_bucket_histogram: { boundaries: [5, 1] } } },
          },
        ],
      },
      'invalid views[0].stream.aggregation.explicit_bucket_histogram.boundaries=[5,1]: expected a list of numbers in increasing order, e.g. [1, 10, 60]',
    ],
    [
      {
        views: [
          { selector: { instrument_name: 'a' }, stream: { aggregation_cardinality_limit: 0 } },
        ],
      },
      'invalid views[0].stream.aggregation_cardinality_limit=0: expected an integer from 1 to 1000000 (series per instrument, overflow included)',
    ],
    [
      {
        views: [
          {
            selector: { instrument_name: 'a' },
            stream: { aggregation: { base2_exponential_bucket_histogram: { max_size: 1 } } },
          },
        ],
      },
      'invalid views[0].stream.aggregation.base2_exponential_bucket_histogram.max_size=1: expected an integer from 2 to 16384 (buckets)',
    ],
    [
      {
        views: [
          {
            selector: { instrument_name: 'a' },
            stream: { aggregation: { base2_exponential_bucket_histogram: { max_scale: 10 } } },
          },
        ],
      },
      'invalid views[0].stream.aggregation.base2_exponential_bucket_histogram.max_scale=10: expected 20, the scale the OpenTelemetry JS SDK starts every exponential histogram at (it has no max_scale setting)',
    ],
  ] as const) {
    it(`rejects ${JSON.stringify(raw)}`, () => {
      assert.throws(
        () => parseServiceConfig(raw, 'jobmeter.toml'),
        (err: unknown) => {
          assert.ok(err instanceof ConfigError, String(err));
          assert.equal(err.message, message);
          return true;
        },
      );
    });
  }
});
