/**
 * The image prompts and the two mixing switches as both metadata schemes record them. Fooocus writes none of
 * them into its metadata, so the keys follow its control names: `mixing_image_prompt_and_vary_upscale` and
 * `mixing_image_prompt_and_inpaint` (its checkboxes), and per prompt n = 1..4 `ip_type_n`, `ip_stop_n`,
 * `ip_weight_n` (its `ip_types`, `ip_stops`, `ip_weights` controls) plus `ip_image_n` and `ip_image_sha256_n`: the
 * image's file name and the SHA-256 of its bytes, never its pixels. The A1111 scheme writes the labels
 * (`Image Prompt 1 Type`, ...); each reader takes either. Read back like the other Input Image entries.
 */
import { IMAGE_PROMPT_LIMITS } from '../request-limits.ts';
import { InvalidMetadataError, readNumber, readString, type ImagePromptRecord, type InputImageParameters } from './generation-parameters.ts';

/** The types Fooocus's Image Prompt tab offers. */
const TYPES = ['ImagePrompt', 'PyraCanny', 'CPDS', 'FaceSwap'] as const;
const SLOTS = IMAGE_PROMPT_LIMITS.count.max;
const SHA256 = /^[0-9a-f]{64}$/;

export const MIX_VARY: [string, string] = ['mixing_image_prompt_and_vary_upscale', 'Mixing Image Prompt and Vary/Upscale'];
export const MIX_INPAINT: [string, string] = ['mixing_image_prompt_and_inpaint', 'Mixing Image Prompt and Inpaint'];

type PromptField = 'type' | 'stopAt' | 'weight' | 'image' | 'imageSha256';
const PROMPT_ENTRIES: Record<PromptField, (n: number) => [string, string]> = {
  type: (n) => [`ip_type_${n}`, `Image Prompt ${n} Type`],
  stopAt: (n) => [`ip_stop_${n}`, `Image Prompt ${n} Stop At`],
  weight: (n) => [`ip_weight_${n}`, `Image Prompt ${n} Weight`],
  image: (n) => [`ip_image_${n}`, `Image Prompt ${n} Image`],
  imageSha256: (n) => [`ip_image_sha256_${n}`, `Image Prompt ${n} Image SHA256`],
};

/** Every key and label this module reads. */
export const IMAGE_PROMPT_KEYS: readonly string[] = [
  ...MIX_VARY,
  ...MIX_INPAINT,
  ...Array.from({ length: SLOTS }, (_, i) => Object.values(PROMPT_ENTRIES).flatMap((entry) => entry(i + 1))).flat(),
];

export interface ImagePromptEntry {
  key: string;
  label: string;
  value: string | number;
  float: boolean;
}

/** The entries to write, prompts first (1-based, in order), then the switches that were set. */
export function listImagePromptEntries(p: InputImageParameters): ImagePromptEntry[] {
  const entries: ImagePromptEntry[] = [];
  const add = ([key, label]: [string, string], value: string | number | undefined, float = false): void => {
    if (value !== undefined) entries.push({ key, label, value, float });
  };
  (p.imagePrompts ?? []).forEach((ip, i) => {
    const n = i + 1;
    add(PROMPT_ENTRIES.type(n), ip.type);
    add(PROMPT_ENTRIES.stopAt(n), ip.stopAt, true);
    add(PROMPT_ENTRIES.weight(n), ip.weight, true);
    add(PROMPT_ENTRIES.image(n), ip.image);
    add(PROMPT_ENTRIES.imageSha256(n), ip.imageSha256);
  });
  const flag = (value: boolean | undefined) => (value === undefined ? undefined : value ? 'True' : 'False');
  add(MIX_VARY, flag(p.mixImagePromptAndVary));
  add(MIX_INPAINT, flag(p.mixImagePromptAndInpaint));
  return entries;
}

type Take = (key: string, label: string) => { field: string; value: unknown } | undefined;

/** Reads the entries back into `p`; prompts must be numbered from 1 without gaps, each with a known type. */
export function readImagePromptEntries(take: Take, p: InputImageParameters, readBoolean: (field: string, value: unknown) => boolean): void {
  const prompts: ImagePromptRecord[] = [];
  for (let n = 1; n <= SLOTS; n++) {
    const type = take(...PROMPT_ENTRIES.type(n));
    const stop = take(...PROMPT_ENTRIES.stopAt(n));
    const weight = take(...PROMPT_ENTRIES.weight(n));
    const image = take(...PROMPT_ENTRIES.image(n));
    const sha = take(...PROMPT_ENTRIES.imageSha256(n));
    if (type === undefined) {
      const stray = stop ?? weight ?? image ?? sha;
      if (stray !== undefined) throw new InvalidMetadataError(stray.field, `belongs to image prompt ${n}, which has no ${PROMPT_ENTRIES.type(n)[0]}`);
      continue;
    }
    if (prompts.length !== n - 1) throw new InvalidMetadataError(type.field, `image prompt ${n} follows a missing image prompt ${prompts.length + 1}`);
    const name = readString(type.field, type.value);
    if (!(TYPES as readonly string[]).includes(name)) throw new InvalidMetadataError(type.field, `${JSON.stringify(name)} is not one of ${TYPES.join(', ')}`);
    if (stop === undefined || weight === undefined) throw new InvalidMetadataError(type.field, `image prompt ${n} needs its stop at and weight`);
    const record: ImagePromptRecord = {
      type: name,
      stopAt: readNumber(stop.field, stop.value, IMAGE_PROMPT_LIMITS.stopAt.min, IMAGE_PROMPT_LIMITS.stopAt.max),
      weight: readNumber(weight.field, weight.value, IMAGE_PROMPT_LIMITS.weight.min, IMAGE_PROMPT_LIMITS.weight.max),
    };
    if (image !== undefined) record.image = readString(image.field, image.value);
    if (sha !== undefined) {
      const digest = readString(sha.field, sha.value).toLowerCase();
      if (!SHA256.test(digest)) throw new InvalidMetadataError(sha.field, `${JSON.stringify(sha.value)} is not a SHA-256 (64 hex digits)`);
      record.imageSha256 = digest;
    }
    prompts.push(record);
  }
  if (prompts.length > 0) p.imagePrompts = prompts;
  const vary = take(...MIX_VARY);
  if (vary !== undefined) p.mixImagePromptAndVary = readBoolean(vary.field, vary.value);
  const inpaint = take(...MIX_INPAINT);
  if (inpaint !== undefined) p.mixImagePromptAndInpaint = readBoolean(inpaint.field, inpaint.value);
}
