/**
 * POST /api/v1/metadata: an image in the body (raw PNG, JPEG or WebP, like an upload), its generation metadata in
 * the answer. The bytes are read in memory by the engine's metadata reader and never stored; the route has the
 * upload route's body limit, rate-limit bucket and authentication.
 */
import type { FastifyInstance } from 'fastify';
import { detectImageFormat, readImageMetadataReport } from '../../engine/index.ts';
import type { ServerContext } from '../server-context.ts';
import { requirePrincipal } from '../auth/authentication.ts';
import { withErrorResponses } from '../schemas/common-schemas.ts';
import { MetadataReport } from '../schemas/metadata-schemas.ts';
import { IMAGE_MEDIA_TYPES } from '../request-guards.ts';
import { RequestRefusal } from '../request-refusal.ts';

const MEDIA_TYPES = { png: 'image/png', jpeg: 'image/jpeg', webp: 'image/webp' } as const;

export function registerMetadataRoute(app: FastifyInstance, context: ServerContext): void {
  app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser([...IMAGE_MEDIA_TYPES], { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
    scope.post<{ Body: Buffer }>(
      '/api/v1/metadata',
      {
        bodyLimit: context.options.quotas.maxUploadBytes,
        config: { limit: 'submit', accepts: 'image' },
        schema: {
          tags: ['images'],
          summary: 'Read the generation settings an image records (raw PNG, JPEG or WebP body); the image is not kept',
          description:
            'Reads A1111 and its forks (PNG text, JPEG/WebP EXIF, stealth alpha/RGB info), Fooocus, RuinedFooocus, ComfyUI ' +
            '(one entry per sampler), InvokeAI, SwarmUI, NovelAI and Civitai metadata, mapped to this server\'s request fields; ' +
            'what has no equivalent is listed as not applied. 400 names the rule a malformed image or metadata breaks ' +
            '(over-long text, a decompression bomb, too deep JSON), 413 a body over the upload limit.',
          consumes: [...IMAGE_MEDIA_TYPES],
          response: withErrorResponses({ 200: MetadataReport }),
        },
      },
      async (request) => {
        requirePrincipal(request);
        const format = detectImageFormat(request.body);
        const declared = request.headers['content-type']?.split(';', 1)[0]?.trim().toLowerCase();
        if (format === null) throw new RequestRefusal(400, 'invalid_request', 'the body is not a PNG, JPEG or WebP image', { field: 'body', rule: 'image' });
        if (MEDIA_TYPES[format] !== declared) {
          throw new RequestRefusal(400, 'invalid_request', `the body is ${MEDIA_TYPES[format]}, not ${declared}`, { field: 'content-type', rule: 'matchesBody' });
        }
        return readImageMetadataReport(new Uint8Array(request.body.buffer, request.body.byteOffset, request.body.byteLength));
      },
    );
  });
}
