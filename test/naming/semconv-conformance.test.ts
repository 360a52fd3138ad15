// The semconv profile against the OpenTelemetry semantic conventions: every instrument it emits,
// on the OTLP push (the protobuf request a receiver gets, decoded) and on the pull endpoint as a
// real Prometheus stores it, is held to the conventions — its name to
// `@opentelemetry/semantic-conventions`' METRIC_* constant, its instrument type and unit to the
// convention's model, its attribute keys to the ATTR_* constants and the requirement levels, and
// every value of a closed attribute to the package's *_VALUE_* constants. An instrument under a
// convention's namespace the table below does not know fails; so does any other name that is not
// one of jobmeter's documented instruments.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as semconv from '@opentelemetry/semantic-conventions/incubating';
import {
  ATTR_CICD_PIPELINE_NAME,
  ATTR_CICD_PIPELINE_RESULT,
  ATTR_CICD_PIPELINE_RUN_STATE,
  ATTR_CICD_SYSTEM_COMPONENT,
  ATTR_CICD_WORKER_STATE,
  ATTR_CPU_LOGICAL_NUMBER,
  ATTR_CPU_MODE,
  ATTR_ERROR_TYPE,
  ATTR_SYSTEM_MEMORY_STATE,
  ATTR_V8JS_GC_TYPE,
  ATTR_V8JS_HEAP_SPACE_NAME,
  ATTR_V8JS_RESOURCE_TYPE,
  CICD_PIPELINE_RESULT_VALUE_CANCELLATION,
  CICD_PIPELINE_RUN_STATE_VALUE_EXECUTING,
  CICD_PIPELINE_RUN_STATE_VALUE_PENDING,
  ERROR_TYPE_VALUE_OTHER,
  METRIC_CICD_PIPELINE_RUN_ACTIVE,
  METRIC_CICD_PIPELINE_RUN_DURATION,
  METRIC_CICD_PIPELINE_RUN_ERRORS,
  METRIC_CICD_SYSTEM_ERRORS,
  METRIC_CICD_WORKER_COUNT,
  METRIC_NODEJS_EVENTLOOP_DELAY_MAX,
  METRIC_NODEJS_EVENTLOOP_DELAY_MEAN,
  METRIC_NODEJS_EVENTLOOP_DELAY_MIN,
  METRIC_NODEJS_EVENTLOOP_DELAY_P50,
  METRIC_NODEJS_EVENTLOOP_DELAY_P90,
  METRIC_NODEJS_EVENTLOOP_DELAY_P99,
  METRIC_NODEJS_EVENTLOOP_DELAY_STDDEV,
  METRIC_NODEJS_EVENTLOOP_UTILIZATION,
  METRIC_PROCESS_CPU_TIME,
  METRIC_PROCESS_MEMORY_USAGE,
  METRIC_PROCESS_UPTIME,
  METRIC_SYSTEM_CPU_UTILIZATION,
  METRIC_SYSTEM_MEMORY_LIMIT,
  METRIC_SYSTEM_MEMORY_USAGE,
  METRIC_V8JS_GC_DURATION,
  METRIC_V8JS_MEMORY_HEAP_SPACE_AVAILABLE_SIZE,
  METRIC_V8JS_MEMORY_HEAP_SPACE_PHYSICAL_SIZE,
  METRIC_V8JS_MEMORY_HEAP_SPACE_SIZE,
  METRIC_V8JS_MEMORY_HEAP_USED,
  METRIC_V8JS_RESOURCE_ACTIVE,
} from '@opentelemetry/semantic-conventions/incubating';
import { DOMAIN_INSTRUMENTS, SELF_INSTRUMENTS } from '../../src/domain/catalog.ts';
import { runDemo } from '../../src/demo/scenarios.ts';
import { CONVENTION_PROCESS_INSTRUMENTS } from '../../src/domain/process-metrics.ts';
import type { InstrumentKind } from '../../src/domain/types.ts';
import { semconvConvention } from '../../src/naming/profiles/semconv.ts';
import { createJobmeter, type Jobmeter } from '../../src/index.ts';
import {
  startOtlpReceiver,
  type DecodedMetric,
  type OtlpReceiver,
} from '../support/otlp-receiver.ts';
import {
  PROMETHEUS_MAJORS,
  startPrometheus,
  type PrometheusHandle,
} from '../support/prometheus.ts';

/** The conventions' instrument types, as their models write them. */
type ConventionInstrument = 'histogram' | 'counter' | 'updowncounter' | 'gauge';

interface ConventionMetric {
  readonly instrument: ConventionInstrument;
  /** UCUM, as the model's `unit`. */
  readonly unit: string;
  /** Attributes required on every data point. */
  readonly required: readonly string[];
  /** Attributes a data point may carry besides (recommended, conditionally required, opt-in). */
  readonly optional?: readonly string[];
}

/**
 * The conventions' metrics the profile may emit: names from the package's METRIC_* constants; the
 * instrument type, unit and requirement levels from the model the package is generated from
 * (semantic-conventions v1.44.0: model/cicd/metrics.yaml, model/process/metrics.yaml,
 * model/v8js/metrics.yaml, model/nodejs/metrics.yaml, model/system/metrics.yaml).
 */
const CONVENTIONS: Readonly<Record<string, ConventionMetric>> = {
  [METRIC_CICD_PIPELINE_RUN_DURATION]: {
    instrument: 'histogram',
    unit: 's',
    required: [ATTR_CICD_PIPELINE_NAME, ATTR_CICD_PIPELINE_RUN_STATE],
    optional: [ATTR_CICD_PIPELINE_RESULT, ATTR_ERROR_TYPE],
  },
  [METRIC_CICD_PIPELINE_RUN_ACTIVE]: {
    instrument: 'updowncounter',
    unit: '{run}',
    required: [ATTR_CICD_PIPELINE_NAME, ATTR_CICD_PIPELINE_RUN_STATE],
  },
  [METRIC_CICD_PIPELINE_RUN_ERRORS]: {
    instrument: 'counter',
    unit: '{error}',
    required: [ATTR_CICD_PIPELINE_NAME, ATTR_ERROR_TYPE],
  },
  [METRIC_CICD_SYSTEM_ERRORS]: {
    instrument: 'counter',
    unit: '{error}',
    required: [ATTR_CICD_SYSTEM_COMPONENT, ATTR_ERROR_TYPE],
  },
  [METRIC_CICD_WORKER_COUNT]: {
    instrument: 'updowncounter',
    unit: '{worker}',
    required: [ATTR_CICD_WORKER_STATE],
  },
  [METRIC_PROCESS_UPTIME]: { instrument: 'gauge', unit: 's', required: [] },
  [METRIC_PROCESS_CPU_TIME]: { instrument: 'counter', unit: 's', required: [ATTR_CPU_MODE] },
  [METRIC_PROCESS_MEMORY_USAGE]: { instrument: 'updowncounter', unit: 'By', required: [] },
  ...Object.fromEntries(
    [
      METRIC_V8JS_MEMORY_HEAP_USED,
      METRIC_V8JS_MEMORY_HEAP_SPACE_SIZE,
      METRIC_V8JS_MEMORY_HEAP_SPACE_AVAILABLE_SIZE,
      METRIC_V8JS_MEMORY_HEAP_SPACE_PHYSICAL_SIZE,
    ].map((name) => [
      name,
      { instrument: 'updowncounter', unit: 'By', required: [ATTR_V8JS_HEAP_SPACE_NAME] },
    ]),
  ),
  [METRIC_V8JS_GC_DURATION]: { instrument: 'histogram', unit: 's', required: [ATTR_V8JS_GC_TYPE] },
  [METRIC_V8JS_RESOURCE_ACTIVE]: {
    instrument: 'gauge',
    unit: '{resource}',
    required: [ATTR_V8JS_RESOURCE_TYPE],
  },
  ...Object.fromEntries(
    [
      METRIC_NODEJS_EVENTLOOP_DELAY_MIN,
      METRIC_NODEJS_EVENTLOOP_DELAY_MAX,
      METRIC_NODEJS_EVENTLOOP_DELAY_MEAN,
      METRIC_NODEJS_EVENTLOOP_DELAY_STDDEV,
      METRIC_NODEJS_EVENTLOOP_DELAY_P50,
      METRIC_NODEJS_EVENTLOOP_DELAY_P90,
      METRIC_NODEJS_EVENTLOOP_DELAY_P99,
    ].map((name) => [name, { instrument: 'gauge', unit: 's', required: [] }]),
  ),
  [METRIC_NODEJS_EVENTLOOP_UTILIZATION]: { instrument: 'gauge', unit: '1', required: [] },
  [METRIC_SYSTEM_CPU_UTILIZATION]: {
    instrument: 'gauge',
    unit: '1',
    required: [],
    optional: [ATTR_CPU_MODE, ATTR_CPU_LOGICAL_NUMBER],
  },
  [METRIC_SYSTEM_MEMORY_USAGE]: {
    instrument: 'updowncounter',
    unit: 'By',
    required: [],
    optional: [ATTR_SYSTEM_MEMORY_STATE],
  },
  [METRIC_SYSTEM_MEMORY_LIMIT]: { instrument: 'updowncounter', unit: 'By', required: [] },
};

/** The package's well-known values of an enum attribute, by the constants' prefix. */
function valuesOf(prefix: string): ReadonlySet<string> {
  const values = Object.entries(semconv)
    .filter(([k]) => k.startsWith(prefix))
    .map(([, v]) => v as string);
  assert.ok(values.length > 0, `no ${prefix}* constants in @opentelemetry/semantic-conventions`);
  return new Set(values);
}

/**
 * Attributes whose every value must be one of the conventions' (the well-known values apply to
 * what jobmeter records; `error.type` and names are open by definition).
 */
const ENUMS: Readonly<Record<string, ReadonlySet<string>>> = {
  [ATTR_CICD_PIPELINE_RUN_STATE]: valuesOf('CICD_PIPELINE_RUN_STATE_VALUE_'),
  [ATTR_CICD_PIPELINE_RESULT]: valuesOf('CICD_PIPELINE_RESULT_VALUE_'),
  [ATTR_CICD_WORKER_STATE]: valuesOf('CICD_WORKER_STATE_VALUE_'),
  [ATTR_CPU_MODE]: valuesOf('CPU_MODE_VALUE_'),
  [ATTR_V8JS_GC_TYPE]: valuesOf('V8JS_GC_TYPE_VALUE_'),
  [ATTR_SYSTEM_MEMORY_STATE]: valuesOf('SYSTEM_MEMORY_STATE_VALUE_'),
};

/** The namespaces of the conventions the profile draws on: a name under one must be in CONVENTIONS. */
const CONVENTION_NAMESPACE = /^(?:cicd|process|v8js|nodejs|system)\./;

/** jobmeter's documented instruments (its catalog), for what no convention defines. */
const DOCUMENTED = new Set([...DOMAIN_INSTRUMENTS, ...SELF_INSTRUMENTS].map((s) => s.name));

/** The canonical instruments the conventions' ones stand for: never emitted under semconv. */
const REPLACED = [
  'jobmeter.run.started',
  'jobmeter.run.finished',
  'jobmeter.run.duration',
  'jobmeter.run.active',
  'jobmeter.runner.error',
  'jobmeter.process.active_resources',
  'jobmeter.process.gc.count',
];

/** The CI/CD instruments the demo scenario must show (it records every outcome and runner errors). */
const CICD_EMITTED = [
  METRIC_CICD_PIPELINE_RUN_DURATION,
  METRIC_CICD_PIPELINE_RUN_ACTIVE,
  METRIC_CICD_PIPELINE_RUN_ERRORS,
  METRIC_CICD_SYSTEM_ERRORS,
];

/** The conventions' type of a decoded OTLP metric. */
function instrumentOf(m: DecodedMetric): string {
  if (m.kind === 'histogram') return 'histogram';
  if (m.kind === 'gauge') return 'gauge';
  if (m.kind === 'sum') return m.monotonic === true ? 'counter' : 'updowncounter';
  return m.kind;
}

/** What is wrong with one metric's points against its convention, as lines. */
function attributeFindings(
  name: string,
  convention: ConventionMetric,
  points: readonly Record<string, unknown>[],
): string[] {
  const findings: string[] = [];
  const allowed = new Set([...convention.required, ...(convention.optional ?? [])]);
  for (const attributes of points) {
    for (const key of convention.required)
      if (!(key in attributes)) findings.push(`${name}: a point without ${key}`);
    for (const [key, value] of Object.entries(attributes)) {
      if (!allowed.has(key)) findings.push(`${name}: attribute ${key} is not the convention's`);
      const closed = ENUMS[key];
      if (closed !== undefined && !closed.has(String(value)))
        findings.push(`${name}: ${key}="${String(value)}" is not one of ${[...closed].join(', ')}`);
    }
  }
  return findings;
}

/** The conventions' type of each OpenTelemetry API instrument kind (sync or async alike). */
const CONVENTION_TYPE: Readonly<Record<InstrumentKind, ConventionInstrument>> = {
  counter: 'counter',
  observableCounter: 'counter',
  upDownCounter: 'updowncounter',
  observableUpDownCounter: 'updowncounter',
  gauge: 'gauge',
  observableGauge: 'gauge',
  histogram: 'histogram',
};

test("the profile's table and process instruments: each a convention's metric (name, type, unit, attribute keys), each closed set within the convention's enum", () => {
  const findings: string[] = [];
  const entries = [
    ...semconvConvention.instruments.map((e) => ({
      name: e.name,
      kind: e.kind,
      unit: e.unit,
      attributes: e.attributes.map((a) => ({ key: a.key, values: a.words })),
    })),
    ...CONVENTION_PROCESS_INSTRUMENTS,
  ];
  for (const entry of entries) {
    const convention = CONVENTIONS[entry.name];
    if (convention === undefined) {
      findings.push(`${entry.name}: not one of the conventions' metrics`);
      continue;
    }
    if (CONVENTION_TYPE[entry.kind] !== convention.instrument)
      findings.push(
        `${entry.name}: a ${entry.kind}, the convention's is a ${convention.instrument}`,
      );
    if (entry.unit !== convention.unit)
      findings.push(
        `${entry.name}: unit "${entry.unit}", the convention's is "${convention.unit}"`,
      );
    const allowed = [...convention.required, ...(convention.optional ?? [])];
    for (const key of convention.required)
      if (!entry.attributes.some((a) => a.key === key))
        findings.push(`${entry.name}: no ${key}, which the convention requires`);
    for (const a of entry.attributes) {
      if (!allowed.includes(a.key))
        findings.push(`${entry.name}: ${a.key} is not the convention's`);
      const closed = ENUMS[a.key];
      for (const word of a.values ?? [])
        if (closed !== undefined && !closed.has(word))
          findings.push(`${entry.name}: ${a.key} word "${word}" is not one of the convention's`);
    }
  }
  // The closed sets the table gives for the ingest are the conventions' whole enums.
  for (const e of semconvConvention.instruments)
    for (const a of e.attributes)
      if (a.words !== undefined)
        assert.deepEqual(new Set(a.words), ENUMS[a.key], `${e.name}: ${a.key}`);
  assert.deepEqual(findings, []);
});

/** The queued run's wait: enqueued 7 s before it started. */
const WAIT_SECONDS = 7;

/**
 * A semconv jobmeter fed the demo scenario (every outcome, a run in flight, runner errors) and a
 * run that says when it was enqueued (its queue wait: the pending state).
 */
async function demoJobmeter(options: Parameters<typeof createJobmeter>[0]): Promise<Jobmeter> {
  const jm = await createJobmeter({ profile: 'semconv', global: false, ...options });
  runDemo(jm, 'semconv');
  const startedAt = Date.now() - 2_000;
  jm.recordRun({
    task: 'queued',
    outcome: 'success',
    durationSeconds: 2,
    startedAt,
    enqueuedAt: startedAt - WAIT_SECONDS * 1000,
  });
  return jm;
}

describe('semconv on the OTLP push', () => {
  let receiver: OtlpReceiver;
  let jm: Jobmeter;
  let metrics: DecodedMetric[];

  before(async () => {
    receiver = await startOtlpReceiver();
    jm = await demoJobmeter({
      listener: false,
      otlp: { endpoint: receiver.url, protocol: 'http/protobuf', intervalMillis: 3_600_000 },
    });
    await jm.forceFlush();
    await receiver.waitForRequests(1, 10_000);
    metrics = receiver.requests.at(-1)!.metrics;
  });

  after(async () => {
    await jm?.shutdown();
    await receiver?.close();
    assert.deepEqual(receiver.errors, []);
  });

  test("every instrument is a convention's (name, instrument type, unit, attributes, values) or a documented jobmeter one", () => {
    const findings: string[] = [];
    for (const m of metrics) {
      const convention = CONVENTIONS[m.name];
      if (convention === undefined) {
        if (CONVENTION_NAMESPACE.test(m.name))
          findings.push(`${m.name}: under a convention's namespace but not one of its metrics`);
        else if (!DOCUMENTED.has(m.name))
          findings.push(`${m.name}: not a documented jobmeter instrument`);
        continue;
      }
      if (instrumentOf(m) !== convention.instrument)
        findings.push(
          `${m.name}: a ${instrumentOf(m)}, the convention's is a ${convention.instrument}`,
        );
      if (m.unit !== convention.unit)
        findings.push(`${m.name}: unit "${m.unit}", the convention's is "${convention.unit}"`);
      findings.push(
        ...attributeFindings(
          m.name,
          convention,
          m.points.map((p) => p.attributes),
        ),
      );
    }
    assert.deepEqual(findings, []);
  });

  test('the CI/CD instruments are there, and the canonical ones they stand for are not', () => {
    const names = new Set(metrics.map((m) => m.name));
    for (const name of CICD_EMITTED) assert.ok(names.has(name), `${name} is pushed`);
    for (const name of REPLACED) assert.ok(!names.has(name), `${name} is not pushed`);
    assert.ok(!names.has(METRIC_CICD_WORKER_COUNT), 'jobmeter has no worker slots to count');
  });

  test("a run's outcome is the convention's result, error.type is set on failed runs only; a finished run is the executing state, its queue wait the pending state", () => {
    const duration = metrics.find((m) => m.name === METRIC_CICD_PIPELINE_RUN_DURATION)!;
    const state = (s: string) =>
      duration.points.filter((p) => p.attributes[ATTR_CICD_PIPELINE_RUN_STATE] === s);
    // A finished run is its executing state, with its result; every point is one of the two states.
    const executing = state(CICD_PIPELINE_RUN_STATE_VALUE_EXECUTING);
    const pending = state(CICD_PIPELINE_RUN_STATE_VALUE_PENDING);
    assert.equal(executing.length + pending.length, duration.points.length);
    const byResult = new Map(
      executing
        .filter((p) => p.attributes[ATTR_CICD_PIPELINE_NAME] !== 'queued')
        .map((p) => [String(p.attributes[ATTR_CICD_PIPELINE_RESULT]), p]),
    );
    // The demo: one run of each outcome (success, failure, timeout, cancelled).
    assert.deepEqual(
      [...byResult.keys()].sort(),
      ['cancellation', 'failure', 'success', 'timeout'].sort(),
    );
    // The queued run's wait is its pending state: no result is set in it.
    assert.deepEqual(
      pending.map((p) => [p.attributes, p.count, p.sum]),
      [
        [
          {
            [ATTR_CICD_PIPELINE_NAME]: 'queued',
            [ATTR_CICD_PIPELINE_RUN_STATE]: CICD_PIPELINE_RUN_STATE_VALUE_PENDING,
          },
          1,
          WAIT_SECONDS,
        ],
      ],
    );
    assert.equal(
      byResult.get(CICD_PIPELINE_RESULT_VALUE_CANCELLATION)?.attributes[ATTR_ERROR_TYPE],
      undefined,
    );
    assert.equal(byResult.get('success')?.attributes[ATTR_ERROR_TYPE], undefined);
    assert.equal(byResult.get('failure')?.attributes[ATTR_ERROR_TYPE], ERROR_TYPE_VALUE_OTHER);
    assert.equal(byResult.get('timeout')?.attributes[ATTR_ERROR_TYPE], 'timeout');
    // The run errors count exactly the failed runs, by the same error.type.
    const errors = metrics.find((m) => m.name === METRIC_CICD_PIPELINE_RUN_ERRORS)!;
    assert.deepEqual(errors.points.map((p) => [p.attributes[ATTR_ERROR_TYPE], p.value]).sort(), [
      [ERROR_TYPE_VALUE_OTHER, 1],
      ['timeout', 1],
    ]);
    const system = metrics.find((m) => m.name === METRIC_CICD_SYSTEM_ERRORS)!;
    assert.deepEqual(
      system.points
        .map((p) => p.attributes)
        .sort((a, b) =>
          String(a[ATTR_CICD_SYSTEM_COMPONENT]).localeCompare(
            String(b[ATTR_CICD_SYSTEM_COMPONENT]),
          ),
        ),
      [
        { [ATTR_CICD_SYSTEM_COMPONENT]: 'container', [ATTR_ERROR_TYPE]: 'cgroup_prepare_failed' },
        { [ATTR_CICD_SYSTEM_COMPONENT]: 'wasm', [ATTR_ERROR_TYPE]: 'module_load_failed' },
      ],
    );
  });
});

/**
 * The OTel → Prometheus name of a convention's metric, from the compatibility spec (the default
 * UnderscoreEscapingWithSuffixes): characters outside [a-zA-Z0-9_:] become `_`, the unit's word is
 * appended (`s` seconds, `By` bytes, `1` ratio on gauges; a `{…}` annotation has none), counters
 * end in `_total`. Written here, not read from jobmeter, so jobmeter's naming is checked too.
 */
function prometheusNameOf(name: string, convention: ConventionMetric): string {
  const words: Record<string, string> = { s: 'seconds', By: 'bytes' };
  let out = name.replace(/[^a-zA-Z0-9_:]/g, '_');
  const word =
    convention.unit === '1' && convention.instrument === 'gauge' ? 'ratio' : words[convention.unit];
  if (word !== undefined) out += `_${word}`;
  if (convention.instrument === 'counter') out += '_total';
  return out;
}

const labelOf = (key: string): string => key.replace(/[^a-zA-Z0-9_]/g, '_');

/** The Prometheus type of a convention's instrument. */
const PROMETHEUS_TYPE: Readonly<Record<ConventionInstrument, string>> = {
  histogram: 'histogram',
  counter: 'counter',
  updowncounter: 'gauge',
  gauge: 'gauge',
};

for (const major of PROMETHEUS_MAJORS) {
  describe(`semconv on the pull endpoint, scraped by Prometheus ${major}`, () => {
    let jm: Jobmeter;
    let prom: PrometheusHandle;

    before(async () => {
      jm = await demoJobmeter({ listener: { port: 0 } });
      prom = await startPrometheus({
        major,
        jobs: [{ name: 'semconv', target: `127.0.0.1:${jm.pullAddress!.port}` }],
        scrapeInterval: '1s',
      });
      await prom.waitForTargetsUp(30_000);
      await prom.waitFor(
        `count({job="semconv", __name__=~"cicd_.+"})`,
        (r) => r.length === 1 && Number(r[0]!.value[1]) > 0,
      );
    });

    after(async () => {
      await Promise.allSettled([prom?.stop(), jm?.shutdown()]);
    });

    test("each convention's metric is stored under its OTel → Prometheus name, type and labels, values the convention's", async () => {
      const stored = (await prom.series('{job="semconv"}')).filter(
        (s) => !/^(?:up|scrape_.+)$/.test(s['__name__']!),
      );
      const typesResponse = await fetch(
        `${prom.url}/api/v1/targets/metadata?match_target=${encodeURIComponent('{job="semconv"}')}`,
      );
      const types = new Map(
        ((await typesResponse.json()) as { data: { metric: string; type: string }[] }).data.map(
          (m) => [m.metric, m.type],
        ),
      );
      const findings: string[] = [];
      const seen = new Set<string>();
      for (const [name, convention] of Object.entries(CONVENTIONS)) {
        const family = prometheusNameOf(name, convention);
        const suffixes =
          convention.instrument === 'histogram' ? ['_bucket', '_sum', '_count'] : [''];
        const series = stored.filter((s) => suffixes.some((x) => s['__name__'] === family + x));
        if (series.length === 0) continue;
        seen.add(name);
        // A counter's TYPE names the family with `_total` in text 0.0.4, without in OpenMetrics.
        const type = types.get(family) ?? types.get(family.replace(/_total$/, ''));
        if (type !== PROMETHEUS_TYPE[convention.instrument])
          findings.push(
            `${family}: type ${type}, the convention's ${PROMETHEUS_TYPE[convention.instrument]}`,
          );
        const toKey = new Map(
          [...convention.required, ...(convention.optional ?? [])].map((k) => [labelOf(k), k]),
        );
        const points = series.map((s) => {
          const attributes: Record<string, string> = {};
          for (const [label, value] of Object.entries(s)) {
            if (
              [
                '__name__',
                'job',
                'instance',
                'le',
                'otel_scope_name',
                'otel_scope_version',
              ].includes(label)
            )
              continue;
            attributes[toKey.get(label) ?? label] = value;
          }
          return attributes;
        });
        findings.push(...attributeFindings(family, convention, points));
      }
      for (const s of stored) {
        const name = s['__name__']!;
        if (/^(?:cicd|process|v8js|nodejs|system)_/.test(name)) {
          const known = Object.entries(CONVENTIONS).some(([n, c]) =>
            name.startsWith(prometheusNameOf(n, c)),
          );
          if (!known)
            findings.push(`${name}: under a convention's namespace but not one of its metrics`);
        }
      }
      assert.deepEqual(findings, []);
      for (const name of CICD_EMITTED) assert.ok(seen.has(name), `${name} is stored`);
      const result = await prom.query(
        'count by (cicd_pipeline_result) (cicd_pipeline_run_duration_seconds_count{job="semconv", cicd_pipeline_run_state="executing"})',
      );
      assert.deepEqual(result.map((r) => r.metric['cicd_pipeline_result']).sort(), [
        'cancellation',
        'failure',
        'success',
        'timeout',
      ]);
      const waits = await prom.query(
        'cicd_pipeline_run_duration_seconds_sum{job="semconv", cicd_pipeline_run_state="pending"}',
      );
      assert.deepEqual(
        waits.map((r) => [r.metric['cicd_pipeline_name'], Number(r.value[1])]),
        [['queued', WAIT_SECONDS]],
      );
    });
  });
}
