/**
 * GET /api/v1/images/:imageId, the only route that serves files, POST /api/v1/uploads, the only route that takes
 * a non-JSON body, and DELETE /api/v1/uploads/:imageId. Image ids match a strict pattern before the port sees them;
 * what the port answers is then checked again on disk (see image-file.ts). Uploads are refused on their header's
 * size (what a job can use) before any decoder runs; the app then decodes them in a restricted process.
 */
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { ServerContext } from '../server-context.ts';
import { requirePrincipal } from '../auth/authentication.ts';
import { ImageIdParams, NoContent, withErrorResponses } from '../schemas/common-schemas.ts';
import { UploadResponse } from '../schemas/job-schemas.ts';
import { ImageRefusedError, openImageInside } from '../image-file.ts';
import { checkImageBody } from '../image-header.ts';
import { IMAGE_MEDIA_TYPES } from '../request-guards.ts';
import { NotFoundError } from '../studio-errors.ts';

const UploadQuery = Type.Object(
  { purpose: Type.Optional(Type.Unsafe<'image' | 'mask'>({ type: 'string', enum: ['image', 'mask'], description: 'image (default): an input image; mask: an inpaint mask.' })) },
  { additionalProperties: false },
);

export function registerImageRoutes(app: FastifyInstance, context: ServerContext): void {
  const { port, options } = context;
  app.get<{ Params: { imageId: string } }>(
    '/api/v1/images/:imageId',
    {
      schema: {
        tags: ['images'],
        summary: 'An output or uploaded image (PNG, JPEG or WebP)',
        params: ImageIdParams,
        produces: [...IMAGE_MEDIA_TYPES],
        response: withErrorResponses({ 200: Type.String({ format: 'binary' }) }),
      },
    },
    async (request, reply) => {
      const found = await port.openImage(requirePrincipal(request).scope, request.params.imageId);
      const image = await openImageInside(options.outputsDir, found.absolutePath, found.contentType).catch((error: unknown) => {
        if (!(error instanceof ImageRefusedError)) throw error;
        request.log.warn({ client: request.ip, imageId: request.params.imageId, reason: error.message }, 'image refused');
        throw new NotFoundError('image');
      });
      return reply
        .type(image.contentType)
        .header('content-length', String(image.size))
        .header('x-content-type-options', 'nosniff')
        .header('content-disposition', `inline; filename="${request.params.imageId}"`)
        .header('cache-control', 'private, max-age=3600')
        .send(image.handle.createReadStream());
    },
  );

  app.register(async (uploads) => {
    uploads.removeAllContentTypeParsers();
    uploads.addContentTypeParser([...IMAGE_MEDIA_TYPES], { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
    uploads.post<{ Body: Buffer; Querystring: { purpose?: 'image' | 'mask' } }>(
      '/api/v1/uploads',
      {
        bodyLimit: options.quotas.maxUploadBytes,
        config: { limit: 'submit', accepts: 'image' },
        schema: {
          tags: ['images'],
          summary: 'Upload an input image (raw PNG, JPEG or WebP body); it is stored as the decoded pixels (PNG, no metadata)',
          description:
            'The image must be a size a job can use: width x height within the pixel quota, each side within the ' +
            'generation limits (a job crops it to the 8-pixel grid). 400 names the rule an undecodable or unusable image breaks, 413 a too large one, 429 ' +
            'a full per-owner upload quota. Uploads no job uses expire. With purpose=mask the image is an inpaint mask ' +
            '(for inpaint.mask): stored as one grey channel, its alpha when it has transparency, else its luminance; white = repaint.',
          consumes: [...IMAGE_MEDIA_TYPES],
          querystring: UploadQuery,
          response: withErrorResponses({ 201: UploadResponse }),
        },
      },
      async (request, reply) => {
        const header = checkImageBody(request.body, request.headers['content-type'], options.quotas.maxPixels);
        const purpose = request.query.purpose ?? 'image';
        const saved = await port.saveUpload(requirePrincipal(request).name, { bytes: request.body, ...header, purpose });
        return reply.code(201).send(saved);
      },
    );
  });

  app.delete<{ Params: { imageId: string } }>(
    '/api/v1/uploads/:imageId',
    {
      schema: {
        tags: ['images'],
        summary: 'Delete an uploaded input image (404 when it is not yours or does not exist, 409 while a queued or running job uses it)',
        params: ImageIdParams,
        response: withErrorResponses({ 204: NoContent }),
      },
    },
    async (request, reply) => {
      await port.deleteUpload(requirePrincipal(request).scope, request.params.imageId);
      return reply.code(204).send();
    },
  );
}
