/**
 * The body of POST /api/v1/generate. Static bounds live in the schema; the limits an operator sets (prompt length,
 * steps, images) are written into it by buildGenerateRequestSchema, so the OpenAPI document states the limits in
 * force. Rules that span fields (width with height, pixel budget, seed range) are in check-generate-request.ts.
 */
import { Type, type Static } from '@sinclair/typebox';
import { PERFORMANCE_MODE_NAMES } from '../../app/creative/performance-modes.ts';
import { IMAGE_PROMPT_TYPES, INPAINT_ENGINES, INPAINT_MODES, VARY_UPSCALE_MODES, type ImagePromptType, type InpaintEngine, type InpaintMode, type OutpaintAmount as OutpaintAmountChoice, type VaryUpscaleMode } from '../../app/generation/image-request.ts';
import { METADATA_SCHEMES } from '../../app/outputs/output-writer.ts';
import { IMAGE_PROMPT_LIMITS, IMAGE_SIZE_LIMITS, INPUT_IMAGE_LIMITS, REFINER_SWITCH_METHODS, SETTING_LIMITS, type RefinerSwitchMethod } from '../../engine/index.ts';
import { ID_PATTERN } from './common-schemas.ts';
import { buildEnhanceSchema } from './enhance-schema.ts';

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

/**
 * One side's outpaint padding: pixels, or percent of the image's size along that side's axis. One object with
 * exactly one of the two (rather than a union of two objects), so a refusal names the unit and the bound it broke.
 */
const OutpaintAmount = Type.Unsafe<OutpaintAmountChoice>(
  Type.Object(
    { px: Type.Optional(Type.Integer(bounds(INPUT_IMAGE_LIMITS.outpaintPixels))), percent: Type.Optional(Type.Number(bounds(INPUT_IMAGE_LIMITS.outpaintPercent))) },
    { additionalProperties: false, minProperties: 1, maxProperties: 1, description: 'Exactly one of px and percent.' },
  ),
);

const VaryUpscale = Type.Object(
  {
    mode: Type.Unsafe<VaryUpscaleMode>({ type: 'string', enum: [...VARY_UPSCALE_MODES] }),
    factor: Type.Optional(Type.Number({ ...bounds(INPUT_IMAGE_LIMITS.upscaleFactor), description: 'upscale-custom only: the scale factor.' })),
    upscaler: Type.Optional(
      Type.String({ pattern: NAME_PATTERN, description: "An upscaler file (GET /api/v1/models, kind upscalers); absent: Fooocus's, else the only one installed." }),
    ),
  },
  {
    additionalProperties: false,
    description:
      "Fooocus's Upscale or Variation on the input image (inputImageId): vary-subtle (denoise 0.5), vary-strong (0.85), " +
      'upscale-1.5x, upscale-2x and upscale-custom (upscaler, resample, then image to image at 0.382), upscale-fast-2x (the upscaler only).',
  },
);

const ImagePrompt = Type.Object(
  {
    imageId: Type.String({ pattern: ID_PATTERN, description: 'An uploaded image (POST /api/v1/uploads).' }),
    type: Type.Optional(
      Type.Unsafe<ImagePromptType>({ type: 'string', enum: [...IMAGE_PROMPT_TYPES], description: 'How the image guides the generation (default ImagePrompt).' }),
    ),
    stopAt: Type.Optional(
      Type.Number({ ...bounds(IMAGE_PROMPT_LIMITS.stopAt), description: 'Active while step < stopAt * steps; default per type (ImagePrompt, PyraCanny, CPDS 0.5; FaceSwap 0.9).' }),
    ),
    weight: Type.Optional(
      Type.Number({ ...bounds(IMAGE_PROMPT_LIMITS.weight), description: 'Strength; default per type (ImagePrompt 0.6, FaceSwap 0.75, PyraCanny and CPDS 1.0); 0 leaves the image out.' }),
    ),
  },
  { additionalProperties: false },
);

function buildInpaintSchema(additionalPrompt: ReturnType<typeof Type.String>) {
  return Type.Object(
    {
      mode: Type.Unsafe<InpaintMode>({ type: 'string', enum: [...INPAINT_MODES] }),
      mask: Type.Optional(
        Type.String({
          pattern: ID_PATTERN,
          description: 'An uploaded mask (POST /api/v1/uploads?purpose=mask), the size of the input image; white (or opaque) = repaint. Absent: outpaint only.',
        }),
      ),
      engine: Type.Optional(Type.Unsafe<InpaintEngine>({ type: 'string', enum: [...INPAINT_ENGINES], description: 'Absent: chosen from what is installed.' })),
      strength: Type.Optional(
        Type.Number({ exclusiveMinimum: INPUT_IMAGE_LIMITS.inpaintStrength.min, maximum: INPUT_IMAGE_LIMITS.inpaintStrength.max, description: 'Denoise of the masked area; default per mode.' }),
      ),
      respectiveField: Type.Optional(
        Type.Number({ ...bounds(INPUT_IMAGE_LIMITS.respectiveField), description: 'The crop covers at least this part of the image height and width (1: the whole image); default per mode.' }),
      ),
      maskErode: Type.Optional(Type.Integer({ ...bounds(INPUT_IMAGE_LIMITS.maskErode), description: 'Erode (positive) or dilate (negative) the mask, in pixels.' })),
      invertMask: Type.Optional(Type.Boolean()),
      additionalPrompt: Type.Optional(additionalPrompt),
      outpaint: Type.Optional(
        Type.Object(
          { left: Type.Optional(OutpaintAmount), right: Type.Optional(OutpaintAmount), top: Type.Optional(OutpaintAmount), bottom: Type.Optional(OutpaintAmount) },
          { additionalProperties: false, minProperties: 1, description: 'Sides to extend, each by pixels or percent (Fooocus: 30 %); strength and field become 1.0.' },
        ),
      ),
    },
    {
      additionalProperties: false,
      description: "Fooocus's Inpaint or Outpaint on the input image (inputImageId): modes default (inpaint patch, strength 1.0, field 0.618), detail (0.5, 0.0), modify (1.0, 0.0).",
    },
  );
}

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
      varyUpscale: Type.Optional(VaryUpscale),
      inpaint: Type.Optional(buildInpaintSchema(prompt('Added to the prompt for the masked area (Fooocus "inpaint additional prompt").'))),
      imagePrompts: Type.Optional(
        Type.Array(ImagePrompt, {
          maxItems: IMAGE_PROMPT_LIMITS.count.max,
          description: "Fooocus's Image Prompt tab: up to four uploaded images, each with a type, a stop-at fraction and a weight.",
        }),
      ),
      mixImagePromptAndVary: Type.Optional(Type.Boolean({ description: 'Image prompts together with varyUpscale (Fooocus "Mixing Image Prompt and Vary/Upscale").' })),
      mixImagePromptAndInpaint: Type.Optional(Type.Boolean({ description: 'Image prompts together with inpaint (Fooocus "Mixing Image Prompt and Inpaint").' })),
      enhance: Type.Optional(buildEnhanceSchema({ prompt, varyUpscale: VaryUpscale, namePattern: NAME_PATTERN })),
      describeFirst: Type.Optional(
        Type.Unsafe<'photo' | 'anime'>({
          type: 'string',
          enum: ['photo', 'anime'],
          description: "Describe then generate (Fooocus's auto-describe): with an empty prompt, the input image (inputImageId) is described by this describer (photo: BLIP caption, anime: WD14 tags) and the description is the prompt. A typed prompt wins.",
        }),
      ),
      metadataScheme: Type.Optional(
        Type.Unsafe<(typeof METADATA_SCHEMES)[number]>({ type: 'string', enum: [...METADATA_SCHEMES], description: 'How the image records its parameters: Fooocus JSON (default) or A1111 text.' }),
      ),
      format: Type.Optional(Type.Unsafe<(typeof OUTPUT_FORMATS)[number]>({ type: 'string', enum: [...OUTPUT_FORMATS], description: 'Image file format (default png); each carries the generation metadata.' })),
    },
    { additionalProperties: false },
  );
}

export type GenerateRequestBody = Static<ReturnType<typeof buildGenerateRequestSchema>>;
