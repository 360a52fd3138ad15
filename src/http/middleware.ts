/**
 * `createMetricsMiddleware`: the node:http handler (node-handler.ts) as Express / connect
 * middleware: a request the handler does not take goes on to `next()`, so a refused 404 is the
 * host's own. Express is not needed to build it; any framework calling `(req, res, next)` with
 * Node's request and response can mount it.
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

import { createMetricsHandler, type MetricsHandler } from './node-handler.ts';
import type { JobmeterMetricsOptions } from './route-options.ts';

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
  const middleware = (
    request: IncomingMessage,
    response: ServerResponse,
    next: (err?: unknown) => void,
  ): void => {
    if (!handler(request, response)) next();
  };
  return Object.assign(middleware, { route: handler.route, close: handler.close });
}
