/**
 * Options of buildServer, their defaults, and the checks that refuse an unsafe or malformed configuration before
 * any route exists.
 */
import type { FastifyServerOptions } from 'fastify';
import type { RequestQuotas } from './schemas/generate-request-schema.ts';
import { parsePasswordHash } from '../app/auth/password-hash.ts';
import { FooocusError } from '../engine/index.ts';

export type Role = 'admin' | 'user';

export interface AuthUser {
  name: string;
  /** `scrypt$N$r$p$salt$hash`, salt and hash base64. */
  passwordHash: string;
  role: Role;
}

export interface AuthToken {
  name: string;
  /** SHA-256 of the token, lowercase hex: the token itself is never stored. */
  tokenHash: string;
  /** The user the token acts as; an admin user's token has admin scope. */
  owner: string;
}

export interface AuthOptions {
  users: AuthUser[];
  tokens: AuthToken[];
}

export interface RateLimitOptions {
  readsPerMinute: number;
  submitsPerMinute: number;
}

export interface Quotas extends RequestQuotas {
  /** Largest upload body; its pixels must also fit `maxPixels`, the most a job may have. */
  maxUploadBytes: number;
}

export interface ServerOptions {
  /** The address startServer binds; a non-loopback one requires auth. */
  host: string;
  /** `host:port` (or `host` for a default port) values the Host header may carry. Default: 127.0.0.1, localhost and [::1] at the bound port. */
  allowedHosts?: string[];
  auth: AuthOptions | null;
  rateLimit?: Partial<RateLimitOptions>;
  quotas?: Partial<Quotas>;
  /** Root every served image must resolve inside (after symlinks). */
  outputsDir: string;
  /** Mark the session cookie Secure (set when served over HTTPS, directly or behind a proxy). */
  secureCookies?: boolean;
  logger?: FastifyServerOptions['logger'];
  sessionTtlSeconds?: number;
  /** Interval of SSE comment lines that keep idle connections open. */
  heartbeatSeconds?: number;
  /** The built browser UI (`dist/ui`), served at `/`; omitted in API-only tests. */
  uiDir?: string;
}

export interface ResolvedServerOptions {
  host: string;
  allowedHosts: string[] | null;
  auth: AuthOptions | null;
  rateLimit: RateLimitOptions;
  quotas: Quotas;
  outputsDir: string;
  secureCookies: boolean;
  logger: FastifyServerOptions['logger'];
  sessionTtlSeconds: number;
  heartbeatSeconds: number;
  uiDir: string | undefined;
}

export const DEFAULT_RATE_LIMIT: RateLimitOptions = { readsPerMinute: 300, submitsPerMinute: 20 };

export const DEFAULT_QUOTAS: Quotas = {
  maxPromptChars: 8000,
  maxPixels: 2048 * 2048,
  maxSteps: 200,
  maxImages: 32,
  maxUploadBytes: 20 * 1024 * 1024,
};

/** User and token names: never `*` (the admin scope) and nothing that needs escaping in a log line. */
const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export class ServerConfigError extends FooocusError {
  constructor(readonly key: string, readonly reason: string) {
    super('invalid', `server option ${key}: ${reason}`, { field: key });
  }
}

export function resolveServerOptions(options: ServerOptions): ResolvedServerOptions {
  const rateLimit = { ...DEFAULT_RATE_LIMIT, ...options.rateLimit };
  const quotas = { ...DEFAULT_QUOTAS, ...options.quotas };
  for (const [key, value] of Object.entries({ ...rateLimit, ...quotas })) {
    if (!Number.isSafeInteger(value) || value < 1) throw new ServerConfigError(key, 'must be a positive integer');
  }
  if (options.allowedHosts !== undefined) checkAllowedHosts(options.allowedHosts);
  if (options.auth !== null) checkAuth(options.auth);
  if (options.outputsDir.length === 0) throw new ServerConfigError('outputsDir', 'is required');
  return {
    host: options.host,
    allowedHosts: options.allowedHosts?.map((h) => h.toLowerCase()) ?? null,
    auth: options.auth,
    rateLimit,
    quotas,
    outputsDir: options.outputsDir,
    secureCookies: options.secureCookies ?? false,
    logger: options.logger ?? false,
    sessionTtlSeconds: options.sessionTtlSeconds ?? 12 * 3600,
    heartbeatSeconds: options.heartbeatSeconds ?? 15,
    uiDir: options.uiDir,
  };
}

function checkAllowedHosts(hosts: string[]): void {
  for (const host of hosts) {
    // A browser leaves the port out of Host and Origin when it is the scheme's default (a TLS proxy on 443).
    if (!/^([a-z0-9.-]+|\[[0-9a-f:.]+\])(:[0-9]{1,5})?$/i.test(host)) {
      throw new ServerConfigError('allowedHosts', `"${host}" is not host or host:port`);
    }
  }
}

function checkAuth(auth: AuthOptions): void {
  if (auth.users.length === 0 && auth.tokens.length === 0) {
    throw new ServerConfigError('auth', 'has no users and no tokens; use null to run without auth');
  }
  const users = new Set<string>();
  for (const user of auth.users) {
    if (!NAME_PATTERN.test(user.name)) throw new ServerConfigError('auth.users', `invalid user name "${user.name}"`);
    if (users.has(user.name)) throw new ServerConfigError('auth.users', `duplicate user "${user.name}"`);
    if (user.role !== 'admin' && user.role !== 'user') throw new ServerConfigError('auth.users', `invalid role for "${user.name}"`);
    if (parsePasswordHash(user.passwordHash) === null) {
      throw new ServerConfigError('auth.users', `password hash of "${user.name}" is not scrypt$N$r$p$salt$hash`);
    }
    users.add(user.name);
  }
  const tokens = new Set<string>();
  for (const token of auth.tokens) {
    if (!NAME_PATTERN.test(token.name) || tokens.has(token.name)) {
      throw new ServerConfigError('auth.tokens', `invalid or duplicate token name "${token.name}"`);
    }
    if (!/^[0-9a-f]{64}$/.test(token.tokenHash)) throw new ServerConfigError('auth.tokens', `hash of "${token.name}" is not SHA-256 hex`);
    if (!NAME_PATTERN.test(token.owner)) throw new ServerConfigError('auth.tokens', `invalid owner of "${token.name}"`);
    tokens.add(token.name);
  }
}
