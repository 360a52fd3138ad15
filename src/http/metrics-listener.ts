/**
 * The dedicated pull listener: a plain node:http server that serves `GET`/`HEAD /metrics` and,
 * given a pipeline to judge (serve's telemetry listener), `/health` and `/ready`, and given a
 * reload, `POST /-/reload` (reload-guard.ts); nothing else (404 elsewhere, 405 for other methods
 * on `/metrics` and `/-/reload`): the routes of main-server.ts `routeRequests`. Loopback-only unless opted
 * out, since labels carry task names and versions an exposed daemon should not leak by accident:
 * judged where its options are resolved, so it binds the host it is given.
 */
import { pathOf, PLAIN_TEXT, sendText, startHttpServer } from './http-server.ts';
import { routeRequests, type ListenerOptions } from './main-server.ts';
import {
  createScrapeHandler,
  scrapeRequestOf,
  writeAnswer,
  type ScrapeHandlerOptions,
} from './scrape-handler.ts';

/**
 * Resolved values (resolve-options.ts `resolveListener`, the bind's loopback rule too), and what
 * its scrapes are answered with.
 */
export interface MetricsListenerOptions
  extends ListenerOptions, Omit<ScrapeHandlerOptions, 'selfMetrics'> {}

export interface MetricsListener {
  /** The bound address (the real port when 0 was asked). */
  readonly address: { readonly host: string; readonly port: number };
  close(): Promise<void>;
}

const METRICS_PATH = '/metrics';
const OTHER_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']);

export async function startMetricsListener(
  options: MetricsListenerOptions,
): Promise<MetricsListener> {
  // Same scrape path as a host's metrics route: shared collection and rendering, 500 on failure.
  const scrapes = createScrapeHandler(options);
  const handler = routeRequests(options, options.pipeline !== undefined, (request, response) => {
    if (pathOf(request.url) !== METRICS_PATH) return false;
    if (request.method === 'GET' || request.method === 'HEAD')
      void scrapes
        .answer(scrapeRequestOf(request))
        .then((answer) => writeAnswer(request, response, answer));
    else if (OTHER_METHODS.has(request.method ?? ''))
      sendText(response, 405, PLAIN_TEXT, 'method not allowed\n', { allow: 'GET, HEAD' });
    else return false;
    return true;
  });

  // The bodies' storage is dropped once no response is left to read it.
  const server = await startHttpServer({
    host: options.host,
    port: options.port,
    limits: options,
    handler,
    onClosed: () => scrapes.close(),
  });
  return { address: { host: options.host, port: server.port }, close: () => server.close() };
}
