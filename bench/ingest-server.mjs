/**
 * jobmeter doing the Collector's job (collector.ts): OTLP/HTTP in on its ingest listener,
 * Prometheus out on its pull listener, in a process of its own, as `jobmeter serve` with
 * `[ingest] enabled = true` runs it. Nothing recorded of its own (no process metrics), so the pull
 * endpoint serves what was pushed. Tells its parent the two ports over IPC (collector-fleet.ts
 * `IngestServerReady`), then serves until the parent disconnects.
 *
 * Plain JavaScript, running the built package (dist/, `npm run build`) as an
 * installed `jobmeter serve` does: a process that loads TypeScript sources carries Node's type
 * stripper in its memory (on its decoding thread too), which no user's process does, and the
 * Collector is measured as the binary users run. Without dist/ it runs the sources and says so.
 *
 * The ingest's series and memory limits are raised to hold the bench's largest push and fleet
 * (110,000 series, up to 10,000 per instrument) with room to spare (`jobmeter serve`'s file has no
 * key for the series caps); its request slots stay at the default (8), so a fleet of more senders
 * shows what a sender past them gets. The Collector's receiver has no such limits by default.
 * Its naming is serve's default: the scope labels on every line, as the Collector's `prometheus`
 * exporter puts `otel_scope_name`, `otel_scope_version` and `otel_scope_schema_url` on every line.
 * Without them (`otel_scope_info = false`) the series of a label set merge across scopes, and the
 * carry holds each ingested series as a source (series/carry.ts): about 45 MiB more at 110,000
 * series, an output the Collector does not serve.
 * With the argument `grpc` it opens its OTLP/gRPC front too (`[ingest] grpc_port`), on a free port.
 * `MEM=1`: prints the process's memory when the parent disconnects (`SMAPS=1`: and its resident
 * memory by mapping, largest first: the node binary's pages, anonymous memory, malloc's heap).
 */
import { existsSync } from 'node:fs';

const built = new URL('../dist/src/index.js', import.meta.url);
if (!existsSync(built))
  console.error('ingest-server: no dist/ (npm run build): running the TypeScript sources');
const { createJobmeter } = await import(
  existsSync(built) ? built.href : new URL('../src/index.ts', import.meta.url).href
);

const jm = await createJobmeter({
  listener: { host: '127.0.0.1', port: 0 },
  ingest: {
    host: '127.0.0.1',
    port: 0,
    maxSeries: 500_000,
    maxSeriesPerInstrument: 10_000,
    maxMemoryBytes: 2 ** 31,
    ...(process.argv[2] === 'grpc' && { grpcPort: 0 }),
  },
  processMetrics: false,
  global: false,
});
process.send({
  otlpPort: jm.ingestAddress.port,
  grpcPort: jm.ingestGrpcAddress?.port,
  pullPort: jm.pullAddress.port,
});
process.once('disconnect', async () => {
  if (process.env.MEM === '1') {
    const m = process.memoryUsage();
    const mb = (x) => (x / 2 ** 20).toFixed(1);
    console.error(
      `server: rss ${mb(m.rss)} heapTotal ${mb(m.heapTotal)} heapUsed ${mb(m.heapUsed)} external ${mb(m.external)} arrayBuffers ${mb(m.arrayBuffers)}`,
    );
    const { getHeapSpaceStatistics } = await import('node:v8');
    console.error(
      getHeapSpaceStatistics()
        .map((s) => `${s.space_name} ${mb(s.space_size)}/${mb(s.space_used_size)}`)
        .join(', '),
    );
    if (process.env.SMAPS === '1') {
      const { readFileSync } = await import('node:fs');
      const sums = new Map();
      let name = '';
      for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
        const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
        if (head) {
          name = head[1] || '[anon]';
          continue;
        }
        const rss = /^Rss:\s+(\d+) kB/.exec(line);
        if (rss) sums.set(name, (sums.get(name) ?? 0) + Number(rss[1]));
      }
      console.error(
        [...sums]
          .sort((a, b) => b[1] - a[1])
          .slice(0, 8)
          .map(([k, v]) => `${k} ${(v / 1024).toFixed(1)}`)
          .join(', '),
      );
    }
  }
  void jm.shutdown();
});
