/**
 * The Input Image mode an image was made with (Upscale or Variation, Inpaint or Outpaint) and its parameters, as
 * both metadata schemes record them. Keys are Fooocus's where it has them: its parameter loader reads
 * `inpaint_method` ("Inpaint Mode") and `inpaint_engine_version` ("Inpaint Engine Version"), its fast upscale writes
 * `upscale_fast`, and the rest are the names (and labels) of its Input Image controls (`uov_method`,
 * `inpaint_strength`, `inpaint_respective_field`, `inpaint_erode_or_dilate`, `outpaint_selections`...). What goes
 * past Fooocus (custom factor, upscaler choice, per-side outpaint size) gets keys of the same form. The Fooocus
 * scheme writes the key, the A1111 scheme the label; each reader takes either.
 */
import { InvalidMetadataError, OUTPAINT_SIDES, readInteger, readNumber, readString, type InputImageParameters, type OutpaintSide } from './generation-parameters.ts';
import { ENHANCE_ENTRY, formatEnhanceRecord, readEnhanceRecord } from './enhance-metadata.ts';
import { IMAGE_PROMPT_KEYS, listImagePromptEntries, readImagePromptEntries } from './image-prompt-metadata.ts';
import { formatPythonList, parsePythonSequence } from './python-literal.ts';

type Field = Exclude<keyof InputImageParameters, 'outpaint' | 'enhance' | 'imagePrompts' | 'mixImagePromptAndVary' | 'mixImagePromptAndInpaint'>;

/** Field -> [Fooocus key, label]. */
const ENTRIES: Record<Field, [string, string]> = {
  uovMethod: ['uov_method', 'Upscale or Variation'],
  upscaleFactor: ['upscale_factor', 'Upscale Factor'],
  upscaler: ['upscale_model', 'Upscaler'],
  inpaintMethod: ['inpaint_method', 'Inpaint Mode'],
  inpaintEngine: ['inpaint_engine_version', 'Inpaint Engine Version'],
  inpaintStrength: ['inpaint_strength', 'Inpaint Denoising Strength'],
  inpaintRespectiveField: ['inpaint_respective_field', 'Inpaint Respective Field'],
  inpaintErodeOrDilate: ['inpaint_erode_or_dilate', 'Mask Erode or Dilate'],
  invertMask: ['invert_mask_checkbox', 'Invert Mask When Generating'],
  inpaintAdditionalPrompt: ['inpaint_additional_prompt', 'Inpaint Additional Prompt'],
};
const OUTPAINT_SELECTIONS: [string, string] = ['outpaint_selections', 'Outpaint Direction'];
const OUTPAINT_SIZE: [string, string] = ['outpaint_size', 'Outpaint Size'];
/** Fooocus's own record of a fast upscale (it writes only this key then). */
const UPSCALE_FAST: [string, string] = ['upscale_fast', 'Upscale (Fast)'];
const FAST_2X = 'Upscale (Fast 2x)';
const SIZE = /^\d+(?:\.\d+)?(?:%|px)$/;

/** Every key and label this module reads, so a scheme does not keep them as unknown extras too. */
export const INPUT_IMAGE_KEYS: ReadonlySet<string> = new Set([...[...Object.values(ENTRIES), OUTPAINT_SELECTIONS, OUTPAINT_SIZE, UPSCALE_FAST, ENHANCE_ENTRY].flat(), ...IMAGE_PROMPT_KEYS]);

export interface InputImageEntry {
  key: string;
  label: string;
  value: string | number;
  /** A number Fooocus writes as a Python float. */
  float: boolean;
}

/** The entries to write, in a fixed order; none for an image made without an Input Image mode. */
export function listInputImageEntries(p: InputImageParameters | undefined): InputImageEntry[] {
  if (p === undefined) return [];
  const entries: InputImageEntry[] = [];
  const add = ([key, label]: [string, string], value: string | number | undefined, float = false): void => {
    if (value !== undefined) entries.push({ key, label, value, float });
  };
  add(ENTRIES.uovMethod, p.uovMethod);
  if (p.uovMethod === FAST_2X) add(UPSCALE_FAST, '2x');
  add(ENTRIES.upscaleFactor, p.upscaleFactor, true);
  add(ENTRIES.upscaler, p.upscaler);
  add(ENTRIES.inpaintMethod, p.inpaintMethod);
  add(ENTRIES.inpaintEngine, p.inpaintEngine);
  add(ENTRIES.inpaintStrength, p.inpaintStrength, true);
  add(ENTRIES.inpaintRespectiveField, p.inpaintRespectiveField, true);
  add(ENTRIES.inpaintErodeOrDilate, p.inpaintErodeOrDilate);
  add(ENTRIES.invertMask, p.invertMask === undefined ? undefined : p.invertMask ? 'True' : 'False');
  add(ENTRIES.inpaintAdditionalPrompt, p.inpaintAdditionalPrompt);
  if (p.outpaint !== undefined && p.outpaint.length > 0) {
    add(OUTPAINT_SELECTIONS, formatPythonList(p.outpaint.map((o) => o.side)));
    add(OUTPAINT_SIZE, formatPythonList(p.outpaint.map((o) => o.size)));
  }
  entries.push(...listImagePromptEntries(p));
  if (p.enhance !== undefined) add(ENHANCE_ENTRY as [string, string], formatEnhanceRecord(p.enhance));
  return entries;
}

/**
 * Reads the entries back through `take` (the value under the key or the label, removed from what is left to
 * read), or undefined when there are none. A bad value is an InvalidMetadataError naming the key as written.
 */
export function readInputImageEntries(take: (key: string, label: string) => { field: string; value: unknown } | undefined): InputImageParameters | undefined {
  const p: InputImageParameters = {};
  const text = (field: Field): void => {
    const entry = take(...ENTRIES[field]);
    if (entry !== undefined) (p[field] as string) = readString(entry.field, entry.value);
  };
  const number = (field: Field, min: number, max: number, integer = false): void => {
    const entry = take(...ENTRIES[field]);
    if (entry !== undefined) (p[field] as number) = (integer ? readInteger : readNumber)(entry.field, entry.value, min, max);
  };
  text('uovMethod');
  const fast = take(...UPSCALE_FAST);
  if (fast !== undefined && p.uovMethod === undefined) p.uovMethod = FAST_2X;
  number('upscaleFactor', 1, 16);
  text('upscaler');
  text('inpaintMethod');
  text('inpaintEngine');
  number('inpaintStrength', 0, 1);
  number('inpaintRespectiveField', 0, 1);
  number('inpaintErodeOrDilate', -1024, 1024, true);
  const invert = take(...ENTRIES.invertMask);
  if (invert !== undefined) p.invertMask = readBoolean(invert.field, invert.value);
  text('inpaintAdditionalPrompt');
  const sides = take(...OUTPAINT_SELECTIONS);
  const sizes = take(...OUTPAINT_SIZE);
  if (sides !== undefined) p.outpaint = readOutpaint(sides, sizes);
  readImagePromptEntries(take, p, readBoolean);
  const enhance = take(...(ENHANCE_ENTRY as [string, string]));
  if (enhance !== undefined) p.enhance = readEnhanceRecord(enhance.field, enhance.value);
  return Object.keys(p).length === 0 ? undefined : p;
}

function readBoolean(field: string, value: unknown): boolean {
  if (value === true || value === 'True' || value === 'true') return true;
  if (value === false || value === 'False' || value === 'false') return false;
  throw new InvalidMetadataError(field, `${JSON.stringify(value)} is not True or False`);
}

/** Fooocus writes the sides only (each padded 30 %); the sizes, when present, pair with them in order. */
function readOutpaint(sides: { field: string; value: unknown }, sizes: { field: string; value: unknown } | undefined): { side: OutpaintSide; size: string }[] {
  const sideList = readStringSequence(sides.field, sides.value);
  const sizeList = sizes === undefined ? sideList.map(() => '30%') : readStringSequence(sizes.field, sizes.value);
  if (sizeList.length !== sideList.length) throw new InvalidMetadataError(sizes!.field, `lists ${sizeList.length} sizes for ${sideList.length} sides`);
  return sideList.map((side, i) => {
    const name = OUTPAINT_SIDES.find((s) => s.toLowerCase() === side.toLowerCase());
    if (name === undefined) throw new InvalidMetadataError(sides.field, `${JSON.stringify(side)} is not one of ${OUTPAINT_SIDES.join(', ')}`);
    if (!SIZE.test(sizeList[i]!)) throw new InvalidMetadataError(sizes!.field, `${JSON.stringify(sizeList[i])} is not a size such as 30% or 128px`);
    return { side: name, size: sizeList[i]! };
  });
}

function readStringSequence(field: string, value: unknown): string[] {
  const items = Array.isArray(value) ? value : parsePythonSequence(field, readString(field, value));
  if (!items.every((s): s is string => typeof s === 'string')) throw new InvalidMetadataError(field, 'must list names (strings)');
  return items;
}
