/**
 * The environment as a config layer of `jobmeter serve` (and the instrumentation preload): the
 * standard OTEL_* variables (otel-env.ts reads them as the specification says) and the daemon's
 * identity, JOBMETER_BUILD_*.
 */
import {
  attributeValueLengthLimitFromEnv,
  otlpOptionsFromEnv,
  resourceFromEnv,
} from './otel-env.ts';
import { BUILD_OPTIONS } from '../common/option-table.ts';
import type { BuildConfig, ServiceConfig } from './service-config.ts';

/** The OTEL_* environment as a config layer (otel-env.ts validates and throws ConfigError), with the daemon's JOBMETER_BUILD_*. */
export function envLayer(env: NodeJS.ProcessEnv): ServiceConfig {
  const out: ServiceConfig = {};
  const resource = resourceFromEnv(env);
  if (resource.serviceName !== undefined) out.serviceName = resource.serviceName;
  if (Object.keys(resource.resourceAttributes).length > 0) {
    out.resourceAttributes = { ...resource.resourceAttributes };
  }
  const valueLength = attributeValueLengthLimitFromEnv(env);
  if (valueLength !== undefined) out.attributeValueLengthLimit = valueLength;
  const otlp = otlpOptionsFromEnv(env);
  if (otlp !== undefined) out.otlp = { ...otlp };
  const build = buildFromEnv(env);
  if (build !== undefined) out.build = build;
  return out;
}

/** `[build]`'s variables (its rows' `env`): the daemon's identity, set where its unit or container is defined. */
function buildFromEnv(env: NodeJS.ProcessEnv): BuildConfig | undefined {
  const out: BuildConfig = {};
  for (const [key, row] of Object.entries(BUILD_OPTIONS)) {
    const value = env[row.env]?.trim();
    if (value !== undefined && value !== '') out[key as keyof BuildConfig] = value;
  }
  return Object.keys(out).length === 0 ? undefined : out;
}
