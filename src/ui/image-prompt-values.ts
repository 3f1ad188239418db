/**
 * The Image Prompt panel's values (four slots, each an uploaded image, a type, a stop-at fraction and a weight; the
 * Advanced switch; the two mixing switches), how they become the generate request's `imagePrompts`, and how a job's
 * request (history Reuse) fills them back in. Types and defaults are Fooocus's; field names the API's.
 */
import type { GenerateRequest, ImagePromptRequest } from './api-types.ts';

/** In the order Fooocus lists them. */
export const IMAGE_PROMPT_TYPES = ['ImagePrompt', 'PyraCanny', 'CPDS', 'FaceSwap'] as const;
export type ImagePromptTypeName = (typeof IMAGE_PROMPT_TYPES)[number];

/** Fooocus's stop-at and weight per type; choosing a type sets them. */
export const IMAGE_PROMPT_DEFAULTS: Readonly<Record<ImagePromptTypeName, { stopAt: number; weight: number }>> = {
  ImagePrompt: { stopAt: 0.5, weight: 0.6 },
  PyraCanny: { stopAt: 0.5, weight: 1.0 },
  CPDS: { stopAt: 0.5, weight: 1.0 },
  FaceSwap: { stopAt: 0.9, weight: 0.75 },
};

/** Types whose image is turned into a control map the page can preview. */
export const PREVIEWED_TYPES: ReadonlySet<string> = new Set(['PyraCanny', 'CPDS']);

export const IMAGE_PROMPT_SLOTS = 4;

export interface ImagePromptSlot {
  /** The upload's id (POST /api/v1/uploads), or null for an empty slot. */
  imageId: string | null;
  type: ImagePromptTypeName;
  stopAt: number;
  weight: number;
}

export interface ImagePromptValues {
  slots: ImagePromptSlot[];
  /** Fooocus's "Advanced": shows each slot's type, stop-at and weight. */
  advanced: boolean;
  /** "Mixing Image Prompt and Vary/Upscale" and "Mixing Image Prompt and Inpaint". */
  mixVary: boolean;
  mixInpaint: boolean;
}

export function defaultImagePromptSlot(type: ImagePromptTypeName = 'ImagePrompt'): ImagePromptSlot {
  return { imageId: null, type, ...IMAGE_PROMPT_DEFAULTS[type] };
}

export const DEFAULT_IMAGE_PROMPTS: ImagePromptValues = {
  slots: Array.from({ length: IMAGE_PROMPT_SLOTS }, () => defaultImagePromptSlot()),
  advanced: false,
  mixVary: false,
  mixInpaint: false,
};

export function isImagePromptType(value: unknown): value is ImagePromptTypeName {
  return typeof value === 'string' && (IMAGE_PROMPT_TYPES as readonly string[]).includes(value);
}

/** The request fields for the filled slots, in slot order; nothing when every slot is empty. */
export function buildImagePromptFields(values: ImagePromptValues): Pick<GenerateRequest, 'imagePrompts' | 'mixImagePromptAndVary' | 'mixImagePromptAndInpaint'> {
  const imagePrompts: ImagePromptRequest[] = values.slots.flatMap((s) => (s.imageId === null ? [] : [{ imageId: s.imageId, type: s.type, stopAt: s.stopAt, weight: s.weight }]));
  if (imagePrompts.length === 0) return {};
  return {
    imagePrompts,
    ...(values.mixVary ? { mixImagePromptAndVary: true } : {}),
    ...(values.mixInpaint ? { mixImagePromptAndInpaint: true } : {}),
  };
}

const finiteOr = (value: unknown, fallback: number): number => (typeof value === 'number' && Number.isFinite(value) ? value : fallback);

/**
 * The panel's values from a job's request: each prompt's type, stop-at and weight in its slot (its image is chosen
 * again, as an input image is), Advanced on so they show; undefined when the request had no image prompts.
 */
export function patchImagePromptsFromRequest(request: Record<string, unknown>): ImagePromptValues | undefined {
  const list = request.imagePrompts;
  if (!Array.isArray(list) || list.length === 0) return undefined;
  const slots = DEFAULT_IMAGE_PROMPTS.slots.map((empty, i) => {
    const item: unknown = list[i];
    if (typeof item !== 'object' || item === null) return { ...empty };
    const record = item as Record<string, unknown>;
    const type = isImagePromptType(record.type) ? record.type : 'ImagePrompt';
    const defaults = IMAGE_PROMPT_DEFAULTS[type];
    return { imageId: null, type, stopAt: finiteOr(record.stopAt, defaults.stopAt), weight: finiteOr(record.weight, defaults.weight) };
  });
  return { slots, advanced: true, mixVary: request.mixImagePromptAndVary === true, mixInpaint: request.mixImagePromptAndInpaint === true };
}

/**
 * What a restored Image Prompt panel still lacks: its images. A job's request and a file's metadata name them
 * (the metadata with their SHA-256) but hold no pixels the page can reuse, so they are chosen again.
 */
export function listImagePromptNotRestored(names: readonly string[] = []): { key: string; value: string; reason: string }[] {
  return [{ key: 'image prompt images', value: names.join(', '), reason: 'choose or drop them again' }];
}
