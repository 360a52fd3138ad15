/**
 * The options of a metrics route on a host's server (the fastify plugin, the node:http handler and
 * the Express middleware take the same ones), checked and resolved in one place.
 */
import type { ExpositionFormat, Family } from '../exposition/types.ts';
import type { Profile } from '../naming/types.ts';
import type { AccessLogOptions } from './access-log.ts';
import { compileGate, type GateMode } from './gate.ts';
import type { JsonView } from './metrics-response.ts';
import { POSTURES, postureForProfile, type Posture, type PostureName } from '../common/postures.ts';
import { bool, routePath, shown } from '../common/option-rules.ts';
import {
  API_KEY_OPTIONS,
  resolveOption,
  ROUTE_OPTIONS,
  type OptionsOf,
} from '../common/option-table.ts';
import { ConfigError } from '../errors.ts';
import { checkOptionKeys } from '../common/option-keys.ts';

/** What a metrics route needs of a {@link Jobmeter}. */
export interface MetricsSource {
  scrape(): Promise<readonly Family[]>;
  readonly format: 'negotiate' | ExpositionFormat;
  readonly jsonView: JsonView;
  readonly profile: Profile;
  reject(reason: string): void;
}

/** An API key of the metrics route (and of the ingest) and the tenant it authenticates. */
export type ApiKey = OptionsOf<typeof API_KEY_OPTIONS>;

/**
 * How a metrics route is mounted: the option table's route rows.
 * @example
 *   const options: JobmeterMetricsOptions = { jobmeter: jm, posture: 'wasmrun', apiKeys: [{ key: process.env.METRICS_KEY ?? '', tenant: 'ops' }] };
 */
export type JobmeterMetricsOptions = OptionsOf<
  typeof ROUTE_OPTIONS,
  {
    jobmeter: MetricsSource;
    posture: PostureName | Posture;
    accessLog: boolean | AccessLogOptions;
    format: 'negotiate' | ExpositionFormat;
  }
>;

/** What mounting a metrics route with these options does, for startup lines and tests. */
export interface MetricsRouteInfo {
  /** The route's path (the posture's when not given). */
  readonly path: string;
  readonly posture: string;
  /** `open`, `gated`, or `unmounted` (no route registered). */
  readonly mode: GateMode;
  /** The gates in force, in words, without secrets: `loopback client or bearer token`. */
  readonly description: string;
}

/**
 * Resolves the options as mounting would. @throws ConfigError naming a bad option.
 * @example
 *   console.log(describeMetricsRoute({ jobmeter: jm, posture: 'rm' }).description);
 */
export function describeMetricsRoute(opts: JobmeterMetricsOptions): MetricsRouteInfo {
  return resolveRouteOptions(opts).info;
}

/** Applies every default and checks every option. @throws ConfigError naming the option. */
export function resolveRouteOptions(opts: JobmeterMetricsOptions) {
  const fail = (option: string, expected: string, got: unknown): never => {
    throw new ConfigError(option, shown(got), expected);
  };
  if (typeof opts !== 'object' || opts === null)
    fail('jobmeter', 'a jobmeter (createJobmeter result)', undefined);
  checkOptionKeys(opts, 'route');
  const jm = opts.jobmeter;
  if (
    typeof jm?.scrape !== 'function' ||
    typeof jm.reject !== 'function' ||
    jm.profile === undefined
  ) {
    fail('jobmeter', 'a jobmeter (createJobmeter result)', jm);
  }

  const named = (name: string): Posture =>
    POSTURES[name as PostureName] ??
    fail('posture', `one of ${Object.keys(POSTURES).join(', ')} or a posture object`, name);
  const posture =
    opts.posture === undefined
      ? postureForProfile(jm.profile.name)
      : typeof opts.posture === 'string'
        ? named(opts.posture)
        : opts.posture;
  // A host's own posture object is checked here too, with what it is configured with.
  const gate = compileGate(posture, opts);
  const path = routePath(opts.path ?? posture.path, 'path');

  const accessLogOption = opts.accessLog ?? posture.accessLog;
  if (
    typeof accessLogOption !== 'boolean' &&
    (typeof accessLogOption !== 'object' || accessLogOption === null)
  ) {
    fail('accessLog', 'a boolean or { stream, verbose, now }', accessLogOption);
  }
  const accessLog =
    accessLogOption === false ? undefined : accessLogOption === true ? {} : accessLogOption;

  const maxInflight = resolveOption(ROUTE_OPTIONS, 'maxInflightScrapes', opts.maxInflightScrapes);
  const format = ROUTE_OPTIONS.format.rule(opts.format ?? jm.format, 'format');
  const enabled = resolveOption(ROUTE_OPTIONS, 'enabled', opts.enabled);
  const selfMetrics = bool(opts.selfMetrics ?? jm.profile.kind === 'native', 'selfMetrics');

  // With auth on, only aggregates: the JSON view's extra members (wasmrun's sessions) are withheld.
  const { extra, ...withheld } = jm.jsonView;
  const json: JsonView =
    gate.authenticated && posture.withholdJsonExtraWhenAuthenticated && extra !== undefined
      ? withheld
      : jm.jsonView;

  const info: MetricsRouteInfo = {
    path,
    posture: posture.name,
    mode: gate.mode,
    description: gate.description,
  };
  return { enabled, path, gate, accessLog, maxInflight, format, json, selfMetrics, info };
}
