/**
 * The main server's `/ready` (health-route.ts) for the ingest's memory budget: 200
 * while the ingest holds little, 503 naming the bytes held once it holds its budget and refuses new
 * series, while `/health` stays 200. The push's side, with serve as a child: test/cli/serve-ready.test.ts.
 */
import assert from 'node:assert/strict';
import { after, it } from 'node:test';

import { createJobmeter, type Jobmeter } from '../../src/jobmeter.ts';
import { startMainServer, type MainServer } from '../../src/http/main-server.ts';
import { OPTION_DEFAULTS } from '../../src/common/option-defaults.ts';
import { notReadyReasons, READY_PUSH_FAILURES } from '../../src/http/health-route.ts';
import { resolveServeConfig } from '../../src/config/resolve-layers.ts';
import { tempFiles } from '../support/temp-files.ts';

const files = tempFiles('jobmeter-ready-');

let jm: Jobmeter | undefined;
let main: MainServer | undefined;
after(async () => {
  await main?.close();
  await jm?.shutdown();
});

const BUDGET = 300_000;

/** One OTLP/JSON request: 10 gauges × 100 series each, under names of batch `m`. */
function batch(m: number): string {
  const now = `${Date.now()}000000`;
  const metrics = Array.from({ length: 10 }, (_, j) => ({
    name: `g${m}_${j}`,
    gauge: {
      dataPoints: Array.from({ length: 100 }, (_, i) => ({
        asDouble: 1,
        timeUnixNano: now,
        attributes: [{ key: 'k', value: { stringValue: `v${i}` } }],
      })),
    },
  }));
  return JSON.stringify({
    resourceMetrics: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 's' } }] },
        scopeMetrics: [{ scope: { name: 't' }, metrics }],
      },
    ],
  });
}

it('/ready turns 503 once the ingest holds its memory budget; /health stays 200', async () => {
  jm = await createJobmeter({
    processMetrics: false,
    global: false,
    listener: false,
    ingest: { port: 0, maxMemoryBytes: BUDGET },
  });
  const pipeline = jm.pipeline.bind(jm);
  main = await startMainServer({
    ...OPTION_DEFAULTS.serverLimits,
    host: '127.0.0.1',
    port: 0,
    pipeline,
  });
  const base = `http://127.0.0.1:${main.address.port}`;
  const ready = async (): Promise<[number, string]> => {
    const res = await fetch(`${base}/ready`);
    return [res.status, await res.text()];
  };
  assert.deepEqual(await ready(), [200, 'ready\n']);

  const ingest = `http://127.0.0.1:${jm.ingestAddress!.port}/v1/metrics`;
  const first = await fetch(ingest, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: batch(0),
  });
  assert.equal(first.status, 200);
  assert.match(await first.text(), /over the memory budget/, 'the batch is larger than the budget');
  const [status, body] = await ready();
  assert.equal(status, 503);
  const held = jm.pipeline().ingest!.memoryBytes;
  assert.equal(
    body,
    `not ready: ingest at its memory budget: ${held} of ${BUDGET} bytes held, new series are refused\n`,
  );
  const health = await fetch(`${base}/health`);
  assert.deepEqual([health.status, await health.text()], [200, 'ok\n']);
});

it('the reasons: push failures below the threshold are no reason; both reasons at once', () => {
  assert.deepEqual(
    notReadyReasons({
      push: { failedExports: READY_PUSH_FAILURES - 1 },
      ingest: { memoryBytes: 0, maxMemoryBytes: 1 },
    }),
    [],
  );
  assert.deepEqual(notReadyReasons({ push: undefined, ingest: undefined }), []);
  assert.deepEqual(
    notReadyReasons({
      push: { failedExports: READY_PUSH_FAILURES },
      ingest: { memoryBytes: 100, maxMemoryBytes: 100 },
    }),
    [
      `OTLP push failing: the last ${READY_PUSH_FAILURES} exports failed`,
      'ingest at its memory budget: 100 of 100 bytes held, new series are refused',
    ],
  );
});

it('a metrics route may not take /ready on the main server (it would hide readiness)', async () => {
  const path = await files.file('ready.toml', '[listener]\nport = 0\n[metrics]\npath = "/ready"\n');
  await assert.rejects(resolveServeConfig({ argv: ['--config', path], env: {} }), {
    message:
      'invalid metrics.path=/ready: expected a path other than /ready, which the main server answers itself',
  });
});
