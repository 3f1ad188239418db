/** Read-only lists the UI builds its choices from, and the health probes. */
import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../server-context.ts';
import type { Readiness } from '../studio-port.ts';
import { withErrorResponses } from '../schemas/common-schemas.ts';
import { AspectRatioList, HealthBody, ModelList, PresetList, StyleList } from '../schemas/catalog-schemas.ts';

export function registerCatalogRoutes(app: FastifyInstance, { port }: ServerContext): void {
  const list = (url: string, summary: string, response: typeof ModelList | typeof StyleList | typeof PresetList | typeof AspectRatioList, load: () => Promise<object>) =>
    app.get(url, { schema: { tags: ['catalog'], summary, response: withErrorResponses({ 200: response }) } }, load);

  list('/api/v1/models', 'Installed, trusted models', ModelList, async () => ({ models: await port.listModels() }));
  list('/api/v1/styles', 'Styles and their templates', StyleList, async () => ({ styles: await port.listStyles() }));
  list('/api/v1/presets', 'Presets with the settings they fill in', PresetList, async () => ({ presets: await port.listPresets() }));
  list('/api/v1/aspect-ratios', 'Aspect ratios per model family', AspectRatioList, async () => {
    const lists = await port.listAspectRatios();
    return { aspectRatios: [...lists.sdxl, ...lists.sd15], ...lists };
  });

  // Never rate-limited: a load balancer polling these must not be told 429 and take a healthy server out.
  const probe = (url: string, summary: string, check: () => Promise<Readiness>) =>
    app.get(
      url,
      { config: { access: 'public', limit: 'none' }, schema: { tags: ['health'], summary, response: { 200: HealthBody, 503: HealthBody } } },
      async (_request, reply) => {
        const state = await check().catch((): Readiness => ({ ready: false, reason: 'the readiness check failed' }));
        const { ready, reason, redis, workers, providers } = state;
        return reply.code(ready ? 200 : 503).send({
          status: ready ? 'ok' : 'unavailable',
          ...(reason === undefined ? {} : { reason }),
          ...(redis === undefined ? {} : { redis }),
          ...(workers === undefined ? {} : { workers }),
          ...(providers === undefined ? {} : { providers }),
        });
      },
    );
  probe('/healthz', 'Liveness', async () => ({ ready: await port.health() }));
  probe('/readyz', 'Readiness: the default model verified, queue accepting jobs (with Redis: Redis answers, live workers)', () => port.ready());
}
