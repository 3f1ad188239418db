/**
 * From a dropped image file to form fields. The file is read in the browser by the engine's metadata reader
 * (engine/output/image-metadata-report.ts, pure TypeScript compiled for the page too), the same code the server's
 * metadata route and the CLI run, so PNG, JPEG and WebP files of every tool it knows read the same everywhere.
 * The settings then become a form patch, and the page says which fields it restored and which it could not.
 */
import { readImageMetadataReport, type ImageMetadataReport } from '../engine/output/image-metadata-report.ts';
import type { ImportedSettings, NotAppliedField } from '../engine/output/imported-settings.ts';
import { readInputImageChoices } from '../engine/output/input-image-choices.ts';
import type { FormPatch } from './form-values.ts';
import { listImagePromptNotRestored, patchImagePromptsFromRequest } from './image-prompt-values.ts';
import { listInputImageNotRestored, patchInputImageFromRequest } from './input-image-values.ts';
import { toFormSampler } from './sampling-options.ts';

/** Larger files are refused before reading: generation outputs are a few megabytes. */
export const MAX_IMAGE_BYTES = 64 * 1024 * 1024;

export class ImageFileError extends Error {
  override readonly name = 'ImageFileError';
}

export async function readImageFileReport(file: Blob): Promise<ImageMetadataReport> {
  if (file.size > MAX_IMAGE_BYTES) throw new ImageFileError(`This file is over ${MAX_IMAGE_BYTES / 1024 / 1024} MiB, too large to read parameters from.`);
  return readImageMetadataReport(new Uint8Array(await file.arrayBuffer()));
}

/** A patch and what it could not carry: settings the form has no control for. */
export interface SettingsPatch {
  patch: FormPatch;
  notRestored: NotAppliedField[];
}

/**
 * The settings in the form's terms. Only what the image records is set: a seed it records is a fixed seed, and
 * without one the seed box and the Random tick stay as they are.
 */
export function patchFromSettings(s: ImportedSettings): SettingsPatch {
  const patch: FormPatch = {};
  const notRestored: NotAppliedField[] = [];
  if (s.prompt !== undefined) patch.prompt = s.prompt;
  if (s.negativePrompt !== undefined) patch.negative = s.negativePrompt;
  if (s.styles !== undefined) patch.styles = [...s.styles];
  if (s.performance !== undefined) patch.performance = s.performance;
  if (s.width !== undefined && s.height !== undefined) patch.aspectRatio = `${s.width}*${s.height}`;
  if (s.steps !== undefined) patch.steps = s.steps;
  if (s.cfg !== undefined) patch.cfg = s.cfg;
  if (s.sharpness !== undefined) patch.sharpness = s.sharpness;
  if (s.adaptiveCfg !== undefined) patch.adaptiveCfg = s.adaptiveCfg;
  if (s.clipSkip !== undefined) patch.clipSkip = s.clipSkip;
  if (s.sampler !== undefined) patch.sampler = toFormSampler(s.sampler);
  if (s.scheduler !== undefined) patch.scheduler = s.scheduler;
  if (s.seed !== undefined) {
    patch.seed = s.seed;
    patch.randomSeed = false;
  }
  if (s.model !== undefined && s.model !== '') patch.model = s.model;
  if (s.refiner !== undefined) patch.refiner = s.refiner;
  if (s.refinerSwitch !== undefined) patch.refinerSwitch = s.refinerSwitch;
  if (s.refinerSwitchMethod !== undefined) patch.refinerSwitchMethod = s.refinerSwitchMethod;
  if (s.vae !== undefined) patch.vae = s.vae;
  if (s.admScalers !== undefined) [patch.admPositive, patch.admNegative, patch.admEnd] = s.admScalers;
  if (s.loras !== undefined) patch.loras = s.loras.map((l) => ({ name: l.name, weight: l.weight }));
  if (s.denoise !== undefined) patch.denoise = s.denoise;
  if (s.modelHash !== undefined) notRestored.push({ key: 'model hash', value: s.modelHash, reason: 'the form chooses models by name' });
  const recorded = s.inputImage;
  if (recorded?.imagePrompts !== undefined) {
    const { imagePrompts, mixImagePromptAndVary, mixImagePromptAndInpaint } = recorded;
    patch.imagePrompts = patchImagePromptsFromRequest({ imagePrompts, mixImagePromptAndVary, mixImagePromptAndInpaint });
    notRestored.push(...listImagePromptNotRestored(imagePrompts.flatMap((p) => (p.image === undefined ? [] : [p.image]))));
  }
  // Image prompts alone are no Input Image mode.
  if (recorded !== undefined && (recorded.uovMethod !== undefined || recorded.inpaintMethod !== undefined || recorded.outpaint !== undefined)) {
    const inputImage = patchInputImageFromRequest(readInputImageChoices(recorded) as Record<string, unknown>);
    if (inputImage === undefined) notRestored.push({ key: 'Input Image mode', value: recorded.uovMethod ?? recorded.inpaintMethod ?? '', reason: 'not known here' });
    else {
      patch.inputImage = inputImage;
      notRestored.push(...listInputImageNotRestored(inputImage));
    }
  }
  return { patch, notRestored };
}

/** Form field names as the message lists them. */
const LABELS: Partial<Record<keyof FormPatch, string>> = {
  prompt: 'prompt', negative: 'negative prompt', styles: 'styles', performance: 'performance', aspectRatio: 'size', steps: 'steps',
  cfg: 'CFG', sharpness: 'sharpness', adaptiveCfg: 'adaptive CFG', clipSkip: 'CLIP skip', sampler: 'sampler', scheduler: 'scheduler',
  seed: 'seed', model: 'model', refiner: 'refiner', refinerSwitch: 'refiner switch', refinerSwitchMethod: 'refiner switch method',
  vae: 'VAE', admPositive: 'ADM guidance', loras: 'LoRAs', denoise: 'denoising strength', inputImage: 'Input Image mode', imagePrompts: 'image prompts',
};

/**
 * "Restored prompt, seed, ...; not restored: Hires upscale (has no equivalent here), model x (not available here)."
 * `missing` are the form's own refusals (a model or style this server does not have).
 */
export function describeRestore(patch: FormPatch, missing: readonly string[], notRestored: readonly NotAppliedField[]): string {
  const missingFields = new Set(missing.map((m) => m.split(' ', 1)[0]));
  const restored = Object.keys(patch)
    .filter((key) => !missingFields.has(key))
    .map((key) => LABELS[key as keyof FormPatch])
    .filter((label): label is string => label !== undefined);
  const skipped = [...notRestored.map((f) => `${f.key}${f.value === '' ? '' : ` ${short(f.value)}`} (${f.reason})`), ...missing.map((m) => `${m} (not available here)`)];
  const head = restored.length > 0 ? `restored ${restored.join(', ')}` : 'nothing restored';
  return skipped.length > 0 ? `${head}; not restored: ${skipped.join(', ')}` : head;
}

function short(text: string): string {
  return text.length > 40 ? `${text.slice(0, 39)}…` : text;
}
