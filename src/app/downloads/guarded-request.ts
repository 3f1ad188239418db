/**
 * One HTTPS GET to a URL that already passed `checkDownloadUrl`, with the connection-time rules enforced:
 *
 * - the name is resolved by our own `lookup`, which refuses the whole name if any address is not public, so no
 *   connection is attempted and the address checked is the address connected to (no DNS rebinding window);
 * - once connected, `socket.remoteAddress` is checked again;
 * - a fresh socket per request (`agent: false`): no shared pool, no proxy from the environment;
 * - certificate verification is always on; an optional SPKI SHA-256 pin set per host must match a key in the
 *   verified chain.
 */
import { lookup as lookupDns, type LookupAddress, type LookupOptions } from 'node:dns';
import type { IncomingMessage } from 'node:http';
import { request } from 'node:https';
import type { LookupFunction } from 'node:net';
import { checkServerIdentity, rootCertificates, type PeerCertificate } from 'node:tls';
import { createHash, X509Certificate } from 'node:crypto';
import { isForbiddenAddress, type CheckedUrl } from './address-policy.ts';
import { CertificatePinMismatchError, ForbiddenAddressError, UntrustedCertificateError } from './download-errors.ts';

export interface ConnectionPolicy {
  /** Applies to IP-literal hosts only: a name that resolves to a private address is always refused. */
  allowPrivateAddresses?: boolean;
  /** SPKI SHA-256 pins (base64, optionally prefixed `sha256/`) keyed by lowercase host. */
  pins?: Readonly<Record<string, readonly string[]>>;
  /** An extra CA trusted in addition to the system roots (tests). */
  ca?: string | Buffer;
  /** Socket idle time after which the request fails. */
  timeoutMs: number;
}

/** The connection went idle for longer than the policy allows. */
export class ConnectionTimeoutError extends Error {
  override readonly name = 'ConnectionTimeoutError';

  constructor(timeoutMs: number) {
    super(`no data for ${timeoutMs} ms`);
  }
}

const MAX_CHAIN_DEPTH = 10;

/** Sends the GET and resolves with the response head; the body is left for the caller to stream. */
export function openGuardedRequest(
  target: CheckedUrl,
  headers: Readonly<Record<string, string>>,
  policy: ConnectionPolicy,
  signal?: AbortSignal,
): Promise<IncomingMessage> {
  const pins = findPins(policy.pins, target.host);
  return new Promise((resolve, reject) => {
    const req = request({
      method: 'GET',
      protocol: 'https:',
      hostname: target.host,
      port: target.url.port === '' ? 443 : Number(target.url.port),
      path: `${target.url.pathname}${target.url.search}`,
      headers: { ...headers, host: formatHostHeader(target) },
      agent: false,
      lookup: createPublicOnlyLookup(target.host),
      rejectUnauthorized: true,
      minVersion: 'TLSv1.2',
      ca: policy.ca === undefined ? undefined : [...rootCertificates, String(policy.ca)],
      ...(target.isIpLiteral ? {} : { servername: target.host }),
      checkServerIdentity: (hostname, cert) => checkPeer(hostname, cert, target.host, pins),
      signal,
    });
    req.on('socket', (socket) => {
      socket.once('connect', () => {
        const remote = socket.remoteAddress ?? '';
        const exempt = target.isIpLiteral && remote === target.host ? policy : {};
        if (isForbiddenAddress(remote, exempt)) {
          req.destroy(new ForbiddenAddressError(target.host, remote || 'an unknown address', 'connect'));
        }
      });
    });
    let response: IncomingMessage | undefined;
    req.setTimeout(policy.timeoutMs, () => {
      const error = new ConnectionTimeoutError(policy.timeoutMs);
      req.destroy(error);
      response?.destroy(error);
    });
    req.once('response', (incoming) => {
      response = incoming;
      resolve(incoming);
    });
    req.once('error', (error: NodeJS.ErrnoException) => reject(classifyConnectionError(error, target.host)));
    req.end();
  });
}

/** SPKI SHA-256 (base64) of every certificate in the chain the peer presented, leaf first. */
export function computeChainPins(cert: PeerCertificate): string[] {
  const pins: string[] = [];
  let current: PeerCertificate | undefined = cert;
  const seen = new Set<string>();
  while (current?.raw !== undefined && pins.length < MAX_CHAIN_DEPTH) {
    const pin = computeSpkiPin(current.raw);
    if (seen.has(pin)) break;
    seen.add(pin);
    pins.push(pin);
    current = (current as PeerCertificate & { issuerCertificate?: PeerCertificate }).issuerCertificate;
  }
  return pins;
}

/** SPKI SHA-256 pin (base64) of a DER or PEM certificate: the value to put in `pins`. */
export function computeSpkiPin(certificate: Buffer | string): string {
  const spki = new X509Certificate(certificate).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('base64');
}

/** The Host header for the normalised host (no trailing dot), so it names exactly what was checked. */
function formatHostHeader(target: CheckedUrl): string {
  const host = target.host.includes(':') ? `[${target.host}]` : target.host;
  return target.url.port === '' ? host : `${host}:${target.url.port}`;
}

/** OpenSSL and Node report verification failures by code; they become one typed error naming the host. */
function classifyConnectionError(error: NodeJS.ErrnoException, host: string): Error {
  const code = error.code ?? '';
  const isVerificationFailure =
    /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ERR_TLS_CERT|HOSTNAME_MISMATCH/.test(code) && !code.startsWith('ERR_STREAM');
  return isVerificationFailure ? new UntrustedCertificateError(host, code, error.message) : error;
}

function findPins(pins: ConnectionPolicy['pins'], host: string): Set<string> | undefined {
  if (pins === undefined) return undefined;
  for (const [pinnedHost, values] of Object.entries(pins)) {
    if (pinnedHost.toLowerCase().replace(/\.$/, '') === host && values.length > 0) {
      return new Set(values.map((value) => value.trim().replace(/^sha256\//, '')));
    }
  }
  return undefined;
}

function checkPeer(
  hostname: string,
  cert: PeerCertificate,
  host: string,
  pins: Set<string> | undefined,
): Error | undefined {
  const identityError = checkServerIdentity(hostname, cert);
  if (identityError !== undefined) return identityError;
  if (pins === undefined) return undefined;
  const found = computeChainPins(cert);
  return found.some((pin) => pins.has(pin)) ? undefined : new CertificatePinMismatchError(host, found);
}

/**
 * Resolves like the system resolver but fails the lookup, and so the connection, when any address of the name is
 * not public. Refusing the whole name (rather than filtering) keeps a name that mixes public and private answers
 * from ever reaching the private one on a retry.
 */
function createPublicOnlyLookup(host: string): LookupFunction {
  return (hostname: string, options: LookupOptions, callback) => {
    const family = options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : (options.family ?? 0);
    lookupDns(hostname, { all: true, family, hints: options.hints }, (error, addresses: LookupAddress[]) => {
      if (error !== null) return callback(error, '', 0);
      const forbidden = addresses.find((entry) => isForbiddenAddress(entry.address));
      if (forbidden !== undefined) {
        return callback(new ForbiddenAddressError(host, forbidden.address, 'dns'), '', 0);
      }
      const first = addresses[0];
      if (first === undefined) return callback(Object.assign(new Error(`${host}: no addresses`), { code: 'ENOTFOUND' }), '', 0);
      if (options.all === true) return callback(null, addresses);
      return callback(null, first.address, first.family);
    });
  };
}
