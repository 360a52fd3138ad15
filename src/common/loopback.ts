const { isIP } = process.getBuiltinModule('node:net');

import { ConfigError } from '../errors.ts';
import { LOOPBACK } from './addresses.ts';
import { LOOPBACK_EXPECTED } from './option-rules.ts';

/** Whether `host` (an address or `localhost`, brackets allowed) is a loopback address. */
export function isLoopbackHost(host: string): boolean {
  const h = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  // An address as written: LOOPBACK alone would read a port off.
  return h === 'localhost' || (isIP(h) !== 0 && LOOPBACK.has(h));
}

/** Whether a listener may bind `host`: loopback, or anywhere once the operator opted in. */
export function bindAllowed(host: string, allowNonLoopback: boolean | undefined): boolean {
  return allowNonLoopback === true || isLoopbackHost(host);
}

/**
 * Refuses a non-loopback bind address unless the operator opted in: labels carry task names and
 * versions that an exposed daemon should not leak by accident.
 * @param what names the server in the message (`metrics listener`, `OTLP ingest listener`).
 * @param key the option that set the host; `optIn` the option that would allow it.
 * @throws ConfigError naming the host's option and the opt-in.
 */
export function assertBindAllowed(
  host: string,
  allowNonLoopback: boolean,
  what: string,
  key = 'listener.host',
  optIn = 'listener.allowNonLoopback (allow_non_loopback = true / --allow-non-loopback)',
): void {
  if (bindAllowed(host, allowNonLoopback)) return;
  throw new ConfigError(key, host, `${LOOPBACK_EXPECTED}, or ${optIn} to expose the ${what}`);
}
