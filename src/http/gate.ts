/**
 * The one gate evaluator: a {@link Posture} (data) plus what the operator configured (tokens,
 * networks, proxies) compiled into a function from a request's peer and headers to a decision.
 * Every posture goes through the same code; there is no per-posture branch.
 *
 * Tokens are compared in constant time: the presented token and every configured one are reduced
 * to SHA-256 digests and compared with `crypto.timingSafeEqual`, so a token of another length
 * takes the same path as a wrong one of the right length, and every configured token is compared
 * on every request (no early exit that would tell which one was close). A missing or malformed
 * `Authorization` header is hashed too, as the empty string.
 *
 * A refusal carries only a status; the reason never leaves this module.
 *
 * The ingest and serve's telemetry listener hold a gate of their own (common/postures.ts
 * `INGEST_POSTURE`, `TELEMETRY_POSTURE`) and ask it {@link Gate.check}: the ingest answers a refusal
 * before reading the body, with `Connection: close` (an unauthenticated sender cannot make jobmeter
 * buffer or decode anything), 401 UNAUTHENTICATED with `WWW-Authenticate: Bearer` while a token is
 * asked for, else 403 PERMISSION_DENIED: both permanent to an OTLP exporter (ingest-errors.ts).
 */
/** node:crypto, loaded when a gate first hashes or compares (a pull-only host that asks for none never loads it: test/package/pull-host-modules.test.ts). */
const crypto = () => process.getBuiltinModule('node:crypto');

import { AddressSet, LOOPBACK } from '../common/addresses.ts';
import { clientIp } from './client-ip.ts';
import type { DenyStatus, GateKind, Posture } from '../common/postures.ts';
import { GATE_KINDS } from '../common/postures.ts';
import { cidrList, gateCredentials } from '../common/option-rules.ts';
import type { OptionsOf, ROUTE_OPTIONS } from '../common/option-table.ts';
import { ConfigError, REDACTED } from '../errors.ts';

/**
 * Who may pass, as the operator configures it: the metrics route's keys (the option table's rows),
 * and the ingest's (under `ingest.`). Checked here, once, whatever layer they came from.
 */
export type GateConfig = Pick<
  OptionsOf<typeof ROUTE_OPTIONS>,
  'token' | 'apiKeys' | 'trustedCidrs' | 'trustProxy'
>;

/** A gate's credentials, which a SIGHUP may replace (its networks stay). */
export type GateCredentials = Pick<GateConfig, 'token' | 'apiKeys'>;

/** What the route does before any request: serve everyone, register nothing, or check each request. */
export type GateMode = 'open' | 'unmounted' | 'gated';

export type GateDecision =
  | { readonly ok: true; readonly tenant: string | undefined }
  | { readonly ok: false; readonly status: DenyStatus };

/** What a gate needs from a request: the TCP peer and the headers. */
export interface GateRequest {
  /** `socket.remoteAddress`; a remote client is simply a peer that is not loopback. */
  readonly peer: string | undefined;
  readonly headers: {
    readonly authorization?: string | undefined;
    readonly 'x-forwarded-for'?: string | string[] | undefined;
  };
}

export interface Gate {
  readonly posture: Posture;
  readonly mode: GateMode;
  /** Whether any gate is in force (`mode` is `gated`; else every request is let in). */
  readonly gated: boolean;
  /** The gates in force, in the posture's order. */
  readonly inForce: readonly GateKind[];
  /** The bearer gate is in force (wasmrun's "auth on"). */
  readonly authenticated: boolean;
  /**
   * What the gate lets through, in words, without a secret: `open (no gate configured)`,
   * `loopback client or bearer token`, `API key (3 keys) and client in trusted CIDRs (2)`. The
   * bearer gate is named by what was configured: a token, API keys (counted), or either.
   */
  readonly description: string;
  /** Whether `request` passes: let in (with the tenant of the API key it presented), or refused with the posture's status. */
  decide(request: GateRequest): GateDecision;
  /**
   * Why a listener of jobmeter's own refuses `request` (its answer: ingest-errors.ts), or undefined
   * when it may be read: a 401 refusal is `unauthorized`, any other `forbidden`. Reads only its
   * peer and `authorization` (an HTTP header, or gRPC metadata).
   */
  check(request: {
    readonly socket: { readonly remoteAddress?: string | undefined };
    readonly headers: { readonly authorization?: string | undefined };
  }): 'unauthorized' | 'forbidden' | undefined;
  /**
   * The gate with these credentials in place of its own, its networks kept (a SIGHUP).
   * @throws ConfigError as {@link compileGate}.
   */
  withCredentials(credentials: GateCredentials): Gate;
}

const OPEN: GateDecision = Object.freeze({ ok: true, tenant: undefined });

/**
 * Checks and compiles a posture and its configuration.
 * @param prefix what the caller's keys are named under in errors (`ingest.`).
 * @throws ConfigError naming the option for a configuration the posture cannot use (a CIDR list
 *   under a posture without a cidr gate, a token where there is no bearer gate), a bad CIDR, or a
 *   bad token or API key (the value redacted).
 */
export function compileGate(posture: Posture, config: GateConfig = {}, prefix = ''): Gate {
  checkPosture(posture);
  const credentials = gateCredentials(config.token, config.apiKeys, prefix);
  const cidrs =
    config.trustedCidrs === undefined ? [] : cidrList(config.trustedCidrs, `${prefix}trustedCidrs`);
  const proxies =
    config.trustProxy === undefined
      ? posture.trustedProxies
      : cidrList(config.trustProxy, `${prefix}trustProxy`);
  checkPostureGates(
    posture,
    { credentials: credentials.length > 0, cidrs },
    {
      credentials: `${prefix}${config.token !== undefined ? 'token' : 'apiKeys'}`,
      cidrs: `${prefix}trustedCidrs`,
    },
  );
  const digests = credentials.map((c) => ({ digest: sha256(c.token), tenant: c.tenant }));
  const trustedCidrs = AddressSet.from(cidrs);
  const trustedProxies = AddressSet.from(proxies);

  const inForce = posture.gates.filter(
    (g) =>
      g === 'loopback' ||
      (g === 'bearer' && digests.length > 0) ||
      (g === 'cidr' && trustedCidrs.size > 0),
  );
  const authenticated = inForce.includes('bearer');
  const mode: GateMode = inForce.length > 0 ? 'gated' : posture.unconfigured;
  const denied: GateDecision = Object.freeze({
    ok: false,
    status: authenticated ? posture.deny.credential : posture.deny.network,
  });
  const needsAddress = inForce.includes('loopback') || inForce.includes('cidr');

  function decide(request: GateRequest): GateDecision {
    if (mode !== 'gated') return OPEN;
    const ip = needsAddress
      ? clientIp(request.peer, request.headers['x-forwarded-for'], trustedProxies)
      : undefined;
    let passed = 0;
    let tenant: string | undefined;
    // Every gate in force is evaluated, whatever the earlier ones said, so the time taken does
    // not tell which gate refused.
    for (const kind of inForce) {
      let ok: boolean;
      if (kind === 'loopback') ok = LOOPBACK.has(ip);
      else if (kind === 'cidr') ok = trustedCidrs.has(ip);
      else {
        const match = matchBearer(request.headers.authorization, digests);
        ok = match !== undefined;
        tenant = match?.tenant;
      }
      if (ok) passed++;
    }
    const allowed = posture.combine === 'all' ? passed === inForce.length : passed > 0;
    return allowed ? { ok: true, tenant } : denied;
  }

  const apiKeys = config.apiKeys?.length ?? 0;
  const keys = `API key (${apiKeys} ${apiKeys === 1 ? 'key' : 'keys'})`;
  const bearer =
    apiKeys === 0 ? 'bearer token' : config.token === undefined ? keys : `bearer token or ${keys}`;
  const words = {
    loopback: 'loopback client',
    bearer,
    cidr: `client in trusted CIDRs (${cidrs.length})`,
  };
  const description =
    mode === 'open'
      ? 'open (no gate configured)'
      : mode === 'unmounted'
        ? 'route not registered (no gate configured)'
        : inForce.map((kind) => words[kind]).join(posture.combine === 'all' ? ' and ' : ' or ');

  return {
    posture,
    mode,
    gated: mode === 'gated',
    inForce,
    authenticated,
    description,
    decide,
    check(request) {
      const { authorization } = request.headers;
      const decision = decide({ peer: request.socket.remoteAddress, headers: { authorization } });
      if (decision.ok) return undefined;
      return decision.status === 401 ? 'unauthorized' : 'forbidden';
    },
    withCredentials: (credentials) =>
      compileGate(
        posture,
        { trustedCidrs: config.trustedCidrs, trustProxy: config.trustProxy, ...credentials },
        prefix,
      ),
  };
}

/**
 * Credentials or networks under a posture without the gate that checks them are refused: they
 * would be ignored, and the route served open where they were meant to guard it.
 * @param keys how the caller's user names the two settings.
 */
export function checkPostureGates(
  posture: Posture,
  given: { readonly credentials: boolean; readonly cidrs: readonly string[] },
  keys: { readonly credentials: string; readonly cidrs: string },
): void {
  const refuse = (key: string, value: unknown, what: string): never => {
    const checks = `which checks no ${what} (${describeGates(posture)})`;
    throw new ConfigError(key, value, `nothing under the ${posture.name} posture, ${checks}`);
  };
  if (given.credentials && !posture.gates.includes('bearer'))
    refuse(keys.credentials, REDACTED, 'token');
  if (given.cidrs.length > 0 && !posture.gates.includes('cidr'))
    refuse(keys.cidrs, given.cidrs, 'client network');
}

/** A short description of a posture's gates for messages: `loopback, bearer token`. */
export function describeGates(posture: Posture): string {
  if (posture.gates.length === 0) return 'it has no gates';
  return `gates: ${posture.gates.join(posture.combine === 'all' ? ' and ' : ' or ')}`;
}

interface Digest {
  readonly digest: Buffer;
  readonly tenant: string | undefined;
}

const BEARER = /^Bearer +(\S+) *$/i;
/** sha256(''), written out: a digest made at import would load node:crypto in every host. */
const EMPTY_DIGEST = Buffer.from(
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  'hex',
);

/**
 * The credential matching `Authorization: Bearer <token>`, or undefined. Constant time in the
 * presented token and in which credential matches.
 */
function matchBearer(
  header: string | undefined,
  digests: readonly Digest[],
): { tenant: string | undefined } | undefined {
  const m = header === undefined ? null : BEARER.exec(header);
  const presented = m === null ? EMPTY_DIGEST : sha256(m[1]!);
  let match: Digest | undefined;
  for (const d of digests) {
    // No short-circuit: every configured credential is compared.
    if (crypto().timingSafeEqual(presented, d.digest) && match === undefined) match = d;
  }
  // A malformed header never matches, even if a (rejected at config) empty token were configured.
  return m === null || match === undefined ? undefined : { tenant: match.tenant };
}

function sha256(text: string): Buffer {
  return crypto().createHash('sha256').update(text, 'utf8').digest();
}

/** Checks a posture object (hosts may pass their own). @throws ConfigError naming the field. */
export function checkPosture(p: Posture): void {
  const fail = (field: string, expected: string): never => {
    const value =
      field === ''
        ? p
        : field
            .split('.')
            .reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], p);
    throw new ConfigError(field === '' ? 'posture' : `posture.${field}`, value, expected);
  };
  if (typeof p !== 'object' || p === null) fail('', 'a posture object or name');
  if (typeof p.name !== 'string' || p.name === '') fail('name', 'a non-empty string');
  if (typeof p.path !== 'string' || !p.path.startsWith('/')) fail('path', 'a path starting with /');
  if (
    !Array.isArray(p.gates) ||
    (p.gates as unknown[]).some((g) => !GATE_KINDS.includes(g as GateKind))
  )
    fail('gates', `a list of ${GATE_KINDS.join(', ')}`);
  if (p.combine !== 'all' && p.combine !== 'any') fail('combine', 'all or any');
  if (p.unconfigured !== 'open' && p.unconfigured !== 'unmounted')
    fail('unconfigured', 'open or unmounted');
  for (const k of ['credential', 'network'] as const) {
    if (![401, 403, 404].includes(p.deny?.[k])) fail(`deny.${k}`, '401, 403 or 404');
  }
  cidrList(p.trustedProxies, 'posture.trustedProxies');
}
