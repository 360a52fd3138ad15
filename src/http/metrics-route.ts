/**
 * One metrics route's request flow, whatever server mounts it (the fastify plugin, the node:http
 * handler, the Express middleware): the gate, then the closing and in-flight checks, then the
 * shared scrape. The adapters only read a request's parts and write the answer.
 *
 * Refusals reveal nothing beyond the status: 401 (`WWW-Authenticate: Bearer`, a fixed body), 403
 * (a fixed body), or no answer at all for a 404, so the host's own not-found answers,
 * indistinguishable from no route. A refusal is counted with `jobmeter.reject(reason)` when the
 * posture names a reason (wasmrun).
 */
import type { DenyStatus } from '../common/postures.ts';
import type { GateRequest } from './gate.ts';
import type { ScrapeRequest } from './metrics-response.ts';
import {
  resolveRouteOptions,
  type JobmeterMetricsOptions,
  type ResolvedRoute,
} from './route-options.ts';
import { createScrapeHandler, fixedAnswer, type ScrapeAnswer } from './scrape-handler.ts';

/** The gate's verdict on one request. */
export type Admission =
  | { readonly ok: true; readonly tenant: string | undefined }
  /** `answer` undefined: the host's own 404 answers. */
  | { readonly ok: false; readonly answer: ScrapeAnswer | undefined };

export interface MetricsRoute {
  /** The options as resolved (path, gate, access log…). */
  readonly options: ResolvedRoute;
  /** Whether the route exists at all: enabled, and a gate in force or an open posture. */
  readonly mounted: boolean;
  /** The gate's verdict; a refusal is counted here. */
  admit(request: GateRequest): Admission;
  /** 503 once closing or past `maxInflightScrapes`, the scrape's answer otherwise. Never rejects. */
  answer(request: ScrapeRequest): Promise<ScrapeAnswer>;
  /**
   * From now on scrapes get 503 instead of starting a collection on a jobmeter that may be
   * shutting down; the route's body storage is dropped (bodies being written go when done).
   */
  close(): void;
}

/** A refusal's answer by its status: 404 is none, the host's own not-found answers. */
const REFUSALS: Readonly<Record<DenyStatus, ScrapeAnswer | undefined>> = {
  401: fixedAnswer(401, 'unauthorized\n', { 'www-authenticate': 'Bearer' }),
  403: fixedAnswer(403, 'forbidden\n'),
  404: undefined,
};
const SHUTTING_DOWN = fixedAnswer(503, 'shutting down\n', { 'retry-after': '1' });
const BUSY = fixedAnswer(503, 'too many concurrent scrapes\n', { 'retry-after': '1' });

/** @throws ConfigError naming a bad option (see {@link resolveRouteOptions}). */
export function createMetricsRoute(opts: JobmeterMetricsOptions): MetricsRoute {
  const o = resolveRouteOptions(opts);
  const { jobmeter } = opts;
  const { posture } = o.gate;
  const handler = createScrapeHandler({
    scrape: () => jobmeter.scrape(),
    format: o.format,
    json: o.json,
    selfMetrics: o.selfMetrics,
  });
  let inflight = 0;
  let closing = false;

  return {
    options: o,
    mounted: o.enabled && o.gate.mode !== 'unmounted',
    admit(request) {
      const decision = o.gate.check(request);
      if (decision.ok) return decision;
      if (posture.rejectReason !== undefined) jobmeter.reject(posture.rejectReason);
      return { ok: false, answer: REFUSALS[decision.status] };
    },
    async answer(request) {
      if (closing) return SHUTTING_DOWN;
      if (o.maxInflight > 0 && inflight >= o.maxInflight) return BUSY;
      inflight++;
      try {
        return await handler.answer(request);
      } finally {
        inflight--;
      }
    },
    close() {
      closing = true;
      handler.close();
    },
  };
}
