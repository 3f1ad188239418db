/**
 * From a dropped image file to form fields. The browser reads the PNG's text chunks (png-text-chunks.ts: the
 * platform's DecompressionStream instead of node:zlib); the `parameters` text is then parsed by the same metadata
 * readers the server uses (engine/output, pure TypeScript compiled for the page too), so the page and the server
 * agree on what an image's metadata says, and bad metadata is refused with the field named.
 */
import { parseGenerationMetadata } from '../engine/output/generation-metadata.ts';
import type { GenerationParameters } from '../engine/output/generation-parameters.ts';
import type { FormPatch } from './form-values.ts';
import { PngReadError, readPngTextChunks } from './png-text-chunks.ts';
import { toFormSampler } from './sampling-options.ts';

/** Larger files are refused before reading: generation outputs are a few megabytes. */
export const MAX_IMAGE_BYTES = 64 * 1024 * 1024;

/** The form fields a metadata text sets; `scheme` is the image's `fooocus_scheme` chunk when it has one. */
export function parseParametersText(text: string, scheme: string | null = null): FormPatch {
  return patchFromParameters(parseGenerationMetadata(text.replace(/\r\n?/g, '\n'), scheme ?? undefined));
}

/** The metadata's values in the form's terms: a seed the image was made with is a fixed seed. */
export function patchFromParameters(p: GenerationParameters): FormPatch {
  const patch: FormPatch = {
    prompt: p.prompt,
    negative: p.negativePrompt,
    styles: [...p.styles],
    aspectRatio: `${p.width}*${p.height}`,
    steps: p.steps,
    cfg: p.cfg,
    sharpness: p.sharpness,
    adaptiveCfg: p.adaptiveCfg,
    clipSkip: p.clipSkip,
    sampler: toFormSampler(p.sampler),
    scheduler: p.scheduler,
    seed: p.seed,
    randomSeed: false,
    refiner: p.refinerName ?? '',
    vae: p.vae ?? '',
  };
  if (p.performance !== undefined) patch.performance = p.performance;
  if (p.modelName !== '') patch.model = p.modelName;
  if (p.refinerSwitch !== undefined) patch.refinerSwitch = p.refinerSwitch;
  if (p.refinerSwitchMethod !== undefined) patch.refinerSwitchMethod = p.refinerSwitchMethod;
  if (p.admScalers !== undefined) [patch.admPositive, patch.admNegative, patch.admEnd] = p.admScalers;
  if (p.loras !== undefined) patch.loras = p.loras.map((l) => ({ name: l.name, weight: l.weight }));
  return patch;
}

export async function readImageParameters(bytes: Uint8Array): Promise<FormPatch> {
  const chunks = await readPngTextChunks(bytes);
  const text = chunks.get('parameters');
  if (text === undefined) throw new PngReadError('This PNG carries no generation parameters.');
  return parseParametersText(text, chunks.get('fooocus_scheme') ?? null);
}

export async function readImageFileParameters(file: Blob): Promise<FormPatch> {
  if (file.size > MAX_IMAGE_BYTES) throw new PngReadError('This file is too large to read parameters from.');
  return readImageParameters(new Uint8Array(await file.arrayBuffer()));
}
