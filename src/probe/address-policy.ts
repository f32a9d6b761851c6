/**
 * Which addresses a probe may connect to. Probes run from inside the platform's network, so by
 * default every address that is not globally routable is refused (loopback, private, link-local,
 * CGNAT, ULA, multicast, cloud metadata …). The check runs on the RESOLVED addresses inside the
 * `lookup` function that node's net/tls hand the hostname to, so the address that is checked is
 * the address that is connected to: a DNS answer that changes between two lookups (rebinding)
 * cannot sneak a private address past it.
 */
import dns from 'node:dns';
import net from 'node:net';
import type { LookupAddress, LookupOneOptions, LookupAllOptions } from 'node:dns';

export type RefusalCategory =
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'cgnat'
  | 'link_local'
  | 'metadata'
  | 'unique_local'
  | 'multicast'
  | 'reserved';

export interface Refusal {
  readonly address: string;
  readonly category: RefusalCategory;
}

interface Cidr {
  readonly bytes: Uint8Array;
  readonly prefix: number;
  readonly text: string;
}

/** Parses an IPv4 or IPv6 literal (zone id stripped) into 4 or 16 bytes; null if not an address. */
export function parseIp(text: string): Uint8Array | null {
  const addr = text.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const kind = net.isIP(addr);
  if (kind === 4) return Uint8Array.from(addr.split('.').map(Number));
  if (kind !== 6) return null;
  const out = new Uint8Array(16);
  let head = addr;
  let v4Tail: Uint8Array | null = null;
  const lastColon = addr.lastIndexOf(':');
  if (addr.slice(lastColon + 1).includes('.')) {
    v4Tail = parseIp(addr.slice(lastColon + 1));
    head = addr.slice(0, lastColon + 1) + '0:0';
  }
  const [left = '', right] = head.split('::');
  const leftGroups = left === '' ? [] : left.split(':');
  const rightGroups = right === undefined || right === '' ? [] : right.split(':');
  const groups =
    right === undefined
      ? leftGroups
      : [
          ...leftGroups,
          ...new Array<string>(8 - leftGroups.length - rightGroups.length).fill('0'),
          ...rightGroups,
        ];
  groups.forEach((g, i) => {
    const n = parseInt(g, 16);
    out[i * 2] = n >> 8;
    out[i * 2 + 1] = n & 0xff;
  });
  if (v4Tail) out.set(v4Tail, 12);
  return out;
}

export function parseCidr(text: string): Cidr {
  const [addr = '', prefixText] = text.trim().split('/');
  const bytes = parseIp(addr);
  if (!bytes)
    throw new Error(`invalid CIDR ${JSON.stringify(text)}: ${JSON.stringify(addr)} is not an IP address`);
  const max = bytes.length * 8;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max) {
    throw new Error(`invalid CIDR ${JSON.stringify(text)}: prefix must be an integer from 0 to ${max}`);
  }
  return { bytes, prefix, text: text.trim() };
}

function inCidr(ip: Uint8Array, cidr: Cidr): boolean {
  if (ip.length !== cidr.bytes.length) return false;
  let bits = cidr.prefix;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if (((ip[i] ?? 0) & mask) !== ((cidr.bytes[i] ?? 0) & mask)) return false;
  }
  return true;
}

const rules = (list: [string, RefusalCategory][]): { cidr: Cidr; category: RefusalCategory }[] =>
  list.map(([text, category]) => ({ cidr: parseCidr(text), category }));

// Order matters: the first matching rule names the category (metadata before link-local).
const REFUSED_V4 = rules([
  ['169.254.169.254/32', 'metadata'],
  ['0.0.0.0/8', 'unspecified'],
  ['127.0.0.0/8', 'loopback'],
  ['10.0.0.0/8', 'private'],
  ['172.16.0.0/12', 'private'],
  ['192.168.0.0/16', 'private'],
  ['100.64.0.0/10', 'cgnat'],
  ['169.254.0.0/16', 'link_local'],
  ['192.0.0.0/24', 'reserved'],
  ['192.0.2.0/24', 'reserved'],
  ['198.18.0.0/15', 'reserved'],
  ['198.51.100.0/24', 'reserved'],
  ['203.0.113.0/24', 'reserved'],
  ['224.0.0.0/4', 'multicast'],
  ['240.0.0.0/4', 'reserved'],
]);

const REFUSED_V6 = rules([
  ['fd00:ec2::254/128', 'metadata'],
  ['::/128', 'unspecified'],
  ['::1/128', 'loopback'],
  ['fe80::/10', 'link_local'],
  ['fec0::/10', 'private'],
  ['fc00::/7', 'unique_local'],
  ['ff00::/8', 'multicast'],
  ['64:ff9b:1::/48', 'private'],
  ['100::/64', 'reserved'],
  ['2001:db8::/32', 'reserved'],
]);

const METADATA = [parseCidr('169.254.169.254/32'), parseCidr('fd00:ec2::254/128')];

/**
 * IPv6 forms that carry an IPv4 address a packet may end up at: IPv4-mapped (::ffff:a.b.c.d),
 * IPv4-compatible (::a.b.c.d), NAT64 (64:ff9b::/96) and 6to4 (2002::/16). Those are judged by
 * the IPv4 address inside.
 */
function embeddedV4(ip: Uint8Array): Uint8Array | null {
  if (ip.length !== 16) return null;
  const zeros = (from: number, to: number): boolean => ip.slice(from, to).every((b) => b === 0);
  if (zeros(0, 10) && ip[10] === 0xff && ip[11] === 0xff) return ip.slice(12, 16);
  if (zeros(0, 12) && !zeros(12, 14)) return ip.slice(12, 16);
  if (inCidr(ip, NAT64)) return ip.slice(12, 16);
  if (ip[0] === 0x20 && ip[1] === 0x02) return ip.slice(2, 6);
  return null;
}
const NAT64 = parseCidr('64:ff9b::/96');

export interface AddressPolicy {
  /** Why the address may not be connected to, or null when it may. */
  check(address: string): Refusal | null;
  /** The allow-list as configured (CIDR texts). */
  readonly allow: readonly string[];
}

/**
 * `allow` lists CIDRs that are permitted even though they fall in a refused range (tests allow
 * 127.0.0.0/8). A cloud metadata address is only ever allowed by an entry naming exactly it, so
 * allowing a whole link-local or ULA range does not open the metadata service by accident.
 */
export function createAddressPolicy(options: { allow?: readonly string[] } = {}): AddressPolicy {
  const allow = (options.allow ?? []).map(parseCidr);
  const allowed = (ip: Uint8Array): boolean =>
    allow.some(
      (c) => inCidr(ip, c) && (c.prefix === c.bytes.length * 8 || !METADATA.some((m) => inCidr(ip, m))),
    );
  const classify = (ip: Uint8Array): RefusalCategory | null => {
    const list = ip.length === 4 ? REFUSED_V4 : REFUSED_V6;
    for (const r of list) if (inCidr(ip, r.cidr)) return r.category;
    return null;
  };
  return {
    allow: allow.map((c) => c.text),
    check(address: string): Refusal | null {
      const ip = parseIp(address);
      if (!ip) return { address, category: 'reserved' };
      const v4 = embeddedV4(ip);
      if (allowed(ip) || (v4 && allowed(v4))) return null;
      const category = classify(ip) ?? (v4 ? classify(v4) : null);
      return category ? { address, category } : null;
    },
  };
}

/** Raised (as the error of a lookup or before a connect) when a target's address is refused. */
export class RefusedAddressError extends Error {
  readonly code = 'ERR_IRIN_REFUSED_ADDRESS';
  constructor(
    readonly hostname: string,
    readonly refusal: Refusal,
  ) {
    super(
      `${hostname === refusal.address ? refusal.address : `${hostname} resolves to ${refusal.address}`}, ` +
        `a ${refusal.category.replace('_', '-')} address, which probes may not connect to`,
    );
    this.name = 'RefusedAddressError';
  }
}

/** Resolves a hostname to every address (the system resolver by default). Injectable for tests. */
export type Resolver = (hostname: string, family: 0 | 4 | 6) => Promise<LookupAddress[]>;

export const systemResolver: Resolver = (hostname, family) =>
  dns.promises.lookup(hostname, { all: true, family, verbatim: true });

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/**
 * A `lookup` for http(s).request / net.connect / tls.connect: resolves, refuses the whole lookup
 * if ANY address is refused (a name that mixes public and internal answers is not trusted), and
 * only then hands the addresses to the socket. `onResolved` receives the addresses and timing.
 */
export function guardedLookup(
  policy: AddressPolicy,
  resolver: Resolver = systemResolver,
  onResolved?: (info: { addresses: LookupAddress[]; startedAt: number; endedAt: number }) => void,
): (hostname: string, options: LookupOneOptions | LookupAllOptions, callback: LookupCallback) => void {
  return (hostname, options, callback) => {
    const startedAt = performance.now();
    const family = (options.family === 4 || options.family === 6 ? options.family : 0) as 0 | 4 | 6;
    resolver(hostname, family).then(
      (addresses) => {
        onResolved?.({ addresses, startedAt, endedAt: performance.now() });
        if (addresses.length === 0) {
          const err: NodeJS.ErrnoException = new Error(`${hostname} has no addresses`);
          err.code = 'ENOTFOUND';
          callback(err, '');
          return;
        }
        for (const a of addresses) {
          const refusal = policy.check(a.address);
          if (refusal) {
            callback(new RefusedAddressError(hostname, refusal) as NodeJS.ErrnoException, '');
            return;
          }
        }
        if (options.all) callback(null, addresses);
        else callback(null, addresses[0]!.address, addresses[0]!.family);
      },
      (err: NodeJS.ErrnoException) => callback(err, ''),
    );
  };
}
