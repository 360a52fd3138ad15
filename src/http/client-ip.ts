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
import { BlockList, isIP } from 'node:net';

/** One parsed CIDR (a bare address is a /32 or /128). */
export interface Cidr {
  readonly address: string;
  readonly prefix: number;
  readonly family: 'ipv4' | 'ipv6';
}

/**
 * Parses `10.0.0.0/8`, `2001:db8::/32` or a bare address. IPv4-mapped IPv6 (`::ffff:10.0.0.1`)
 * is read as the IPv4 address it maps. Undefined for anything else (zones, ports, junk).
 */
export function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf('/');
  const rawAddress = (slash === -1 ? text : text.slice(0, slash)).trim();
  const address = unmapIpv4(rawAddress);
  const family = address.includes('%') ? 0 : isIP(address);
  if (family === 0) return undefined;
  const max = family === 4 ? 32 : 128;
  let prefix = max;
  if (slash !== -1) {
    const rawPrefix = text.slice(slash + 1).trim();
    if (!/^\d{1,3}$/.test(rawPrefix)) return undefined;
    prefix = Number(rawPrefix);
    // `::ffff:10.0.0.0/104` is the IPv4 /8 written in IPv6.
    if (address !== rawAddress) prefix -= 96;
    if (prefix < 0 || prefix > max) return undefined;
  }
  return { address, prefix, family: family === 4 ? 'ipv4' : 'ipv6' };
}

/** A set of networks, checked in O(networks). Immutable once built. */
export class AddressSet {
  readonly #list = new BlockList();
  /** The networks as given (normalized), for messages and tests. */
  readonly cidrs: readonly string[];

  private constructor(cidrs: readonly Cidr[]) {
    for (const c of cidrs) this.#list.addSubnet(c.address, c.prefix, c.family);
    this.cidrs = cidrs.map((c) => `${c.address}/${c.prefix}`);
  }

  /**
   * Builds a set from CIDR strings.
   * @param what names the option in the error, e.g. `trustedCidrs`.
   * @throws TypeError naming `what` and the first entry that is not a CIDR or address.
   */
  static from(entries: readonly string[], what: string): AddressSet {
    const parsed: Cidr[] = [];
    for (const entry of entries) {
      const cidr = typeof entry === 'string' ? parseCidr(entry) : undefined;
      if (cidr === undefined) {
        throw new TypeError(`${what}: ${JSON.stringify(entry)} is not an IP address or CIDR (e.g. 10.0.0.0/8, ::1/128)`);
      }
      parsed.push(cidr);
    }
    return new AddressSet(parsed);
  }

  get size(): number {
    return this.cidrs.length;
  }

  /** Whether `ip` (any textual form a socket reports) is in one of the networks. */
  has(ip: string | undefined): boolean {
    if (ip === undefined || this.cidrs.length === 0) return false;
    const address = normalizeIp(ip);
    if (address === undefined) return false;
    return this.#list.check(address, isIP(address) === 4 ? 'ipv4' : 'ipv6');
  }
}

/** Loopback networks: 127.0.0.0/8 and ::1 (IPv4-mapped forms are unmapped before the check). */
export const LOOPBACK: AddressSet = AddressSet.from(['127.0.0.0/8', '::1/128'], 'LOOPBACK');

/**
 * The address as a plain IPv4 or IPv6 literal: IPv4-mapped IPv6 unmapped, an IPv6 zone dropped,
 * `[v6]:port` and `v4:port` (some proxies write ports into X-Forwarded-For) stripped.
 * Undefined when it is not an address.
 */
export function normalizeIp(text: string): string | undefined {
  let s = text.trim();
  if (s.startsWith('[')) {
    const end = s.indexOf(']');
    if (end === -1) return undefined;
    s = s.slice(1, end);
  } else if (/^\d{1,3}(?:\.\d{1,3}){3}:\d{1,5}$/.test(s)) {
    s = s.slice(0, s.lastIndexOf(':'));
  }
  const zone = s.indexOf('%');
  if (zone !== -1) s = s.slice(0, zone);
  s = unmapIpv4(s);
  return isIP(s) === 0 ? undefined : s;
}

/**
 * The client address of a request.
 *
 * @param peer the connection's `socket.remoteAddress` (the one thing nobody can forge)
 * @param forwardedFor the `X-Forwarded-For` header(s) as Node gives them
 * @param trustedProxies proxies whose `X-Forwarded-For` is believed; none → the peer, always
 * @returns the normalized client address, or undefined when it cannot be known (no peer, or a
 *   trusted hop forwarded something that is not an address)
 */
export function clientIp(
  peer: string | undefined,
  forwardedFor: string | readonly string[] | undefined,
  trustedProxies: AddressSet | undefined,
): string | undefined {
  const direct = peer === undefined ? undefined : normalizeIp(peer);
  if (direct === undefined || forwardedFor === undefined || trustedProxies === undefined) return direct;
  if (!trustedProxies.has(direct)) return direct;
  const hops = (typeof forwardedFor === 'string' ? forwardedFor : forwardedFor.join(',')).split(',');
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

function unmapIpv4(address: string): string {
  const m = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  return m === null ? address : m[1]!;
}
