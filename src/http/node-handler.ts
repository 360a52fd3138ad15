/**
 * `createMetricsHandler`: the metrics route for a plain `node:http` server (or any framework that
 * hands out Node's request and response), with the fastify plugin's options, postures,
 * negotiation, compression, access log and request id: the request flow is metrics-route.ts's,
 * the rendering scrape-handler.ts's. Needs no fastify.
 *
 * ```ts
 * const metrics = createMetricsHandler({ jobmeter, posture: 'rm', token: process.env.RM_METRICS_TOKEN });
 * createServer((req, res) => metrics(req, res) || myRoutes(req, res));
 * ```
 *
 * The handler returns whether it took the request. It takes `GET`/`HEAD` of its path when the
 * gate lets it through or refuses it with 401/403; it leaves the response untouched (returns
 * false) for any other path or method, when the route is not mounted (`enabled: false`, rm with
 * neither token nor CIDR), and for a refusal the posture answers with 404, so the host's own
 * not-found answers, indistinguishable from no route. With the access log on, every request passed
 * to it is logged and gets `X-Request-Id`, taken or not: pass it every request, first, as wasmrun
 * logs every request.
 *
 * The client address is `socket.remoteAddress` (X-Forwarded-For only from `trustProxy`); a
 * framework's own proxy setting (Express's `trust proxy`) does not reach the gates.
 *
 * `createMetricsMiddleware` is the same handler as Express / connect middleware: a request it does
 * not take goes on to `next()`, so a refused 404 is the host's own. Express is not needed to build
 * it; any framework calling `(req, res, next)` with Node's request and response can mount it.
 *
 * ```ts
 * const metrics = createMetricsMiddleware({ jobmeter, posture: 'wasmrun', apiKeys });
 * app.use(metrics); // first, so wasmrun's access log sees every request
 * ```
 *
 * Mounted under a prefix (`app.use('/ops', metrics)`), `path` is matched below it (`/ops/metrics`
 * for the default `/metrics`) and the access log writes the full path.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

import { createAccessLog, logExchange } from './access-log.ts';
import { pathOf } from './http-server.ts';
import { createMetricsRoute } from './metrics-route.ts';
import type { JobmeterMetricsOptions, MetricsRouteInfo } from './route-options.ts';
import { writeAnswer } from './scrape-handler.ts';

/** A node:http request handler serving the metrics route ({@link createMetricsHandler}); other paths get `false` back, for the host to answer. */
export interface MetricsHandler {
  /** Answers `request` when it is the metrics route's; false leaves `response` to the host. */
  (request: IncomingMessage, response: ServerResponse): boolean;
  /** What the handler serves, as route-options.ts `describeMetricsRoute` says it. */
  readonly route: MetricsRouteInfo;
  /**
   * From now on a scrape gets 503 (`Retry-After: 1`) instead of starting a collection; call it
   * when the host starts closing, before shutting the jobmeter down.
   */
  readonly close: () => void;
}

/** A request as Express (or connect) hands it: `originalUrl` is the URL before a mount point took its prefix. */
interface MountedRequest extends IncomingMessage {
  readonly originalUrl?: string;
}

/**
 * The metrics route as a node:http handler, for a host's own server: it answers the route's path
 * and returns `false` for any other, which the host answers itself.
 * @throws ConfigError naming a bad option, as the plugin's registration does.
 * @example
 *   const metrics = createMetricsHandler({ jobmeter: jm, posture: 'solti' });
 *   createServer((req, res) => { if (!metrics(req, res)) res.writeHead(404).end(); }).listen(8080);
 */
export function createMetricsHandler(opts: JobmeterMetricsOptions): MetricsHandler {
  const route = createMetricsRoute(opts);
  const o = route.options;
  const log = o.enabled && o.accessLog !== undefined ? createAccessLog(o.accessLog) : undefined;

  const handle = (request: MountedRequest, response: ServerResponse): boolean => {
    if (log !== undefined) logExchange(log, request, response, request.originalUrl ?? request.url);
    if (!route.mounted || (request.method !== 'GET' && request.method !== 'HEAD')) return false;
    if (pathOf(request.url) !== o.path) return false;
    const answer = route.handle(request);
    void answer?.then((a) => writeAnswer(request, response, a));
    return answer !== undefined;
  };
  return Object.assign(handle, { route: o.info, close: () => route.close() });
}

/** Express (or connect) middleware serving the metrics route ({@link createMetricsMiddleware}); other requests go to `next`. */
export interface MetricsMiddleware extends Pick<MetricsHandler, 'route' | 'close'> {
  (request: IncomingMessage, response: ServerResponse, next: (err?: unknown) => void): void;
}

/**
 * The metrics route as Express (or connect) middleware.
 * @throws ConfigError naming a bad option.
 * @example
 *   const app = express();
 *   app.use(createMetricsMiddleware({ jobmeter: jm, posture: 'wasmrun' }));
 */
export function createMetricsMiddleware(opts: JobmeterMetricsOptions): MetricsMiddleware {
  const handler = createMetricsHandler(opts);
  return Object.assign(
    (request: IncomingMessage, response: ServerResponse, next: (err?: unknown) => void): void => {
      if (!handler(request, response)) next();
    },
    { route: handler.route, close: handler.close },
  );
}
