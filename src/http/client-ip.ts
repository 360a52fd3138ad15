/**
 * Who is asking: the true client address of a request, and sets of addresses (CIDR lists) to
 * check it against.
 *
 * The peer of the TCP connection (`socket.remoteAddress`) is the only address nobody can forge.
 * `X-Forwarded-For` is believed only when that peer is a trusted proxy, and then only as far as
 * the chain stays trusted: the list is walked right to left (nearest hop first) past trusted
 * hops, and the first untrusted address is the client. A hop that is not an IP address stops the
 * walk with an unknown client (`undefined`), which no IP gate lets through (fail closed).
 *
 * Departure from fastify's own `trustProxy`: the metrics gates never read `request.ip`, so a host
 * that trusts every proxy for its UI does not open its metrics gate by accident. Only
 * `X-Forwarded-For` is read; `Forwarded` (RFC 7239) and `X-Real-IP` are ignored.
 */
import { normalizeIp, type AddressSet } from '../common/addresses.ts';

/**
 * The client address of a request.
 *
 * @param peer the connection's `socket.remoteAddress` (the one thing nobody can forge)
 * @param forwardedFor the `X-Forwarded-For` header(s) as Node gives them
 * @param trustedProxies proxies whose `X-Forwarded-For` is believed; none -> the peer, always
 * @returns the normalized client address, or undefined when it cannot be known (no peer, or a
 *   trusted hop forwarded something that is not an address)
 */
export function clientIp(
  peer: string | undefined,
  forwardedFor: string | readonly string[] | undefined,
  trustedProxies: AddressSet | undefined,
): string | undefined {
  const direct = peer === undefined ? undefined : normalizeIp(peer);
  if (direct === undefined || forwardedFor === undefined || trustedProxies === undefined)
    return direct;
  if (!trustedProxies.has(direct)) return direct;
  const hops = [forwardedFor].flat().join(',').split(',');
  let client = direct;
  for (let i = hops.length - 1; i >= 0; i--) {
    const text = hops[i]!.trim();
    if (text === '') continue;
    const hop = normalizeIp(text);
    if (hop === undefined) return undefined;
    client = hop;
    if (!trustedProxies.has(hop)) return hop;
  }
  // Every hop was a trusted proxy: the leftmost is as close to the client as anyone says.
  return client;
}
