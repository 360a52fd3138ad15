/**
 * The environment as a config layer of `jobmeter serve` (and the instrumentation preload): the
 * standard OTEL_* variables (otel-env.ts reads them as the specification says), the daemon's
 * identity, JOBMETER_BUILD_*, and where serve's own telemetry listens, JOBMETER_TELEMETRY_LISTEN
 * (so a serve run on flags alone can move it off a taken port). An empty variable is unset, as
 * the OpenTelemetry specification has it for its own.
 */
import { otlpOptionsFromEnv, resourceFromEnv, rowsFromEnv } from './otel-env.ts';
import { JOBMETER_OPTIONS, TABLES } from '../common/option-table.ts';
import { definedOnly, type ServiceConfig } from './service-config.ts';

/**
 * The environment as a config layer (otel-env.ts validates and throws ConfigError): the rows'
 * `env` variables, wherever they sit (OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT, OTEL_METRIC_EXPORT_INTERVAL,
 * the daemon's JOBMETER_BUILD_*, JOBMETER_TELEMETRY_LISTEN, JOBMETER_INGEST_GRPC_PORT), and the
 * OTEL_* variables otel-env.ts reads as the specification says (`[otlp]`'s among them).
 */
export function envLayer(env: NodeJS.ProcessEnv): ServiceConfig {
  const { serviceName, resourceAttributes } = resourceFromEnv(env);
  const tables = TABLES.filter(([key]) => key !== 'otlp').map(([key, section]) => [
    key,
    rowsFromEnv(env, section),
  ]);
  return definedOnly<ServiceConfig>({
    ...(rowsFromEnv(env, JOBMETER_OPTIONS) as ServiceConfig),
    ...(Object.fromEntries(tables) as ServiceConfig),
    serviceName,
    resourceAttributes: Object.keys(resourceAttributes).length > 0 ? resourceAttributes : undefined,
    otlp: otlpOptionsFromEnv(env),
  });
}
