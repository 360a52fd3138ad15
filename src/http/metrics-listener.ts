/**
 * The dedicated pull listener: a fastify instance that serves `GET`/`HEAD /metrics` and nothing
 * else (404 elsewhere, 405 for other methods on `/metrics`). Loopback-only unless opted out, since
 * labels carry task names and versions an exposed daemon should not leak by accident.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { ExpositionFormat, Family } from '../exposition/types.ts';
import { isLoopbackHost } from './loopback.ts';
import { buildMetricsResponse, type JsonView } from './metrics-response.ts';

export interface MetricsListenerOptions {
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
  if (!options.allowNonLoopback && !isLoopbackHost(options.host)) {
    throw new Error(
      `refusing to bind the metrics listener to non-loopback address ${options.host}: ` +
        `set listener.allowNonLoopback (allow_non_loopback = true / --allow-non-loopback) to expose it`,
    );
  }
  const app: FastifyInstance = Fastify({ logger: false, return503OnClosing: true });

  app.get('/metrics', async (request, reply) => {
    let families: readonly Family[];
    try {
      families = await options.scrape();
    } catch {
      // The cause stays server-side: a scrape answer must not leak internals.
      return reply.code(500).type('text/plain; charset=utf-8').send('metric collection failed\n');
    }
    const res = await buildMetricsResponse(
      families,
      {
        accept: request.headers.accept,
        acceptEncoding: request.headers['accept-encoding'],
        json: (request.query as Record<string, unknown>).format === 'json',
      },
      options.format,
      options.json,
    );
    reply.header('content-type', res.contentType).header('vary', 'Accept, Accept-Encoding');
    if (res.contentEncoding !== undefined) reply.header('content-encoding', res.contentEncoding);
    return reply.send(res.body);
  });

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
    close: () => app.close(),
  };
}
