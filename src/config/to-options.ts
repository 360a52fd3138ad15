/**
 * A merged `jobmeter serve` config as the library's options: fields not set stay unset, so the
 * library's own defaults (common/option-defaults.ts) apply to them.
 */
import type { JobmeterOptions } from '../options.ts';
import { SINGLE_VALUES } from './file-layer.ts';
import { definedOnly, type ServiceConfig } from './service-config.ts';

/**
 * Maps a (merged) config onto library options. Fields not set stay unset, so the library's own
 * defaults apply to them; `listener.enabled = false` becomes `listener: false`.
 */
export function toJobmeterOptions(cfg: ServiceConfig): JobmeterOptions {
  const out: JobmeterOptions = {};
  if (cfg.profileRules !== undefined)
    out.profile = {
      ...(cfg.profile !== undefined && { name: cfg.profile }),
      rules: cfg.profileRules.map((r) => ({ ...r })),
    };
  else if (cfg.profile !== undefined) out.profile = cfg.profile;
  // The top level's single values and [naming]'s keep their keys (the option table's).
  for (const key of SINGLE_VALUES)
    if (cfg[key] !== undefined) (out as Record<string, unknown>)[key] = cfg[key];
  if (cfg.resourceAttributes !== undefined) out.resourceAttributes = { ...cfg.resourceAttributes };
  if (cfg.views !== undefined) out.views = [...cfg.views];
  if (cfg.build !== undefined && Object.keys(cfg.build).length > 0) {
    // A daemon that names only its commit or runtime still is not jobmeter: its version is unknown.
    out.build = { version: 'unknown', ...definedOnly(cfg.build) };
  }
  // A table's `enabled = false` is the library's `false`; the ingest is off unless enabled, as the
  // library's absent `ingest` is. Each is copied, its maps too (the headers, the merge policies).
  for (const key of ['listener', 'otlp', 'cluster', 'ingest'] as const) {
    const table = cfg[key] as { enabled?: boolean } | undefined;
    if (table === undefined || (key === 'ingest' && table.enabled !== true)) continue;
    const { enabled, ...options } = table;
    (out as Record<string, unknown>)[key] =
      enabled === false ? false : structuredClone(definedOnly(options));
  }
  return out;
}
