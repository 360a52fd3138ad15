/**
 * jobmeter doing the Collector's job (collector.ts): OTLP/HTTP in on its ingest listener,
 * Prometheus out on its pull listener, in a process of its own, as `jobmeter serve` with
 * `[ingest] enabled = true` runs it. Nothing recorded of its own (no process metrics), so the pull
 * endpoint serves what was pushed. Tells its parent the two ports over IPC, then serves until the
 * parent disconnects.
 *
 * The ingest's series and memory limits are raised to hold the bench's largest push and fleet
 * (110,000 series, up to 10,000 per instrument) with room to spare (`jobmeter serve`'s file has no
 * key for the series caps); its request slots stay at the default (8), so a fleet of more senders
 * shows what a sender past them gets. The Collector's receiver has no such limits by default.
 */
import { createJobmeter } from '../src/index.ts';

export interface IngestServerReady {
  readonly otlpPort: number;
  readonly pullPort: number;
}

const jm = await createJobmeter({
  listener: { host: '127.0.0.1', port: 0 },
  ingest: { host: '127.0.0.1', port: 0, maxSeries: 500_000, maxSeriesPerInstrument: 10_000, maxMemoryBytes: 2 ** 31 },
  processMetrics: false,
  otelScopeInfo: false,
  global: false,
});
const ready: IngestServerReady = { otlpPort: jm.ingestAddress!.port, pullPort: jm.pullAddress!.port };
process.send!(ready);
process.once('disconnect', () => {
  if (process.env.MEM === '1') {
    const m = process.memoryUsage();
    const mb = (x: number) => (x / 2 ** 20).toFixed(1);
    console.error(`server: rss ${mb(m.rss)} heapTotal ${mb(m.heapTotal)} heapUsed ${mb(m.heapUsed)} external ${mb(m.external)} arrayBuffers ${mb(m.arrayBuffers)}`);
    (globalThis as { gc?: () => void }).gc?.();
    const g = process.memoryUsage();
    console.error(`server after gc: rss ${mb(g.rss)} heapTotal ${mb(g.heapTotal)} heapUsed ${mb(g.heapUsed)} arrayBuffers ${mb(g.arrayBuffers)}`);
  }
  void jm.shutdown();
});
