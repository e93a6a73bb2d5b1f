/**
 * Which network targets a journey may name (webhook steps): public unicast addresses only, unless the
 * operator lists a host in WEBHOOK_ALLOWED_HOSTS. Used when a journey is validated (literal addresses) and
 * for every request the worker makes (resolved addresses).
 */
import { BlockList, isIP } from 'node:net';

const refused = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8], // "this network", unspecified
  ['10.0.0.0', 8], // private
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local (cloud metadata at 169.254.169.254)
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation
  ['192.88.99.0', 24], // 6to4 relay anycast
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation
  ['203.0.113.0', 24], // documentation
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const) {
  refused.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 128], // unspecified
  ['::1', 128], // loopback
  ['::', 96], // IPv4-compatible (deprecated)
  ['100::', 64], // discard
  ['2001:db8::', 32], // documentation
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
] as const) {
  refused.addSubnet(network, prefix, 'ipv6');
}

/** The IPv4 address an IPv6 address carries: v4-mapped (::ffff:a.b.c.d), NAT64 (64:ff9b::/96) or 6to4 (2002::/16). */
function embeddedIPv4(address: string): string | undefined {
  const groups = expandIPv6(address);
  if (!groups) return undefined;
  const v4 = (high: number, low: number) => `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
  const [g0, g1, g2, g3, g4, g5, g6, g7] = groups as [number, number, number, number, number, number, number, number];
  if (g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0xffff) return v4(g6, g7);
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) return v4(g6, g7);
  if (g0 === 0x2002) return v4(g1, g2);
  return undefined;
}

/** The eight 16-bit groups of an IPv6 address (an embedded dotted IPv4 tail included). */
function expandIPv6(address: string): number[] | undefined {
  let text = address.toLowerCase().replace(/%.*$/, '');
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted?.[1]) {
    const [a = 0, b = 0, c = 0, d = 0] = dotted[1].split('.').map(Number);
    text = `${text.slice(0, -dotted[1].length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail, ...rest] = text.split('::');
  if (rest.length > 0) return undefined;
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((group) => parseInt(group, 16)));
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  const missing = 8 - left.length - right.length;
  if (missing < 0 || (tail === undefined && missing !== 0)) return undefined;
  const groups = [...left, ...Array<number>(missing).fill(0), ...right];
  return groups.every((group) => Number.isInteger(group) && group >= 0 && group <= 0xffff) ? groups : undefined;
}

/**
 * True for an IP address no journey may reach: loopback, private, link-local, carrier-grade NAT, unique
 * local, multicast, unspecified, reserved and documentation ranges, also inside IPv6 (v4-mapped, NAT64,
 * 6to4). Anything that is not an IP address is refused too.
 */
export function isRefusedAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, '');
  const family = isIP(bare);
  if (family === 4) return refused.check(bare, 'ipv4');
  if (family !== 6) return true;
  const v4 = embeddedIPv4(bare);
  if (v4 !== undefined) return refused.check(v4, 'ipv4');
  return refused.check(bare, 'ipv6');
}

/** One entry of WEBHOOK_ALLOWED_HOSTS: a host name or address, with or without a port. */
export interface AllowedHost {
  host: string;
  port?: number;
}

/** Parses WEBHOOK_ALLOWED_HOSTS (`host` or `host:port`, IPv6 in brackets), naming bad entries. */
export function parseAllowedHosts(value: string, problems: string[]): AllowedHost[] {
  const hosts: AllowedHost[] = [];
  for (const entry of value
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)) {
    let url: URL | undefined;
    try {
      url = new URL(`http://${entry}`);
    } catch {
      url = undefined;
    }
    if (!url || url.pathname !== '/' || url.username || url.search || `${url.host}` === '') {
      problems.push(`WEBHOOK_ALLOWED_HOSTS: '${entry}' must be host or host:port`);
      continue;
    }
    const explicitPort = /:\d+$/.test(entry);
    hosts.push({ host: url.hostname.toLowerCase(), ...(explicitPort ? { port: Number(url.port || 80) } : {}) });
  }
  return hosts;
}

/** The port a URL connects to. */
export function portOf(url: URL): number {
  if (url.port) return Number(url.port);
  return url.protocol === 'https:' ? 443 : 80;
}

/** True when the operator allowed `url`'s host (and port, when the entry names one). */
export function isAllowedHost(url: URL, allowed: readonly AllowedHost[]): boolean {
  const host = url.hostname.toLowerCase();
  return allowed.some((entry) => entry.host === host && (entry.port === undefined || entry.port === portOf(url)));
}

/**
 * Why a journey may not name `rawUrl` as written, or undefined when it may: not http(s), plain http to a
 * host not allowed, credentials in the URL, or a literal address that is refused and not allowed. Host
 * names are resolved only when the request is made.
 */
export function urlProblem(rawUrl: string, allowed: readonly AllowedHost[]): string | undefined {
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    return 'must be an absolute http(s) URL';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'must be an http(s) URL';
  if (url.username || url.password) return 'must not carry credentials';
  if (isAllowedHost(url, allowed)) return undefined;
  if (url.protocol !== 'https:') return 'must be https (plain http only to a host listed in WEBHOOK_ALLOWED_HOSTS)';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) !== 0 && isRefusedAddress(host))
    return `names a private, loopback or otherwise internal address (${host}); list it in WEBHOOK_ALLOWED_HOSTS to allow it`;
  if (host === 'localhost' || host.endsWith('.localhost')) return 'names this machine (localhost)';
  return undefined;
}
