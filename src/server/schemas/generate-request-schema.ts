/**
 * The body of POST /api/v1/generate. Static bounds live in the schema; the limits an operator sets (prompt length,
 * steps, images) are written into it by buildGenerateRequestSchema, so the OpenAPI document states the limits in
 * force. Rules that span fields (width with height, pixel budget, seed range) are in check-generate-request.ts.
 */
import { Type, type Static } from '@sinclair/typebox';
import { PERFORMANCE_MODE_NAMES } from '../../app/creative/performance-modes.ts';
import { ID_PATTERN } from './common-schemas.ts';

export const OUTPUT_FORMATS = ['png', 'jpeg', 'webp'] as const;

export interface RequestQuotas {
  maxPromptChars: number;
  maxPixels: number;
  maxSteps: number;
  maxImages: number;
}

/** Model, LoRA and style names: file-name-like, never a path (no `/`, `\`, leading dot). */
const NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9 ._()+-]{0,127}$';
/** Sampler and scheduler ids as the ecosystem spells them (`dpmpp_2m_sde_gpu`, `karras`). */
const ID_NAME_PATTERN = '^[a-z0-9_]{1,40}$';
/** Decimal, no sign, no leading zero; the 2^63 - 1 bound is checked on the value. */
export const SEED_PATTERN = '^(0|[1-9][0-9]{0,18})$';

export function buildGenerateRequestSchema(quotas: RequestQuotas) {
  const prompt = (description: string) => Type.String({ maxLength: quotas.maxPromptChars, description });
  return Type.Object(
    {
      prompt: prompt('Positive prompt; may contain wildcards and LoRA tokens.'),
      negative: Type.Optional(prompt('Negative prompt.')),
      styles: Type.Optional(
        Type.Array(Type.String({ pattern: NAME_PATTERN }), { maxItems: 64, uniqueItems: true }),
      ),
      // The app's performance data is the one list: the OpenAPI enum, and so the page's choices, follow it.
      performance: Type.Optional(Type.Unsafe<string>({ type: 'string', enum: [...PERFORMANCE_MODE_NAMES] })),
      aspectRatio: Type.Optional(
        Type.String({ pattern: '^[1-9][0-9]{1,3}\\*[1-9][0-9]{1,3}$', description: 'width*height, e.g. 1152*896' }),
      ),
      width: Type.Optional(Type.Integer({ minimum: 64, maximum: 4096, multipleOf: 8 })),
      height: Type.Optional(Type.Integer({ minimum: 64, maximum: 4096, multipleOf: 8 })),
      imageCount: Type.Optional(Type.Integer({ minimum: 1, maximum: quotas.maxImages })),
      steps: Type.Optional(Type.Integer({ minimum: 1, maximum: quotas.maxSteps })),
      seed: Type.Optional(Type.String({ pattern: SEED_PATTERN, description: 'Decimal string, 0 to 2^63 - 1.' })),
      model: Type.Optional(Type.String({ pattern: NAME_PATTERN })),
      refiner: Type.Optional(Type.String({ pattern: NAME_PATTERN })),
      refinerSwitch: Type.Optional(Type.Number({ minimum: 0.1, maximum: 1 })),
      loras: Type.Optional(
        Type.Array(
          Type.Object(
            { name: Type.String({ pattern: NAME_PATTERN }), weight: Type.Number({ minimum: -2, maximum: 2 }) },
            { additionalProperties: false },
          ),
          { maxItems: 8 },
        ),
      ),
      cfg: Type.Optional(Type.Number({ minimum: 1, maximum: 30 })),
      sharpness: Type.Optional(Type.Number({ minimum: 0, maximum: 30 })),
      sampler: Type.Optional(Type.String({ pattern: ID_NAME_PATTERN })),
      scheduler: Type.Optional(Type.String({ pattern: ID_NAME_PATTERN })),
      inputImageId: Type.Optional(Type.String({ pattern: ID_PATTERN })),
      denoise: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1 })),
      format: Type.Optional(Type.Unsafe<(typeof OUTPUT_FORMATS)[number]>({ type: 'string', enum: [...OUTPUT_FORMATS], description: 'Image file format (default png); each carries the generation metadata.' })),
    },
    { additionalProperties: false },
  );
}

export type GenerateRequestBody = Static<ReturnType<typeof buildGenerateRequestSchema>>;
