/**
 * `jobmeter serve`'s main server: what an original's own HTTP server is to its metrics. It answers
 * `GET /health` and, through the {@link jobmeterMetrics} plugin, the metrics route under the
 * posture; everything else is 404. (The dedicated listener, metrics-listener.ts, is the other
 * place metrics can live: only `/metrics`, loopback, no health.)
 *
 * Like the dedicated listener, it refuses a non-loopback address without the explicit opt-in,
 * whatever the posture: a gate protects the metrics route, not the decision to expose the server.
 */
import Fastify, { type FastifyInstance } from 'fastify';

import { HEALTH_PATH } from './health-route.ts';
import { assertBindAllowed } from '../common/loopback.ts';
import { applyConnectionCap, closeServer, fastifyLimitOptions, resolveServerLimits, type ServerLimits } from './server-limits.ts';
import { describeMetricsRoute, jobmeterMetrics, type JobmeterMetricsOptions, type MetricsRouteInfo } from './plugin.ts';

export interface MainServerOptions extends Partial<ServerLimits> {
  /** Address to bind (the CLI's `--host`). Loopback unless `allowNonLoopback`. */
  readonly host: string;
  /** TCP port; 0 picks a free one. */
  readonly port: number;
  /** Explicit opt-in to bind outside 127.0.0.0/8 and ::1. @default false */
  readonly allowNonLoopback?: boolean;
  /** The metrics route. Undefined: none (metrics off, or served by the dedicated listener). */
  readonly metrics?: JobmeterMetricsOptions;
}

export interface MainServer {
  /** The bound address (the real port when 0 was asked). */
  readonly address: { readonly host: string; readonly port: number };
  /** The metrics route as registered (mode `unmounted`: no route); undefined without `metrics`. */
  readonly metrics: MetricsRouteInfo | undefined;
  /** The fastify instance, for tests and hosts that add routes before `ready`. */
  readonly app: FastifyInstance;
  close(): Promise<void>;
}

export async function startMainServer(options: MainServerOptions): Promise<MainServer> {
  assertBindAllowed(options.host, options.allowNonLoopback ?? false, 'main server');
  const limits = resolveServerLimits(options, 'server');
  const app = Fastify({ logger: false, return503OnClosing: true, ...fastifyLimitOptions(limits) });
  applyConnectionCap(app.server, limits);
  app.get(HEALTH_PATH, async (_request, reply) => reply.type('text/plain; charset=utf-8').send('ok\n'));
  app.setNotFoundHandler(async (_request, reply) => reply.code(404).type('text/plain; charset=utf-8').send('not found\n'));
  try {
    if (options.metrics !== undefined) await app.register(jobmeterMetrics, options.metrics);
    await app.listen({ host: options.host, port: options.port });
  } catch (err) {
    await app.close().catch(() => {});
    throw err;
  }
  const bound = app.server.address();
  const port = typeof bound === 'object' && bound !== null ? bound.port : options.port;
  return {
    address: { host: options.host, port },
    metrics: options.metrics === undefined ? undefined : describeMetricsRoute(options.metrics),
    app,
    close: () => closeServer(app.server, () => app.close()),
  };
}
