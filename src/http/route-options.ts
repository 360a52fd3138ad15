/**
 * The options of a metrics route on a host's server (the fastify plugin, the node:http handler and
 * the Express middleware take the same ones), checked and resolved in one place.
 */
import type { ExpositionFormat, Family } from '../exposition/types.ts';
import type { Profile } from '../naming/types.ts';
import type { AccessLogOptions } from './access-log.ts';
import {
  checkPosture,
  compileGate,
  describeGate,
  type Credential,
  type Gate,
  type GateMode,
} from './gate.ts';
import type { JsonView } from './metrics-response.ts';
import { POSTURES, postureForProfile, type Posture, type PostureName } from '../common/postures.ts';
import {
  bool,
  cidrList,
  gateCredentials,
  inflightScrapes,
  isRoutePath,
  oneOf,
  ROUTE_PATH_EXPECTED,
  shown,
} from '../common/option-rules.ts';
import { ConfigError } from '../errors.ts';
import { checkOptionKeys } from '../common/option-keys.ts';
import { LISTENER_FORMATS } from '../common/option-values.ts';

/** What a metrics route needs of a {@link Jobmeter}. */
export interface MetricsSource {
  scrape(): Promise<readonly Family[]>;
  readonly format: 'negotiate' | ExpositionFormat;
  readonly jsonView: JsonView;
  readonly profile: Profile;
  reject(reason: string): void;
}

/** An API key of the metrics route and the tenant it authenticates (`apiKeys`). */
export interface ApiKey {
  /** The key a client sends as `Authorization: Bearer <key>`. */
  readonly key: string;
  /** The tenant it authenticates, written as `tenant=` in the access log. */
  readonly tenant: string;
}

/**
 * How a metrics route is mounted: which jobmeter it serves, under which posture (gates, path,
 * access log), with which credentials.
 * @example
 *   const options: JobmeterMetricsOptions = { jobmeter: jm, posture: 'wasmrun', apiKeys: [{ key: process.env.METRICS_KEY ?? '', tenant: 'ops' }] };
 */
export interface JobmeterMetricsOptions {
  /** The jobmeter whose metrics are served (`createJobmeter`'s result). Required. */
  readonly jobmeter: MetricsSource;
  /**
   * A posture name (`otel`, `runwisp`, `wasmrun`, `crewshipd`, `rm`, `solti`) or a posture object.
   * @default the jobmeter profile's original (`otel` for the native profile)
   */
  readonly posture?: PostureName | Posture;
  /** The route. @default the posture's path: `/api/v1/metrics` for wasmrun, `/metrics` otherwise */
  readonly path?: string;
  /**
   * `false` mounts nothing at all (runwisp's `[daemon] metrics_enabled = false`). Mounting the
   * route is the opt-in, so this is true even for the opt-in runwisp posture. @default true
   */
  readonly enabled?: boolean;
  /**
   * A bearer token (crewshipd's CREWSHIP_METRICS_TOKEN, rm's RM_METRICS_TOKEN). Puts the bearer
   * gate in force; an error under a posture without one. Never logged. @default none
   */
  readonly token?: string;
  /** API keys and their tenants (wasmrun `--auth`); with `token`, all are accepted. @default [] */
  readonly apiKeys?: readonly ApiKey[];
  /** Networks allowed by the cidr gate (rm's RM_METRICS_TRUSTED_CIDR), as CIDRs or addresses. @default [] */
  readonly trustedCidrs?: readonly string[];
  /**
   * Proxies (CIDRs or addresses) whose `X-Forwarded-For` is believed, walking right to left past
   * trusted hops (rm's RM_TRUSTED_PROXY, runwisp's RUNWISP_TRUST_PROXY). `[]` trusts none.
   * @default the posture's: loopback for crewshipd, none otherwise
   */
  readonly trustProxy?: readonly string[];
  /**
   * The key=value access line on every request of the server, with `X-Request-Id`; `true` writes
   * to stderr, an object picks the stream, `-v` (verbose) and clock. @default the posture's (wasmrun: on)
   */
  readonly accessLog?: boolean | AccessLogOptions;
  /**
   * Scrapes being collected or rendered at once past which a scrape gets 503 (with `Retry-After:
   * 1`). 0 means no limit: concurrent scrapes share one collection and one rendering, so a storm
   * costs little; the limit bounds the rest. Negative is an error. @default 0
   */
  readonly maxInflightScrapes?: number;
  /** Force a format, or `negotiate` from `Accept`. @default the jobmeter's (its profile's original) */
  readonly format?: 'negotiate' | ExpositionFormat;
  /**
   * Serve `jobmeter_scrape_errors_total{cause}` after the collected families. Legacy profiles must
   * not grow series their original never had. @default true for the native profile, false otherwise
   */
  readonly selfMetrics?: boolean;
}

/** Resolved once when the route is made; every default applied here. */
export interface ResolvedRoute {
  readonly enabled: boolean;
  readonly path: string;
  readonly gate: Gate;
  readonly accessLog: AccessLogOptions | undefined;
  readonly maxInflight: number;
  readonly format: 'negotiate' | ExpositionFormat;
  readonly json: JsonView;
  readonly selfMetrics: boolean;
  /** How many tokens / API keys the bearer gate accepts. */
  readonly credentials: number;
}

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
  const o = resolveRouteOptions(opts);
  return {
    path: o.path,
    posture: o.gate.posture.name,
    mode: o.gate.mode,
    description: describeGate(o.gate, {
      tokens: opts.token === undefined ? 0 : 1,
      apiKeys: opts.apiKeys?.length ?? 0,
      cidrs: opts.trustedCidrs?.length ?? 0,
    }),
  };
}

/** Applies every default and checks every option. @throws ConfigError naming the option. */
export function resolveRouteOptions(opts: JobmeterMetricsOptions): ResolvedRoute {
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

  let posture: Posture;
  if (opts.posture === undefined) posture = postureForProfile(jm.profile.name);
  else if (typeof opts.posture === 'string') {
    posture =
      POSTURES[opts.posture] ??
      fail(
        'posture',
        `one of ${Object.keys(POSTURES).join(', ')} or a posture object`,
        opts.posture,
      );
  } else {
    checkPosture(opts.posture);
    posture = opts.posture;
  }

  const path = opts.path ?? posture.path;
  if (!isRoutePath(path)) fail('path', ROUTE_PATH_EXPECTED, path);

  const credentials: Credential[] = gateCredentials(opts.token, opts.apiKeys, '');
  if (opts.trustedCidrs !== undefined) cidrList(opts.trustedCidrs, 'trustedCidrs');
  if (opts.trustProxy !== undefined) cidrList(opts.trustProxy, 'trustProxy');

  const gate = compileGate(posture, {
    credentials,
    ...(opts.trustedCidrs !== undefined ? { trustedCidrs: opts.trustedCidrs } : {}),
    ...(opts.trustProxy !== undefined ? { trustedProxies: opts.trustProxy } : {}),
    // The tokens and keys were checked above: only the posture's refusal names credentials.
    names: {
      credentials: opts.token !== undefined ? 'token' : 'apiKeys',
      trustedProxies: 'trustProxy',
    },
  });

  const accessLogOption = opts.accessLog ?? posture.accessLog;
  if (
    typeof accessLogOption !== 'boolean' &&
    (typeof accessLogOption !== 'object' || accessLogOption === null)
  ) {
    fail('accessLog', 'a boolean or { stream, verbose, now }', accessLogOption);
  }
  const accessLog =
    accessLogOption === false ? undefined : accessLogOption === true ? {} : accessLogOption;

  const maxInflight = inflightScrapes(opts.maxInflightScrapes ?? 0, 'maxInflightScrapes');

  const format = opts.format ?? jm.format;
  oneOf(format, LISTENER_FORMATS, 'format');

  const enabled = bool(opts.enabled ?? true, 'enabled');
  const selfMetrics = bool(opts.selfMetrics ?? jm.profile.kind === 'native', 'selfMetrics');

  // With auth on, only aggregates: the JSON view's extra members (wasmrun's sessions) are withheld.
  const json: JsonView =
    gate.authenticated &&
    posture.withholdJsonExtraWhenAuthenticated &&
    jm.jsonView.extra !== undefined
      ? {
          shape: jm.jsonView.shape,
          ...(jm.jsonView.prefix !== undefined ? { prefix: jm.jsonView.prefix } : {}),
        }
      : jm.jsonView;

  return {
    enabled,
    path,
    gate,
    accessLog,
    maxInflight,
    format,
    json,
    selfMetrics,
    credentials: credentials.length,
  };
}
