/**
 * Which URLs and addresses a model download may reach. A download goes only to an allowlisted host over https, and
 * only to a public internet address: never the local machine, the local network, link-local services such as the
 * cloud metadata endpoint at 169.254.169.254, or an IPv6 form that embeds one of those.
 *
 * Addresses are classified by explicit parsing rather than by matching text, so every spelling of an address
 * (`::ffff:127.0.0.1`, `::ffff:7f00:1`, `64:ff9b::a00:1`, `2002:c0a8:101::`) lands in the same class. Anything that
 * does not parse is refused.
 */
import { isIP, isIPv4, isIPv6 } from 'node:net';
import { ForbiddenAddressError, HostNotAllowedError, InsecureUrlError } from './download-errors.ts';

/** What an address reaches; only `public` is downloadable, `loopback` and `private` only for explicit literals. */
export type AddressScope =
  | 'public'
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'unspecified'
  | 'multicast'
  | 'reserved'
  | 'invalid';

export interface AddressRuleOptions {
  /** Lets loopback and private (RFC 1918, CGNAT, unique-local) addresses through; link-local never. Tests only. */
  allowPrivateAddresses?: boolean;
}

export interface UrlPolicy extends AddressRuleOptions {
  /**
   * Hosts a download may contact, matched exactly after lowercasing and dropping one trailing dot. An entry
   * `*.example.com` matches any subdomain of example.com, never example.com itself and never an IP literal.
   */
  allowedHosts: readonly string[];
}

/** A URL that passed every pre-connection rule; `host` is the lowercase name or bare IP that will be connected to. */
export interface CheckedUrl {
  url: URL;
  host: string;
  isIpLiteral: boolean;
}

type Ipv4Rule = readonly [base: string, prefixLength: number, scope: AddressScope];

/** Non-public IPv4 blocks (IANA special-purpose registry), most specific first where they overlap. */
const IPV4_RULES: readonly Ipv4Rule[] = [
  ['0.0.0.0', 8, 'unspecified'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'private'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'reserved'],
  ['192.0.2.0', 24, 'reserved'],
  ['192.88.99.0', 24, 'reserved'],
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'reserved'],
  ['198.51.100.0', 24, 'reserved'],
  ['203.0.113.0', 24, 'reserved'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved'],
];

/** True when a download must not connect to `ip` (IPv4 or IPv6 text; anything unparsable is forbidden). */
export function isForbiddenAddress(ip: string, options: AddressRuleOptions = {}): boolean {
  const scope = classifyAddress(ip);
  if (scope === 'public') return false;
  return !(options.allowPrivateAddresses === true && (scope === 'loopback' || scope === 'private'));
}

/** Classifies an IPv4 or IPv6 address, looking through IPv4-mapped, NAT64 and 6to4 forms to the IPv4 inside. */
export function classifyAddress(ip: string): AddressScope {
  if (isIPv4(ip)) return classifyIpv4(parseIpv4(ip));
  const groups = parseIpv6(ip);
  return groups === undefined ? 'invalid' : classifyIpv6(groups);
}

/**
 * Applies every rule that can be checked before connecting: https only, no credentials, host on the allowlist,
 * and, for IP-literal hosts (after WHATWG URL normalised `2130706433`, `0177.0.0.1` or `0x7f.1` to dotted form),
 * a public address. The allowlist is checked before anything else about the host, so a name that is not listed is
 * never resolved.
 */
export function checkDownloadUrl(url: string | URL, policy: UrlPolicy): CheckedUrl {
  const text = String(url);
  let parsed: URL;
  try {
    parsed = new URL(text);
  } catch {
    throw new InsecureUrlError(text, 'not a valid absolute URL');
  }
  const shown = redactUrl(parsed);
  if (parsed.protocol !== 'https:') throw new InsecureUrlError(shown, `scheme ${parsed.protocol} is not https:`);
  if (parsed.username !== '' || parsed.password !== '') {
    throw new InsecureUrlError(shown, 'credentials in the URL are refused');
  }
  const host = normaliseHost(parsed.hostname);
  const isIpLiteral = isIP(host) !== 0;
  if (!isHostAllowed(host, isIpLiteral, policy.allowedHosts)) throw new HostNotAllowedError(shown, host);
  if (isIpLiteral && isForbiddenAddress(host, policy)) throw new ForbiddenAddressError(host, host, 'url');
  return { url: parsed, host, isIpLiteral };
}

/** The URL as safe to print: any userinfo is replaced, so a refused URL never echoes a password into logs. */
export function redactUrl(url: URL): string {
  if (url.username === '' && url.password === '') return url.href;
  const copy = new URL(url.href);
  copy.username = 'redacted';
  copy.password = '';
  return copy.href;
}

/** Lowercase, without IPv6 brackets and without one trailing dot: the form hosts are compared and connected in. */
export function normaliseHost(host: string): string {
  let result = host.toLowerCase();
  if (result.startsWith('[') && result.endsWith(']')) result = result.slice(1, -1);
  if (result.endsWith('.')) result = result.slice(0, -1);
  return result;
}

function isHostAllowed(host: string, isIpLiteral: boolean, allowedHosts: readonly string[]): boolean {
  if (host === '') return false;
  for (const entry of allowedHosts) {
    const allowed = normaliseHost(entry.trim());
    if (allowed.startsWith('*.')) {
      const suffix = allowed.slice(1); // ".example.com"
      if (!isIpLiteral && suffix.length > 1 && host.endsWith(suffix) && host.length > suffix.length) return true;
    } else if (allowed !== '' && allowed === host) {
      return true;
    }
  }
  return false;
}

function parseIpv4(ip: string): number {
  const octets = ip.split('.').map(Number);
  return (((octets[0]! << 24) | (octets[1]! << 16) | (octets[2]! << 8) | octets[3]!) >>> 0);
}

function classifyIpv4(address: number): AddressScope {
  for (const [base, prefixLength, scope] of IPV4_RULES) {
    const mask = prefixLength === 0 ? 0 : (~0 << (32 - prefixLength)) >>> 0;
    if (((address & mask) >>> 0) === parseIpv4(base)) return scope;
  }
  return 'public';
}

/** Parses IPv6 text (with `::`, an IPv4 tail or a zone id) into eight 16-bit groups. */
function parseIpv6(ip: string): number[] | undefined {
  const text = ip.split('%')[0]!;
  if (!isIPv6(text)) return undefined;
  let hex = text;
  const lastColon = hex.lastIndexOf(':');
  const tail = hex.slice(lastColon + 1);
  if (tail.includes('.')) {
    if (!isIPv4(tail)) return undefined;
    const v4 = parseIpv4(tail);
    hex = `${hex.slice(0, lastColon + 1)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const halves = hex.split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] === '' ? [] : halves[0]!.split(':');
  const rest = halves.length === 2 && halves[1] !== '' ? halves[1]!.split(':') : [];
  const missing = 8 - head.length - rest.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...rest].map((group) =>
    Number.parseInt(group, 16),
  );
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : undefined;
}

function classifyIpv6(g: number[]): AddressScope {
  const embeddedV4 = (high: number, low: number): number => ((g[high]! << 16) | g[low]!) >>> 0;
  const zeroUpTo = (end: number): boolean => g.slice(0, end).every((group) => group === 0);

  if (zeroUpTo(8)) return 'unspecified';
  if (zeroUpTo(7) && g[7] === 1) return 'loopback';
  if (zeroUpTo(5) && g[5] === 0xffff) return classifyIpv4(embeddedV4(6, 7)); // ::ffff:a.b.c.d (mapped)
  if (zeroUpTo(4) && g[4] === 0xffff && g[5] === 0) return classifyIpv4(embeddedV4(6, 7)); // ::ffff:0:a.b.c.d
  if (zeroUpTo(6)) return 'reserved'; // ::a.b.c.d (deprecated IPv4-compatible)
  if (g[0] === 0x64 && g[1] === 0xff9b) {
    // 64:ff9b::/96 is the well-known NAT64 prefix: it reaches the IPv4 address it embeds.
    return g.slice(2, 6).every((group) => group === 0) ? classifyIpv4(embeddedV4(6, 7)) : 'reserved';
  }
  if (g[0] === 0x2002) return classifyIpv4(embeddedV4(1, 2)); // 6to4 reaches its embedded IPv4 gateway
  const first = g[0]!;
  if ((first & 0xfe00) === 0xfc00) return 'private'; // fc00::/7 unique-local
  if ((first & 0xffc0) === 0xfe80) return 'link-local'; // fe80::/10
  if ((first & 0xff00) === 0xff00) return 'multicast'; // ff00::/8
  if ((first & 0xe000) !== 0x2000) return 'reserved'; // outside 2000::/3 global unicast
  if (first === 0x2001 && (g[1]! & 0xfe00) === 0) return 'reserved'; // 2001::/23 IETF (Teredo, benchmarking, ORCHID)
  if (first === 0x2001 && g[1] === 0x0db8) return 'reserved'; // 2001:db8::/32 documentation
  if (first === 0x3fff && (g[1]! & 0xf000) === 0) return 'reserved'; // 3fff::/20 documentation
  return 'public';
}
