/**
 * A loopback OTLP/HTTP metrics receiver for outage tests: it can go down and come back on the
 * same port, and answer any status (503 with Retry-After, 429, 400…) instead of 200. Requests are
 * decoded with jobmeter's own codec; every one received is kept, whatever it was answered.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  decodeExportRequest,
  encodeExportResponse,
  encodeStatus,
  encodingOf,
} from '../../src/otlp/codec.ts';
import type { OtlpExportRequest } from '../../src/otlp/types.ts';

export interface Answer {
  status: number;
  headers?: Record<string, string>;
}

export interface FlakyCollector {
  /** `http://127.0.0.1:<port>/v1/metrics`, stable across stop()/start(). */
  readonly url: string;
  readonly port: number;
  /** Every request received, decoded, in order (including those answered with an error). */
  readonly requests: OtlpExportRequest[];
  /** How the next requests are answered (default: 200). */
  answer: (index: number) => Answer;
  /** Closes the port: connections are refused until start(). */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function startFlakyCollector(): Promise<FlakyCollector> {
  const requests: OtlpExportRequest[] = [];
  let server: Server | undefined;
  let port = 0;

  const collector: FlakyCollector = {
    get url() {
      return `http://127.0.0.1:${port}/v1/metrics`;
    },
    get port() {
      return port;
    },
    requests,
    answer: () => ({ status: 200 }),
    async stop() {
      const s = server;
      server = undefined;
      if (s === undefined) return;
      s.closeAllConnections();
      await new Promise<void>((resolve, reject) =>
        s.close((err) => (err ? reject(err) : resolve())),
      );
    },
    async start() {
      if (server !== undefined) return;
      server = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const encoding = encodingOf(req.headers['content-type']) ?? 'protobuf';
          const index = requests.length;
          requests.push(decodeExportRequest(Buffer.concat(chunks), encoding));
          const { status, headers = {} } = collector.answer(index);
          const body =
            status === 200
              ? encodeExportResponse(undefined, encoding)
              : encodeStatus(14, `status ${status}`, encoding);
          res.writeHead(status, {
            'content-type': req.headers['content-type'] ?? 'application/x-protobuf',
            ...headers,
          });
          res.end(body);
        });
      });
      const s = server;
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(port, '127.0.0.1', () => {
          s.off('error', reject);
          resolve();
        });
      });
      port = (s.address() as AddressInfo).port;
    },
    close() {
      return collector.stop();
    },
  };
  await collector.start();
  return collector;
}

/** The value of a number metric, summed over its points, in one decoded request. */
export function totalOf(request: OtlpExportRequest | undefined, name: string): number | undefined {
  let total: number | undefined;
  for (const rm of request?.resourceMetrics ?? []) {
    for (const sm of rm.scopeMetrics) {
      for (const m of sm.metrics) {
        if (m.name !== name || (m.data.type !== 'sum' && m.data.type !== 'gauge')) continue;
        for (const p of m.data.points) total = (total ?? 0) + (p.value ?? 0);
      }
    }
  }
  return total;
}

/** Every metric name in a decoded request. */
export function namesOf(request: OtlpExportRequest | undefined): string[] {
  return (request?.resourceMetrics ?? []).flatMap((rm) =>
    rm.scopeMetrics.flatMap((sm) => sm.metrics.map((m) => m.name)),
  );
}
