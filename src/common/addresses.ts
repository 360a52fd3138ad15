/**
 * Addresses and networks: CIDR parsing, address sets to check an address against, and the
 * normal form of an address (IPv4-mapped IPv6 unmapped, zones and ports dropped). Shared by the
 * HTTP gates (http/gate.ts, http/client-ip.ts) and the config validators, so both read an address
 * the same way.
 */
const { BlockList, isIP } = process.getBuiltinModule('node:net');

export const CIDR_EXPECTED = 'an IP address or CIDR, e.g. 10.0.0.0/8 or ::1';

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
   * Builds a set from CIDR strings a validator has held to {@link parseCidr} (option-rules.ts
   * `cidrList`, the config schema's `jobmeter-cidr`): none is checked again here.
   */
  static from(entries: readonly string[]): AddressSet {
    return new AddressSet(entries.map((entry) => parseCidr(entry)!));
  }

  /** Builds a set from CIDRs already parsed ({@link parseCidr}'s results), reading no address. */
  static ofParsed(cidrs: readonly Cidr[]): AddressSet {
    return new AddressSet(cidrs);
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

/**
 * Loopback networks: 127.0.0.0/8 and ::1 (IPv4-mapped forms are unmapped before the check). Given
 * parsed: reading `::1` with `isIP` compiles Node's IPv6 pattern (~10 ms of CPU the first time),
 * which this module-level set would charge to every process that imports jobmeter; an IPv4 client
 * never needs it.
 */
export const LOOPBACK: AddressSet = AddressSet.ofParsed([
  { address: '127.0.0.0', prefix: 8, family: 'ipv4' },
  { address: '::1', prefix: 128, family: 'ipv6' },
]);

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

function unmapIpv4(address: string): string {
  const m = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  return m === null ? address : m[1]!;
}
