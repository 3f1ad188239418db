/**
 * POST /api/v1/describe?type=photo|anime: Describe, a prompt for the image in the body (raw PNG, JPEG or WebP, as
 * an upload: same byte cap, header and pixel checks, authentication and rate-limit bucket). Nothing is stored.
 */
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { ServerContext } from '../server-context.ts';
import { requirePrincipal } from '../auth/authentication.ts';
import { withErrorResponses } from '../schemas/common-schemas.ts';
import { checkImageBody } from '../image-header.ts';
import { IMAGE_MEDIA_TYPES } from '../request-guards.ts';

type DescribeType = 'photo' | 'anime';

const DescribeQuery = Type.Object(
  { type: Type.Unsafe<DescribeType>({ type: 'string', enum: ['photo', 'anime'], description: 'photo: Photograph (BLIP caption); anime: Art/Anime (WD14 tags).' }) },
  { additionalProperties: false },
);

const DescribeResult = Type.Object(
  {
    type: Type.Union([Type.Literal('photo'), Type.Literal('anime')]),
    text: Type.String({ description: 'The prompt: a caption, or the tags joined with ", " (underscores as spaces, parentheses escaped).' }),
    tags: Type.Optional(
      Type.Array(
        Type.Object(
          { name: Type.String(), score: Type.Number({ minimum: 0, maximum: 1 }), category: Type.Union([Type.Literal('general'), Type.Literal('character')]) },
          { additionalProperties: false },
        ),
        { description: 'anime only: the kept tags as the tag list spells them, in the order the text lists them.' },
      ),
    ),
  },
  { additionalProperties: false },
);

export function registerDescribeRoute(app: FastifyInstance, context: ServerContext): void {
  const { port, options } = context;
  app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser([...IMAGE_MEDIA_TYPES], { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
    scope.post<{ Body: Buffer; Querystring: { type: DescribeType } }>(
      '/api/v1/describe',
      {
        bodyLimit: options.quotas.maxUploadBytes,
        config: { limit: 'submit', accepts: 'image' },
        schema: {
          tags: ['images'],
          summary: 'Describe an image as a prompt (raw PNG, JPEG or WebP body); the image is not kept',
          description:
            'Fooocus\'s Describe: photo runs the BLIP captioner, anime the WD14 tagger (character tags above 0.85, general above ' +
            '0.35). The image is checked and decoded as an upload is (same byte cap and size rules, same errors). 400 with ' +
            'field "type" and rule "installed" names the model files a describer lacks and the command that imports them.',
          consumes: [...IMAGE_MEDIA_TYPES],
          querystring: DescribeQuery,
          response: withErrorResponses({ 200: DescribeResult }),
        },
      },
      async (request) => {
        checkImageBody(request.body, request.headers['content-type'], options.quotas.maxPixels);
        return port.describeImage(requirePrincipal(request).name, { bytes: request.body, type: request.query.type });
      },
    );
  });
}
