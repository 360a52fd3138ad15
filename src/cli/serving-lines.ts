/**
 * What `jobmeter serve` says at startup: first its version and Node's (what a bug report and a
 * fleet inventory start from), then what is served where, what `--demo` feeds (and what to
 * add when no route serves it), what `--debug` will print. Only profiles, postures, gates in words,
 * addresses and paths: never a token, API key or header, nor an OTLP endpoint's userinfo or query.
 */
import { hostPort } from '../config/json-schema.ts';
import type { ResolvedMetrics } from '../config/metrics-section.ts';
import { messageOf } from '../common/message-of.ts';
import { POSTURES } from '../common/postures.ts';
import { TELEMETRY_OPTIONS } from '../common/option-table.ts';
import { DEMO_TICK_MS } from '../demo/live.ts';
import type { MainServer } from '../http/main-server.ts';
import type { IngestListener } from '../ingest/ingest-listener.ts';
import type { Jobmeter } from '../jobmeter.ts';
import type { JobmeterOptions } from '../options.ts';
import { otlpMetricsUrl, printableUrl } from '../readers/otlp-endpoint.ts';
import { buildCommit, buildLine, VERSION } from '../version.ts';
import type { LogFields } from '../common/log.ts';

/** A startup record: its constant `msg`, its details as fields, and its sentence (common/log.ts). */
export type StartupRecord = readonly [msg: string, fields: LogFields, text: string];

/** A listener's bound address. */
type Address = { readonly host: string; readonly port: number };

/** A record whose sentence is its `msg` and where: `receiving OTLP/HTTP metrics on <url>`. */
function at(msg: string, fields: LogFields, where: string): StartupRecord {
  return [msg, fields, `${msg} on ${where}`];
}

/** The first startup record, written once the configuration is read and before anything starts. */
export function versionRecord(): StartupRecord {
  const fields = { version: VERSION, commit: buildCommit(), node: process.version };
  return ['version', fields, `version ${buildLine()}`];
}

/**
 * What is served where, and what gates it; then why no ingest state is kept (`stateOff`), and where
 * serve's own telemetry is served (`[telemetry] listen`) and `POST /-/reload` answered (`[telemetry]
 * enable_reload`). Only the profile, posture, gates in words, addresses and paths: never a token,
 * API key or header.
 */
export function servingLines(
  options: JobmeterOptions,
  metrics: ResolvedMetrics,
  jm: Jobmeter,
  server: MainServer | undefined,
  ingest: Pick<IngestListener, 'gateDescription'> | undefined,
  stateOff?: string,
  telemetry?: { readonly address: Address; readonly reload: boolean },
): StartupRecord[] {
  const profile = jm.profile.name;
  const records: StartupRecord[] = [];
  const mainUrl = server === undefined ? undefined : urlOf(server.address);
  const serving = (url: string): StartupRecord => [
    'serving metrics',
    { profile, url },
    `serving ${profile} metrics on ${url}`,
  ];
  const mainServer = (url: string, serves: string): StartupRecord => [
    'main server listening',
    { url, serves },
    `main server on ${url} (${serves})`,
  ];
  if (jm.pullAddress !== undefined) {
    records.push(serving(`${urlOf(jm.pullAddress)}/metrics`));
    if (mainUrl !== undefined)
      records.push(mainServer(mainUrl, '/health; metrics on the dedicated listener'));
  } else if (server?.metrics !== undefined) {
    const route = server.metrics;
    if (route.mode === 'unmounted') {
      records.push([
        'metrics route not registered: the posture needs a token and/or trusted CIDRs',
        { profile, posture: route.posture },
        `${profile} metrics route not registered: the ${route.posture} posture needs a token and/or trusted CIDRs`,
      ]);
      records.push(mainServer(mainUrl!, '/health'));
    } else {
      records.push(serving(`${mainUrl}${route.path}`));
      records.push([
        'metrics route gate',
        { posture: route.posture, gate: route.description },
        `${route.posture} posture: ${route.description}`,
      ]);
    }
  } else if (mainUrl !== undefined) {
    records.push([
      'metrics are off',
      { profile },
      `${profile} metrics are off (metrics.enabled = false${metrics.posture === 'runwisp' ? '; runwisp: [daemon] metrics_enabled = true turns them on' : ''})`,
    ]);
    records.push(mainServer(mainUrl, '/health'));
  }
  if (options.otlp?.endpoint !== undefined) {
    // The URL without its userinfo or query (printableUrl): either may hold a secret.
    const exporter = printableUrl(otlpMetricsUrl(options.otlp.endpoint));
    records.push([
      'pushing metrics by OTLP',
      { profile, exporter },
      `pushing ${profile} metrics by OTLP to ${exporter}`,
    ]);
  }
  if (jm.ingestAddress !== undefined) {
    const url = `${urlOf(jm.ingestAddress)}/v1/metrics`;
    records.push(at('receiving OTLP/HTTP metrics', { url }, url));
    if (jm.ingestGrpcAddress !== undefined) {
      const address = hostPort(jm.ingestGrpcAddress);
      records.push(at('receiving OTLP/gRPC metrics', { address }, address));
    }
    if (ingest !== undefined) {
      const gate = ingest.gateDescription();
      records.push(['ingest gate', { gate }, `ingest gate: ${gate}`]);
    }
  }
  if (records.length === 0)
    records.push([
      'recording metrics, but no server is listening and no OTLP endpoint is set',
      { profile },
      `recording ${profile} metrics, but no server is listening and no OTLP endpoint is set`,
    ]);
  if (stateOff !== undefined) records.push([stateOff, {}, stateOff]);
  if (telemetry !== undefined) {
    const url = urlOf(telemetry.address);
    records.push(
      at("serving jobmeter's own telemetry", { url: `${url}/metrics` }, `${url}/metrics`),
    );
    if (telemetry.reload)
      records.push([
        'POST /-/reload re-reads the configuration as SIGHUP does',
        { url: `${url}/-/reload` },
        `POST ${url}/-/reload re-reads the configuration as SIGHUP does`,
      ]);
  }
  return records;
}

/**
 * What `--demo` feeds, and, when no metrics route serves it (runwisp's opt-in, rm's route without
 * a gate), what to add: the original's own setting, from its posture.
 */
export function demoLine(
  metrics: ResolvedMetrics,
  jm: Jobmeter,
  server: MainServer | undefined,
): string {
  const feeding = `feeding the demo scenario on the real clock (a run every ${DEMO_TICK_MS / 1000} s)`;
  if (
    jm.pullAddress !== undefined ||
    (server?.metrics !== undefined && server.metrics.mode !== 'unmounted')
  )
    return feeding;
  const posture = POSTURES[metrics.posture];
  let add: string;
  if (!metrics.enabled && posture.optIn) {
    add = `${posture.name} metrics are opt-in: put [daemon] metrics_enabled = true in a config file and add --config FILE`;
  } else if (metrics.enabled && posture.unconfigured === 'unmounted') {
    const { env } = posture;
    add = `the ${posture.name} posture registers no route without a gate: add ${env.trustedCidrs ?? 'metrics.trusted_cidrs'}=127.0.0.1/32 (or ${env.token ?? 'metrics.token'}=TOKEN and scrape with Authorization: Bearer TOKEN)`;
  } else {
    add = 'metrics are off: set metrics.enabled = true';
  }
  return `${feeding}, but no metrics route serves it: ${add}`;
}

/** What --debug will print, so an operator who sees no debug block knows why. */
export function debugScope(options: JobmeterOptions, jm: Jobmeter): string {
  const received = jm.ingestAddress !== undefined;
  const pushed = options.otlp?.endpoint !== undefined;
  if (received && pushed)
    return 'printing every OTLP request received and every OTLP export pushed';
  if (received)
    return 'printing every OTLP request received (no [otlp] endpoint: nothing is pushed)';
  if (pushed) return 'printing every OTLP export pushed ([ingest] is off: nothing is received)';
  return 'nothing to print: [ingest] is off and no [otlp] endpoint is set';
}

/**
 * Why the telemetry listener did not start, and the ways out: it is on by default, so a second
 * serve on one host (or another program on its port) meets it before its operator ever set it.
 * serve exits rather than run without the telemetry its alerts read (as Prometheus and the
 * Collector exit on a taken port).
 */
export function telemetryListenFailed(address: Address, err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  const why = code === 'EADDRINUSE' ? 'address already in use' : messageOf(err);
  const listen = hostPort(address);
  const isDefault = listen === TELEMETRY_OPTIONS.listen.default;
  return (
    `[telemetry] listen ${listen}${isDefault ? ' (the default)' : ''}: ${why}; ` +
    `set [telemetry] listen (or ${TELEMETRY_OPTIONS.listen.env}) to a free loopback HOST:PORT, ` +
    "or [telemetry] enabled = false to run without jobmeter's own telemetry"
  );
}

function urlOf(address: Address): string {
  return `http://${hostPort(address)}`;
}
