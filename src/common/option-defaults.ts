/**
 * Every default of {@link JobmeterOptions}, in one object: the option table's (option-table.ts).
 * The library resolves its options against it (resolve-options.ts), the listeners and the ingest
 * store fall back to it when used on their own, and `jobmeter serve`'s embedded config
 * (config/service-defaults.ts) is built from it, so the service with no config behaves exactly as
 * `createJobmeter({})`.
 */
import {
  CLUSTER_OPTIONS,
  defaultsOf,
  INGEST_OPTIONS,
  JOBMETER_OPTIONS,
  LISTENER_OPTIONS,
  OTLP_OPTIONS,
  SERVER_LIMIT_KEYS,
  SERVER_LIMITS,
  SNAPSHOT_OPTIONS,
} from './option-table.ts';

/** Deeply frozen: resolution copies from it, never into it. */
export const OPTION_DEFAULTS = deepFreeze({
  ...defaultsOf(JOBMETER_OPTIONS, ['startTimestamps']),
  listener: defaultsOf(LISTENER_OPTIONS, SERVER_LIMIT_KEYS),
  /** The timeouts and connection cap of every listener jobmeter opens (http/server-limits.ts). */
  serverLimits: defaultsOf(SERVER_LIMITS),
  otlp: defaultsOf(OTLP_OPTIONS),
  /** The gate keys have no defaults: compiled and checked where options are resolved (http/gate.ts). */
  ingest: defaultsOf(INGEST_OPTIONS, SERVER_LIMIT_KEYS),
  cluster: defaultsOf(CLUSTER_OPTIONS),
  /** The snapshot cache's, where the profile sets none (crewshipd's TTL is its own). */
  snapshot: defaultsOf(SNAPSHOT_OPTIONS),
});

/** `object` deeply frozen, for defaults that many readers share. */
export function deepFreeze<T extends object>(value: T): T {
  for (const v of Object.values(value)) {
    if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) deepFreeze(v);
  }
  return Object.freeze(value);
}
