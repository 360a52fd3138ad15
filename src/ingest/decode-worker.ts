/**
 * The ingest's decoding thread: decodes one (decompressed) OTLP request at a time, off the main
 * thread, and posts it back in chunks of at most `pointsPerChunk` data points (each a request of
 * its own, with the resource and scope of its points), so the main thread ingests a 20 MiB request
 * a chunk per turn instead of blocking for seconds. The whole body is decoded before the first
 * chunk is posted: a body that does not decode is refused whole, as before.
 *
 * Messages in: `{ id, body, encoding, pointsPerChunk }`.
 * Messages out: `{ id, chunk }`…, then `{ id, done: true }` or `{ id, error: { kind, message } }`
 * (`kind`: `decode` → 400, `other`).
 */
import { parentPort } from 'node:worker_threads';
import { decodeExportRequest } from '../otlp/codec.ts';
import { OtlpDecodeError, type OtlpEncoding, type OtlpExportRequest, type OtlpMetric, type OtlpMetricData } from '../otlp/types.ts';

export interface DecodeJob {
  readonly id: number;
  readonly body: Uint8Array;
  readonly encoding: OtlpEncoding;
  readonly pointsPerChunk: number;
}

export type DecodeMessage =
  | { readonly id: number; readonly chunk: OtlpExportRequest }
  | { readonly id: number; readonly done: true }
  | { readonly id: number; readonly error: { readonly kind: 'decode' | 'other'; readonly message: string } };

/** `request` cut into requests of at most `limit` points each (a metric's points may span several). */
export function* chunks(request: OtlpExportRequest, limit: number): Generator<OtlpExportRequest> {
  let metrics: OtlpMetric[] = [];
  let points = 0;
  let current: { resource: OtlpExportRequest['resourceMetrics'][number]['resource']; scope: { name: string; version: string } } | undefined;
  const flush = function* (): Generator<OtlpExportRequest> {
    if (current !== undefined && metrics.length > 0) {
      yield { resourceMetrics: [{ resource: current.resource, scopeMetrics: [{ scope: current.scope, metrics }] }] };
    }
    metrics = [];
    points = 0;
  };
  for (const rm of request.resourceMetrics) {
    for (const sm of rm.scopeMetrics) {
      yield* flush();
      current = { resource: rm.resource, scope: sm.scope };
      for (const metric of sm.metrics) {
        const data = metric.data;
        if (data.type === 'empty' || data.type === 'summary') {
          metrics.push(metric);
          continue;
        }
        for (let start = 0; start < data.points.length; ) {
          if (points >= limit) yield* flush();
          const take = Math.min(limit - points, data.points.length - start);
          const part = { ...data, points: data.points.slice(start, start + take) } as OtlpMetricData;
          metrics.push({ ...metric, data: part });
          points += take;
          start += take;
        }
      }
    }
  }
  yield* flush();
}

parentPort?.on('message', (job: DecodeJob) => {
  let request: OtlpExportRequest;
  try {
    request = decodeExportRequest(job.body, job.encoding);
  } catch (err) {
    parentPort!.postMessage({ id: job.id, error: { kind: err instanceof OtlpDecodeError ? 'decode' : 'other', message: messageOf(err) } } satisfies DecodeMessage);
    return;
  }
  for (const chunk of chunks(request, job.pointsPerChunk)) parentPort!.postMessage({ id: job.id, chunk } satisfies DecodeMessage);
  parentPort!.postMessage({ id: job.id, done: true } satisfies DecodeMessage);
});

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
