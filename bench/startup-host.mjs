// What a host writes to serve one counter on a pull endpoint, one contender per process
// (startup.ts starts it): `node bench/startup-host.mjs <contender> <port>`. Plain JavaScript that
// imports only its contender, jobmeter as a host gets it (the package root: the built dist/), so
// the process holds what that host would and nothing of the bench: node:http only where the host
// itself makes a server. Prints `READY` once listening.
import { readFileSync } from 'node:fs';
import { findPackageJSON } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [contender, portArg] = process.argv.slice(2);
const port = Number(portArg);
const host = '127.0.0.1';

/** A Prometheus client library served the way its README does: `register.metrics()` behind node:http. */
async function promLibrary(pkg, { defaultMetrics = false } = {}) {
  const lib = await import(pkg);
  const registry = new lib.Registry();
  // prom-client's process and event-loop metrics, as its README starts them: the like of what
  // jobmeter serves by default (its `processMetrics`).
  if (defaultMetrics) lib.collectDefaultMetrics({ register: registry });
  new lib.Counter({ name: 'requests_total', help: 'Requests.', registers: [registry] }).inc();
  await listen((_req, res) =>
    registry.metrics().then((text) => {
      res.setHeader('Content-Type', registry.contentType);
      res.end(text);
    }),
  );
}

/** The ESM entry of the sdk-metrics release `@opentelemetry/exporter-prometheus` itself resolves. */
function exporterSdk() {
  const json = findPackageJSON(
    '@opentelemetry/sdk-metrics',
    import.meta.resolve('@opentelemetry/exporter-prometheus'),
  );
  const entry = JSON.parse(readFileSync(json, 'utf8')).exports['.'].default.default;
  return pathToFileURL(join(dirname(json), entry)).href;
}

/** node:http, imported by the contenders that make their own server (jobmeter's opens its own). */
async function listen(handler) {
  const { createServer } = await import('node:http');
  return new Promise((resolve) => createServer(handler).listen(port, host, resolve));
}

switch (contender) {
  case 'jobmeter':
  case 'jobmeter-no-process-metrics': {
    const { createJobmeter } = await import('jobmeter');
    const jm = await createJobmeter({
      listener: { host, port },
      ...(contender === 'jobmeter' ? {} : { processMetrics: false }),
    });
    jm.meter.createCounter('requests').add(1);
    break;
  }
  case 'otel':
  case 'otel-one-sdk': {
    // `otel`: the host's own sdk-metrics, the newest, beside the release the exporter pins (its
    // dependencies are exact versions): two copies of the SDK, core and resources, as installing
    // both packages gives while their releases differ. `otel-one-sdk`: the host takes the
    // exporter's copy, so one loads.
    const { MeterProvider } = await import(
      contender === 'otel' ? '@opentelemetry/sdk-metrics' : exporterSdk()
    );
    const { PrometheusExporter } = await import('@opentelemetry/exporter-prometheus');
    let listening;
    const started = new Promise((resolve) => (listening = resolve));
    const exporter = new PrometheusExporter({ host, port }, listening);
    const provider = new MeterProvider({ readers: [exporter] });
    provider.getMeter('host').createCounter('requests').add(1);
    await started;
    break;
  }
  case 'prom-client':
    await promLibrary('prom-client');
    break;
  case 'prom-client-default-metrics':
    await promLibrary('prom-client', { defaultMetrics: true });
    break;
  case 'prometheus-io':
    await promLibrary('@prometheus-io/client');
    break;
  case 'node':
    // The floor: Node serving a constant body.
    await listen((_req, res) => res.end('requests_total 1\n'));
    break;
  default:
    throw new Error(`startup-host: no contender ${contender}`);
}
process.stdout.write('READY\n');
// The host's own work keeps it alive (the exporter's server is unref'd); startup.ts kills it.
setInterval(() => {}, 60_000);
