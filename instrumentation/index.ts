/**
 * `node --import jobmeter/instrumentation app.js`: starts jobmeter from the environment alone,
 * before the app's own code runs, and hands the app the same instance:
 *
 *   import { jobmeter } from 'jobmeter/instrumentation';
 *   const run = jobmeter.startRun({ task: 'nightly-backup' });
 *
 * It registers jobmeter's MeterProvider as the global one (unless another is already registered,
 * or the config file says `global = false`), so instruments the app or its libraries make with
 * `metrics.getMeter()` are served on the same endpoint.
 *
 * Reads the standard OTEL_* variables (see src/config/otel-env.ts) plus JOBMETER_CONFIG (a config
 * file, same keys as `jobmeter serve --config`), JOBMETER_PROFILE and JOBMETER_LISTEN
 * (`host:port`); the precedence is the service's: defaults < OTEL_* < file < JOBMETER_* flags.
 *
 * Exit codes are the service's: a configuration problem exits 2 naming the variable or file key
 * the user set (JOBMETER_PROFILE, not the flag it stands for); any other startup failure exits 1.
 */
import { refuseUnsupportedNode } from '../src/common/node-support.ts';
import { ConfigError, describeConfigError } from '../src/errors.ts';
import { PRELOAD_FLAG_KEYS } from '../src/config/serve-flags.ts';
import { resolveServiceConfig } from '../src/config/resolve-layers.ts';
import { createJobmeter, type Jobmeter } from '../src/jobmeter.ts';

/** The JOBMETER_* variables as `serve` flags; errors name the variables (PRELOAD_FLAG_KEYS). */
function argvFromEnv(env: NodeJS.ProcessEnv): string[] {
  const argv: string[] = [];
  if (env.JOBMETER_CONFIG) argv.push('--config', env.JOBMETER_CONFIG);
  if (env.JOBMETER_PROFILE) argv.push('--profile', env.JOBMETER_PROFILE);
  if (env.JOBMETER_LISTEN) argv.push('--listen', env.JOBMETER_LISTEN);
  return argv;
}

async function start(): Promise<Jobmeter> {
  refuseUnsupportedNode();
  try {
    const options = await resolveServiceConfig({
      argv: argvFromEnv(process.env),
      env: process.env,
      keys: PRELOAD_FLAG_KEYS,
    });
    const jm = await createJobmeter(options);
    if (jm.pullAddress !== undefined) {
      const { host, port } = jm.pullAddress;
      process.stderr.write(
        `jobmeter: serving ${jm.profile.name} metrics on http://${host.includes(':') ? `[${host}]` : host}:${port}/metrics\n`,
      );
    }
    return jm;
  } catch (err) {
    // A preload that fails must stop the app loudly: running without the metrics it was told to
    // serve would hide the misconfiguration.
    const message =
      err instanceof ConfigError
        ? describeConfigError(err)
        : err instanceof Error
          ? err.message
          : String(err);
    process.stderr.write(`jobmeter: ${message}\n`);
    process.exit(err instanceof ConfigError ? 2 : 1);
  }
}

/**
 * The jobmeter the preload started (`node --import jobmeter/instrumentation app.js`), configured
 * from `JOBMETER_CONFIG`, `JOBMETER_PROFILE`, `JOBMETER_LISTEN` and the OTEL_* variables; a module
 * of the app imports it from `jobmeter/instrumentation` to record.
 * @example
 *   jobmeter.recordRun({ task: 'nightly', outcome: 'success', durationSeconds: 1.2 });
 */
export const jobmeter: Jobmeter = await start();

// Flush the last OTLP export on SIGTERM/SIGINT and exit 0, as the default handler would have
// exited. An app with its own handler owns shutdown: flushing here would run before it has
// finished its runs, so it calls `jobmeter.shutdown()` itself when done.
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    if (process.listenerCount(signal) > 0) return;
    void jobmeter.shutdown().finally(() => process.exit(0));
  });
}
