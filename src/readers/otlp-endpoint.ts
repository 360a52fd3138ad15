/**
 * The metrics URL an `[otlp] endpoint` stands for, and how it is printed.
 *
 * The OTLP exporter specification gives two forms: a base URL (`OTEL_EXPORTER_OTLP_ENDPOINT`,
 * `http://collector:4318`), to which the signal's path `v1/metrics` is appended, and a full
 * per-signal URL, used as it is. An endpoint with no path (or just `/`) can only be the base form —
 * posting metrics to `/` reaches no OTLP receiver — so it gets `/v1/metrics`; any other path is
 * the full URL the user meant.
 */

export const OTLP_METRICS_PATH = '/v1/metrics';

/** `endpoint` with `/v1/metrics` when it has no path; unchanged otherwise (and when not a URL). */
export function otlpMetricsUrl(endpoint: string): string {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return endpoint;
  }
  if (url.pathname !== '/' && url.pathname !== '') return endpoint;
  url.pathname = OTLP_METRICS_PATH;
  return url.href;
}

/** The URL as log lines show it: scheme, host, port and path; never userinfo or the query (tokens). */
export function printableUrl(endpoint: string): string {
  try {
    const url = new URL(endpoint);
    return `${url.origin}${url.pathname}`;
  } catch {
    return '(endpoint)';
  }
}
