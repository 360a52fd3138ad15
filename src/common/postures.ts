/**
 * The auth postures: how each original guards its metrics route, as data. One evaluator
 * (gate.ts) reads these objects; nothing else in jobmeter branches on a posture's name.
 *
 * A posture names the gates it knows and how they combine. A gate is *in force* when it needs no
 * configuration (`loopback`) or when its configuration is present (`bearer`: at least one token or
 * API key; `cidr`: at least one trusted network). With no gate in force the route is either open
 * or not registered at all (`unconfigured`).
 */
import type { ProfileName } from './option-values.ts';
import { deepFreeze } from './option-defaults.ts';

/**
 * - `loopback`: the true client address (X-Forwarded-For aware, see client-ip.ts) is 127.0.0.0/8 or ::1.
 * - `bearer`: `Authorization: Bearer <token>` matches a configured token or API key (constant time).
 * - `cidr`: the true client address is in a configured network.
 */
export type GateKind = 'loopback' | 'bearer' | 'cidr';

/** An HTTP status a refused scrape may get. 404 is answered by the host's not-found handler. */
export type DenyStatus = 401 | 403 | 404;

/** How one original guards its metrics route: gates, path, refusal statuses, access log, environment variables. */
export interface Posture {
  /** Shown in messages and in `jobmeter serve`'s startup line. */
  readonly name: string;
  /** Where the original mounts its metrics route. */
  readonly path: string;
  /** The gates this posture knows, in evaluation order. Configuring any other is an error. */
  readonly gates: readonly GateKind[];
  /** `all`: every gate in force must pass (rm: token AND CIDR). `any`: one suffices (crewshipd: loopback OR token). */
  readonly combine: 'all' | 'any';
  /** No gate in force: serve everyone (`open`) or register no route (`unmounted`, rm: a forgotten config cannot publish). */
  readonly unconfigured: 'open' | 'unmounted';
  /**
   * Status of a refused request: `credential` while the bearer gate is in force (a token could
   * have helped), `network` otherwise (nothing the client sends changes the answer).
   */
  readonly deny: { readonly credential: DenyStatus; readonly network: DenyStatus };
  /** Counted with `jobmeter.reject(reason)` on every refusal (wasmrun: `unauthorized`). */
  readonly rejectReason?: string;
  /** The key=value access line on every request of the server (wasmrun: always on). */
  readonly accessLog: boolean;
  /** With the bearer gate in force, the JSON view's extra members (wasmrun's `sessions`) are withheld. */
  readonly withholdJsonExtraWhenAuthenticated: boolean;
  /** Off unless the operator opts in (runwisp: `[daemon] metrics_enabled = true`). */
  readonly optIn: boolean;
  /** Proxies whose X-Forwarded-For is believed when none are configured (crewshipd: loopback ones). */
  readonly trustedProxies: readonly string[];
  /** The original's environment variables (read by `jobmeter serve` under this posture only). */
  readonly env: {
    readonly [K in 'token' | 'tokenFile' | 'trustedCidrs' | 'trustedProxies']?: string;
  };
}

/**
 * A posture per profile: its original's auth. `semconv` has no original, so no posture of its
 * own: it names instruments, and serves with jobmeter's (`otel`).
 */
export type PostureName = Exclude<ProfileName, 'semconv'>;

const BASE = {
  path: '/metrics',
  combine: 'all',
  unconfigured: 'open',
  deny: { credential: 401, network: 404 },
  accessLog: false,
  withholdJsonExtraWhenAuthenticated: false,
  optIn: false,
  trustedProxies: [],
  env: {},
} as const satisfies Partial<Posture>;

/**
 * Each profile's route posture: the original's gates, path, refusal statuses and access log.
 * @example
 *   console.log(POSTURES.rm.gates); // ['bearer', 'cidr']
 */
export const POSTURES: Readonly<Record<PostureName, Posture>> = deepFreeze({
  /** jobmeter's own: open by default; a token and/or CIDR list, once set, must all pass. */
  otel: { ...BASE, name: 'otel', gates: ['bearer', 'cidr'] },
  /**
   * Unauthenticated once enabled; for an exposed daemon, move it to the dedicated loopback
   * listener (`metrics_listen`) or put a proxy in front. RUNWISP_TRUST_PROXY is read for
   * compatibility; no runwisp gate looks at the client address.
   */
  runwisp: {
    ...BASE,
    name: 'runwisp',
    gates: [],
    optIn: true,
    env: { trustedProxies: 'RUNWISP_TRUST_PROXY' },
  },
  /** `--auth`: a valid API key like every endpoint, 401 and `exec_rejected_total{reason="unauthorized"}` otherwise. */
  wasmrun: {
    ...BASE,
    name: 'wasmrun',
    path: '/api/v1/metrics',
    gates: ['bearer'],
    deny: { credential: 401, network: 401 },
    rejectReason: 'unauthorized',
    accessLog: true,
    withholdJsonExtraWhenAuthenticated: true,
  },
  /** Loopback (true client IP) always; remote needs the bearer token; no token configured -> 404. */
  crewshipd: {
    ...BASE,
    name: 'crewshipd',
    gates: ['loopback', 'bearer'],
    combine: 'any',
    trustedProxies: ['127.0.0.0/8', '::1/128'],
    env: { token: 'CREWSHIP_METRICS_TOKEN' },
  },
  /** Token and/or trusted CIDR, both ANDed when both set; neither -> the route is not registered. */
  rm: {
    ...BASE,
    name: 'rm',
    gates: ['bearer', 'cidr'],
    unconfigured: 'unmounted',
    env: {
      token: 'RM_METRICS_TOKEN',
      tokenFile: 'RM_METRICS_TOKEN_FILE',
      trustedCidrs: 'RM_METRICS_TRUSTED_CIDR',
      trustedProxies: 'RM_TRUSTED_PROXY',
    },
  },
  /** One shared registry behind one unified, unauthenticated `/metrics`. */
  solti: { ...BASE, name: 'solti', gates: [] },
});

/**
 * The ingest's posture (http/gate.ts): token and networks ANDed when both are set, open
 * when neither is; a refusal 401 while a token is asked for, else 403. The TCP peer is the client
 * (no proxy's `X-Forwarded-For` is believed): OTLP senders connect directly.
 */
export const INGEST_POSTURE: Posture = deepFreeze({
  ...BASE,
  name: 'ingest',
  path: '/v1/metrics',
  gates: ['bearer', 'cidr'],
  deny: { credential: 401, network: 403 },
});

/**
 * `jobmeter serve`'s telemetry listener's posture: loopback only, and a bearer token once
 * `[telemetry] token` is set (every route but /health and /ready: http/main-server.ts
 * `routeRequests`); a refusal is 401.
 */
export const TELEMETRY_POSTURE: Posture = deepFreeze({
  ...BASE,
  name: 'telemetry',
  gates: ['bearer'],
  deny: { credential: 401, network: 401 },
});

/**
 * The names of {@link POSTURES}, one per profile.
 * @example
 *   for (const name of POSTURE_NAMES) console.log(name, POSTURES[name].path);
 */
export const POSTURE_NAMES = Object.keys(POSTURES) as readonly PostureName[];

export const GATE_KINDS: readonly GateKind[] = ['loopback', 'bearer', 'cidr'];

/** The posture of a profile's original (the native profiles' is `otel`). */
export function postureForProfile(profile: string): Posture {
  return POSTURES[profile as PostureName] ?? POSTURES.otel;
}
