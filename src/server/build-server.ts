/**
 * The HTTP server as a value: buildServer wires the security hooks, the error mapping and the routes around a
 * StudioPort and returns the Fastify instance without listening (tests drive it with inject(); serve.ts listens).
 *
 * Hook order on every request, before any body is read:
 *   security headers → Host allowlist, Origin, media type → identify → rate limit → access control.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import cookie from '@fastify/cookie';
import swagger from '@fastify/swagger';
import { ErrorBody } from './schemas/common-schemas.ts';
import { handleFrameworkError, registerErrorMapping } from './error-mapping.ts';
import { registerSecurityHeaders } from './security-headers.ts';
import { registerRequestGuards } from './request-guards.ts';
import { registerAccessControl, registerIdentification } from './auth/authentication.ts';
import { SessionStore } from './auth/session-store.ts';
import { registerRateLimits } from './rate-limits.ts';
import { resolveServerOptions, type ServerOptions } from './server-options.ts';
import { createServerContext } from './server-context.ts';
import type { StudioPort } from './studio-port.ts';
import { registerJobRoutes } from './routes/job-routes.ts';
import { registerJobEventsRoute } from './routes/job-events-route.ts';
import { registerImageRoutes } from './routes/image-routes.ts';
import { registerImagePromptRoutes } from './routes/image-prompt-routes.ts';
import { registerDescribeRoute } from './routes/describe-route.ts';
import { registerMetadataRoute } from './routes/metadata-route.ts';
import { registerCatalogRoutes } from './routes/catalog-routes.ts';
import { registerSessionRoutes } from './routes/session-routes.ts';
import { registerDocsRoutes } from './routes/docs-routes.ts';
import { registerUiRoutes } from './routes/ui-routes.ts';
import { registerJsonBodyParser } from './json-body-parser.ts';
import './route-config.ts';

/** JSON bodies are small: the longest field is a prompt. Uploads have their own limit. */
const JSON_BODY_LIMIT = 256 * 1024;

export async function buildServer(port: StudioPort, serverOptions: ServerOptions): Promise<FastifyInstance> {
  const options = resolveServerOptions(serverOptions);
  const app = Fastify({
    logger: options.logger,
    bodyLimit: JSON_BODY_LIMIT,
    trustProxy: false,
    frameworkErrors: handleFrameworkError,
    // Extra fields are refused, not silently dropped; no type coercion in bodies ("2" is not 2).
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: false, allErrors: false } },
  });
  const sessions = new SessionStore(options.sessionTtlSeconds * 1000);
  const context = createServerContext(port, options, sessions);

  registerErrorMapping(app);
  app.removeContentTypeParser('text/plain');
  registerJsonBodyParser(app);
  app.addSchema(ErrorBody);

  await registerSecurityHeaders(app);
  await app.register(cookie);
  registerRequestGuards(app, options.allowedHosts);
  registerIdentification(app, options.auth, sessions);
  registerRateLimits(app, options.rateLimit, options.auth !== null);
  registerAccessControl(app);

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Fooocus-TS', version: 'v1', description: 'Self-hosted Stable Diffusion studio.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' }, session: { type: 'apiKey', in: 'cookie', name: 'fooocus_session' } } },
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
  });

  registerJobRoutes(app, context);
  registerJobEventsRoute(app, context);
  registerImageRoutes(app, context);
  registerImagePromptRoutes(app, context);
  registerDescribeRoute(app, context);
  registerMetadataRoute(app, context);
  registerCatalogRoutes(app, context);
  registerSessionRoutes(app, context);
  registerDocsRoutes(app);
  await registerUiRoutes(app, options.uiDir);
  await app.ready();
  return app;
}
