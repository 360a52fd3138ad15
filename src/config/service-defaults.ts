/**
 * The embedded default config of the `jobmeter serve` service (what `npm start` runs with no
 * file, no flags and no OTEL_* variables). It is the lowest layer in resolve-layers.ts.
 *
 * It is the library's own defaults (common/option-defaults.ts), not new ones, so the service with
 * no config behaves exactly like `createJobmeter({})`:
 * - the native `otel` naming profile, `service.name` = `jobmeter`, no extra resource attributes;
 * - a pull listener on http://127.0.0.1:9464/metrics (loopback only), negotiating
 *   OpenMetrics / text 0.0.4 from `Accept`;
 * - Node process/runtime metrics on, `target_info` / `otel_scope_*` kept;
 * - OTLP push settings ready (http/protobuf, every 60 s, cumulative; the library's timeout) but no
 *   `endpoint`, so nothing is pushed until one is configured (file, flag or
 *   OTEL_EXPORTER_OTLP_[METRICS_]ENDPOINT);
 * - serve's own telemetry on a loopback listener of its own, http://127.0.0.1:9465/metrics, as the
 *   Collector serves its own on localhost:8888 unasked (`[telemetry] enabled = false` turns it off);
 * - OTLP ingest settings ready (127.0.0.1:4318, 20 MiB bodies, 8 requests at once, 5-minute
 *   expiry) but off: a Collector on the same host usually owns 4318, and a listener should not
 *   appear unasked. `[ingest] enabled = true` turns it on. Its state is kept across restarts in
 *   {@link defaultStateDir} unless `[ingest] state_dir` says otherwise (the library keeps none
 *   unless asked).
 *
 * The listeners' timeouts and connection cap are left to the library (src/http/server-limits.ts).
 *
 * As a file: `jobmeter serve --print-config` with no file and no variables prints it, each value
 * the option table's (common/option-table.ts).
 */
import { isAbsolute, join } from 'node:path';

import { deepFreeze, OPTION_DEFAULTS as D } from '../common/option-defaults.ts';
import {
  defaultsOf,
  INGEST_OPTIONS,
  JOBMETER_OPTIONS,
  OTLP_OPTIONS,
  SERVER_LIMIT_KEYS,
} from '../common/option-table.ts';
import type { JobmeterOptions } from '../options.ts';
import type { ServiceConfig } from './service-config.ts';

/**
 * `[ingest]`'s rows the layer leaves unset: the listeners' limits (the library's), the series caps
 * (no file key), and `state_dir` (`serve`'s own default applies: defaultStateDir).
 */
const INGEST_LEFT_OUT = [
  ...SERVER_LIMIT_KEYS,
  'stateDir',
  'maxSeriesPerInstrument',
  'maxSeries',
] as const;

/** The embedded defaults: the library's own (common/option-defaults.ts), as a config layer. */
export const DEFAULT_SERVICE_CONFIG: Readonly<ServiceConfig> = deepFreeze({
  // The top level's values; `[naming]`'s are left to the profile (the legacy ones refuse them).
  ...defaultsOf(JOBMETER_OPTIONS, ['unitSuffixes', 'startTimestamps']),
  // No format: the profile's own applies (wasmrun serves text 0.0.4 whatever Accept prefers).
  listener: { enabled: true, ...D.listener },
  // No endpoint: no push reader. No timeout: the library's follows a shorter interval down.
  otlp: defaultsOf(OTLP_OPTIONS, ['timeoutMillis']),
  cluster: { enabled: true, ...D.cluster },
  // Off: a Collector on the same host usually owns its port, and a listener should not appear unasked.
  ingest: { enabled: false, ...defaultsOf(INGEST_OPTIONS, INGEST_LEFT_OUT) },
} satisfies ServiceConfig);

/**
 * Where `jobmeter serve` keeps its ingest state when `[ingest] state_dir` is unset: systemd's
 * `$STATE_DIRECTORY` (`StateDirectory=`; its first entry when it lists several), else the XDG
 * per-user state directory, `$XDG_STATE_HOME/jobmeter` or `~/.local/state/jobmeter`. Undefined
 * when none is known (no absolute `$XDG_STATE_HOME` and no `$HOME`).
 */
export function defaultStateDir(env: NodeJS.ProcessEnv): string | undefined {
  const systemd = env.STATE_DIRECTORY?.split(':')[0];
  if (systemd !== undefined && systemd !== '') return systemd;
  // The XDG spec: a relative path in these variables is invalid and is ignored.
  const xdg = env.XDG_STATE_HOME;
  if (xdg !== undefined && isAbsolute(xdg)) return join(xdg, 'jobmeter');
  const home = env.HOME;
  return home !== undefined && isAbsolute(home)
    ? join(home, '.local', 'state', 'jobmeter')
    : undefined;
}

/**
 * `options` with the service's default ingest state directory when the ingest is on and
 * `state_dir` is unset, and the line to print when no state is kept (undefined when it is).
 */
export function withServeStateDir(
  options: JobmeterOptions,
  env: NodeJS.ProcessEnv,
): { readonly options: JobmeterOptions; readonly off: string | undefined } {
  const ingest = options.ingest;
  if (ingest === undefined || ingest === false) return { options, off: undefined };
  const dir = ingest.stateDir ?? defaultStateDir(env);
  if (dir !== undefined && dir !== false)
    return { options: { ...options, ingest: { ...ingest, stateDir: dir } }, off: undefined };
  const why =
    dir === false
      ? '[ingest] state_dir = false'
      : 'no $STATE_DIRECTORY, $XDG_STATE_HOME or $HOME to keep it in; set [ingest] state_dir';
  return {
    options: { ...options, ingest: { ...ingest, stateDir: false } },
    off:
      `ingest state not kept (${why}): a restart starts the ingested series afresh, so Prometheus sees every counter reset ` +
      "until each sender pushes again, and delta senders' totals start from zero",
  };
}
