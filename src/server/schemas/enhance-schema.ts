/**
 * The `enhance` field of POST /api/v1/generate: Fooocus's Enhance tabs. Bounds come from the use case's limits and
 * the inpaint's, so the OpenAPI document states what is checked; the checks that need what is installed (a
 * detector for the prompt, the engine's files) are the use case's (enhance-choice.ts).
 */
import { Type, type TSchema } from '@sinclair/typebox';
import { ENHANCE_LIMITS, ENHANCE_ORDERS } from '../../app/enhance/enhance-choice.ts';
import { INPAINT_ENGINES, INPAINT_MODES, type InpaintEngine, type InpaintMode } from '../../app/generation/image-request.ts';
import { INPUT_IMAGE_LIMITS } from '../../engine/index.ts';

const bounds = (limits: { min: number; max: number }) => ({ minimum: limits.min, maximum: limits.max });

export function buildEnhanceSchema<V extends TSchema>(options: { prompt: (description: string) => ReturnType<typeof Type.String>; varyUpscale: V; namePattern: string }) {
  const tab = Type.Object(
    {
      detectionPrompt: Type.String({
        minLength: 1,
        maxLength: ENHANCE_LIMITS.detectionPrompt.maxLength,
        description: 'What to find: "person", "foreground", "subject" or "background" (a foreground-mask model); any other prompt ("face", "hand") is found by GroundingDINO boxes and SAM masks (detection/grounding-dino-tiny.safetensors, detection/grounding-dino-tiny-vocab.txt, sam/sam-vit-base.safetensors).',
      }),
      prompt: Type.Optional(options.prompt("The tab's prompt; empty: the request's.")),
      negative: Type.Optional(options.prompt("The tab's negative prompt; empty: the request's.")),
      maskModel: Type.Optional(Type.String({ pattern: options.namePattern, description: 'A foreground-mask ONNX file (GET /api/v1/models, kind detection) for the foreground/background prompts; absent: the one installed.' })),
      mode: Type.Optional(Type.Unsafe<InpaintMode>({ type: 'string', enum: [...INPAINT_MODES], description: 'Inpaint mode for the repaint (default: default).' })),
      engine: Type.Optional(Type.Unsafe<InpaintEngine>({ type: 'string', enum: [...INPAINT_ENGINES], description: 'Absent: chosen from what is installed.' })),
      strength: Type.Optional(Type.Number({ exclusiveMinimum: INPUT_IMAGE_LIMITS.inpaintStrength.min, maximum: INPUT_IMAGE_LIMITS.inpaintStrength.max, description: 'Denoise of the region; default per mode (1.0).' })),
      respectiveField: Type.Optional(Type.Number({ ...bounds(INPUT_IMAGE_LIMITS.respectiveField), description: 'Default per mode (0.618).' })),
      maskErode: Type.Optional(Type.Integer({ ...bounds(INPUT_IMAGE_LIMITS.maskErode), description: 'Erode (positive) or dilate (negative) the found mask, in pixels.' })),
      invertMask: Type.Optional(Type.Boolean()),
      boxThreshold: Type.Optional(Type.Number({ ...bounds(ENHANCE_LIMITS.threshold), description: 'GroundingDINO box threshold (default 0.3).' })),
      textThreshold: Type.Optional(Type.Number({ ...bounds(ENHANCE_LIMITS.threshold), description: 'GroundingDINO text threshold (default 0.25).' })),
      maxDetections: Type.Optional(Type.Integer({ ...bounds(ENHANCE_LIMITS.maxDetections), description: 'Most regions merged into the mask (default 0: all).' })),
    },
    { additionalProperties: false },
  );
  return Type.Object(
    {
      tabs: Type.Array(tab, { minItems: ENHANCE_LIMITS.tabs.min, maxItems: ENHANCE_LIMITS.tabs.max }),
      varyUpscale: Type.Optional(options.varyUpscale),
      varyUpscaleOrder: Type.Optional(Type.Unsafe<(typeof ENHANCE_ORDERS)[number]>({ type: 'string', enum: [...ENHANCE_ORDERS], description: 'Upscale or Vary before the first tab (default) or after the last.' })),
    },
    {
      additionalProperties: false,
      description:
        "Fooocus's Enhance, after the image is made (or on inputImageId alone): each tab finds a region and repaints it through the inpaint with its own prompt; a tab that finds nothing is skipped.",
    },
  );
}
