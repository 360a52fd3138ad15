/**
 * A child `jobmeter serve` under the otel profile with its ingest and an ingest state directory,
 * its telemetry listener on any free port, and OTLP/JSON pushes of senders to it: what the status
 * page tests read the page of.
 */
import { join } from 'node:path';

import { freePort } from '../support/free-port.ts';
import { serveWithState, type StateServe } from '../support/serve-with-state.ts';
import type { TempFiles } from '../support/temp-files.ts';

export type StatusServe = StateServe;

export async function serveForStatus(files: TempFiles): Promise<StatusServe> {
  await files.file('.made', '');
  return serveWithState(files, join(files.dir, 'state'), await freePort());
}

/**
 * One sender's push: `counters` cumulative counters (`<prefix>.<i>`) under a resource of
 * `attributes`, as a sender's SDK sends them in OTLP/JSON. Resolves with the ingest's answer.
 */
export async function pushAs(
  ingest: string,
  attributes: Readonly<Record<string, string>>,
  counters: number,
  prefix = 'work.done',
): Promise<{ status: number; body: string }> {
  const now = BigInt(Date.now()) * 1_000_000n;
  const metrics = Array.from({ length: counters }, (_, i) => ({
    name: `${prefix}.${String(i)}`,
    unit: '{task}',
    sum: {
      aggregationTemporality: 2,
      isMonotonic: true,
      dataPoints: [
        {
          asInt: '1',
          startTimeUnixNano: String(now - 60_000_000_000n),
          timeUnixNano: String(now),
        },
      ],
    },
  }));
  return pushMetrics(ingest, attributes, metrics);
}

/** One push of `metrics` (OTLP/JSON metrics) under a resource of `attributes`: the ingest's answer. */
export async function pushMetrics(
  ingest: string,
  attributes: Readonly<Record<string, string>>,
  metrics: readonly unknown[],
): Promise<{ status: number; body: string }> {
  const body = JSON.stringify({
    resourceMetrics: [
      {
        resource: {
          attributes: Object.entries(attributes).map(([key, v]) => ({
            key,
            value: { stringValue: v },
          })),
        },
        scopeMetrics: [{ scope: { name: 'sender' }, metrics }],
      },
    ],
  });
  const response = await fetch(ingest, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });
  return { status: response.status, body: await response.text() };
}

/** One gauge point with no metric name: the ingest refuses it (`no_name`) and answers 200. */
export function pushNameless(ingest: string): Promise<Response> {
  return fetch(ingest, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      resourceMetrics: [
        { scopeMetrics: [{ metrics: [{ name: '', gauge: { dataPoints: [{ asDouble: 1 }] } }] }] },
      ],
    }),
  });
}
