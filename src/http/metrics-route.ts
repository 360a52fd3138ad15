/**
 * One metrics route's request flow, whatever server mounts it (the fastify plugin, the node:http
 * handler, the Express middleware): the gate, then the closing and in-flight checks, then the
 * shared scrape: its `handle`. The adapters only match the path and write the answer.
 *
 * Refusals reveal nothing beyond the status: 401 (`WWW-Authenticate: Bearer`, a fixed body), 403
 * (a fixed body), or no answer at all for a 404, so the host's own not-found answers,
 * indistinguishable from no route. A refusal is counted with `jobmeter.reject(reason)` when the
 * posture names a reason (wasmrun).
 */
import type { IncomingMessage } from 'node:http';

import type { DenyStatus } from '../common/postures.ts';
import { setAccessLogTenant } from './access-log.ts';
import { resolveRouteOptions, type JobmeterMetricsOptions } from './route-options.ts';
import {
  createScrapeHandler,
  fixedAnswer,
  scrapeRequestOf,
  type ScrapeAnswer,
} from './scrape-handler.ts';

/** A refusal's answer by its status: 404 is none, the host's own not-found answers. */
const REFUSALS: Readonly<Record<DenyStatus, ScrapeAnswer | undefined>> = {
  401: fixedAnswer(401, 'unauthorized\n', { 'www-authenticate': 'Bearer' }),
  403: fixedAnswer(403, 'forbidden\n'),
  404: undefined,
};
const SHUTTING_DOWN = fixedAnswer(503, 'shutting down\n', { 'retry-after': '1' });
const BUSY = fixedAnswer(503, 'too many concurrent scrapes\n', { 'retry-after': '1' });

/** @throws ConfigError naming a bad option (see {@link resolveRouteOptions}). */
export function createMetricsRoute(opts: JobmeterMetricsOptions) {
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
  const answer = async (request: IncomingMessage): Promise<ScrapeAnswer> => {
    if (closing) return SHUTTING_DOWN;
    if (o.maxInflight > 0 && inflight >= o.maxInflight) return BUSY;
    inflight++;
    try {
      return await handler.answer(scrapeRequestOf(request));
    } finally {
      inflight--;
    }
  };

  return {
    /** The options as resolved (path, gate, access log…). */
    options: o,
    /** Whether the route exists at all: enabled, and a gate in force or an open posture. */
    mounted: o.enabled && o.gate.mode !== 'unmounted',
    /**
     * The answer to a request of the route's path: the gate's refusal (counted), 503 once closing
     * or past `maxInflightScrapes`, else the scrape's; undefined when the host's own 404 answers.
     * The tenant a request authenticated as goes to the access log. Never rejects.
     */
    handle(request: IncomingMessage): Promise<ScrapeAnswer> | undefined {
      const decision = o.gate.decide({
        peer: request.socket.remoteAddress,
        headers: request.headers,
      });
      if (!decision.ok) {
        if (posture.rejectReason !== undefined) jobmeter.reject(posture.rejectReason);
        const refusal = REFUSALS[decision.status];
        return refusal === undefined ? undefined : Promise.resolve(refusal);
      }
      if (decision.tenant !== undefined) setAccessLogTenant(request, decision.tenant);
      return answer(request);
    },
    /**
     * From now on scrapes get 503 instead of starting a collection on a jobmeter that may be
     * shutting down; the route's body storage is dropped (bodies being written go when done).
     */
    close(): void {
      closing = true;
      handler.close();
    },
  };
}
