/**
 * Per-client rate limits: one bucket for requests in general and one for submissions (generate, retry, upload),
 * each counted per minute per user (when signed in) or per IP. A refused request gets 429 with Retry-After.
 * Counting happens before the body is parsed, so floods of invalid requests are limited too. Routes marked
 * `limit: 'none'` are not counted: the health probes, and sign-in, which has its own throttle.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { FixedWindowLimiter } from './fixed-window-limiter.ts';
import { RequestRefusal } from './request-refusal.ts';
import type { RateLimitOptions } from './server-options.ts';

const MINUTE_MS = 60_000;

/** `byUser`: with auth on, a signed-in client is counted by user name wherever it connects from. */
export function registerRateLimits(app: FastifyInstance, limits: RateLimitOptions, byUser: boolean): void {
  const keyOf = (request: FastifyRequest): string =>
    byUser && request.principal !== null ? `user:${request.principal.name}` : `ip:${request.ip}`;
  const buckets = {
    request: new FixedWindowLimiter(limits.readsPerMinute, MINUTE_MS),
    submit: new FixedWindowLimiter(limits.submitsPerMinute, MINUTE_MS),
  };
  app.addHook('onRequest', async (request, reply) => {
    const bucket = request.routeOptions.config.limit ?? 'request';
    if (bucket === 'none') return;
    const decision = buckets[bucket].take(keyOf(request));
    if (decision.allowed) return;
    reply.header('retry-after', String(decision.retryAfterSeconds));
    throw new RequestRefusal(429, 'rate_limited', `more than ${decision.limit} ${bucket}s a minute`, {
      rule: `${bucket}sPerMinute`,
      limit: decision.limit,
      retryAfterSeconds: decision.retryAfterSeconds,
    });
  });
}
