/**
 * The environment as a config layer of `jobmeter serve` (and the instrumentation preload): the
 * standard OTEL_* variables (otel-env.ts reads them as the specification says), the daemon's
 * identity, JOBMETER_BUILD_*, and where serve's own telemetry listens, JOBMETER_TELEMETRY_LISTEN
 * (so a serve run on flags alone can move it off a taken port). An empty variable is unset, as
 * the OpenTelemetry specification has it for its own.
 */
import {
  attributeValueLengthLimitFromEnv,
  otlpOptionsFromEnv,
  readEnv,
  resourceFromEnv,
} from './otel-env.ts';
import { BUILD_OPTIONS } from '../common/option-table.ts';
import { parseLoopbackListen } from './schema-validator.ts';
import { definedOnly, type BuildConfig, type ServiceConfig } from './service-config.ts';

/**
 * The OTEL_* environment as a config layer (otel-env.ts validates and throws ConfigError), with the
 * daemon's JOBMETER_BUILD_* and JOBMETER_TELEMETRY_LISTEN.
 */
export function envLayer(env: NodeJS.ProcessEnv): ServiceConfig {
  const { serviceName, resourceAttributes } = resourceFromEnv(env);
  const listen = readEnv(env, TELEMETRY_LISTEN_ENV);
  return definedOnly<ServiceConfig>({
    serviceName,
    resourceAttributes: Object.keys(resourceAttributes).length > 0 ? resourceAttributes : undefined,
    attributeValueLengthLimit: attributeValueLengthLimitFromEnv(env),
    otlp: otlpOptionsFromEnv(env),
    build: buildFromEnv(env),
    telemetry:
      listen === undefined
        ? undefined
        : { listen: parseLoopbackListen(listen, TELEMETRY_LISTEN_ENV) },
  });
}

/** `[telemetry] listen`'s variable: below the file, as every variable is. */
export const TELEMETRY_LISTEN_ENV = 'JOBMETER_TELEMETRY_LISTEN';

/** `[build]`'s variables (its rows' `env`): the daemon's identity, set where its unit or container is defined. */
function buildFromEnv(env: NodeJS.ProcessEnv): BuildConfig | undefined {
  const out: BuildConfig = {};
  for (const [key, row] of Object.entries(BUILD_OPTIONS)) {
    const value = readEnv(env, row.env);
    if (value !== undefined) out[key as keyof BuildConfig] = value;
  }
  return Object.keys(out).length === 0 ? undefined : out;
}
