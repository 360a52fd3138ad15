/**
 * An attribute named after a property of Object.prototype — `__proto__`, `constructor`,
 * `hasOwnProperty`, `toString` — is an attribute like any other: sent through the OTLP ingest (JSON
 * and protobuf), recorded on a host counter, or pushed under a profile's label of its name, it is
 * served as a label (its name sanitised as any key is), never dropped. A plain assignment of
 * `__proto__` sets an object's prototype instead: every attribute set is built with setAttribute
 * (common/set-attribute.ts).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { metrics, ValueType } from '@opentelemetry/api';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import {
  AggregationTemporality,
  DataPointType,
  MeterProvider,
  PeriodicExportingMetricReader,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';

import { sanitizeName } from '../../src/naming/prometheus-names.ts';
import { namedMetrics } from '../../src/naming/family-builder.ts';
import { createNamer } from '../../src/naming/to-families.ts';
import { createJobmeter, type Jobmeter } from '../../src/index.ts';
import { freePort } from '../support/free-port.ts';

const KEYS = ['__proto__', 'constructor', 'hasOwnProperty', 'toString'] as const;

/** `{ key: prefix + i }` for each of KEYS, as own enumerable keys (an object literal cannot hold `__proto__`). */
function attributes(prefix: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [i, key] of KEYS.entries())
    Object.defineProperty(out, key, {
      value: `${prefix}${i}`,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  return out;
}

/** The label string the otel profile serves for `attributes(prefix)` (labels in key order, then the scope). */
function expectedLabels(prefix: string, scope: string): string {
  const labels = KEYS.map((key, i) => [sanitizeName(key, true), `${prefix}${i}`] as const).sort(
    ([a], [b]) => (a < b ? -1 : 1),
  );
  return [
    ...labels.map(([name, value]) => `${name}="${value}"`),
    `otel_scope_name="${scope}"`,
  ].join(',');
}

let jm: Jobmeter;
before(async () => {
  jm = await createJobmeter({
    profile: 'otel',
    listener: false,
    ingest: { port: 0 },
    global: true,
    processMetrics: false,
  });
});
after(async () => {
  await jm.shutdown();
  metrics.disable();
});

async function served(name: string): Promise<string[]> {
  const family = (await jm.scrape()).find((f) => f.name === name);
  assert.ok(family !== undefined, `${name} is served`);
  return family.series.map((s) => s.labels);
}

test('prototype names as attribute keys of an OTLP/JSON request are served as labels', async () => {
  const body = {
    resourceMetrics: [
      {
        resource: { attributes: [] },
        scopeMetrics: [
          {
            scope: { name: 'json' },
            metrics: [
              {
                name: 'json_proto',
                gauge: {
                  dataPoints: [
                    {
                      asDouble: 1,
                      timeUnixNano: String(BigInt(Date.now()) * 1_000_000n),
                      attributes: KEYS.map((key, i) => ({ key, value: { stringValue: `j${i}` } })),
                    },
                  ],
                },
              },
            ],
          },
        ],
      },
    ],
  };
  const response = await fetch(`http://127.0.0.1:${jm.ingestAddress!.port}/v1/metrics`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  assert.equal(response.status, 200, await response.text());
  assert.deepEqual(await served('json_proto'), [expectedLabels('j', 'json')]);
});

test('prototype names as attribute keys of an OTLP/protobuf export are served as labels', async () => {
  const provider = new MeterProvider({
    readers: [
      new PeriodicExportingMetricReader({
        exporter: new OTLPMetricExporter({
          url: `http://127.0.0.1:${jm.ingestAddress!.port}/v1/metrics`,
        }),
        exportIntervalMillis: 60_000,
      }),
    ],
  });
  provider.getMeter('proto').createCounter('proto_proto').add(3, attributes('p'));
  await provider.forceFlush();
  await provider.shutdown();
  assert.deepEqual(await served('proto_proto_total'), [expectedLabels('p', 'proto')]);
});

test('prototype names as attribute keys on a host counter are served as labels', async () => {
  metrics.getMeter('host').createCounter('host_proto').add(1, attributes('h'));
  assert.deepEqual(await served('host_proto_total'), [expectedLabels('h', 'host')]);
});

test('prototype names as attribute keys of an ingested series come back from the state file', async () => {
  const stateDir = await mkdtemp(join(tmpdir(), 'jobmeter-proto-state-'));
  try {
    const port = await freePort();
    const first = await createJobmeter({
      profile: 'otel',
      listener: false,
      ingest: { port, stateDir },
      processMetrics: false,
    });
    const provider = new MeterProvider({
      readers: [
        new PeriodicExportingMetricReader({
          exporter: new OTLPMetricExporter({ url: `http://127.0.0.1:${port}/v1/metrics` }),
          exportIntervalMillis: 60_000,
        }),
      ],
    });
    provider.getMeter('state').createCounter('state_proto').add(5, attributes('s'));
    await provider.forceFlush();
    await provider.shutdown();
    await first.shutdown();
    const second = await createJobmeter({
      profile: 'otel',
      listener: false,
      ingest: { port, stateDir },
      processMetrics: false,
    });
    try {
      const family = (await second.scrape()).find((f) => f.name === 'state_proto_total');
      assert.deepEqual(
        family?.series.map((s) => s.labels),
        [expectedLabels('s', 'state')],
      );
    } finally {
      await second.shutdown();
    }
  } finally {
    await rm(stateDir, { recursive: true, force: true });
  }
});

test("a pushed family's label named __proto__ stays an attribute, the object's prototype untouched", () => {
  const namer = createNamer({
    kind: 'table',
    name: 'keys',
    prefix: '',
    format: 'negotiate',
    rules: [
      {
        instrument: 'c',
        name: 'c_total',
        type: 'counter',
        help: '',
        labels: [
          ['__proto__', '__proto__'],
          ['constructor', 'constructor'],
        ],
      },
    ],
  });
  const rm = {
    resource: { attributes: {} },
    scopeMetrics: [
      {
        scope: { name: 's' },
        metrics: [
          {
            descriptor: { name: 'c', description: '', unit: '', valueType: ValueType.INT },
            dataPointType: DataPointType.SUM,
            isMonotonic: true,
            aggregationTemporality: AggregationTemporality.CUMULATIVE,
            dataPoints: [
              { startTime: [0, 0], endTime: [0, 0], attributes: attributes('x'), value: 1 },
            ],
          },
        ],
      },
    ],
  } as unknown as ResourceMetrics;
  const pushed = namedMetrics(
    namer.toFamilies(rm),
    rm.resource,
    { name: 'jobmeter' },
    [0, 0],
    [0, 0],
  );
  const parsed = pushed.scopeMetrics[0]!.metrics[0]!.dataPoints[0]!.attributes;
  assert.deepEqual(Object.keys(parsed), ['__proto__', 'constructor']);
  assert.equal(Object.getPrototypeOf(parsed), Object.prototype);
  assert.equal(Object.getOwnPropertyDescriptor(parsed, '__proto__')?.value, 'x0');
});
