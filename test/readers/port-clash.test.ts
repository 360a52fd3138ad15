// A port another reader of the same provider was given is never silently taken. The official
// PrometheusExporter binds after a DNS lookup of its host, so without a rule jobmeter's listener
// would win the race whatever the order and the exporter would die with EADDRINUSE. The rule: the
// standard reader keeps the port it was given; jobmeter's `ready` rejects with a ConfigError naming
// the port and the reader, and jobmeter never listens there — in both orders, with the real
// exporter. Every port here is one found free for the test, given to both readers; the default-port
// case (9464) keeps the exporter from starting, so nothing here needs 9464 to be free.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { afterEach, test } from 'node:test';
import { metrics } from '@opentelemetry/api';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { ConfigError, createJobmeter, JobmeterReader } from '../../src/index.ts';
import { READY_WAIT_MILLIS } from '../../src/jobmeter-reader.ts';
import { freePort } from '../support/free-port.ts';

const providers: MeterProvider[] = [];
afterEach(async () => {
  await Promise.all(providers.splice(0).map((p) => p.shutdown()));
});

/** An exporter on `port` (its default host, localhost) and the promise of its start's outcome. */
function exporterOn(port: number): {
  exporter: PrometheusExporter;
  started: Promise<Error | undefined>;
} {
  let done!: (err: Error | undefined) => void;
  const started = new Promise<Error | undefined>((resolve) => (done = resolve));
  const exporter = new PrometheusExporter({ port }, (err) => done(err ?? undefined));
  return { exporter, started };
}

/** Whose body the port serves: the exporter's is plain `text/plain`, jobmeter's names its version. */
async function servedBy(port: number): Promise<string> {
  const res = await fetch(`http://localhost:${port}/metrics`, {
    headers: { accept: 'text/plain' },
  });
  const body = await res.text();
  assert.match(body, /^host_jobs_total\{otel_scope_name="host"\} 1$/m, body);
  return res.headers.get('content-type') === 'text/plain' ? 'PrometheusExporter' : 'jobmeter';
}

function refused(port: number): (err: unknown) => boolean {
  return (err) => {
    assert.ok(err instanceof ConfigError, String(err));
    assert.equal(err.key, 'listener.port');
    assert.equal(err.value, port);
    assert.match(
      err.message,
      new RegExp(
        `PrometheusExporter was given ${port} and keeps it, so jobmeter does not listen there`,
      ),
    );
    return true;
  };
}

for (const order of ['exporter first', 'jobmeter first'] as const) {
  test(`the same port, ${order} in the readers and in construction: the exporter keeps it, ready rejects naming it`, async () => {
    const port = await freePort();
    const first = order === 'exporter first' ? exporterOn(port) : undefined;
    const reader = new JobmeterReader({ listener: { port } });
    const { exporter, started } = first ?? exporterOn(port);
    const meter = new MeterProvider({
      readers: order === 'exporter first' ? [exporter, reader] : [reader, exporter],
    });
    providers.push(meter);
    meter.getMeter('host').createCounter('host.jobs').add(1);
    await assert.rejects(reader.ready, refused(port));
    assert.equal(await started, undefined, 'the exporter started on the port it was given');
    assert.equal(reader.pullAddress, undefined);
    assert.equal(await servedBy(port), 'PrometheusExporter');
  });
}

test("NodeSDK's metricReaders (its own copy of sdk-metrics): the exporter keeps the port, ready rejects naming it", async (t) => {
  const port = await freePort();
  const { exporter, started } = exporterOn(port);
  const reader = new JobmeterReader({ listener: { port } });
  const sdk = new NodeSDK({
    traceExporter: undefined,
    instrumentations: [],
    resourceDetectors: [],
    autoDetectResources: false,
    metricReaders: [reader, exporter],
  });
  sdk.start();
  t.after(async () => {
    await sdk.shutdown();
    metrics.disable();
  });
  metrics.getMeter('host').createCounter('host.jobs').add(1);
  await assert.rejects(reader.ready, refused(port));
  assert.equal(await started, undefined);
  assert.equal(await servedBy(port), 'PrometheusExporter');
});

test('the default port: new JobmeterReader() beside new PrometheusExporter() is refused without binding 9464', async () => {
  // preventServerStart: the exporter was given 9464 (its default) but does not bind it here.
  const exporter = new PrometheusExporter({ preventServerStart: true });
  const reader = new JobmeterReader();
  providers.push(new MeterProvider({ readers: [reader, exporter] }));
  await assert.rejects(reader.ready, refused(9464));
  assert.equal(reader.pullAddress, undefined);
});

test('different ports: both serve', async () => {
  const [a, b] = [await freePort(), await freePort()];
  const { exporter, started } = exporterOn(a);
  const reader = new JobmeterReader({ listener: { port: b } });
  const meter = new MeterProvider({ readers: [exporter, reader] });
  providers.push(meter);
  meter.getMeter('host').createCounter('host.jobs').add(1);
  await reader.ready;
  assert.equal(await started, undefined);
  assert.deepEqual([await servedBy(a), await servedBy(b)], ['PrometheusExporter', 'jobmeter']);
});

test('two JobmeterReaders of one provider on one port: the first listed binds, the other is refused naming the port and its sibling', async () => {
  const port = await freePort();
  // Constructed in the other order than listed: the list decides.
  const second = new JobmeterReader({ listener: { port } });
  const first = new JobmeterReader({ listener: { port } });
  const meter = new MeterProvider({ readers: [first, second] });
  providers.push(meter);
  meter.getMeter('host').createCounter('host.jobs').add(1);
  await first.ready;
  await assert.rejects(second.ready, (err: unknown) => {
    assert.ok(err instanceof ConfigError, String(err));
    assert.equal(err.key, 'listener.port');
    assert.equal(err.value, port);
    assert.match(
      err.message,
      new RegExp(
        `another JobmeterReader was given ${port} and keeps it, so jobmeter does not listen there`,
      ),
    );
    return true;
  });
  assert.equal(second.pullAddress, undefined);
  assert.equal(first.pullAddress?.port, port);
  assert.equal(await servedBy(port), 'jobmeter');
});

test('createJobmeter: a listener port a JobmeterReader in `readers` was given is a ConfigError naming it', async () => {
  const port = await freePort();
  const reader = new JobmeterReader({ listener: { port } });
  await assert.rejects(
    createJobmeter({ listener: { port }, processMetrics: false, global: false, readers: [reader] }),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError, String(err));
      assert.match(
        err.message,
        new RegExp(`another JobmeterReader was given ${port} and keeps it`),
      );
      return true;
    },
  );
});

test('a port another process holds: ready rejects with EADDRINUSE naming it', async () => {
  const holder = createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  const { port } = holder.address() as { port: number };
  try {
    const reader = new JobmeterReader({ listener: { port } });
    providers.push(new MeterProvider({ readers: [reader] }));
    await assert.rejects(
      reader.ready,
      (err: NodeJS.ErrnoException) =>
        err.code === 'EADDRINUSE' && err.message.includes(`127.0.0.1:${port}`),
    );
  } finally {
    await new Promise<void>((resolve) => holder.close(() => resolve()));
  }
});

test('ready read before any provider takes the reader rejects after READY_WAIT_MILLIS, saying why; read once one has, it follows the bind', async (t) => {
  const port = await freePort();
  const reader = new JobmeterReader({ listener: { port } });
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const early = reader.ready;
  let settled = false;
  void early.then(
    () => (settled = true),
    () => (settled = true),
  );
  t.mock.timers.tick(READY_WAIT_MILLIS - 1);
  await new Promise((r) => setImmediate(r));
  assert.equal(settled, false, 'still waiting within the bound');
  t.mock.timers.tick(1);
  await assert.rejects(
    early,
    /no MeterProvider took this reader within 5000 ms of awaiting ready; give it to one first/,
  );
  t.mock.timers.reset();
  // A provider taking it afterwards still binds the listener; ready, read again, says so.
  providers.push(new MeterProvider({ readers: [reader] }));
  await reader.ready;
  assert.equal(reader.pullAddress?.port, port);
});

test('ready read before a provider takes the reader follows the bind once one does within the bound', async () => {
  const reader = new JobmeterReader({ listener: { port: 0 } });
  const early = reader.ready;
  providers.push(new MeterProvider({ readers: [reader] }));
  await early;
  assert.ok(reader.pullAddress !== undefined);
});

test('the listener binds once a provider takes the reader; shut down before that, ready says nothing listened', async () => {
  const port = await freePort();
  const untaken = new JobmeterReader({ listener: { port } });
  // Not given to a provider: nothing listens on the port.
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(port, '127.0.0.1', resolve));
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  await untaken.shutdown();
  await assert.rejects(untaken.ready, /shut down before its listener was bound/);
});

test('createJobmeter: a listener port a reader in `readers` was given is a ConfigError, and the exporter keeps it', async () => {
  const port = await freePort();
  const { exporter, started } = exporterOn(port);
  await assert.rejects(
    createJobmeter({
      listener: { port },
      processMetrics: false,
      global: false,
      readers: [exporter],
    }),
    refused(port),
  );
  assert.equal(await started, undefined, 'the exporter started on the port it was given');
  const meter = new MeterProvider({ readers: [exporter] });
  providers.push(meter);
  meter.getMeter('host').createCounter('host.jobs').add(1);
  assert.equal(await servedBy(port), 'PrometheusExporter');
});
