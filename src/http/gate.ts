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
 */
import { createHash, timingSafeEqual } from 'node:crypto';

import { AddressSet, LOOPBACK } from '../common/addresses.ts';
import { clientIp } from './client-ip.ts';
import type { DenyStatus, GateKind, Posture } from '../common/postures.ts';
import { GATE_KINDS } from '../common/postures.ts';
import { token } from '../common/option-rules.ts';
import { ConfigError, REDACTED } from '../errors.ts';

/** A token or API key the bearer gate accepts, with the tenant it authenticates (for the access log). */
export interface Credential {
  readonly token: string;
  /** Shown as `tenant=` in the access log; undefined shows `-`. */
  readonly tenant?: string;
}

export interface GateConfig {
  /** Accepted bearer tokens / API keys. Empty: the bearer gate is not in force. @default [] */
  readonly credentials?: readonly Credential[];
  /** Networks the `cidr` gate lets through. Empty: the cidr gate is not in force. @default [] */
  readonly trustedCidrs?: readonly string[];
  /** Proxies whose X-Forwarded-For is believed. @default the posture's `trustedProxies` */
  readonly trustedProxies?: readonly string[];
  /** What the caller calls these fields, for error messages (`trustProxy`). @default the field names */
  readonly names?: {
    readonly credentials?: string;
    readonly trustedCidrs?: string;
    readonly trustedProxies?: string;
  };
}

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
  /** The gates in force, in the posture's order. */
  readonly inForce: readonly GateKind[];
  /** The bearer gate is in force (wasmrun's "auth on"). */
  readonly authenticated: boolean;
  check(request: GateRequest): GateDecision;
}

const OPEN: GateDecision = Object.freeze({ ok: true, tenant: undefined });

/**
 * Compiles a posture and its configuration.
 * @throws ConfigError naming the option for a configuration the posture cannot use (a CIDR list
 *   under a posture without a cidr gate, a token where there is no bearer gate), a bad CIDR, or an
 *   empty token.
 */
export function compileGate(posture: Posture, config: GateConfig = {}): Gate {
  checkPosture(posture);
  const credentials = config.credentials ?? [];
  const cidrs = config.trustedCidrs ?? [];
  const names = {
    credentials: 'credentials',
    trustedCidrs: 'trustedCidrs',
    trustedProxies: 'trustedProxies',
    ...config.names,
  };
  checkPostureGates(
    posture,
    { credentials: credentials.length > 0, cidrs },
    { credentials: names.credentials, cidrs: names.trustedCidrs },
  );
  const digests = credentials.map((c, i) => ({
    digest: sha256(token(c?.token, `${names.credentials}[${i}].token`)),
    tenant: c.tenant,
  }));
  const trustedCidrs = AddressSet.from(cidrs, names.trustedCidrs);
  const trustedProxies = AddressSet.from(
    config.trustedProxies ?? posture.trustedProxies,
    names.trustedProxies,
  );

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

  function check(request: GateRequest): GateDecision {
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

  return { posture, mode, inForce, authenticated, check };
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
  if (given.credentials && !posture.gates.includes('bearer')) {
    throw new ConfigError(
      keys.credentials,
      REDACTED,
      `nothing under the ${posture.name} posture, which checks no token (${describeGates(posture)})`,
    );
  }
  if (given.cidrs.length > 0 && !posture.gates.includes('cidr')) {
    throw new ConfigError(
      keys.cidrs,
      given.cidrs,
      `nothing under the ${posture.name} posture, which checks no client network (${describeGates(posture)})`,
    );
  }
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
const EMPTY_DIGEST = sha256('');

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
    if (timingSafeEqual(presented, d.digest) && match === undefined) match = d;
  }
  // A malformed header never matches, even if a (rejected at config) empty token were configured.
  return m === null || match === undefined ? undefined : { tenant: match.tenant };
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
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
}

/**
 * What a compiled gate lets through, in words, without a secret: `open`, `not registered`,
 * `loopback client or bearer token`, `API key (3 keys) and client in trusted CIDRs (2)`. The
 * bearer gate is named by what was configured: a token, API keys (counted), or either.
 */
export function describeGate(
  gate: Gate,
  counts: { readonly tokens: number; readonly apiKeys: number; readonly cidrs: number },
): string {
  if (gate.mode === 'open') return 'open (no gate configured)';
  if (gate.mode === 'unmounted') return 'route not registered (no gate configured)';
  const keys = `API key (${counts.apiKeys} ${counts.apiKeys === 1 ? 'key' : 'keys'})`;
  const bearer =
    counts.apiKeys === 0 ? 'bearer token' : counts.tokens === 0 ? keys : `bearer token or ${keys}`;
  const words = gate.inForce.map((kind) =>
    kind === 'loopback'
      ? 'loopback client'
      : kind === 'bearer'
        ? bearer
        : `client in trusted CIDRs (${counts.cidrs})`,
  );
  return words.join(gate.posture.combine === 'all' ? ' and ' : ' or ');
}
