/**
 * POST /api/v1/image-prompts/preview: the preprocessed map of a PyraCanny or CPDS image prompt, for the page to
 * show beside the slot. Takes a raw image body as uploads do, under the same byte cap, size check, authentication
 * and rate limit, and answers the map as a PNG; nothing is stored.
 */
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { ServerContext } from '../server-context.ts';
import { requirePrincipal } from '../auth/authentication.ts';
import { withErrorResponses } from '../schemas/common-schemas.ts';
import { checkImageBody } from '../image-header.ts';
import { IMAGE_MEDIA_TYPES } from '../request-guards.ts';

type PreviewType = 'PyraCanny' | 'CPDS';

const PreviewQuery = Type.Object(
  { type: Type.Unsafe<PreviewType>({ type: 'string', enum: ['PyraCanny', 'CPDS'], description: 'Which preprocessor: PyraCanny (edges) or CPDS (structure).' }) },
  { additionalProperties: false },
);

export function registerImagePromptRoutes(app: FastifyInstance, context: ServerContext): void {
  const { port, options } = context;
  app.register(async (previews) => {
    previews.removeAllContentTypeParsers();
    previews.addContentTypeParser([...IMAGE_MEDIA_TYPES], { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
    previews.post<{ Body: Buffer; Querystring: { type: PreviewType } }>(
      '/api/v1/image-prompts/preview',
      {
        bodyLimit: options.quotas.maxUploadBytes,
        config: { limit: 'submit', accepts: 'image' },
        schema: {
          tags: ['images'],
          summary: 'The preprocessed map of a PyraCanny or CPDS image prompt (raw PNG, JPEG or WebP body; answers a PNG)',
          description:
            'The image is checked and decoded as an upload is (same byte cap and size rules, same errors), then turned into the ' +
            'control map the ControlNet sees, at the image size: PyraCanny edges or CPDS structure. Nothing is stored.',
          consumes: [...IMAGE_MEDIA_TYPES],
          produces: ['image/png'],
          querystring: PreviewQuery,
          response: withErrorResponses({ 200: Type.String({ format: 'binary' }) }),
        },
      },
      async (request, reply) => {
        checkImageBody(request.body, request.headers['content-type'], options.quotas.maxPixels);
        const png = await port.previewControlMap(requirePrincipal(request).name, { bytes: request.body, type: request.query.type });
        return reply.type('image/png').header('x-content-type-options', 'nosniff').header('cache-control', 'no-store').send(Buffer.from(png));
      },
    );
  });
}
