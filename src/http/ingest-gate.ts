/**
 * The ingest gate: who may `POST /v1/metrics`. The same evaluator as the metrics route's
 * (http/gate.ts: SHA-256 digests compared in constant time, every configured token on every
 * request), under one posture of its own: a bearer token (or API keys) and/or trusted networks,
 * every gate in force must pass (as the `otel` and `rm` metrics postures), open when none is
 * configured.
 *
 * A refused request is answered before its body is read -- an unauthenticated sender cannot make
 * jobmeter buffer or decode anything -- and with `Connection: close`, so the body it may still be
 * sending is not read either. The answer (ingest-errors.ts) is what the Collector's OTLP receiver
 * clients act on: 401 UNAUTHENTICATED with `WWW-Authenticate: Bearer` while a token is asked for,
 * else 403 PERMISSION_DENIED for a client outside the trusted networks; both permanent errors to an
 * OTLP exporter (no retry), counted as jobmeter's own `jobmeter_ingest_requests_total`. The reason
 * never leaves: the message is fixed, and no configured token appears in any answer or error.
 * The posture is common/postures.ts `INGEST_POSTURE`; serve's telemetry listener compiles the same
 * kind of gate under its own (`TELEMETRY_POSTURE`: a token only).
 */
import type { IncomingMessage } from 'node:http';

import { INGEST_POSTURE, type Posture } from '../common/postures.ts';
import { compileGate, type GateConfig } from './gate.ts';

/** What the gate reads of a request: its peer and `authorization` (an HTTP header, or gRPC metadata). */
export type GateRequest = {
  readonly socket: Pick<IncomingMessage['socket'], 'remoteAddress'>;
  readonly headers: Pick<IncomingMessage['headers'], 'authorization'>;
};

/** Who may send: the `[ingest]` gate keys (`IngestOptions`' `token`, `apiKeys`, `trustedCidrs`). */
export type IngestGateOptions = Pick<GateConfig, 'token' | 'apiKeys' | 'trustedCidrs'>;

export interface IngestGate {
  /** Whether any gate is in force (false: every sender is let in). */
  readonly gated: boolean;
  /** What the gate lets through, in words, without a secret (http/gate.ts `Gate.description`). */
  readonly description: string;
  /**
   * Why `request` is refused (its answer: ingest-errors.ts), or undefined when it may be read.
   * Reads only its peer and headers.
   */
  check(request: GateRequest): 'unauthorized' | 'forbidden' | undefined;
  /**
   * The gate with these credentials in place of its own, its trusted networks kept (a SIGHUP).
   * @throws ConfigError for a credential that cannot be used, as compileIngestGate.
   */
  withCredentials(credentials: Pick<IngestGateOptions, 'token' | 'apiKeys'>): IngestGate;
}

/**
 * Compiles the gate keys.
 * @throws ConfigError naming `ingest.token`, `ingest.apiKeys[i].key` (the value redacted: a
 *   secret), `ingest.apiKeys[i].tenant` or `ingest.trustedCidrs` for a value that cannot be used.
 */
export function compileIngestGate(options: IngestGateOptions): IngestGate {
  return compileRequestGate(INGEST_POSTURE, options, 'ingest.');
}

/**
 * The gate of a listener of jobmeter's own under `posture` (the ingest's, the telemetry
 * listener's), its keys named under `prefix` in errors.
 * @throws ConfigError as {@link compileIngestGate}.
 */
export function compileRequestGate(
  posture: Posture,
  options: IngestGateOptions,
  prefix: string,
): IngestGate {
  const gate = compileGate(posture, options, prefix);
  const gated = gate.mode === 'gated';
  return {
    gated,
    description: gate.description,
    withCredentials: (credentials) =>
      compileRequestGate(posture, { ...credentials, trustedCidrs: options.trustedCidrs }, prefix),
    check(request) {
      if (!gated) return undefined;
      const decision = gate.check({
        peer: request.socket.remoteAddress,
        headers: { authorization: request.headers.authorization },
      });
      if (decision.ok) return undefined;
      return decision.status === 401 ? 'unauthorized' : 'forbidden';
    },
  };
}
