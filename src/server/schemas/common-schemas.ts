/**
 * Schema pieces shared by the routes. Every object schema closes with `additionalProperties: false`: on a request
 * that refuses unknown fields, on a response it is the allowlist of what leaves the server.
 */
import { Type, type TSchema } from '@sinclair/typebox';

/** Job and image ids: what the app mints (base64url of random bytes), and nothing a path could be built from. */
export const ID_PATTERN = '^[A-Za-z0-9_-]{1,64}$';

export const JobIdParams = Type.Object({ id: Type.String({ pattern: ID_PATTERN }) }, { additionalProperties: false });

export const ImageIdParams = Type.Object(
  { imageId: Type.String({ pattern: ID_PATTERN }) },
  { additionalProperties: false },
);

/** Every refusal and failure has this shape; `field` and `rule` are set on every 4xx about a request field. */
export const ErrorBody = Type.Object(
  {
    error: Type.String(),
    field: Type.Optional(Type.String()),
    rule: Type.Optional(Type.String()),
    message: Type.Optional(Type.String()),
    limit: Type.Optional(Type.Number()),
    retryAfterSeconds: Type.Optional(Type.Integer()),
  },
  { additionalProperties: false, $id: 'ErrorBody' },
);

/** Response schemas for a route: its successes plus the shared error shape for every 4xx and 5xx. */
export function withErrorResponses(success: Record<number, TSchema>): Record<string, TSchema> {
  return { ...success, '4xx': Type.Ref('ErrorBody'), '5xx': Type.Ref('ErrorBody') };
}

export const NoContent = Type.Null({ description: 'No content' });
