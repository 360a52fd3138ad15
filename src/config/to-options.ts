/**
 * A merged `jobmeter serve` config as the library's options: fields not set stay unset, so the
 * library's own defaults (common/option-defaults.ts) apply to them.
 */
import type { JobmeterOptions } from '../options.ts';
import type { ServiceConfig } from './service-config.ts';

/**
 * Maps a (merged) config onto library options. Fields not set stay unset, so the library's own
 * defaults apply to them; `listener.enabled = false` becomes `listener: false`.
 */
export function toJobmeterOptions(cfg: ServiceConfig): JobmeterOptions {
  const out: JobmeterOptions = {};
  if (cfg.profileRules !== undefined) out.profile = { ...(cfg.profile !== undefined && { name: cfg.profile }), rules: cfg.profileRules.map((r) => ({ ...r })) };
  else if (cfg.profile !== undefined) out.profile = cfg.profile;
  if (cfg.serviceName !== undefined) out.serviceName = cfg.serviceName;
  if (cfg.resourceAttributes !== undefined) out.resourceAttributes = { ...cfg.resourceAttributes };
  if (cfg.processMetrics !== undefined) out.processMetrics = cfg.processMetrics;
  if (cfg.otelScopeInfo !== undefined) out.otelScopeInfo = cfg.otelScopeInfo;
  if (cfg.global !== undefined) out.global = cfg.global;
  if (cfg.cardinalityLimit !== undefined) out.cardinalityLimit = cfg.cardinalityLimit;
  if (cfg.views !== undefined) out.views = [...cfg.views];
  if (cfg.hostInstruments !== undefined) out.hostInstruments = cfg.hostInstruments;
  if (cfg.naming?.translationStrategy !== undefined) out.translationStrategy = cfg.naming.translationStrategy;
  if (cfg.naming?.startTimestamps !== undefined) out.startTimestamps = cfg.naming.startTimestamps;
  if (cfg.build !== undefined && Object.keys(cfg.build).length > 0) {
    // A daemon that names only its commit or runtime still is not jobmeter: its version is unknown.
    out.build = {
      version: cfg.build.version ?? 'unknown',
      ...(cfg.build.commit !== undefined && { commit: cfg.build.commit }),
      ...(cfg.build.runtimeVersion !== undefined && { runtimeVersion: cfg.build.runtimeVersion }),
    };
  }
  if (cfg.listener !== undefined) {
    const { enabled, ...listenerOptions } = cfg.listener;
    out.listener = enabled === false ? false : stripUndefined(listenerOptions);
  }
  if (cfg.otlp !== undefined) {
    const otlpOptions = stripUndefined({ ...cfg.otlp });
    if (cfg.otlp.headers !== undefined) otlpOptions.headers = { ...cfg.otlp.headers };
    out.otlp = otlpOptions;
  }
  if (cfg.cluster !== undefined) {
    const { enabled, merge, ...clusterOptions } = cfg.cluster;
    out.cluster = enabled === false ? false : { ...stripUndefined(clusterOptions), ...(merge !== undefined && { merge: { ...merge } }) };
  }
  // Off unless enabled: the library's `ingest` is absent (no listener) by default too.
  if (cfg.ingest?.enabled === true) {
    const { enabled: _enabled, ...ingestOptions } = cfg.ingest;
    out.ingest = stripUndefined(ingestOptions);
  }
  return out;
}

function stripUndefined<T extends object>(obj: T): T {
  for (const k of Object.keys(obj) as (keyof T)[]) {
    if (obj[k] === undefined) delete obj[k];
  }
  return obj;
}
