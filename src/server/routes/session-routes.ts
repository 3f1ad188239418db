/**
 * Sign-in for browsers: POST /api/v1/session checks name and password (scrypt, constant-time compare, the same
 * work for unknown names) and sets an HttpOnly, SameSite=Strict session cookie; DELETE signs out; GET tells who
 * is signed in. API clients send `Authorization: Bearer` instead.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { ServerContext } from '../server-context.ts';
import { SESSION_COOKIE, principalFor } from '../auth/authentication.ts';
import { DEFAULT_SCRYPT_COST, parsePasswordHash, verifyPassword, type PasswordHash } from '../../app/auth/password-hash.ts';
import { NoContent, withErrorResponses } from '../schemas/common-schemas.ts';
import { RequestRefusal } from '../request-refusal.ts';
import { SignInBackoff, SignInThrottle } from '../sign-in-throttle.ts';

const LoginBody = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 64 }), password: Type.String({ minLength: 1, maxLength: 1024 }) },
  { additionalProperties: false },
);

const SessionView = Type.Object(
  {
    name: Type.String(),
    role: Type.Unsafe<'admin' | 'user'>({ type: 'string', enum: ['admin', 'user'] }),
    authRequired: Type.Boolean(),
  },
  { additionalProperties: false },
);

/** Verified against when the name is unknown, so the response time does not tell which names exist. */
const DECOY_HASH: PasswordHash = { ...DEFAULT_SCRYPT_COST, salt: Buffer.alloc(16, 1), hash: Buffer.alloc(32, 2) };

export function registerSessionRoutes(app: FastifyInstance, { options, sessions }: ServerContext): void {
  const users = new Map(options.auth?.users.map((u) => [u.name, { role: u.role, hash: parsePasswordHash(u.passwordHash) }]) ?? []);
  const cookieOptions = {
    httpOnly: true,
    sameSite: 'strict' as const,
    secure: options.secureCookies,
    path: '/',
    maxAge: options.sessionTtlSeconds,
  };

  const throttle = new SignInThrottle();
  const beginAttempt = (address: string, name: string) => {
    try {
      return throttle.begin(address, name);
    } catch (err) {
      if (!(err instanceof SignInBackoff)) throw err;
      throw new RequestRefusal(429, 'rate_limited', err.message, { rule: `wrongPasswordsPer${err.by === 'address' ? 'Address' : 'Name'}`, retryAfterSeconds: err.retryAfterSeconds });
    }
  };

  app.post<{ Body: Static<typeof LoginBody> }>(
    '/api/v1/session',
    {
      config: { access: 'public', limit: 'none' },
      schema: { tags: ['session'], summary: 'Sign in', body: LoginBody, response: withErrorResponses({ 200: SessionView }) },
    },
    async (request, reply) => {
      if (options.auth === null) throw new RequestRefusal(404, 'not_found', 'this server runs without sign-in');
      const attempt = beginAttempt(request.ip, request.body.name);
      const user = users.get(request.body.name);
      const ok = await verifyPassword(request.body.password, user?.hash ?? DECOY_HASH);
      if (!ok || user === undefined) {
        throw new RequestRefusal(401, 'invalid_credentials', 'wrong name or password', { field: 'password', rule: 'matches' });
      }
      attempt.succeeded();
      const id = sessions.create(request.body.name, user.role);
      reply.setCookie(SESSION_COOKIE, id, cookieOptions);
      return { name: request.body.name, role: user.role, authRequired: true };
    },
  );

  app.get(
    '/api/v1/session',
    { schema: { tags: ['session'], summary: 'Who is signed in', response: withErrorResponses({ 200: SessionView }) } },
    async (request) => {
      const principal = request.principal ?? principalFor('', 'user');
      return { name: principal.name, role: principal.role, authRequired: options.auth !== null };
    },
  );

  app.delete(
    '/api/v1/session',
    { config: { access: 'public' }, schema: { tags: ['session'], summary: 'Sign out', response: withErrorResponses({ 204: NoContent }) } },
    async (request, reply) => {
      const id = request.cookies[SESSION_COOKIE];
      if (id !== undefined) sessions.delete(id);
      reply.clearCookie(SESSION_COOKIE, { path: '/' });
      return reply.code(204).send();
    },
  );
}
