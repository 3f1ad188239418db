/**
 * Guards that run before any body is parsed:
 * - Host allowlist: a DNS-rebinding page reaches us under its own host name, which is not on the list (421).
 * - Origin and Fetch Metadata on state-changing methods: a cross-site form or fetch is refused (403).
 * - Media type: JSON routes take application/json only, so no HTML form (urlencoded, multipart, text/plain) can
 *   drive them; the upload route takes the three image types only (415).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { RequestRefusal } from './request-refusal.ts';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
export const IMAGE_MEDIA_TYPES = ['image/png', 'image/jpeg', 'image/webp'] as const;

/** `allowedHosts` null: loopback names at the port the server is bound to, read when a request arrives. */
export function registerRequestGuards(app: FastifyInstance, allowedHosts: string[] | null): void {
  const hostsFor = (): Set<string> => new Set(allowedHosts ?? loopbackHosts(app));
  app.addHook('onRequest', async (request) => {
    const hosts = hostsFor();
    checkHost(request, hosts);
    if (!SAFE_METHODS.has(request.method)) {
      checkOrigin(request, hosts);
      checkMediaType(request);
    }
  });
}

function loopbackHosts(app: FastifyInstance): string[] {
  const address = app.server.address();
  if (address === null || typeof address === 'string') return [];
  const port = address.port;
  return [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`];
}

function checkHost(request: FastifyRequest, hosts: Set<string>): void {
  const host = request.headers.host?.toLowerCase();
  if (host === undefined || !hosts.has(host)) {
    throw new RequestRefusal(421, 'misdirected_request', 'the Host header names a host this server does not answer for', {
      field: 'host',
      rule: 'allowedHosts',
    });
  }
}

function checkOrigin(request: FastifyRequest, hosts: Set<string>): void {
  const site = request.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') {
    throw new RequestRefusal(403, 'forbidden_origin', 'cross-site requests may not change state', {
      field: 'sec-fetch-site',
      rule: 'same-origin',
    });
  }
  const origin = request.headers.origin;
  if (origin === undefined) return;
  if (!isAllowedOrigin(origin, hosts)) {
    throw new RequestRefusal(403, 'forbidden_origin', 'the Origin is not this server', { field: 'origin', rule: 'sameOrigin' });
  }
}

function isAllowedOrigin(origin: string, hosts: Set<string>): boolean {
  const match = /^(https?):\/\/([^/?#]+)$/i.exec(origin);
  if (match === null) return false;
  const [, scheme = '', authority = ''] = match;
  const host = authority.toLowerCase();
  if (hosts.has(host)) return true;
  const defaultPort = scheme.toLowerCase() === 'https' ? '443' : '80';
  return !host.includes(':', host.lastIndexOf(']') + 1) && hosts.has(`${host}:${defaultPort}`);
}

function checkMediaType(request: FastifyRequest): void {
  const header = request.headers['content-type'];
  const mediaType = header?.split(';', 1)[0]?.trim().toLowerCase();
  const length = Number(request.headers['content-length'] ?? '0');
  const hasBody = request.headers['transfer-encoding'] !== undefined || length > 0;
  const accepts = request.routeOptions.config.accepts ?? 'json';
  const allowed: readonly string[] = accepts === 'image' ? IMAGE_MEDIA_TYPES : ['application/json'];
  const ok = mediaType === undefined ? !hasBody && accepts === 'json' : allowed.includes(mediaType);
  if (!ok) {
    throw new RequestRefusal(415, 'unsupported_media_type', `this route takes ${allowed.join(', ')} only`, {
      field: 'content-type',
      rule: allowed.join('|'),
    });
  }
}
