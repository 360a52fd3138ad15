/**
 * `jobmeterMetrics`: the metrics route on a host's own fastify server, behind one of the auth
 * postures (common/postures.ts), with the same negotiation, gzip and `?format=json` as the dedicated
 * listener.
 *
 * ```ts
 * await app.register(jobmeterMetrics, { jobmeter, posture: 'rm', token: process.env.RM_METRICS_TOKEN });
 * ```
 *
 * What it adds to the host: one `GET` (and fastify's automatic `HEAD`) route at `path`, unless the
 * posture leaves nothing in force and says `unmounted` (rm with neither token nor CIDR: no route at
 * all, so the host's own 404 answers); with the access log on, an `onRequest` hook on the whole
 * server (wasmrun logs every request, not only scrapes); a `preClose` hook. It
 * decorates nothing. Like `fastify-plugin`, it skips encapsulation (so the access log sees every
 * route); it is written without that package, marking itself with the same symbols.
 *
 * The request flow (gate, refusals, 503s, the scrape) is metrics-route.ts's, shared with the
 * node:http handler; a refused 404 goes through the host's not-found handler. Needs fastify 5:
 * a fastify 4 host gets FST_ERR_PLUGIN_VERSION_MISMATCH (mount the node:http handler there).
 * fastify is an optional peer: this file uses its types only, so importing jobmeter loads none.
 *
 * The client address is `request.socket.remoteAddress` (X-Forwarded-For only from `trustProxy`),
 * never `request.ip`: the host's fastify `trustProxy` setting does not reach the gates.
 */
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';

import { createAccessLog, logExchange } from './access-log.ts';
import { bodyStream } from './metrics-response.ts';
import { createMetricsRoute } from './metrics-route.ts';
import type { JobmeterMetricsOptions } from './route-options.ts';
import { answerHeaders, type ScrapeAnswer } from './scrape-handler.ts';

const NAME = 'jobmeter-metrics';

/** Registration options fastify itself reads, passed to the plugin beside its own. */
interface FastifyOwn {
  readonly logLevel?: unknown;
  readonly logSerializers?: unknown;
}

async function plugin(
  fastify: FastifyInstance,
  opts: JobmeterMetricsOptions & FastifyOwn,
): Promise<void> {
  const { logLevel: _logLevel, logSerializers: _logSerializers, ...own } = opts;
  const route = createMetricsRoute(own);
  const o = route.options;
  if (!o.enabled) return;
  if (o.accessLog !== undefined) {
    // On the whole server: logExchange writes the line and sets `X-Request-Id`, as under the
    // node:http handler.
    const log = createAccessLog(o.accessLog);
    fastify.addHook('onRequest', (request, reply, done) => {
      logExchange(log, request.raw, reply.raw, request.url);
      done();
    });
  }
  if (!route.mounted) return;

  fastify.route({
    method: 'GET',
    url: o.path,
    handler: async (request: FastifyRequest, reply: FastifyReply) => {
      const answer = route.handle(request.raw);
      if (answer !== undefined) return sendAnswer(reply, await answer);
      reply.callNotFound();
      return reply;
    },
  });

  // From the moment the host starts closing, a scrape gets 503 (fastify's own return503OnClosing
  // covers new connections; this covers hosts that turn it off, and requests already routed), and
  // the bodies' idle storage is dropped (a response still being written keeps its own). The plugin
  // holds no timer or socket, so nothing is left for onClose.
  fastify.addHook('preClose', async () => route.close());
}

/**
 * The plugin's public type, written without fastify's: fastify is an optional peer, and a host
 * without it must still type-check against jobmeter's declarations. `register` takes it as a
 * `FastifyPluginAsync<JobmeterMetricsOptions>` (any instance is assignable to `unknown`).
 */
export type JobmeterMetricsPlugin = (
  instance: unknown,
  opts: JobmeterMetricsOptions,
) => Promise<void>;

/**
 * The fastify plugin. Register it once per route; registering it twice with the access log on
 * logs each request once.
 * @example
 *   await fastify.register(jobmeterMetrics, { jobmeter: jm, posture: 'crewshipd' });
 */
export const jobmeterMetrics: JobmeterMetricsPlugin = Object.assign(
  plugin satisfies FastifyPluginAsync<JobmeterMetricsOptions>,
  {
    [Symbol.for('skip-override')]: true,
    [Symbol.for('fastify.display-name')]: NAME,
    [Symbol.for('plugin-meta')]: { fastify: '5.x', name: NAME },
  },
) as JobmeterMetricsPlugin;

/** Writes an answer through fastify's reply (so the host's onSend hooks see it), as `writeAnswer` does on a Node response. */
function sendAnswer(reply: FastifyReply, answer: ScrapeAnswer): FastifyReply {
  reply.code(answer.status).headers(answerHeaders(answer));
  // 'close' comes after the last write completed, or once the connection is gone.
  if (answer.release !== undefined) reply.raw.once('close', answer.release);
  return reply.send(answer.body.length === 1 ? answer.body[0] : bodyStream(answer.body));
}
