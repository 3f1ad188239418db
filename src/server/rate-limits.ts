/**
 * Per-client rate limits: one bucket for requests in general and one for submissions (generate, upload, login),
 * each counted per minute per user (when signed in) or per IP. A refused request gets 429 with Retry-After.
 * Counting happens before the body is parsed, so floods of invalid requests are limited too.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import { RequestRefusal } from './request-refusal.ts';
import type { RateLimitOptions } from './server-options.ts';

const MINUTE_MS = 60_000;

/** `byUser`: with auth on, a signed-in client is counted by user name wherever it connects from. */
export async function registerRateLimits(app: FastifyInstance, limits: RateLimitOptions, byUser: boolean): Promise<void> {
  await app.register(rateLimit, { global: false });
  const keyGenerator = (request: FastifyRequest): string =>
    byUser && request.principal !== null ? `user:${request.principal.name}` : `ip:${request.ip}`;
  const buckets = {
    request: app.createRateLimit({ max: limits.readsPerMinute, timeWindow: MINUTE_MS, keyGenerator }),
    submit: app.createRateLimit({ max: limits.submitsPerMinute, timeWindow: MINUTE_MS, keyGenerator }),
  };
  app.addHook('onRequest', async (request, reply) => {
    const bucket = request.routeOptions.config.limit ?? 'request';
    const result = await buckets[bucket](request);
    if (result.isAllowed || !result.isExceeded) return;
    const retryAfterSeconds = Math.max(1, result.ttlInSeconds);
    reply.header('retry-after', String(retryAfterSeconds));
    throw new RequestRefusal(429, 'rate_limited', `more than ${result.max} ${bucket}s a minute`, {
      rule: `${bucket}sPerMinute`,
      limit: result.max,
      retryAfterSeconds,
    });
  });
}
