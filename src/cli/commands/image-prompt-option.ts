/**
 * `--image-prompt IMG[:type[:stop[:weight]]]` (repeatable, at most four): an image prompt per value. The type is
 * one of Fooocus's (any case), stop and weight numbers; a part left out takes the type's default. A bad part is a
 * usage error (exit 2) naming the value and the part.
 */
import path from 'node:path';
import { IMAGE_PROMPT_TYPES, type ImagePromptDraft, type ImagePromptType } from '../../app/generation/image-request.ts';
import { IMAGE_PROMPT_LIMITS } from '../../engine/index.ts';
import { UsageError } from '../command.ts';

export const IMAGE_PROMPT_OPTIONS = {
  'image-prompt': { type: 'string', multiple: true },
  'mix-image-prompt-vary': { type: 'boolean', default: false },
  'mix-image-prompt-inpaint': { type: 'boolean', default: false },
} as const;

export const IMAGE_PROMPT_USAGE = [
  'Image prompts (Fooocus\'s Image Prompt tab; up to four):',
  `  --image-prompt IMG[:TYPE[:STOP[:WEIGHT]]]   TYPE ${IMAGE_PROMPT_TYPES.join('|')} (default ImagePrompt),`,
  '                            STOP 0..1 (active while step < STOP x steps), WEIGHT 0..2; defaults per type',
  '  --mix-image-prompt-vary  --mix-image-prompt-inpaint   allow image prompts with --vary/--upscale or inpaint',
].join('\n');

function parseNumberPart(value: string, part: 'stop' | 'weight', text: string, limits: { min: number; max: number }): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n < limits.min || n > limits.max) {
    throw new UsageError(`--image-prompt "${value}": ${part} must be a number in ${limits.min}..${limits.max}, got "${text}"`);
  }
  return n;
}

export function parseImagePromptOptions(values: readonly string[] | undefined): ImagePromptDraft[] | undefined {
  if (values === undefined || values.length === 0) return undefined;
  if (values.length > IMAGE_PROMPT_LIMITS.count.max) throw new UsageError(`--image-prompt: ${values.length} given; at most ${IMAGE_PROMPT_LIMITS.count.max} image prompts`);
  return values.map((value) => {
    const [file, typeText, stopText, weightText, ...rest] = value.split(':');
    if (file === undefined || file === '') throw new UsageError(`--image-prompt "${value}": the image file is missing`);
    if (rest.length > 0) throw new UsageError(`--image-prompt "${value}": expected IMG[:type[:stop[:weight]]], got ${rest.length + 4} parts`);
    const draft: ImagePromptDraft = { file: path.resolve(file) };
    if (typeText !== undefined && typeText !== '') {
      const type = IMAGE_PROMPT_TYPES.find((t) => t.toLowerCase() === typeText.toLowerCase());
      if (type === undefined) throw new UsageError(`--image-prompt "${value}": unknown type "${typeText}"; types: ${IMAGE_PROMPT_TYPES.join(', ')}`);
      draft.type = type as ImagePromptType;
    }
    if (stopText !== undefined && stopText !== '') draft.stopAt = parseNumberPart(value, 'stop', stopText, IMAGE_PROMPT_LIMITS.stopAt);
    if (weightText !== undefined && weightText !== '') draft.weight = parseNumberPart(value, 'weight', weightText, IMAGE_PROMPT_LIMITS.weight);
    return draft;
  });
}
