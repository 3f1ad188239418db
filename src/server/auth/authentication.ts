/**
 * Who a request acts for. With auth configured: a Bearer token (looked up by its SHA-256) or the session cookie;
 * without either, only `access: 'public'` routes answer (401). Without auth: everyone is the single local owner,
 * which startServer allows on loopback addresses only.
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ALL_OWNERS, LOCAL_OWNER } from '../studio-port.ts';
import { RequestRefusal } from '../request-refusal.ts';
import type { AuthOptions, Role } from '../server-options.ts';
import type { SessionStore } from './session-store.ts';

export const SESSION_COOKIE = 'fooocus_session';

export interface Principal {
  /** Owner of what this client creates (jobs, uploads). */
  name: string;
  role: Role;
  /** Owner scope for reading and acting on existing things: the user's name, or ALL_OWNERS for an admin. */
  scope: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
    /** Why credentials that were sent did not identify anyone; refused by the access hook after rate limiting. */
    credentialProblem: string | null;
  }
}

const LOCAL_PRINCIPAL: Principal = { name: LOCAL_OWNER, role: 'user', scope: LOCAL_OWNER };
const TOKEN_PATTERN = /^Bearer ([A-Za-z0-9._~+/-]{16,512}=*)$/;

export function principalFor(name: string, role: Role): Principal {
  return { name, role, scope: role === 'admin' ? ALL_OWNERS : name };
}

/**
 * Identification runs before rate limiting (so limits apply per user) and refusal after it (so guessing tokens
 * is rate limited too): call registerIdentification, then the rate limits, then registerAccessControl.
 */
export function registerIdentification(app: FastifyInstance, auth: AuthOptions | null, sessions: SessionStore): void {
  app.decorateRequest('principal', null);
  app.decorateRequest('credentialProblem', null);
  const roles = new Map(auth?.users.map((u) => [u.name, u.role]) ?? []);
  const tokens = new Map(auth?.tokens.map((t) => [t.tokenHash, principalFor(t.owner, roles.get(t.owner) ?? 'user')]) ?? []);

  app.addHook('onRequest', async (request) => {
    request.principal = auth === null ? LOCAL_PRINCIPAL : identify(request, tokens, sessions);
  });
}

export function registerAccessControl(app: FastifyInstance): void {
  app.addHook('onRequest', async (request, reply) => {
    if (request.credentialProblem !== null) {
      reply.header('www-authenticate', 'Bearer error="invalid_token"');
      throw new RequestRefusal(401, 'unauthorized', request.credentialProblem, { field: 'authorization', rule: 'validToken' });
    }
    if (request.principal === null && request.routeOptions.config.access !== 'public') {
      reply.header('www-authenticate', 'Bearer');
      throw new RequestRefusal(401, 'unauthorized', 'sign in or send a Bearer token', { field: 'authorization', rule: 'required' });
    }
  });
}

function identify(request: FastifyRequest, tokens: Map<string, Principal>, sessions: SessionStore): Principal | null {
  const authorization = request.headers.authorization;
  if (authorization !== undefined) {
    const token = TOKEN_PATTERN.exec(authorization)?.[1];
    const principal = token === undefined ? undefined : tokens.get(createHash('sha256').update(token).digest('hex'));
    if (principal === undefined) request.credentialProblem = 'the Bearer token is not valid';
    return principal ?? null;
  }
  const sessionId = request.cookies[SESSION_COOKIE];
  if (sessionId === undefined) return null;
  const session = sessions.find(sessionId);
  return session === null ? null : principalFor(session.user, session.role);
}

/** The principal of a route that is not public; the hook above guarantees one. */
export function requirePrincipal(request: FastifyRequest): Principal {
  if (request.principal === null) throw new RequestRefusal(401, 'unauthorized', 'sign in or send a Bearer token');
  return request.principal;
}
