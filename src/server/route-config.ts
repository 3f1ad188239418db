/**
 * Per-route settings the security hooks read from `routeOptions.config`. Defaults are the strict choice: a route
 * that says nothing needs a signed-in user, takes JSON only and counts against the general request limit.
 */
declare module 'fastify' {
  interface FastifyContextConfig {
    /** `public`: reachable without credentials (login, health, docs). */
    access?: 'public' | 'authenticated';
    /**
     * Which per-client bucket the request counts against; `none` for the health probes (a load balancer polling
     * them must never be refused) and sign-in (its own throttle: sign-in-throttle.ts).
     */
    limit?: 'request' | 'submit' | 'none';
    /** Request body media types a state-changing route takes. */
    accepts?: 'json' | 'image';
  }
}

export {};
