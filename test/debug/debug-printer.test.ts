/**
 * The --debug printer: a header line and the normal-verbosity text per received request and per
 * pushed export; a push prints the same text whichever protocol carries it; outcomes and
 * refusals in the header; nothing it cannot print breaks anything.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ExportResultCode } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, MetricReader, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { createDebugPrinter } from '../../src/debug/debug-printer.ts';
import { serializePush } from '../../src/debug/wire.ts';

class CollectingReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

async function collection(): Promise<ResourceMetrics> {
  const reader = new CollectingReader();
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': 'svc' }),
    readers: [reader],
  });
  const meter = provider.getMeter('scope', '1.0.0');
  meter.createCounter('runs').add(3, { task: 'backup' });
  meter
    .createHistogram('took', { advice: { explicitBucketBoundaries: [1, 10] } })
    .record(2.5, { task: 'backup' });
  const { resourceMetrics } = await reader.collect();
  await provider.shutdown();
  return resourceMetrics;
}

const TEXT = [
  'ResourceMetrics #0 service.name=svc',
  'ScopeMetrics #0 scope@1.0.0',
  'runs{task=backup} 3',
  'took{task=backup} count=1 sum=2.5 min=2.5 max=2.5 le1=0 le10=1 0',
];
const SUMMARY = '{"resource metrics": 1, "metrics": 2, "data points": 2}';

describe('createDebugPrinter', () => {
  it('pushed: a header with the outcome, then the text; the same text over protobuf and JSON', async () => {
    const rm = await collection();
    for (const [protocol, label] of [
      ['http/protobuf', 'OTLP/HTTP protobuf'],
      ['http/json', 'OTLP/HTTP json'],
    ] as const) {
      const lines: string[] = [];
      const printer = createDebugPrinter((line) => lines.push(line), protocol);
      const done = printer.pushed(rm);
      assert.deepEqual(lines, [], 'nothing printed before the export settles');
      done({ code: ExportResultCode.SUCCESS });
      assert.deepEqual(
        lines,
        [`jobmeter: debug: pushed ${SUMMARY} (${label}): delivered`, ...TEXT],
        protocol,
      );
    }
  });

  it('pushed: a failed export says why, by status or error code only', async () => {
    const lines: string[] = [];
    const printer = createDebugPrinter((line) => lines.push(line));
    const rm = await collection();
    printer.pushed(rm)({
      code: ExportResultCode.FAILED,
      error: Object.assign(new Error('Unavailable: token=abc'), { code: 503 }),
    });
    printer.pushed(rm)({
      code: ExportResultCode.FAILED,
      error: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
    });
    assert.deepEqual(
      lines.filter((l) => l.startsWith('jobmeter: ')),
      [
        `jobmeter: debug: pushed ${SUMMARY} (OTLP/HTTP protobuf): not delivered (HTTP 503)`,
        `jobmeter: debug: pushed ${SUMMARY} (OTLP/HTTP protobuf): not delivered (ECONNREFUSED)`,
      ],
    );
    assert.ok(!lines.join('\n').includes('token=abc'));
  });

  it('received: a header with the encoding and the partial_success message, then the text', async () => {
    const rm = await collection();
    for (const protocol of ['http/protobuf', 'http/json'] as const) {
      const { body, encoding } = serializePush(rm, protocol);
      const lines: string[] = [];
      const printer = createDebugPrinter((line) => lines.push(line));
      printer.received(body, encoding, { rejectedDataPoints: 0, errorMessage: '' });
      printer.received(body, encoding, {
        rejectedDataPoints: 1,
        errorMessage: '1 data point rejected: runs: type conflict (1)',
      });
      assert.deepEqual(lines, [
        `jobmeter: debug: received ${SUMMARY} (OTLP/HTTP ${encoding})`,
        ...TEXT,
        `jobmeter: debug: received ${SUMMARY} (OTLP/HTTP ${encoding}); 1 data point rejected: runs: type conflict (1)`,
        ...TEXT,
      ]);
    }
  });

  it('what it cannot print is said in one line, and nothing throws', () => {
    const lines: string[] = [];
    const printer = createDebugPrinter((line) => lines.push(line));
    printer.received(Buffer.from('{"resourceMetrics": ['), 'json', {
      rejectedDataPoints: 0,
      errorMessage: '',
    });
    printer.pushed({
      resource: resourceFromAttributes({}),
      scopeMetrics: [{ scope: { name: 's' }, metrics: [{ nonsense: true }] }],
    } as unknown as ResourceMetrics)({ code: ExportResultCode.SUCCESS });
    assert.equal(lines.length, 2);
    assert.match(lines[0]!, /^jobmeter: debug: received a request that could not be printed: /);
    assert.match(
      lines[1]!,
      /^jobmeter: debug: pushed an export that could not be printed \(.+\): delivered$/,
    );
  });
});
