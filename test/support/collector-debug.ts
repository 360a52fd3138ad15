/**
 * What the real Collector's `debug` exporter prints for one OTLP/HTTP request: a Collector with
 * only the otlp receiver and the debug exporter (its output to a file, not the Collector's log, so
 * it comes without log prefixes), the request POSTed as given, the output read back.
 *
 * The otlp receiver hands a request to its exporters before it answers, and the debug exporter
 * has no queue unless configured, so the output is complete once the answer is 200.
 */
import { join } from 'node:path';
import { startCollector } from './collector.ts';

export type DebugVerbosity = 'basic' | 'normal' | 'detailed';

export async function debugExporterOutput(
  body: Uint8Array,
  opts: { verbosity: DebugVerbosity; contentType?: 'application/x-protobuf' | 'application/json' },
): Promise<string> {
  const collector = await startCollector({
    ports: ['otlp'],
    config: (p, dir) => ({
      receivers: { otlp: { protocols: { http: { endpoint: `127.0.0.1:${p.otlp}` } } } },
      exporters: {
        debug: {
          verbosity: opts.verbosity,
          use_internal_logger: false,
          output_paths: [join(dir, 'debug.txt')],
        },
      },
      service: { pipelines: { metrics: { receivers: ['otlp'], exporters: ['debug'] } } },
    }),
  });
  try {
    const res = await fetch(`http://127.0.0.1:${collector.ports.otlp}/v1/metrics`, {
      method: 'POST',
      headers: { 'content-type': opts.contentType ?? 'application/x-protobuf' },
      body,
      signal: AbortSignal.timeout(10_000),
    });
    const answer = await res.text();
    if (res.status !== 200)
      throw new Error(`the Collector answered ${res.status}: ${answer}\n${collector.logs()}`);
    return await collector.waitForOutput('debug.txt', (t) => t.length > 0, 5_000);
  } finally {
    await collector.stop();
  }
}
