/**
 * The access log on a host's whole fastify server (wasmrun logs every request, not only scrapes):
 * one `onRequest` hook handing each exchange to {@link logExchange}, which writes the line and sets
 * `X-Request-Id` as it does under the node:http handler. fastify is used for its types only.
 */
import type { FastifyInstance } from 'fastify';

import { createAccessLog, logExchange, type AccessLogOptions } from './access-log.ts';

export function addAccessLogHook(fastify: FastifyInstance, options: AccessLogOptions): void {
  const log = createAccessLog(options);
  fastify.addHook('onRequest', (request, reply, done) => {
    logExchange(log, request.raw, reply.raw, request.url);
    done();
  });
}
