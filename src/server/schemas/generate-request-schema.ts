/**
 * The body of POST /api/v1/generate. Static bounds live in the schema; the limits an operator sets (prompt length,
 * steps, images) are written into it by buildGenerateRequestSchema, so the OpenAPI document states the limits in
 * force. Rules that span fields (width with height, pixel budget, seed range) are in check-generate-request.ts.
 */
import { Type, type Static } from '@sinclair/typebox';
import { PERFORMANCE_MODE_NAMES } from '../../app/creative/performance-modes.ts';
import { METADATA_SCHEMES } from '../../app/outputs/output-writer.ts';
import { IMAGE_SIZE_LIMITS, REFINER_SWITCH_METHODS, SETTING_LIMITS, type RefinerSwitchMethod } from '../../engine/index.ts';
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

/** The engine's bounds, so the schema (and the OpenAPI document, and the page's controls) state what it checks. */
const bounds = (limits: { min: number; max: number }) => ({ minimum: limits.min, maximum: limits.max });
const SIDE = { minimum: IMAGE_SIZE_LIMITS.min, maximum: IMAGE_SIZE_LIMITS.max, multipleOf: IMAGE_SIZE_LIMITS.multiple };

export function buildGenerateRequestSchema(quotas: RequestQuotas) {
  const prompt = (description: string) => Type.String({ maxLength: quotas.maxPromptChars, description });
  return Type.Object(
    {
      prompt: prompt('Positive prompt; may contain wildcards and LoRA tokens.'),
      negative: Type.Optional(prompt('Negative prompt.')),
      styles: Type.Optional(
        Type.Array(Type.String({ pattern: NAME_PATTERN }), { maxItems: 64, uniqueItems: true }),
      ),
      preset: Type.Optional(
        Type.String({ pattern: NAME_PATTERN, description: 'A preset (GET /api/v1/presets) under the explicit fields: its models must be installed.' }),
      ),
      // The app's performance data is the one list: the OpenAPI enum, and so the page's choices, follow it.
      performance: Type.Optional(Type.Unsafe<string>({ type: 'string', enum: [...PERFORMANCE_MODE_NAMES] })),
      aspectRatio: Type.Optional(
        Type.String({ pattern: '^[1-9][0-9]{1,3}\\*[1-9][0-9]{1,3}$', description: 'width*height, e.g. 1152*896' }),
      ),
      width: Type.Optional(Type.Integer(SIDE)),
      height: Type.Optional(Type.Integer(SIDE)),
      imageCount: Type.Optional(Type.Integer({ minimum: 1, maximum: quotas.maxImages })),
      steps: Type.Optional(Type.Integer({ minimum: 1, maximum: quotas.maxSteps })),
      seed: Type.Optional(Type.String({ pattern: SEED_PATTERN, description: 'Decimal string, 0 to 2^63 - 1.' })),
      model: Type.Optional(Type.String({ pattern: NAME_PATTERN })),
      refiner: Type.Optional(Type.String({ pattern: NAME_PATTERN })),
      refinerSwitch: Type.Optional(Type.Number(bounds(SETTING_LIMITS.refinerSwitch))),
      refinerSwitchMethod: Type.Optional(
        Type.Unsafe<RefinerSwitchMethod>({
          type: 'string',
          enum: [...REFINER_SWITCH_METHODS],
          description: 'How the refiner takes over (default joint): within one sampling run, a second run (separate), or a second run through both VAEs (vae).',
        }),
      ),
      vae: Type.Optional(
        Type.String({ pattern: NAME_PATTERN, description: "A VAE file (GET /api/v1/models, kind vae) instead of the checkpoint's own; absent: the checkpoint's." }),
      ),
      loras: Type.Optional(
        Type.Array(
          Type.Object(
            { name: Type.String({ pattern: NAME_PATTERN }), weight: Type.Number({ minimum: -2, maximum: 2 }) },
            { additionalProperties: false },
          ),
          { maxItems: 8 },
        ),
      ),
      cfg: Type.Optional(Type.Number(bounds(SETTING_LIMITS.cfg))),
      sharpness: Type.Optional(Type.Number(bounds(SETTING_LIMITS.sharpness))),
      adaptiveCfg: Type.Optional(Type.Number({ ...bounds(SETTING_LIMITS.adaptiveCfg), description: 'Fooocus "CFG mimicking from TSNR" (default 7).' })),
      admScalers: Type.Optional(
        Type.Object(
          {
            positive: Type.Number(bounds(SETTING_LIMITS.admPositive)),
            negative: Type.Number(bounds(SETTING_LIMITS.admNegative)),
            end: Type.Number(bounds(SETTING_LIMITS.admEnd)),
          },
          { additionalProperties: false, description: 'Fooocus ADM guidance for SDXL: positive and negative scale, and the fraction of the steps it lasts (default 1.5, 0.8, 0.3).' },
        ),
      ),
      clipSkip: Type.Optional(Type.Integer({ ...bounds(SETTING_LIMITS.clipSkip), description: 'CLIP skip (default 2, as Fooocus).' })),
      seedIncrement: Type.Optional(Type.Boolean({ description: 'Image i uses seed + i (default true); false gives every image the same seed.' })),
      sampler: Type.Optional(Type.String({ pattern: ID_NAME_PATTERN })),
      scheduler: Type.Optional(Type.String({ pattern: ID_NAME_PATTERN })),
      inputImageId: Type.Optional(Type.String({ pattern: ID_PATTERN })),
      denoise: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1 })),
      metadataScheme: Type.Optional(
        Type.Unsafe<(typeof METADATA_SCHEMES)[number]>({ type: 'string', enum: [...METADATA_SCHEMES], description: 'How the image records its parameters: Fooocus JSON (default) or A1111 text.' }),
      ),
      format: Type.Optional(Type.Unsafe<(typeof OUTPUT_FORMATS)[number]>({ type: 'string', enum: [...OUTPUT_FORMATS], description: 'Image file format (default png); each carries the generation metadata.' })),
    },
    { additionalProperties: false },
  );
}

export type GenerateRequestBody = Static<ReturnType<typeof buildGenerateRequestSchema>>;
