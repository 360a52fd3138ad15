/**
 * The dedicated pull listener: a fastify instance that serves `GET`/`HEAD /metrics` and nothing
 * else (404 elsewhere, 405 for other methods on `/metrics`). Loopback-only unless opted out, since
 * labels carry task names and versions an exposed daemon should not leak by accident.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { ExpositionFormat, Family } from '../exposition/types.ts';
import { assertBindAllowed } from '../common/loopback.ts';
import { applyConnectionCap, closeServer, fastifyLimitOptions, resolveServerLimits, type ServerLimits } from './server-limits.ts';
import type { JsonView } from './metrics-response.ts';
import { createScrapeHandler, scrapeRequestOf, sendAnswer } from './scrape-handler.ts';

export interface MetricsListenerOptions extends Partial<ServerLimits> {
  /** Address to bind; loopback unless `allowNonLoopback`. */
  readonly host: string;
  /** TCP port; 0 picks a free one. */
  readonly port: number;
  readonly allowNonLoopback: boolean;
  readonly format: 'negotiate' | ExpositionFormat;
  /** `?format=json` rendering. @default generic shape */
  readonly json?: JsonView;
  /** Produces the families of one scrape. Concurrent calls are expected to coalesce upstream. */
  readonly scrape: () => Promise<readonly Family[]>;
}

export interface MetricsListener {
  /** The bound address (the real port when 0 was asked). */
  readonly address: { readonly host: string; readonly port: number };
  close(): Promise<void>;
}

const OTHER_METHODS = ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'] as const;

export async function startMetricsListener(options: MetricsListenerOptions): Promise<MetricsListener> {
  assertBindAllowed(options.host, options.allowNonLoopback, 'metrics listener');
  const limits = resolveServerLimits(options, 'listener');
  const app: FastifyInstance = Fastify({ logger: false, return503OnClosing: true, ...fastifyLimitOptions(limits) });
  applyConnectionCap(app.server, limits);

  // Same scrape path as the host-app plugin: shared collection and rendering, 500 on failure.
  const handler = createScrapeHandler({ scrape: options.scrape, format: options.format, ...(options.json !== undefined ? { json: options.json } : {}) });
  app.get('/metrics', async (request, reply) => sendAnswer(reply, await handler.answer(scrapeRequestOf(request))));

  app.route({
    method: [...OTHER_METHODS],
    url: '/metrics',
    handler: async (_request, reply) => reply.code(405).header('allow', 'GET, HEAD').type('text/plain; charset=utf-8').send('method not allowed\n'),
  });

  app.setNotFoundHandler(async (_request, reply) => reply.code(404).type('text/plain; charset=utf-8').send('not found\n'));

  await app.listen({ host: options.host, port: options.port });
  const bound = app.server.address();
  const port = typeof bound === 'object' && bound !== null ? bound.port : options.port;
  return {
    address: { host: options.host, port },
    close: () => closeServer(app.server, () => app.close()).finally(() => handler.close()),
  };
}
