/**
 * `jobmeter serve`'s main server: what an original's own HTTP server is to its metrics. It answers
 * `GET /health` (liveness), `GET /ready` (readiness, health-route.ts) and, through the node:http
 * metrics handler (node-handler.ts), the metrics route under the posture; everything else is 404.
 * (The dedicated listener, metrics-listener.ts, is the other place metrics can live: only
 * `/metrics`, loopback, no health.)
 *
 * Like the dedicated listener, it binds a non-loopback address only with the explicit opt-in,
 * whatever the posture (a gate protects the metrics route, not the decision to expose the
 * server): judged once, where serve resolves its configuration (config/resolve-layers.ts), so it
 * binds the host it is given.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

import { answerHealth, HEALTH_PATH, READY_PATH, type PipelineState } from './health-route.ts';
import { pathOf, PLAIN_TEXT, sendText, startHttpServer } from './http-server.ts';
import { answerReload, RELOAD_PATH, type Reload } from './reload-guard.ts';
import { createMetricsHandler } from './node-handler.ts';
import type { JobmeterMetricsOptions, MetricsRouteInfo } from './route-options.ts';
import type { ServerLimits } from './server-limits.ts';

/**
 * Where and how a listener of jobmeter's own serves: values resolved where its options are (the
 * bind's loopback rule, the limits' schema and defaults), none checked again here.
 */
export interface ListenerOptions extends ServerLimits {
  /** Address to bind, as resolved (held to loopback there unless opted out). */
  readonly host: string;
  /** TCP port; 0 picks a free one. */
  readonly port: number;
  /**
   * What `/ready` judges, read per request (health-route.ts). The main server answers `/health`
   * and `/ready` always (undefined: always ready), the pull listener only given one.
   */
  readonly pipeline?: (() => PipelineState) | undefined;
  /** Called with each `GET`/`HEAD` the metrics route took: its duration, request to last byte, in seconds. @default none */
  readonly onScrape?: ((seconds: number) => void) | undefined;
  /** `POST /-/reload` re-reads the configuration through this (reload-guard.ts). @default not served (404) */
  readonly reload?: Reload | undefined;
  /**
   * Who may reach every route but `/health` and `/ready` (serve's `[telemetry] token`), asked at
   * each request: a refused one is answered 401 with `WWW-Authenticate: Bearer` before any route.
   * @default everyone
   */
  readonly authorized?: ((request: IncomingMessage) => boolean) | undefined;
  /** Answers `/status` and `/status.json` when it returns true (status-page.ts `statusRoute`). @default not served (404) */
  readonly status?: ((request: IncomingMessage, response: ServerResponse) => boolean) | undefined;
}

export interface MainServerOptions extends ListenerOptions {
  /** The metrics route. Undefined: none (metrics off, or served by the dedicated listener). */
  readonly metrics?: JobmeterMetricsOptions;
}

export interface MainServer {
  /** The bound address (the real port when 0 was asked). */
  readonly address: { readonly host: string; readonly port: number };
  /** The metrics route as registered (mode `unmounted`: no route); undefined without `metrics`. */
  readonly metrics: MetricsRouteInfo | undefined;
  /**
   * Swaps the metrics route for one built from `options` (serve's SIGHUP, new credentials):
   * requests from now on meet it, scrapes already admitted finish on the old one. Only with a
   * metrics route to begin with.
   * @throws ConfigError naming a bad option (the running route is kept); TypeError without a route.
   */
  replaceMetrics(options: JobmeterMetricsOptions): MetricsRouteInfo;
  close(): Promise<void>;
}

/** @throws TypeError naming a bad metrics option; the bind's error. */
export async function startMainServer(options: MainServerOptions): Promise<MainServer> {
  let metrics = options.metrics === undefined ? undefined : createMetricsHandler(options.metrics);
  // The metrics handler sees every request first: with the access log on, every request is logged.
  const handler = routeRequests(
    options,
    true,
    (request, response) => metrics?.(request, response) === true,
  );
  const server = await startHttpServer({
    host: options.host,
    port: options.port,
    limits: options,
    handler,
    onClosing: () => metrics?.close(),
  });
  return {
    address: { host: options.host, port: server.port },
    metrics: metrics?.route,
    replaceMetrics(next) {
      if (metrics === undefined)
        throw new TypeError('the main server has no metrics route to replace');
      const replacement = createMetricsHandler(next);
      const old = metrics;
      metrics = replacement;
      // Nothing reaches the old route any more; its scrapes in flight finish.
      old.close();
      return replacement.route;
    },
    close: () => server.close(),
  };
}

/**
 * The request handler of jobmeter's own listeners: the gate (with `authorized`), then `metrics`
 * (which answers what it takes and returns whether it took it), the status page (with `status`),
 * `POST /-/reload`, `/health` and `/ready` (with `health`), in this order; anything else is 404.
 */
export function routeRequests(
  options: ListenerOptions,
  health: boolean,
  metrics: (request: IncomingMessage, response: ServerResponse) => boolean,
): (request: IncomingMessage, response: ServerResponse) => void {
  const { onScrape, reload, pipeline, status, authorized } = options;
  return (request, response) => {
    const start = performance.now();
    const path = pathOf(request.url);
    const everyone = path === HEALTH_PATH || path === READY_PATH;
    if (authorized !== undefined && !everyone && !authorized(request))
      sendText(response, 401, PLAIN_TEXT, 'unauthorized\n', { 'www-authenticate': 'Bearer' });
    else if (metrics(request, response)) {
      // Timed to its last byte handed to the socket; nothing when the client left first.
      if (onScrape === undefined || (request.method !== 'GET' && request.method !== 'HEAD')) return;
      const done = (): void => onScrape((performance.now() - start) / 1000);
      if (response.writableFinished) done();
      else response.once('finish', done);
    } else if (status?.(request, response) === true) return;
    else if (reload !== undefined && path === RELOAD_PATH) answerReload(request, response, reload);
    else if (!health || !answerHealth(request, response, pipeline))
      sendText(response, 404, PLAIN_TEXT, 'not found\n');
  };
}
