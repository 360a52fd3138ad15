/**
 * The `jobmeter` command:
 *
 *   jobmeter serve [--config FILE] [--profile NAME] [--listen HOST:PORT] [--host HOST]
 *                  [--allow-non-loopback] [--auth] [-v] [--demo] [--debug] [--log-format text|json|logfmt]
 *   jobmeter validate [serve's flags]
 *   jobmeter collector-config --profile NAME [--config FILE] [--otlp HOST:PORT] [--prometheus HOST:PORT | --gateway URL | --remote-write URL]
 *   jobmeter views --profile NAME [--config FILE] [--otlp URL]
 *   jobmeter --help
 *   jobmeter --version
 *
 * `serve` runs a main server (the `[listener]` address: `GET /health` and the metrics route at
 * the posture's path, behind the posture's gates) and, when `[metrics] listen` / runwisp's
 * `metrics_listen` is set, moves the metrics to the dedicated loopback listener instead (which
 * answers `/health` and `/ready` too). Config errors print `FILE: ` first when the value came from a file.
 *
 * `validate` resolves the configuration as `serve` would and builds its jobmeter without binding,
 * pushing or receiving: exit 0 with one line on stdout, or serve's own messages and exit status.
 *
 * SIGHUP re-reads the configuration, applies new metrics credentials and says what waits for a
 * restart (reload.ts); it never stops serve.
 *
 * Exit status: 0 after a clean shutdown on SIGINT/SIGTERM (or after --help/--version);
 * 2 on a configuration or usage error (a non-loopback address without the opt-in included), naming
 * the flag, variable or file key the user set; 1 when startup fails for another reason (port in
 * use) or shutdown fails or exceeds {@link SHUTDOWN_GRACE_MS}; 3 on a Node below the floor (the bin,
 * node-support.ts). The preload follows the same rule.
 *
 * Nothing here prints option values other than the profile and the bound address: OTLP headers
 * and endpoints may carry credentials. Error messages are the ConfigError's, which redact them.
 *
 * `runCli` does the work and returns the exit status, so tests can import this module; only the
 * bin (bin.ts) calls `process.exit`.
 */
import { parseArgs } from 'node:util';

import { TELEMETRY_POSTURE } from '../common/postures.ts';
import type { ResolvedMetrics } from '../config/metrics-section.ts';
import { compileGate, type Gate } from '../http/gate.ts';
import { ConfigError, describeConfigError } from '../errors.ts';
import { parseServeFlags, SERVE_FLAG_HELP, type ServeFlags } from '../config/serve-flags.ts';
import { earlyLogFormat } from './early-signals.ts';
import { resolveServeConfig, type Env, type ServeConfig } from '../config/resolve-layers.ts';
import { withServeStateDir } from '../config/service-defaults.ts';
import { startLiveDemo } from '../demo/live.ts';
import type { MetricsListener } from '../http/metrics-listener.ts';
import { OPTION_DEFAULTS } from '../common/option-defaults.ts';
import { resolveSection, SERVER_LIMITS, TELEMETRY_OPTIONS } from '../common/option-table.ts';
import { describeMetricsRoute, type JobmeterMetricsOptions } from '../http/route-options.ts';
import type { Jobmeter } from '../jobmeter.ts';
import type { ProfileName, PullListenerOptions } from '../options.ts';
import { buildLine } from '../version.ts';
import {
  COLLECTOR_CONFIG_HELP,
  COLLECTOR_CONFIG_USAGE,
  collectorConfigCommand,
} from './collector-config-command.ts';
import { VIEWS_HELP, VIEWS_USAGE, viewsCommand } from './views-command.ts';
import {
  debugScope,
  demoLine,
  servingLines,
  telemetryListenFailed,
  versionRecord,
} from './serving-lines.ts';
import {
  EXIT_FAILURE,
  EXIT_OK,
  EXIT_USAGE,
  formattedIo,
  PROCESS_IO,
  type CliIo,
  type LogIo,
} from './io.ts';
import { MIN_NODE_VERSION } from '../common/node-support.ts';
import { credentialKeys, HangupReloader, rotateCredentials, type ApplyLive } from './reload.ts';
import { shutdownWithin, SignalWaiter } from './shutdown.ts';
import { Parts } from '../common/parts.ts';
import { messageOf } from '../common/message-of.ts';

export { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, SHUTDOWN_GRACE_MS, type CliIo } from './io.ts';

export const USAGE = `Usage: jobmeter serve [--config FILE] [--profile NAME] [--listen HOST:PORT] [--host HOST]
                      [--allow-non-loopback] [--auth] [-v] [--demo] [--debug]
                      [--log-format text|json|logfmt] [--enable-reload] [--ingest-grpc-port PORT]
                      [--print-config]
       jobmeter validate [--print] [--config FILE] [serve's other flags]
${COLLECTOR_CONFIG_USAGE}
${VIEWS_USAGE}
       jobmeter --help | --version

Serves job metrics from OpenTelemetry: a main server with GET /health and the metrics route of
the profile's original behind its auth posture (or, with [metrics] listen, a dedicated loopback
listener serving /metrics, /health and /ready), its own telemetry on a loopback listener of its own
(${TELEMETRY_OPTIONS.listen.default}: [telemetry]) and, when an OTLP endpoint is configured, OTLP/HTTP push.

Options of serve:
${SERVE_FLAG_HELP}

validate checks the configuration serve would run with (file, environment and flags) without
binding, pushing or receiving: "configuration OK" and exit 0, or serve's own messages and exit 2;
with --print, the effective configuration as --print-config prints it instead of the OK line.

${COLLECTOR_CONFIG_HELP}

${VIEWS_HELP}

Precedence, lowest first: built-in defaults < environment (OTEL_*, and the posture's own:
CREWSHIP_METRICS_TOKEN, RM_METRICS_*, RM_TRUSTED_PROXY, RUNWISP_TRUST_PROXY; JOBMETER_BUILD_*,
JOBMETER_TELEMETRY_LISTEN, JOBMETER_INGEST_GRPC_PORT) < config file < flags.
SIGHUP (or POST /-/reload with --enable-reload) re-reads the configuration: the metrics route's
token and API keys change at once, other changes take effect at restart; a line names them.
Exit status: 0 after SIGINT/SIGTERM, 1 on a startup or shutdown failure, 2 on a configuration error,
3 on a Node.js below ${MIN_NODE_VERSION}.`;

/**
 * Runs the command line `argv` (without the node and script paths). For `serve`, resolves once
 * the service has shut down after SIGINT/SIGTERM. Never throws; returns the exit status.
 */
export async function runCli(
  argv: readonly string[],
  env: Env,
  io: CliIo = PROCESS_IO,
): Promise<number> {
  if (argv[0] === 'serve') return serve(argv.slice(1), env, io);
  if (argv[0] === 'validate')
    return validate(argv.slice(1), env, formattedIo(io, earlyLogFormat(argv.slice(1))));
  const text = formattedIo(io, 'text');
  if (argv[0] === 'collector-config')
    return printed(() => collectorConfigCommand(argv.slice(1)), text);
  if (argv[0] === 'views') return printed(() => viewsCommand(argv.slice(1)), text);

  let values: { help?: boolean | undefined; version?: boolean | undefined };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: [...argv],
      options: { help: { type: 'boolean', short: 'h' }, version: { type: 'boolean', short: 'V' } },
      strict: true,
      allowPositionals: true,
    }));
  } catch (err) {
    return failed(text, err);
  }
  if (values.help === true) {
    io.stdout(USAGE);
    return EXIT_OK;
  }
  if (values.version === true) {
    io.stdout(`jobmeter ${buildLine()}`);
    return EXIT_OK;
  }
  if (positionals.length === 0) {
    io.stderr(USAGE);
    return EXIT_USAGE;
  }
  text.log(
    'error',
    `unknown command '${positionals[0]}' (expected serve, validate, collector-config or views; see jobmeter --help)`,
  );
  return EXIT_USAGE;
}

async function serve(args: readonly string[], env: Env, plain: CliIo): Promise<number> {
  // Every line serve writes, from here on, in the asked format; a bad --log-format is reported
  // (in the plain form) by the full parse below.
  const io = formattedIo(plain, earlyLogFormat(args));
  // SIGHUP re-reads the configuration and never stops serve (reload.ts); caught from before the
  // first read, so a change made during it is not missed.
  const hangups = new HangupReloader(args, env, io);
  try {
    return await served(args, env, io, hangups);
  } finally {
    hangups.dispose();
  }
}

async function served(
  args: readonly string[],
  env: Env,
  io: LogIo,
  hangups: HangupReloader,
): Promise<number> {
  let config: ServeConfig;
  let flags: ServeFlags;
  try {
    flags = parseServeFlags(args);
    // --help and --print-config serve nothing: validate answers both, in the same words.
    if (flags.help === true || flags.printConfig === true) return await validate(args, env, io);
    config = await resolveServeConfig({ argv: args, env });
  } catch (err) {
    return failed(io, err);
  }
  hangups.loaded(config);
  io.log('info', ...versionRecord());
  const { metrics } = config;
  // The ingest state is kept by default under serve (the library's default is none).
  const { options, off: stateOff } = withServeStateDir(config.options, env);
  const main = options.listener === false ? undefined : options.listener;
  // runwisp's metrics_listen: the metrics move to the dedicated loopback listener.
  const dedicated = metrics.enabled && metrics.listen !== undefined ? metrics.listen : undefined;
  // `[listener]`'s timeouts and connection cap hold for the main server, the dedicated metrics
  // listener and the telemetry listener alike.
  const limits = resolveSection(main, SERVER_LIMITS, 'listener');

  let jobmeterModule: typeof import('../jobmeter.ts');
  try {
    jobmeterModule = await import('../jobmeter.ts');
  } catch (err) {
    return failed(io, err);
  }
  // SIGINT/SIGTERM from here on shut down once started, saving the ingest state loaded next; before
  // here, nothing is loaded and the bin's early listener exits at once (early-signals.ts).
  const signals = new SignalWaiter();
  // jobmeter, the main server, the telemetry listener: started in order, stopped in reverse (the
  // main server before jobmeter, so no scrape starts on a jobmeter that is shutting down).
  const parts = new Parts();
  try {
    const served = await parts.start(
      () =>
        jobmeterModule.serveJobmeter({
          ...options,
          ...(flags.debug === true && { debug: io.debug }),
          log: io.sink,
          listener:
            dedicated === undefined
              ? false
              : { ...dedicated, allowNonLoopback: false, format: main?.format, ...limits },
        }),
      (started) => started.jm.shutdown(),
    );
    const { jm, ingestListener: ingest } = served;
    const telemetry = config.telemetry === undefined ? undefined : served.telemetry;
    telemetry?.configFrom(() => hangups.lastReload());
    const server =
      main === undefined
        ? undefined
        : await parts.start(
            async () =>
              (await import('../http/main-server.ts')).startMainServer({
                host: main.host ?? OPTION_DEFAULTS.listener.host,
                port: main.port ?? OPTION_DEFAULTS.listener.port,
                ...limits,
                pipeline: () => jm.pipeline(),
                ...(telemetry !== undefined && {
                  onScrape: (seconds: number) => telemetry.scraped(seconds),
                }),
                ...(metrics.enabled && dedicated === undefined
                  ? { metrics: pluginOptions(jm, metrics, main, io) }
                  : {}),
              }),
            (started) => started.close(),
          );
    let telemetryListener: MetricsListener | undefined;
    // The telemetry listener's token, replaced by a SIGHUP that changes it (rotateTelemetry).
    let telemetryGate: Gate | undefined;
    if (config.telemetry !== undefined && telemetry !== undefined) {
      const { enableReload, token, ...address } = config.telemetry;
      const gate = compileGate(TELEMETRY_POSTURE, { token }, 'telemetry.');
      telemetryGate = gate;
      // jobmeter's own telemetry (self-telemetry.ts) on a loopback listener of its own, in text or
      // OpenMetrics as asked, under `[listener]`'s limits, with `/health` and `/ready` judged as
      // the main server's, and `POST /-/reload` when `[telemetry] enable_reload` asks for it
      // (loopback only, as the listener is).
      telemetryListener = await parts
        .start(
          async () =>
            (await import('../http/metrics-listener.ts')).startMetricsListener({
              ...address,
              ...limits,
              format: 'negotiate',
              ...(gate.gated && {
                authorized: (request) => telemetryGate?.check(request) === undefined,
              }),
              scrape: () => telemetry.families(),
              pipeline: () => jm.pipeline(),
              ...(enableReload && { reload: () => hangups.reload('POST /-/reload') }),
              status: (await import('../http/status-page.ts')).statusRoute({
                profile: jm.profile.name,
                telemetry,
                scrape: () => jm.scrape(),
                pipeline: () => jm.pipeline(),
                reloaded: () => hangups.lastReload(),
              }),
            }),
          (started) => started.close(),
        )
        .catch((err: unknown) => {
          if (err instanceof ConfigError) throw err;
          throw new Error(telemetryListenFailed(address, err));
        });
      // The event-loop delay is sampled while its figures are read.
      parts.add(telemetry.sampleEventLoop());
    }
    if (flags.demo === true) {
      const liveDemo = startLiveDemo(jm, jm.profile.name as ProfileName);
      parts.add(() => liveDemo.stop());
    }
    const rotateIngest = rotateCredentials('ingest', (c) => ingest?.replaceCredentials(c));
    const rotateTelemetry = rotateCredentials('telemetry', (c) => {
      telemetryGate = telemetryGate?.withCredentials(c);
    });
    // New credentials of the main server's metrics route replace the route when they leave its
    // gate mode as it is (open, gated or unmounted: a change of mode is a change of what is
    // exposed, left to a restart); a ConfigError for ones the posture cannot use keeps it.
    const rotateMetrics: ApplyLive = (running, next, changed) => {
      const live = credentialKeys('metrics', changed);
      if (server?.metrics === undefined || main === undefined || live.length === 0) return [];
      const given = {
        ...running.metrics,
        token: next.metrics.token,
        apiKeys: next.metrics.apiKeys,
      };
      const route = pluginOptions(jm, given, main, io);
      if (describeMetricsRoute(route).mode !== server.metrics.mode) return [];
      server.replaceMetrics(route);
      return live;
    };
    hangups.applyLiveWith((running, next, changed) => [
      ...rotateMetrics(running, next, changed),
      ...(ingest !== undefined ? rotateIngest(running, next, changed) : []),
      ...(telemetryGate !== undefined ? rotateTelemetry(running, next, changed) : []),
    ]);
    parts.add(() => hangups.stopApplying());
    const telemetryAt = telemetryListener && {
      address: telemetryListener.address,
      reload: config.telemetry?.enableReload === true,
    };
    for (const record of servingLines(options, metrics, jm, server, ingest, stateOff, telemetryAt))
      io.log('info', ...record);
    if (flags.demo === true) io.log('info', demoLine(metrics, jm, server));
    if (flags.debug === true) io.log('info', `debug: ${debugScope(options, jm)}`);

    const signal = await signals.next();
    io.log('info', 'shutting down', { signal }, `${signal} received, shutting down`);
    return await shutdownWithin(() => parts.stop(), io, signals);
  } catch (err) {
    return failed(io, err);
  } finally {
    signals.dispose();
  }
}

/**
 * `jobmeter validate`: serve's configuration steps, its ingest state directory made as serve makes
 * it, then its jobmeter built with nothing bound, pushed or received (the listeners' and the push's
 * options are checked by resolveOptions), and closed. The errors are serve's, through the same
 * functions, so the messages are the same.
 */
async function validate(args: readonly string[], env: Env, io: LogIo): Promise<number> {
  return printed(async () => {
    const flags = parseServeFlags(args);
    if (flags.help === true) return USAGE;
    const config = await resolveServeConfig({ argv: args, env });
    const { options } = config;
    const { resolveOptions } = await import('../resolve-options.ts');
    // The state directory serve would keep the ingest state in, made (or refused) as serve makes it.
    const { ingest } = resolveOptions(withServeStateDir(options, env).options);
    const { openStateDir, stateDirOf } = await import('../ingest/state-keeper.ts');
    const stateDir = ingest === false ? undefined : stateDirOf(ingest);
    if (stateDir !== undefined) openStateDir(stateDir);
    const { createJobmeter } = await import('../jobmeter.ts');
    const dry = await createJobmeter({
      ...options,
      listener: false,
      ingest: false,
      otlp: undefined,
      global: false,
    });
    await dry.shutdown();
    if (flags.printConfig === true)
      return (await import('./print-config.ts')).printConfig(config, env, flags.config);
    return `jobmeter: ${flags.config === undefined ? '' : `${flags.config}: `}configuration OK`;
  }, io);
}

/**
 * A command whose answer is one text on stdout (`validate`, `collector-config`, `views`): exit 0,
 * or why it failed and its status ({@link failed}).
 */
async function printed(command: () => Promise<string>, io: LogIo): Promise<number> {
  try {
    io.stdout(await command());
    return EXIT_OK;
  } catch (err) {
    return failed(io, err);
  }
}

/** The plugin's options from the resolved `[metrics]` settings (the dedicated listener's left out). */
function pluginOptions(
  jm: Jobmeter,
  metrics: ResolvedMetrics,
  main: PullListenerOptions,
  io: LogIo,
): JobmeterMetricsOptions {
  const { listen: _listen, verbose, trustedProxies, accessLog, ...route } = metrics;
  return {
    jobmeter: jm,
    ...route,
    trustProxy: trustedProxies,
    // Each access line is one stderr line, written through the CLI's own writer: wasmrun's line in
    // text, a record with its fields otherwise.
    accessLog: accessLog
      ? {
          stream:
            typeof io.sink === 'function'
              ? { write: (chunk: string) => io.stderr(chunk.replace(/\n$/, '')) }
              : io.sink,
          verbose,
        }
      : false,
    format: main.format,
  };
}

/**
 * Writes why `err` ended the command; returns its exit status: a usage error (2) for a ConfigError
 * or a `node:util` parseArgs error (unknown flag, missing value, stray argument), else a failure (1).
 */
function failed(io: LogIo, err: unknown): number {
  const code = (err as { code?: unknown } | null)?.code;
  if (err instanceof ConfigError) io.log('error', describeConfigError(err));
  else if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_')) {
    // parseArgs: "Unknown option '--x'. To specify a positional argument starting with a '-', …":
    // keep the first sentence.
    const first = messageOf(err).split(/(?<=\.) /)[0] ?? '';
    io.log('error', `${first.replace(/\.$/, '')} (see jobmeter --help)`);
  } else {
    io.log('error', messageOf(err));
    return EXIT_FAILURE;
  }
  return EXIT_USAGE;
}
